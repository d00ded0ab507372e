import type { PutMetricAlarmCommandInput } from '@aws-sdk/client-cloudwatch';
import type { LocalArtifactStore } from '../artifact-store.ts';
import type { LocalCloudWatch } from '../cloudwatch/simulator.ts';
import { LocalEcs } from '../ecs/simulator.ts';
import { LocalElbv2 } from '../elbv2/simulator.ts';
import type { LocalService } from '../http.ts';
import { HealthChecker } from './health-checker.ts';
import { ListenerRouter } from './router.ts';
import { ProcessTaskRunner, type TaskRunner } from './task-runner.ts';

export interface LocalAlbOptions {
  cloudwatch: LocalCloudWatch;
  artifacts: LocalArtifactStore;
  /** @default 'us-east-1' */
  region?: string;
  /** @default '000000000000' */
  accountId?: string;
  /** Time between two health checks of a target. @default 200 */
  healthCheckIntervalMs?: number;
  /** How often routers publish their counts to CloudWatch. @default 250 */
  metricsFlushMs?: number;
  /** SIGTERM → SIGKILL grace for a stopping task. @default 2000 */
  stopTimeoutMs?: number;
  /** Runs tasks; child processes of this Node unless a test swaps it. */
  runner?: TaskRunner;
}

export interface DemoShopOptions {
  /**
   * Names the load balancer, cluster, target groups and ECS services (`<name>-a`, `<name>-b`),
   * the task definition family (`<name>-web`) and the alarm (`<name>-target-5xx`), so that one
   * local cloud can hold several shops.
   * @default 'shop'
   */
  name?: string;
  /** Port of the production listener's router. @default 0 (any free port) */
  productionPort?: number;
  /** Port of the test listener's router. @default 0 */
  testPort?: number;
  /** Blue's tasks (slot a). @default 2 */
  desiredCount?: number;
  /** What blue runs at start. @default DemoShop.image('1.0.0') */
  blueImage?: string;
  /** Target groups' deregistration delay. @default 2 */
  deregistrationDelaySeconds?: number;
  /** Environment of the shop-web container (e.g. GREENLIGHT_FAIL_AFTER_REQUESTS). */
  environment?: Record<string, string>;
  /**
   * Turns on lb_cookie stickiness for this long on both target groups. Only the attributes
   * greenlight reads change (warnings, drain time); the local router does not pin clients.
   */
  stickinessSeconds?: number;
}

/** An ALB slot exactly as AlbListenerTargetConfig's `slots.a` / `slots.b` want it. */
export interface DemoShopSlot {
  targetGroupArn: string;
  ecs: { cluster: string; service: string };
}

export interface DemoShop {
  /** The shop's name, which its resources are named after (DemoShopOptions.name). */
  name: string;
  loadBalancerArn: string;
  listenerArn: string;
  testListenerArn: string;
  /** The production listener's router, e.g. `http://127.0.0.1:41234`. */
  productionUrl: string;
  /** The test listener's router: forwards only to green (slot b at start). */
  testUrl: string;
  slots: { a: DemoShopSlot; b: DemoShopSlot };
  containerName: string;
  /** For the service's `artifacts.imageRepositories`. */
  imageRepository: string;
  taskDefinitionFamily: string;
  /** A gate alarm on the load balancer's target 5xx count, ready for PutMetricAlarm. */
  targetErrorsAlarm: PutMetricAlarmCommandInput;
  routers: { production: ListenerRouter; test: ListenerRouter };
}

/** Names of the demo web service `shop` and its images (demo/artifacts/images). */
export const DemoShop = {
  loadBalancer: 'shop',
  cluster: 'shop',
  family: 'shop-web',
  containerName: 'web',
  containerPort: 8080,
  imageRepository: '000000000000.dkr.ecr.us-east-1.amazonaws.com/shop-web',
  alarmName: 'shop-target-5xx',
  image: (tag: string) => `000000000000.dkr.ecr.us-east-1.amazonaws.com/shop-web:${tag}`,
} as const;

export type LocalAlb = Awaited<ReturnType<typeof startLocalAlb>>;

/**
 * The ALB half of the local cloud: the ELBv2 and ECS simulators (mount `services` on the
 * endpoint), the health checker, and routers that play listeners on real ports. Tasks are child
 * processes; `close()` stops routers, checks and every task.
 */
