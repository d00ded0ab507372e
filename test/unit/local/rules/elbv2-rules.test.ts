import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { LocalElbv2 } from '../../../../src/local/elbv2/simulator.ts';
import { startEndpoint } from '../../../../src/local/endpoint.ts';
import {
  clientConfig,
  describeRules,
  motoQuery,
  outcomeOf,
  type RuleCase,
} from '../../../support/moto.ts';

/**
 * Application Load Balancer API rules, as one table run against the local ELBv2 and against
 * moto_server. Each case has a load balancer `rule-N` with an HTTP listener on port 80 that
 * forwards to target group `rule-N-blue`, and a target group `rule-N-green` nothing uses yet.
 */
interface World {
  loadBalancerArn: string;
  listenerArn: string;
  blue: string;
  green: string;
}

interface Elbv2Backend {
  client: ElasticLoadBalancingV2Client;
  createWorld(name: string): Promise<World>;
  createTargetGroup(name: string): Promise<string>;
}

const api = 'https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference';
const worlds = new Map<string, World>();

function world(name: string): World {
  const found = worlds.get(name);
  if (!found) throw new Error(`No world ${name}: setUp makes one per case`);
  return found;
}

function forward(listenerArn: string, groups: [string, number][]) {
  return new ModifyListenerCommand({
    ListenerArn: listenerArn,
    DefaultActions: [
      {
        Type: 'forward',
        ForwardConfig: {
          TargetGroups: groups.map(([TargetGroupArn, Weight]) => ({ TargetGroupArn, Weight })),
        },
      },
    ],
  });
}

