import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { LocalArtifactStore } from '../../../../src/local/artifact-store.ts';
import { LocalEcs } from '../../../../src/local/ecs/simulator.ts';
import { LocalElbv2 } from '../../../../src/local/elbv2/simulator.ts';
import { startEndpoint } from '../../../../src/local/endpoint.ts';
import { clientConfig, describeRules, outcomeOf, type RuleCase } from '../../../support/moto.ts';

/**
 * Amazon ECS API rules, as one table run against the local ECS and against moto_server. Each
 * case has a cluster `rule-N` with a service `web` (desired count 0, so no task ever starts)
 * on task definition family `rule-N`, revision 1.
 */
interface EcsBackend {
  client: ECSClient;
  /** Cluster `name`, family `name` revision 1 and service `web` on it with no tasks. */
  createWorld(name: string): Promise<void>;
}

const api = 'https://docs.aws.amazon.com/AmazonECS/latest/APIReference';

function aDefinition(
  family: string,
  overrides: Partial<RegisterTaskDefinitionCommandInput> = {},
): RegisterTaskDefinitionCommandInput {
  return {
    family,
    memory: '512',
    containerDefinitions: [
      {
        name: 'web',
        image: 'shop:1.0.0',
        essential: true,
        portMappings: [{ containerPort: 8080 }],
      },
    ],
    ...overrides,
  };
}

function register(
  { client }: EcsBackend,
  family: string,
  overrides: Partial<RegisterTaskDefinitionCommandInput> = {},
) {
  return outcomeOf(client.send(new RegisterTaskDefinitionCommand(aDefinition(family, overrides))));
}

