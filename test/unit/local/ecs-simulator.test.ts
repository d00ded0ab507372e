import {
  type Deployment,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalArtifactStore } from '../../../src/local/artifact-store.ts';
import { LocalCloudWatch } from '../../../src/local/cloudwatch/simulator.ts';
import {
  DemoShop,
  type DemoShop as DemoShopWorld,
  type LocalAlb,
  startLocalAlb,
} from '../../../src/local/data-plane/local-alb.ts';
import { type Endpoint, startEndpoint } from '../../../src/local/endpoint.ts';
import { eventually } from '../../support/eventually.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** A container of the demo shop; it names its own memory, as ECS wants without a task-level one. */
function containerWith(image: string) {
  return {
    name: DemoShop.containerName,
    image,
    essential: true,
    memory: 512,
    portMappings: [{ containerPort: DemoShop.containerPort }],
  };
}

describe('LocalEcs', () => {
  let alb: LocalAlb;
  let shop: DemoShopWorld;
  let endpoint: Endpoint;
  let ecs: ECSClient;

  beforeAll(async () => {
    alb = await startLocalAlb({
      cloudwatch: new LocalCloudWatch(),
      artifacts: new LocalArtifactStore({ root: 'demo/artifacts' }),
      healthCheckIntervalMs: 25,
      stopTimeoutMs: 1_000,
    });
    shop = await alb.seedDemoShop({ desiredCount: 1 });
    endpoint = await startEndpoint(alb.services);
    ecs = new ECSClient({
      endpoint: endpoint.url,
      region: 'us-east-1',
      credentials,
      maxAttempts: 1,
    });
  });

  afterAll(async () => {
    ecs?.destroy();
    await endpoint?.close();
    await alb?.close();
  });

  it('registers a new revision on every call and describes it with its tags', async () => {
    const first = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'catalog',
        containerDefinitions: [containerWith(DemoShop.image('1.0.0'))],
        tags: [{ key: 'team', value: 'shop' }],
      }),
    );
    const second = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: 'catalog',
        containerDefinitions: [containerWith(DemoShop.image('1.1.0'))],
        tags: [{ key: 'team', value: 'shop' }],
      }),
    );
    expect(first.taskDefinition?.revision).toBe(1);
    expect(second.taskDefinition?.taskDefinitionArn).toBe(
      'arn:aws:ecs:us-east-1:000000000000:task-definition/catalog:2',
    );
    const described = await ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: 'catalog', include: ['TAGS'] }),
    );
    expect(described.taskDefinition).toMatchObject({
      family: 'catalog',
      revision: 2,
      status: 'ACTIVE',
      containerDefinitions: [{ name: 'web', image: DemoShop.image('1.1.0') }],
    });
    expect(described.taskDefinition?.registeredAt).toBeInstanceOf(Date);
    expect(described.tags).toEqual([{ key: 'team', value: 'shop' }]);
    const untagged = await ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: 'catalog:1' }),
    );
    expect(untagged.tags).toBeUndefined();
    const listed = await ecs.send(
      new ListTaskDefinitionsCommand({ familyPrefix: 'catalog', sort: 'DESC' }),
    );
    expect(listed.taskDefinitionArns?.map((arn) => arn.split('/')[1])).toEqual([
      'catalog:2',
      'catalog:1',
    ]);
  });

  it('rolls a service to a new task definition: new tasks join the target group, old ones drain and stop', async () => {
    const before = alb.ecs.describeService('shop', 'shop-a');
    const oldTask = before.tasks[0];
    const registered = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: DemoShop.family,
        containerDefinitions: [containerWith(DemoShop.image('1.1.0'))],
      }),
    );
    const updated = await ecs.send(
      new UpdateServiceCommand({
        cluster: 'shop',
        service: 'shop-a',
        taskDefinition: registered.taskDefinition?.taskDefinitionArn,
        desiredCount: 2,
      }),
    );
    expect(updated.service?.deployments?.map((d) => [d.status, d.rolloutState])).toEqual([
      ['PRIMARY', 'IN_PROGRESS'],
      ['ACTIVE', 'COMPLETED'],
    ]);
    await alb.ecs.waitForSteadyState('shop', 'shop-a', 15_000);
    const described = await ecs.send(
      new DescribeServicesCommand({ cluster: 'shop', services: ['shop-a'] }),
    );
    const service = described.services?.[0];
    expect(service).toMatchObject({
      desiredCount: 2,
      runningCount: 2,
      taskDefinition: registered.taskDefinition?.taskDefinitionArn,
    });
    expect(service?.deployments).toHaveLength(1);
    expect(service?.deployments?.[0]).toMatchObject({
      status: 'PRIMARY',
      rolloutState: 'COMPLETED',
    });
    expect(service?.events?.[0]?.message).toBe('(service shop-a) has reached a steady state.');

    const health = alb.elbv2.targetHealth(shop.slots.a.targetGroupArn);
    const after = alb.ecs.describeService('shop', 'shop-a');
    expect(health.map((t) => [t.port, t.state]).sort()).toEqual(
      after.tasks.map((t) => [t.port, 'healthy']).sort(),
    );
    expect(after.tasks.every((t) => t.image === DemoShop.image('1.1.0'))).toBe(true);

    const running = await ecs.send(
      new ListTasksCommand({ cluster: 'shop', serviceName: 'shop-a' }),
    );
    expect(running.taskArns).toHaveLength(2);
    const stopped = await ecs.send(
      new DescribeTasksCommand({ cluster: 'shop', tasks: [oldTask?.taskArn as string] }),
    );
    expect(stopped.tasks?.[0]).toMatchObject({
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      stopCode: 'ServiceSchedulerInitiated',
      containers: [{ image: DemoShop.image('1.0.0'), exitCode: 0 }],
    });
  });

  it('replaces a task whose process dies', async () => {
    const victim = alb.ecs.describeService('shop', 'shop-a').tasks[0];
    process.kill(victim?.pid as number, 'SIGKILL');
    let service = alb.ecs.describeService('shop', 'shop-a');
    await eventually(
      () => {
        service = alb.ecs.describeService('shop', 'shop-a');
        const healthy = alb.elbv2
          .targetHealth(shop.slots.a.targetGroupArn)
          .filter((t) => t.state === 'healthy');
        const replaced = !service.tasks.some((t) => t.taskArn === victim?.taskArn);
        return replaced && healthy.length === 2 ? true : undefined;
      },
      {
        what: () => `the killed task to be replaced; service: ${JSON.stringify(service)}`,
        intervalMs: 50,
      },
    );
    const stopped = await ecs.send(
      new DescribeTasksCommand({ cluster: 'shop', tasks: [victim?.taskArn as string] }),
    );
    expect(stopped.tasks?.[0]).toMatchObject({
      lastStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
    });
  });

  it('fails a rollout whose image is not in the store, after a few tasks failed to start', async () => {
    const registered = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: DemoShop.family,
        containerDefinitions: [containerWith(DemoShop.image('9.9.9-missing'))],
      }),
    );
    await ecs.send(
      new UpdateServiceCommand({
        cluster: 'shop',
        service: 'shop-b',
        taskDefinition: registered.taskDefinition?.taskDefinitionArn,
        desiredCount: 1,
      }),
    );
    let deployment: Deployment | undefined;
    const failed = await eventually(
      async () => {
        const described = await ecs.send(
          new DescribeServicesCommand({ cluster: 'shop', services: ['shop-b'] }),
        );
        deployment = described.services?.[0]?.deployments?.[0];
        return deployment?.rolloutState === 'FAILED' ? deployment : undefined;
      },
      {
        what: () => `the rollout to fail; deployment: ${JSON.stringify(deployment)}`,
        intervalMs: 100,
      },
    );
    expect(failed.rolloutStateReason).toContain('CannotPullContainerError');
    expect(failed.failedTasks).toBe(3);
  });
});