const cases: RuleCase<Elbv2Backend>[] = [
  {
    name: 'ModifyListener to a weighted forward, then DescribeListeners',
    doc: `${api}/API_ModifyListener.html and ${api}/API_ForwardActionConfig.html`,
    async run({ client }, name) {
      const { listenerArn, blue, green } = world(name);
      await client.send(
        forward(listenerArn, [
          [blue, 90],
          [green, 10],
        ]),
      );
      return outcomeOf(
        client.send(new DescribeListenersCommand({ ListenerArns: [listenerArn] })),
        (r) =>
          r.Listeners?.[0]?.DefaultActions?.[0]?.ForwardConfig?.TargetGroups?.map((g) => [
            g.TargetGroupArn === blue ? 'blue' : 'green',
            g.Weight,
          ]),
      );
    },
    aws: {
      ok: [
        ['blue', 90],
        ['green', 10],
      ],
    },
  },
  {
    name: 'ModifyListener with a weight of 1000',
    doc: `${api}/API_TargetGroupTuple.html (Weight: 0 to 999)`,
    run: ({ client }, name) => {
      const { listenerArn, blue, green } = world(name);
      return outcomeOf(
        client.send(
          forward(listenerArn, [
            [blue, 1],
            [green, 1000],
          ]),
        ),
      );
    },
    aws: { error: 'ValidationError' },
    motoIsWrong: { outcome: { ok: true }, because: 'moto does not check forward weights' },
  },
  {
    name: 'ModifyListener forwarding to six target groups',
    doc: `${api}/API_ForwardActionConfig.html (TargetGroups: at most 5)`,
    async run(backend, name) {
      const { listenerArn, blue, green } = world(name);
      const more = [];
      for (const suffix of ['c', 'd', 'e', 'f']) {
        more.push(await backend.createTargetGroup(`${name}-${suffix}`));
      }
      const six = [blue, green, ...more].map((arn): [string, number] => [arn, 1]);
      return outcomeOf(backend.client.send(forward(listenerArn, six)));
    },
    aws: { error: 'ValidationError' },
    motoIsWrong: {
      outcome: { ok: true },
      because: 'moto does not limit the target groups of a forward action',
    },
  },
  {
    name: 'ModifyListener forwarding to one target group twice',
    doc: `${api}/API_ForwardActionConfig.html (each target group once)`,
    run: ({ client }, name) => {
      const { listenerArn, blue } = world(name);
      return outcomeOf(
        client.send(
          forward(listenerArn, [
            [blue, 1],
            [blue, 2],
          ]),
        ),
      );
    },
    aws: { error: 'ValidationError' },
    motoIsWrong: {
      outcome: { ok: true },
      because: 'moto accepts a target group twice in one forward action',
    },
  },
  {
    name: 'ModifyListener forwarding to a target group that does not exist',
    doc: `${api}/API_ModifyListener.html (Errors: TargetGroupNotFound)`,
    run: ({ client }, name) => {
      const { listenerArn, blue } = world(name);
      return outcomeOf(
        client.send(
          forward(listenerArn, [
            [blue, 1],
            [blue.replace(`${name}-blue`, `${name}-gone`), 1],
          ]),
        ),
      );
    },
    aws: { error: 'TargetGroupNotFoundException' },
    motoIsWrong: {
      outcome: { ok: true },
      because: 'moto forwards to target groups it does not have',
    },
  },
  {
    name: 'ModifyListener forwarding to a target group of another load balancer',
    doc: `${api}/API_ModifyListener.html (Errors: TargetGroupAssociationLimit)`,
    async run(backend, name) {
      const { listenerArn, blue } = world(name);
      const other = await backend.createWorld(`${name}-x`);
      return outcomeOf(
        backend.client.send(
          forward(listenerArn, [
            [blue, 1],
            [other.blue, 1],
          ]),
        ),
      );
    },
    aws: { error: 'TargetGroupAssociationLimitException' },
    motoIsWrong: {
      outcome: { ok: true },
      because: 'moto lets one target group serve two load balancers',
    },
  },
  {
    name: 'ModifyListener of a listener that does not exist',
    doc: `${api}/API_ModifyListener.html (Errors: ListenerNotFound)`,
    run: ({ client }, name) => {
      const { listenerArn, blue } = world(name);
      return outcomeOf(client.send(forward(`${listenerArn}0`, [[blue, 1]])));
    },
    aws: { error: 'ListenerNotFoundException' },
  },
  {
    name: 'DescribeLoadBalancers of one that does not exist',
    doc: `${api}/API_DescribeLoadBalancers.html (Errors: LoadBalancerNotFound)`,
    run: ({ client }, name) =>
      outcomeOf(
        client.send(
          new DescribeLoadBalancersCommand({
            LoadBalancerArns: [`${world(name).loadBalancerArn}0`],
          }),
        ),
      ),
    aws: { error: 'LoadBalancerNotFoundException' },
  },
  {
    name: 'DescribeTargetGroups of one that does not exist',
    doc: `${api}/API_DescribeTargetGroups.html (Errors: TargetGroupNotFound)`,
    run: ({ client }, name) =>
      outcomeOf(
        client.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [`${world(name).blue}0`] })),
      ),
    aws: { error: 'TargetGroupNotFoundException' },
  },
  {
    name: 'DescribeTargetGroups one a page, following NextMarker',
    doc: `${api}/API_DescribeTargetGroups.html (PageSize, Marker, NextMarker)`,
    async run({ client }, name) {
      const { blue, green } = world(name);
      const pages: string[][] = [];
      let marker: string | undefined;
      do {
        const page = await client.send(
          new DescribeTargetGroupsCommand({
            Names: [`${name}-blue`, `${name}-green`],
            PageSize: 1,
            Marker: marker,
          }),
        );
        pages.push(
          (page.TargetGroups ?? []).map((g) =>
            g.TargetGroupArn === blue ? 'blue' : g.TargetGroupArn === green ? 'green' : '?',
          ),
        );
        marker = page.NextMarker;
      } while (marker !== undefined && pages.length < 5);
      return { ok: [pages.map((page) => page.length), pages.flat().sort()] };
    },
    aws: {
      ok: [
        [1, 1],
        ['blue', 'green'],
      ],
    },
    motoIsWrong: {
      outcome: { ok: [[2], ['blue', 'green']] },
      because: 'moto ignores PageSize and answers every target group in one page',
    },
  },
  {
    name: 'DescribeTargetGroups with a Marker it did not issue',
    doc: `${api}/API_DescribeTargetGroups.html (Marker)`,
    run: ({ client }, name) =>
      outcomeOf(
        client.send(new DescribeTargetGroupsCommand({ Names: [`${name}-blue`], Marker: 'bogus' })),
      ),
    aws: { error: 'ValidationError' },
    motoIsWrong: { outcome: { ok: true }, because: 'moto ignores Marker' },
  },
  {
    name: 'DescribeRules without a listener or rule ARNs',
    doc: `${api}/API_DescribeRules.html (ListenerArn or RuleArns)`,
    run: ({ client }) => outcomeOf(client.send(new DescribeRulesCommand({}))),
    aws: { error: 'ValidationError' },
  },
  {
    name: 'DescribeRules of a listener lists its default rule',
    doc: `${api}/API_DescribeRules.html and ${api}/API_Rule.html (IsDefault)`,
    run: ({ client }, name) =>
      outcomeOf(
        client.send(new DescribeRulesCommand({ ListenerArn: world(name).listenerArn })),
        (r) => r.Rules?.map((rule) => [rule.Priority, rule.IsDefault]),
      ),
    aws: { ok: [['default', true]] },
  },
  {
    name: 'RegisterTargets of an id that is not an IPv4 address to an ip target group',
    doc: `${api}/API_TargetDescription.html (Id: an IP address for target type ip)`,
    run: ({ client }, name) =>
      outcomeOf(
        client.send(
          new RegisterTargetsCommand({
            TargetGroupArn: world(name).blue,
            Targets: [{ Id: 'i-0123456789abcdef0', Port: 8080 }],
          }),
        ),
      ),
    aws: { error: 'InvalidTargetException' },
    motoIsWrong: { outcome: { ok: true }, because: 'moto registers any id in an ip target group' },
  },
  {
    name: 'DeregisterTargets of a target that is not registered',
    doc: `${api}/API_DeregisterTargets.html (Errors: InvalidTarget)`,
    run: ({ client }, name) =>
      outcomeOf(
        client.send(
          new DeregisterTargetsCommand({
            TargetGroupArn: world(name).blue,
            Targets: [{ Id: '10.0.1.20', Port: 8080 }],
          }),
        ),
      ),
    aws: { error: 'InvalidTargetException' },
  },
  {
    name: 'DescribeTargetHealth of a target in a group no listener uses',
    doc: `${api}/API_TargetHealth.html (State unused, Reason Target.NotInUse)`,
    async run({ client }, name) {
      const { green } = world(name);
      const target = { Id: '10.0.1.21', Port: 8080 };
      await client.send(new RegisterTargetsCommand({ TargetGroupArn: green, Targets: [target] }));
      return outcomeOf(
        client.send(new DescribeTargetHealthCommand({ TargetGroupArn: green })),
        (r) =>
          r.TargetHealthDescriptions?.map((d) => [d.TargetHealth?.State, d.TargetHealth?.Reason]),
      );
    },
    aws: { ok: [['unused', 'Target.NotInUse']] },
    motoIsWrong: {
      outcome: { ok: [['healthy', undefined]] },
      because: 'moto reports every target healthy',
    },
  },
];