export async function startLocalAlb(options: LocalAlbOptions) {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const elbv2 = new LocalElbv2({ region, accountId });
  const ecs = new LocalEcs({
    elbv2,
    artifacts: options.artifacts,
    runner: options.runner ?? new ProcessTaskRunner(),
    region,
    accountId,
    stopTimeoutMs: options.stopTimeoutMs ?? 2_000,
  });
  const healthChecker = new HealthChecker({
    elbv2,
    intervalMs: options.healthCheckIntervalMs ?? 200,
  });
  healthChecker.start();
  const routers: ListenerRouter[] = [];

  async function startRouter(listenerArn: string, port = 0): Promise<ListenerRouter> {
    const router = await ListenerRouter.start({
      elbv2,
      listenerArn,
      port,
      metrics: options.cloudwatch,
      metricsFlushMs: options.metricsFlushMs ?? 250,
    });
    routers.push(router);
    return router;
  }

  /**
   * Seeds the demo web service `shop` (or `name`): one load balancer; target groups shop-a
   * (blue, in the production listener's forward) and shop-b (green, behind the test listener);
   * ECS services shop-a (running `blueImage`) and shop-b (0 tasks); a router per listener.
   * Resolves when blue's tasks are healthy and take traffic.
   */
  async function seedDemoShop(seed: DemoShopOptions = {}): Promise<DemoShop> {
    const name = seed.name ?? DemoShop.loadBalancer;
    const family = name === DemoShop.loadBalancer ? DemoShop.family : `${name}-web`;
    const { loadBalancerArn } = elbv2.createLoadBalancer({ name });
    const targetGroup = (groupName: string) =>
      elbv2.createTargetGroup({
        name: groupName,
        port: DemoShop.containerPort,
        deregistrationDelaySeconds: seed.deregistrationDelaySeconds ?? 2,
        ...(seed.stickinessSeconds === undefined
          ? {}
          : { stickiness: true, stickinessDurationSeconds: seed.stickinessSeconds }),
        healthCheck: {
          path: '/health',
          intervalSeconds: 5,
          timeoutSeconds: 2,
          healthyThresholdCount: 2,
          unhealthyThresholdCount: 2,
        },
      }).targetGroupArn;
    const a = targetGroup(`${name}-a`);
    const b = targetGroup(`${name}-b`);
    const { listenerArn } = elbv2.createListener({
      loadBalancerArn,
      port: 80,
      forward: [{ targetGroupArn: a, weight: 1 }],
    });
    const { listenerArn: testListenerArn } = elbv2.createListener({
      loadBalancerArn,
      port: 8443,
      forward: [{ targetGroupArn: b, weight: 1 }],
    });
    ecs.createCluster(name);
    const environment = Object.entries(seed.environment ?? {}).map(([name, value]) => ({
      name,
      value,
    }));
    const { taskDefinitionArn } = ecs.registerTaskDefinition({
      family,
      cpu: '256',
      memory: '512',
      containerDefinitions: [
        {
          name: DemoShop.containerName,
          image: seed.blueImage ?? DemoShop.image('1.0.0'),
          essential: true,
          portMappings: [{ containerPort: DemoShop.containerPort, protocol: 'tcp' }],
          environment,
        },
      ],
      tags: [{ key: 'service', value: name }],
    });
    for (const [serviceName, targetGroupArn, desiredCount] of [
      [`${name}-a`, a, seed.desiredCount ?? 2],
      [`${name}-b`, b, 0],
    ] as const) {
      ecs.createService({
        cluster: name,
        serviceName,
        taskDefinition: taskDefinitionArn,
        desiredCount,
        loadBalancer: {
          targetGroupArn,
          containerName: DemoShop.containerName,
          containerPort: DemoShop.containerPort,
        },
      });
    }
    const production = await startRouter(listenerArn, seed.productionPort ?? 0);
    const test = await startRouter(testListenerArn, seed.testPort ?? 0);
    await ecs.waitForSteadyState(name, `${name}-a`, 20_000);
    return {
      name,
      loadBalancerArn,
      listenerArn,
      testListenerArn,
      productionUrl: production.url,
      testUrl: test.url,
      slots: {
        a: { targetGroupArn: a, ecs: { cluster: name, service: `${name}-a` } },
        b: { targetGroupArn: b, ecs: { cluster: name, service: `${name}-b` } },
      },
      containerName: DemoShop.containerName,
      imageRepository: DemoShop.imageRepository,
      taskDefinitionFamily: family,
      targetErrorsAlarm: {
        AlarmName: `${name}-target-5xx`,
        AlarmDescription: `Target 5xx answers behind the ${name} load balancer`,
        Namespace: 'AWS/ApplicationELB',
        MetricName: 'HTTPCode_Target_5XX_Count',
        Dimensions: [
          {
            Name: 'LoadBalancer',
            Value: loadBalancerArn.slice(loadBalancerArn.indexOf('loadbalancer/') + 13),
          },
        ],
        Statistic: 'Sum',
        Period: 10,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      },
      routers: { production, test },
    };
  }

  // ecs.logs: where RunTask's tasks write (CloudWatch Logs' GetLogEvents).
  const services: LocalService[] = [elbv2, ecs, ecs.logs];
  return {
    elbv2,
    ecs,
    healthChecker,
    services,
    startRouter,
    seedDemoShop,
    close: async () => {
      healthChecker.close();
      await Promise.all(routers.map((router) => router.close()));
      await ecs.close();
      elbv2.close();
    },
  };
}
