import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
} from '@aws-sdk/client-cloudwatch';
import {
  ECSClient,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalArtifactStore } from '../../../../src/local/artifact-store.ts';
import { LocalCloudWatch } from '../../../../src/local/cloudwatch/simulator.ts';
import {
  DemoShop,
  type DemoShop as DemoShopWorld,
  type LocalAlb,
  startLocalAlb,
} from '../../../../src/local/data-plane/local-alb.ts';
import { type Endpoint, startEndpoint } from '../../../../src/local/endpoint.ts';
import { eventually } from '../../../support/eventually.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

interface Sample {
  status: number;
  targetGroup: string | null;
  target: string | null;
  version?: string;
  error?: string;
}

async function get(url: string): Promise<Sample> {
  try {
    const response = await fetch(url);
    const text = await response.text();
    let version: string | undefined;
    try {
      version = (JSON.parse(text) as { version?: string }).version;
    } catch {
      // the load balancer's own answers are plain text
    }
    return {
      status: response.status,
      targetGroup: response.headers.get('x-greenlight-target-group'),
      target: response.headers.get('x-greenlight-target'),
      ...(version ? { version } : {}),
    };
  } catch (error) {
    return { status: 0, targetGroup: null, target: null, error: String(error) };
  }
}

/** Keeps `workers` clients busy against `url` while `during` runs; bounded in requests. */
async function underLoad(url: string, during: () => Promise<void>, workers = 4): Promise<Sample[]> {
  const samples: Sample[] = [];
  let stop = false;
  const loops = Array.from({ length: workers }, async () => {
    for (let i = 0; i < 20_000 && !stop; i += 1) samples.push(await get(url));
  });
  try {
    await during();
  } finally {
    stop = true;
    await Promise.all(loops);
  }
  return samples;
}