describeRules<Elbv2Backend>({
  service: 'ELBv2',
  cases,
  setUp: async (backend, name) => {
    worlds.set(name, await backend.createWorld(name));
  },
  async local() {
    const elbv2 = new LocalElbv2();
    const endpoint = await startEndpoint([elbv2]);
    const client = elbv2Client(endpoint.url);
    const createTargetGroup = async (name: string) =>
      elbv2.createTargetGroup({ name, port: 8080 }).targetGroupArn;
    return {
      backend: {
        client,
        createTargetGroup,
        async createWorld(name) {
          const { loadBalancerArn } = elbv2.createLoadBalancer({ name });
          const blue = await createTargetGroup(`${name}-blue`);
          const green = await createTargetGroup(`${name}-green`);
          const { listenerArn } = elbv2.createListener({
            loadBalancerArn,
            port: 80,
            forward: [{ targetGroupArn: blue }],
          });
          return { loadBalancerArn, listenerArn, blue, green };
        },
      },
      async close() {
        client.destroy();
        elbv2.close();
        await endpoint.close();
      },
    };
  },
  async moto(endpoint) {
    const client = elbv2Client(endpoint);
    // moto's CreateLoadBalancer and CreateTargetGroup check the VPC and subnets in its EC2.
    const vpc = await ec2(endpoint, { Action: 'CreateVpc', CidrBlock: '10.0.0.0/16' }, 'vpcId');
    const subnets: string[] = [];
    for (const [index, zone] of ['us-east-1a', 'us-east-1b'].entries()) {
      subnets.push(
        await ec2(
          endpoint,
          {
            Action: 'CreateSubnet',
            VpcId: vpc,
            CidrBlock: `10.0.${index + 1}.0/24`,
            AvailabilityZone: zone,
          },
          'subnetId',
        ),
      );
    }
    const createTargetGroup = async (name: string) => {
      const created = await client.send(
        new CreateTargetGroupCommand({
          Name: name,
          Protocol: 'HTTP',
          Port: 8080,
          VpcId: vpc,
          TargetType: 'ip',
        }),
      );
      return created.TargetGroups?.[0]?.TargetGroupArn ?? '';
    };
    return {
      backend: {
        client,
        createTargetGroup,
        async createWorld(name) {
          const lb = await client.send(
            new CreateLoadBalancerCommand({ Name: name, Subnets: subnets, Type: 'application' }),
          );
          const loadBalancerArn = lb.LoadBalancers?.[0]?.LoadBalancerArn ?? '';
          const blue = await createTargetGroup(`${name}-blue`);
          const green = await createTargetGroup(`${name}-green`);
          const listener = await client.send(
            new CreateListenerCommand({
              LoadBalancerArn: loadBalancerArn,
              Protocol: 'HTTP',
              Port: 80,
              DefaultActions: [{ Type: 'forward', TargetGroupArn: blue }],
            }),
          );
          const listenerArn = listener.Listeners?.[0]?.ListenerArn ?? '';
          return { loadBalancerArn, listenerArn, blue, green };
        },
      },
      async close() {
        client.destroy();
      },
    };
  },
});

/** An EC2 action on moto; answers the text of the first `<field>` in its XML. */
async function ec2(endpoint: string, params: Record<string, string>, field: string) {
  const xml = await motoQuery(endpoint, 'ec2', { Version: '2016-11-15', ...params });
  const value = new RegExp(`<${field}>([^<]+)</${field}>`).exec(xml)?.[1];
  if (!value) throw new Error(`moto EC2 ${params.Action} answered no ${field}: ${xml}`);
  return value;
}

function elbv2Client(endpoint: string): ElasticLoadBalancingV2Client {
  return new ElasticLoadBalancingV2Client(clientConfig(endpoint));
}