const cases: RuleCase<EcsBackend>[] = [
  {
    name: 'RegisterTaskDefinition again makes the next revision',
    doc: `${api}/API_RegisterTaskDefinition.html (each registration is a new revision)`,
    run: ({ client }, family) =>
      outcomeOf(
        client.send(new RegisterTaskDefinitionCommand(aDefinition(family))),
        (r) => r.taskDefinition?.revision,
      ),
    aws: { ok: 2 },
  },
  {
    name: 'RegisterTaskDefinition with a family outside [A-Za-z0-9_-]',
    doc: `${api}/API_RegisterTaskDefinition.html (family: up to 255 letters, numbers, hyphens, underscores)`,
    run: (backend, family) => register(backend, `${family} has spaces`),
    aws: { error: 'ClientException' },
    motoIsWrong: { outcome: { ok: true }, because: 'moto registers any family name' },
  },
  {
    name: 'RegisterTaskDefinition with no containers',
    doc: `${api}/API_RegisterTaskDefinition.html (containerDefinitions: required)`,
    run: (backend, family) => register(backend, family, { containerDefinitions: [] }),
    aws: { error: 'ClientException' },
    motoIsWrong: {
      outcome: { ok: true },
      because: 'moto registers a task definition without containers',
    },
  },
  {
    name: 'RegisterTaskDefinition with two containers of one name',
    doc: `${api}/API_ContainerDefinition.html (name: unique within a task definition)`,
    run: (backend, family) =>
      register(backend, family, {
        containerDefinitions: [
          { name: 'web', image: 'shop:1.0.0' },
          { name: 'web', image: 'shop:1.0.0' },
        ],
      }),
    aws: { error: 'ClientException' },
    motoIsWrong: { outcome: { ok: true }, because: 'moto registers duplicate container names' },
  },
  {
    name: 'RegisterTaskDefinition with a container without an image',
    doc: `${api}/API_ContainerDefinition.html (image: required)`,
    run: (backend, family) =>
      register(backend, family, { containerDefinitions: [{ name: 'web' }] }),
    aws: { error: 'ClientException' },
  },
  {
    name: 'RegisterTaskDefinition with neither task nor container memory',
    doc: `${api}/API_ContainerDefinition.html (memory: a task-level or a container-level value is required)`,
    run: (backend, family) =>
      register(backend, family, {
        memory: undefined,
        containerDefinitions: [{ name: 'web', image: 'shop:1.0.0' }],
      }),
    aws: { error: 'ClientException' },
  },
  {
    name: 'DescribeTaskDefinition of a family that does not exist',
    doc: `${api}/API_DescribeTaskDefinition.html (Errors: ClientException)`,
    run: ({ client }, family) =>
      outcomeOf(
        client.send(new DescribeTaskDefinitionCommand({ taskDefinition: `${family}-missing` })),
      ),
    aws: { error: 'ClientException' },
  },
  {
    name: 'DescribeTaskDefinition of a family is its newest revision',
    doc: `${api}/API_DescribeTaskDefinition.html (family alone: the latest ACTIVE revision)`,
    async run(backend, family) {
      await register(backend, family);
      return outcomeOf(
        backend.client.send(new DescribeTaskDefinitionCommand({ taskDefinition: family })),
        (r) => r.taskDefinition?.revision,
      );
    },
    aws: { ok: 2 },
  },
  {
    name: 'DescribeTaskDefinition with include TAGS',
    doc: `${api}/API_DescribeTaskDefinition.html (include: TAGS)`,
    async run(backend, family) {
      await register(backend, family, { tags: [{ key: 'team', value: 'shop' }] });
      return outcomeOf(
        backend.client.send(
          new DescribeTaskDefinitionCommand({ taskDefinition: `${family}:2`, include: ['TAGS'] }),
        ),
        (r) => r.tags,
      );
    },
    aws: { ok: [{ key: 'team', value: 'shop' }] },
  },
  {
    name: 'ListTaskDefinitions one a page, following nextToken',
    doc: `${api}/API_ListTaskDefinitions.html (maxResults, nextToken)`,
    async run(backend, family) {
      await register(backend, family);
      await register(backend, family);
      const pages: string[][] = [];
      let token: string | undefined;
      do {
        const page = await backend.client.send(
          new ListTaskDefinitionsCommand({ familyPrefix: family, maxResults: 1, nextToken: token }),
        );
        pages.push((page.taskDefinitionArns ?? []).map(revisionOf));
        token = page.nextToken;
      } while (token !== undefined && pages.length < 5);
      return { ok: pages };
    },
    aws: { ok: [['1'], ['2'], ['3']] },
    motoIsWrong: {
      outcome: { ok: [['1', '2', '3']] },
      because: 'moto ignores maxResults and answers every revision in one page',
    },
  },
  {
    name: 'ListTaskDefinitions sorted DESC',
    doc: `${api}/API_ListTaskDefinitions.html (sort: ASC | DESC)`,
    async run(backend, family) {
      await register(backend, family);
      return outcomeOf(
        backend.client.send(new ListTaskDefinitionsCommand({ familyPrefix: family, sort: 'DESC' })),
        (r) => r.taskDefinitionArns?.map(revisionOf),
      );
    },
    aws: { ok: ['2', '1'] },
    motoIsWrong: { outcome: { ok: ['1', '2'] }, because: 'moto ignores sort' },
  },
  {
    name: 'ListTaskDefinitions with maxResults 101',
    doc: `${api}/API_ListTaskDefinitions.html (maxResults: 1 to 100)`,
    run: ({ client }, family) =>
      outcomeOf(
        client.send(new ListTaskDefinitionsCommand({ familyPrefix: family, maxResults: 101 })),
      ),
    aws: { error: 'InvalidParameterException' },
    motoIsWrong: { outcome: { ok: true }, because: 'moto does not check maxResults' },
  },
  {
    name: 'ListTaskDefinitions with a nextToken it did not issue',
    doc: `${api}/API_ListTaskDefinitions.html (Errors: InvalidParameterException)`,
    run: ({ client }, family) =>
      outcomeOf(
        client.send(new ListTaskDefinitionsCommand({ familyPrefix: family, nextToken: 'bogus' })),
      ),
    aws: { error: 'InvalidParameterException' },
    motoIsWrong: { outcome: { ok: true }, because: 'moto ignores nextToken' },
  },
  {
    name: 'DescribeServices in a cluster that does not exist',
    doc: `${api}/API_DescribeServices.html (Errors: ClusterNotFoundException)`,
    run: ({ client }, cluster) =>
      outcomeOf(
        client.send(
          new DescribeServicesCommand({ cluster: `${cluster}-missing`, services: ['web'] }),
        ),
      ),
    aws: { error: 'ClusterNotFoundException' },
  },
  {
    name: 'DescribeServices of a service that does not exist',
    doc: `${api}/API_DescribeServices.html (failures: reason MISSING)`,
    run: ({ client }, cluster) =>
      outcomeOf(
        client.send(new DescribeServicesCommand({ cluster, services: ['web', 'gone'] })),
        (r) => [r.services?.map((s) => s.serviceName), r.failures?.map((f) => f.reason)],
      ),
    aws: { ok: [['web'], ['MISSING']] },
  },
  {
    name: 'DescribeServices of 11 services',
    doc: `${api}/API_DescribeServices.html (services: up to 10)`,
    run: ({ client }, cluster) =>
      outcomeOf(
        client.send(
          new DescribeServicesCommand({
            cluster,
            services: Array.from({ length: 11 }, (_, i) => `s${i}`),
          }),
        ),
      ),
    aws: { error: 'InvalidParameterException' },
    motoIsWrong: { outcome: { ok: true }, because: 'moto describes any number of services' },
  },
  {
    name: 'UpdateService in a cluster that does not exist',
    doc: `${api}/API_UpdateService.html (Errors: ClusterNotFoundException)`,
    run: ({ client }, cluster) =>
      outcomeOf(
        client.send(
          new UpdateServiceCommand({
            cluster: `${cluster}-missing`,
            service: 'web',
            desiredCount: 0,
          }),
        ),
      ),
    aws: { error: 'ClusterNotFoundException' },
  },
  {
    name: 'UpdateService of a service that does not exist',
    doc: `${api}/API_UpdateService.html (Errors: ServiceNotFoundException)`,
    run: ({ client }, cluster) =>
      outcomeOf(
        client.send(new UpdateServiceCommand({ cluster, service: 'gone', desiredCount: 0 })),
      ),
    aws: { error: 'ServiceNotFoundException' },
  },
  {
    name: 'UpdateService to a task definition that does not exist',
    doc: `${api}/API_UpdateService.html (Errors: ClientException)`,
    run: ({ client }, cluster) =>
      outcomeOf(
        client.send(
          new UpdateServiceCommand({ cluster, service: 'web', taskDefinition: `${cluster}:9` }),
        ),
      ),
    aws: { error: 'ClientException' },
  },
  {
    name: 'UpdateService to a new revision starts a PRIMARY deployment of it',
    doc: `${api}/API_UpdateService.html and ${api}/API_Deployment.html`,
    async run(backend, cluster) {
      await register(backend, cluster);
      return outcomeOf(
        backend.client.send(
          new UpdateServiceCommand({ cluster, service: 'web', taskDefinition: `${cluster}:2` }),
        ),
        (r) => [
          revisionOf(r.service?.taskDefinition),
          revisionOf(r.service?.deployments?.find((d) => d.status === 'PRIMARY')?.taskDefinition),
        ],
      );
    },
    aws: { ok: ['2', '2'] },
    motoIsWrong: {
      outcome: { ok: ['2', '1'] },
      because: 'moto keeps the old revision on the PRIMARY deployment of its answer',
    },
  },
  {
    name: 'DescribeTasks of no tasks',
    doc: `${api}/API_DescribeTasks.html (tasks: required, up to 100)`,
    run: ({ client }, cluster) =>
      outcomeOf(client.send(new DescribeTasksCommand({ cluster, tasks: [] }))),
    aws: { error: 'InvalidParameterException' },
  },
];