function countBy<T>(
  items: T[],
  key: (item: T) => string | null | undefined,
): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) {
    const k = String(key(item));
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the local ALB data plane', () => {
  let cloudwatch: LocalCloudWatch;
  let alb: LocalAlb;
  let shop: DemoShopWorld;
  let endpoint: Endpoint;
  let elbv2: ElasticLoadBalancingV2Client;
  let ecs: ECSClient;
  let cw: CloudWatchClient;
  let a: string;
  let b: string;

  async function setWeights(weightA: number, weightB: number): Promise<void> {
    await elbv2.send(
      new ModifyListenerCommand({
        ListenerArn: shop.listenerArn,
        DefaultActions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: a, Weight: weightA },
                { TargetGroupArn: b, Weight: weightB },
              ],
            },
          },
        ],
      }),
    );
  }

  async function deploy(
    service: 'shop-a' | 'shop-b',
    tag: string,
    env: Record<string, string> = {},
  ) {
    const registered = await ecs.send(
      new RegisterTaskDefinitionCommand({
        family: DemoShop.family,
        // Without it ECS refuses the registration (ContainerDefinition: memory).
        memory: '512',
        containerDefinitions: [
          {
            name: DemoShop.containerName,
            image: DemoShop.image(tag),
            essential: true,
            environment: Object.entries(env).map(([name, value]) => ({ name, value })),
          },
        ],
      }),
    );
    await ecs.send(
      new UpdateServiceCommand({
        cluster: DemoShop.cluster,
        service,
        taskDefinition: registered.taskDefinition?.taskDefinitionArn,
        desiredCount: 2,
      }),
    );
  }

  beforeAll(async () => {
    cloudwatch = new LocalCloudWatch();
    alb = await startLocalAlb({
      cloudwatch,
      artifacts: new LocalArtifactStore({ root: 'demo/artifacts' }),
      healthCheckIntervalMs: 25,
      stopTimeoutMs: 1_000,
      metricsFlushMs: 60_000,
    });
    shop = await alb.seedDemoShop({ desiredCount: 2, deregistrationDelaySeconds: 5 });
    a = shop.slots.a.targetGroupArn;
    b = shop.slots.b.targetGroupArn;
    endpoint = await startEndpoint([...alb.services, cloudwatch]);
    const config = { endpoint: endpoint.url, region: 'us-east-1', credentials, maxAttempts: 1 };
    elbv2 = new ElasticLoadBalancingV2Client(config);
    ecs = new ECSClient(config);
    cw = new CloudWatchClient(config);
    await deploy('shop-b', '1.1.0');
    await alb.ecs.waitForSteadyState(DemoShop.cluster, 'shop-b');
  });

  afterAll(async () => {
    elbv2?.destroy();
    ecs?.destroy();
    cw?.destroy();
    await endpoint?.close();
    await alb?.close();
  });

  it('honours the listener weights exactly, counted from each change', async () => {
    await setWeights(90, 10);
    const first: Sample[] = [];
    for (let i = 0; i < 100; i += 1) first.push(await get(`${shop.productionUrl}/`));
    expect(countBy(first, (s) => s.targetGroup)).toEqual({ [a]: 90, [b]: 10 });
    expect(countBy(first, (s) => s.version)).toEqual({ '1.0.0': 90, '1.1.0': 10 });

    await setWeights(1, 3);
    const second: Sample[] = [];
    for (let i = 0; i < 40; i += 1) second.push(await get(`${shop.productionUrl}/`));
    expect(countBy(second, (s) => s.targetGroup)).toEqual({ [a]: 10, [b]: 30 });
  });

  it('sends the test listener only to green', async () => {
    const samples: Sample[] = [];
    for (let i = 0; i < 10; i += 1) samples.push(await get(`${shop.testUrl}/`));
    expect(countBy(samples, (s) => s.targetGroup)).toEqual({ [b]: 10 });
  });

  it('drops no request while weights move 0 → 10 → 100', async () => {
    await setWeights(100, 0);
    const samples = await underLoad(`${shop.productionUrl}/`, async () => {
      await pause(150);
      await setWeights(90, 10);
      await pause(150);
      await setWeights(0, 100);
      await pause(150);
    });
    expect(samples.length).toBeGreaterThan(100);
    expect(samples.filter((s) => s.status !== 200)).toEqual([]);
    expect(samples[0]?.targetGroup).toBe(a);
    expect(samples.at(-1)?.targetGroup).toBe(b);
  });

  it('drops no request while green’s tasks are replaced under traffic', async () => {
    await setWeights(0, 100);
    const before = alb.ecs.describeService(DemoShop.cluster, 'shop-b').tasks.map((t) => t.port);
    const samples = await underLoad(`${shop.productionUrl}/`, async () => {
      await deploy('shop-b', '1.0.0');
      await alb.ecs.waitForSteadyState(DemoShop.cluster, 'shop-b');
      await pause(100);
    });
    const after = alb.ecs.describeService(DemoShop.cluster, 'shop-b').tasks.map((t) => t.port);
    expect(after.some((port) => before.includes(port))).toBe(false);
    expect(samples.filter((s) => s.status !== 200)).toEqual([]);
    expect(Object.keys(countBy(samples, (s) => s.version)).sort()).toEqual(['1.0.0', '1.1.0']);
    expect(samples.at(-1)?.version).toBe('1.0.0');
  });

  it('sends nothing to targets that are not healthy', async () => {
    await setWeights(100, 0);
    // New tasks that never pass /health: the old ones stay (minimum healthy 100 %) and serve.
    await deploy('shop-a', '1.2.0-unhealthy');
    let unhealthy: string[] = [];
    await eventually(
      () => {
        unhealthy = alb.elbv2
          .targetHealth(a)
          .filter((t) => t.state === 'unhealthy')
          .map((t) => `${t.id}:${t.port}`);
        return unhealthy.length >= 2 ? true : undefined;
      },
      {
        what: () => `two unhealthy targets in ${a}; unhealthy: ${JSON.stringify(unhealthy)}`,
        intervalMs: 25,
      },
    );
    expect(unhealthy).toHaveLength(2);
    await setWeights(50, 50);
    const samples: Sample[] = [];
    for (let i = 0; i < 40; i += 1) samples.push(await get(`${shop.productionUrl}/`));
    expect(samples.filter((s) => s.status !== 200)).toEqual([]);
    expect(samples.filter((s) => unhealthy.includes(String(s.target)))).toEqual([]);
    expect(countBy(samples, (s) => s.targetGroup)).toEqual({ [a]: 20, [b]: 20 });
    expect(countBy(samples, (s) => s.version)).toEqual({ '1.0.0': 40 });
  });

  it('counts target 5xx into AWS/ApplicationELB metrics and fires an alarm on them', async () => {
    const loadBalancer = shop.loadBalancerArn.slice(shop.loadBalancerArn.indexOf('app/'));
    const targetGroup = b.slice(b.lastIndexOf(':') + 1);
    await cw.send(
      new PutMetricAlarmCommand({
        AlarmName: 'shop-green-5xx',
        Namespace: 'AWS/ApplicationELB',
        MetricName: 'HTTPCode_Target_5XX_Count',
        Dimensions: [
          { Name: 'LoadBalancer', Value: loadBalancer },
          { Name: 'TargetGroup', Value: targetGroup },
        ],
        Statistic: 'Sum',
        Period: 10,
        EvaluationPeriods: 1,
        Threshold: 5,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      }),
    );
    await cw.send(new PutMetricAlarmCommand({ ...shop.targetErrorsAlarm }));
    const state = async (name: string) =>
      (await cw.send(new DescribeAlarmsCommand({ AlarmNames: [name] }))).MetricAlarms?.[0];
    expect((await state('shop-green-5xx'))?.StateValue).toBe('OK');

    await deploy('shop-b', '1.3.0-5xx', { GREENLIGHT_FAIL_AFTER_REQUESTS: '0' });
    await alb.ecs.waitForSteadyState(DemoShop.cluster, 'shop-b');
    await setWeights(0, 100);
    const before = shop.routers.production.stats().byTargetGroup[b]?.target5xx ?? 0;
    const samples: Sample[] = [];
    for (let i = 0; i < 12; i += 1) samples.push(await get(`${shop.productionUrl}/`));
    expect(countBy(samples, (s) => `${s.status} ${s.targetGroup}`)).toEqual({ [`500 ${b}`]: 12 });
    expect(shop.routers.production.stats().byTargetGroup[b]?.target5xx).toBe(before + 12);

    shop.routers.production.flushMetrics();
    const alarm = await state('shop-green-5xx');
    expect(alarm?.StateValue).toBe('ALARM');
    expect(alarm?.StateReason).toBe(
      'Threshold Crossed: 1 datapoint [12.0] was greater than or equal to the threshold (5.0).',
    );
    expect((await state(DemoShop.alarmName))?.StateValue).toBe('ALARM');
  });
});