/** The revision a task definition ARN names (`…:task-definition/family:2` → `2`). */
function revisionOf(arn: string | undefined): string {
  return arn?.split(':').at(-1) ?? '';
}

/** No task ever starts here (every service wants 0): a runner that says so if asked. */
const noTasks = {
  start: () => Promise.reject(new Error('the ECS rule tests start no tasks')),
  close: async () => {},
};

describeRules<EcsBackend>({
  service: 'ECS',
  cases,
  setUp: (backend, name) => backend.createWorld(name),
  async local() {
    const elbv2 = new LocalElbv2();
    const ecs = new LocalEcs({
      elbv2,
      artifacts: new LocalArtifactStore({ root: 'demo/artifacts' }),
      runner: noTasks,
      now: () => new Date('2025-03-01T12:00:00Z'),
    });
    const endpoint = await startEndpoint([ecs]);
    const client = ecsClient(endpoint.url);
    return {
      backend: {
        client,
        async createWorld(name) {
          ecs.createCluster(name);
          const { taskDefinitionArn } = ecs.registerTaskDefinition({
            family: name,
            memory: '512',
            containerDefinitions: [{ name: 'web', image: 'shop:1.0.0' }],
          });
          ecs.createService({
            cluster: name,
            serviceName: 'web',
            taskDefinition: taskDefinitionArn,
            desiredCount: 0,
          });
        },
      },
      async close() {
        client.destroy();
        await ecs.close();
        elbv2.close();
        await endpoint.close();
      },
    };
  },
  async moto(endpoint) {
    const client = ecsClient(endpoint);
    return {
      backend: {
        client,
        async createWorld(name) {
          await client.send(new CreateClusterCommand({ clusterName: name }));
          await client.send(
            new RegisterTaskDefinitionCommand({
              family: name,
              memory: '512',
              containerDefinitions: [{ name: 'web', image: 'shop:1.0.0' }],
            }),
          );
          await client.send(
            new CreateServiceCommand({
              cluster: name,
              serviceName: 'web',
              taskDefinition: `${name}:1`,
              desiredCount: 0,
            }),
          );
        },
      },
      async close() {
        client.destroy();
      },
    };
  },
});

function ecsClient(endpoint: string): ECSClient {
  return new ECSClient(clientConfig(endpoint));
}
