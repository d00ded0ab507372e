import { performance } from 'node:perf_hooks';
import { CloudWatchClient, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { ECSClient, ListTaskDefinitionsCommand } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReleaseRecord } from '../../src/core/records.ts';
import { deriveReleaseId } from '../../src/core/release-id.ts';
import { DemoShop, type DemoShop as Shop } from '../../src/local/data-plane/local-alb.ts';
import { demoShopService } from '../../src/local/demo-registry.ts';
import { type GreenlightLocal, startGreenlightLocal } from '../../src/local/greenlight-local.ts';
import { type LoadReport, startHttpLoad, summarizeLoad } from '../../src/local/http-load.ts';
import { eventually } from '../support/eventually.ts';
import { HealthHistory } from './health-history.ts';
import { requestRelease, waitForPhase, waitForStep } from './local-release.ts';

// End to end through the local cloud over real HTTP: the workflow and the real handlers drive
// the ELBv2 and ECS simulators, whose tasks are real processes behind the local router; users
// are a bounded load of keep-alive clients on the production listener. Each shop is its own
// load balancer, ECS services and 5xx alarm.
const shopNames = ['web', 'broken', 'faulty', 'retry', 'gated'] as const;
type ShopName = (typeof shopNames)[number];
const shops = {} as Record<ShopName, Shop>;
let local: GreenlightLocal;

beforeAll(async () => {
  local = await startGreenlightLocal({
    retryIntervalMs: 10,
    services: [],
    functions: [],
    alarms: [],
    seedAlb: async (alb) => {
      shops.web = await alb.seedDemoShop({ name: 'web', desiredCount: 2 });
      shops.broken = await alb.seedDemoShop({ name: 'broken', desiredCount: 1 });
      shops.faulty = await alb.seedDemoShop({ name: 'faulty', desiredCount: 1 });
      shops.retry = await alb.seedDemoShop({
        name: 'retry',
        desiredCount: 1,
        stickinessSeconds: 60,
      });
      shops.gated = await alb.seedDemoShop({ name: 'gated', desiredCount: 1 });
      return {
        services: [
          demoShopService(shops.web, { bakeSeconds: 3 }),
          demoShopService(shops.broken, { healthyDeadlineSeconds: 10 }),
          // A bake far longer than the test: only the alarm can end it in time.
          demoShopService(shops.faulty, { bakeSeconds: 120 }),
          demoShopService(shops.retry, { bakeSeconds: 1 }),
          // No alarm: green's target group is compared with blue's through GetMetricData.
          {
            ...demoShopService(shops.gated),
            // Canary only: an all-at-once release would leave blue nothing to compare with.
            strategies: { canary: { type: 'canary', percent: 20, bakeSeconds: 3 } },
            alarms: [],
            metricGates: [
              {
                name: 'errors',
                metric: 'error-rate',
                maxAboveBlue: 5,
                minSamples: 20,
                windowSeconds: 30,
                holdSeconds: 1,
                maxHoldSeconds: 10,
              },
            ],
          },
        ],
        alarms: shopNames.map((name) => shops[name].targetErrorsAlarm),
      };
    },
  });
}, 60_000);

afterAll(async () => {
  await local?.close();
});

interface WeightChange {
  at: number;
  /** Weights by slot name. */
  a: number;
  b: number;
}

interface LoadedRelease {
  release: ReleaseRecord;
  report: LoadReport;
  history: HealthHistory;
  /** The production listener's weights after each change, consecutive repeats dropped. */
  weights: WeightChange[];
}

/**
 * Sends a release of `shop` while users hit its production listener, and waits for it to end.
 * `during` runs once the release has started (to fire an alarm, say).
 */
const answersAfterSwitch = 20;

async function releaseUnderLoad(
  shop: Shop,
  version: string,
  tag: string,
  during?: (releaseId: string) => Promise<void>,
): Promise<LoadedRelease> {
  const { elbv2 } = local.alb;
  const history = new HealthHistory(elbv2, [
    shop.slots.a.targetGroupArn,
    shop.slots.b.targetGroupArn,
  ]);
  const weights: WeightChange[] = [];
  const stopWatching = elbv2.onChange((change) => {
    if (change.type !== 'listener' || change.listenerArn !== shop.listenerArn) return;
    const now = elbv2.weightsOf(shop.listenerArn);
    const next = {
      at: performance.now(),
      a: now[shop.slots.a.targetGroupArn] ?? 0,
      b: now[shop.slots.b.targetGroupArn] ?? 0,
    };
    const last = weights.at(-1);
    if (last?.a !== next.a || last.b !== next.b) weights.push(next);
  });
  const load = startHttpLoad({
    url: shop.productionUrl,
    concurrency: 4,
    pauseMs: 10,
    maxRequests: 20_000,
    maxDurationMs: 45_000,
  });
  try {
    const releaseId = deriveReleaseId(shop.name, version, 1);
    await requestRelease(local, {
      service: shop.name,
      version,
      artifact: { imageUri: DemoShop.image(tag) },
    });
    await during?.(releaseId);
    const release = await waitForPhase(local, releaseId, undefined, 45_000);
    // Users keep coming after the release ends: checks of what they saw after the last switch
    // need answers sent after it, however late a loaded machine made that switch.
    const settledAt = weights.at(-1)?.at ?? 0;
    await eventually(
      () =>
        load.responses.filter((r) => r.sentAt > settledAt).length >= answersAfterSwitch
          ? true
          : undefined,
      { what: `${answersAfterSwitch} answers after the last switch`, timeoutMs: 15_000 },
    );
    return { release, report: await load.stop(), history, weights };
  } finally {
    await load.stop();
    stopWatching();
    history.stop();
  }
}

/** Responses not served by a target that was healthy at some moment of the request. */
function servedUnhealthy({ report, history }: LoadedRelease) {
  return report.responses.filter(
    (r) =>
      r.targetGroup === undefined ||
      r.target === undefined ||
      !history.healthyDuring(r.targetGroup, r.target, r.sentAt, r.receivedAt),
  );
}

function colours(shop: Shop, { report }: LoadedRelease) {
  return summarizeLoad(report.responses, (r) =>
    r.targetGroup === shop.slots.a.targetGroupArn ? `a ${r.version}` : `b ${r.version}`,
  );
}

const slotWeights = ({ weights }: LoadedRelease) => weights.map(({ a, b }) => ({ a, b }));

async function revisionsOf(family: string): Promise<string[]> {
  const ecs = new ECSClient(local.clientConfig);
  try {
    const listed = await ecs.send(new ListTaskDefinitionsCommand({ familyPrefix: family }));
    return listed.taskDefinitionArns ?? [];
  } finally {
    ecs.destroy();
  }
}

describe('an ALB listener release under load', () => {
  it('finalizes with no failed request, every answer from a healthy target, and only green after the switch', async () => {
    const shop = shops.web;
    const run = await releaseUnderLoad(shop, '1.1.0', '1.1.0');

    expect(run.release).toMatchObject({
      phase: 'Finalized',
      greenPercent: 100,
      colours: { blue: 'a', green: 'b' },
    });
    expect(run.report.stoppedBy).toBe('caller');
    const summary = colours(shop, run);
    expect(summary).toMatchObject({ failed: 0, target5xx: 0 });
    expect(Object.keys(summary.byColour).sort()).toEqual(['a 1.0.0', 'b 1.1.0']);
    expect(summary.requests).toBeGreaterThan(500);
    expect(servedUnhealthy(run)).toEqual([]);
    expect(slotWeights(run)).toEqual([
      { a: 80, b: 20 },
      { a: 0, b: 100 },
    ]);
    const switched = run.weights[1]?.at ?? Number.POSITIVE_INFINITY;
    expect(
      run.report.responses.filter(
        (r) => r.sentAt > switched && r.targetGroup !== shop.slots.b.targetGroupArn,
      ),
    ).toEqual([]);
    expect(local.alb.elbv2.weightsOf(shop.listenerArn)).toEqual({
      [shop.slots.a.targetGroupArn]: 0,
      [shop.slots.b.targetGroupArn]: 100,
    });
    expect(await revisionsOf(shop.taskDefinitionFamily)).toHaveLength(2);
  }, 60_000);

  it('rolls back to blue when an alarm fires during the bake, with no failed request', async () => {
    // After the release above, slot b (1.1.0) is blue and slot a is the idle green.
    const shop = shops.web;
    const cloudwatch = new CloudWatchClient(local.clientConfig);
    const run = await releaseUnderLoad(shop, '1.4.0', '1.0.0', async (releaseId) => {
      await waitForStep(local, releaseId, 'bake');
      await cloudwatch.send(
        new SetAlarmStateCommand({
          AlarmName: shop.targetErrorsAlarm.AlarmName,
          StateValue: 'ALARM',
          StateReason: 'An operator saw errors elsewhere',
        }),
      );
    });
    cloudwatch.destroy();

    expect(run.release).toMatchObject({
      phase: 'RolledBack',
      greenPercent: 0,
      colours: { blue: 'b', green: 'a' },
    });
    expect(run.release.reason).toContain('AlarmGateFailed');
    const summary = colours(shop, run);
    expect(summary).toMatchObject({ failed: 0, target5xx: 0 });
    expect(Object.keys(summary.byColour).sort()).toEqual(['a 1.0.0', 'b 1.1.0']);
    expect(servedUnhealthy(run)).toEqual([]);
    expect(slotWeights(run)).toEqual([
      { a: 20, b: 80 },
      { a: 0, b: 100 },
    ]);
    const back = run.weights[1]?.at ?? Number.POSITIVE_INFINITY;
    expect(
      run.report.responses.filter(
        (r) => r.sentAt > back && r.targetGroup !== shop.slots.b.targetGroupArn,
      ),
    ).toEqual([]);
  }, 60_000);

  it('rolls back a green that never passes its health check at the deadline, the listener never moved', async () => {
    const shop = shops.broken;
    const run = await releaseUnderLoad(shop, '1.2.0', '1.2.0-unhealthy');

    expect(run.release.phase).toBe('RolledBack');
    expect(run.release.reason).toContain(
      'GreenProvisionFailed: Green (slot b, broken-b) was not healthy within 10s: 0 of 1 targets healthy',
    );
    expect(run.release.reason).toContain('Health checks failed with these codes: [503]');
    expect(run.weights).toEqual([]);
    expect(local.alb.elbv2.weightsOf(shop.listenerArn)).toEqual({
      [shop.slots.a.targetGroupArn]: 1,
    });
    const summary = colours(shop, run);
    expect(summary).toMatchObject({ failed: 0, target5xx: 0 });
    expect(Object.keys(summary.byColour)).toEqual(['a 1.0.0']);
    expect(servedUnhealthy(run)).toEqual([]);
  }, 60_000);

  it('rolls back within seconds when green answers 5xx and its alarm fires, the load balancer failing nothing', async () => {
    const shop = shops.faulty;
    const run = await releaseUnderLoad(shop, '1.3.0', '1.3.0-5xx');

    expect(run.release.phase).toBe('RolledBack');
    expect(run.release.reason).toContain(
      `AlarmGateFailed: Alarm ${shop.targetErrorsAlarm.AlarmName} entered ALARM`,
    );
    // The bake was 120 s: the alarm event ended it.
    expect(Date.parse(run.release.updatedAt) - Date.parse(run.release.requestedAt)).toBeLessThan(
      30_000,
    );
    const summary = colours(shop, run);
    expect(summary.failed).toBe(0);
    expect(summary.target5xx).toBeGreaterThan(0);
    expect(summary.byColour['a 1.0.0']?.errors).toBe(0);
    expect(summary.byColour['b 1.3.0-5xx']?.errors).toBe(summary.target5xx);
    expect(servedUnhealthy(run)).toEqual([]);
    expect(slotWeights(run)).toEqual([
      { a: 80, b: 20 },
      { a: 100, b: 0 },
    ]);
    const back = run.weights[1]?.at ?? Number.POSITIVE_INFINITY;
    const after = run.report.responses.filter((r) => r.sentAt > back);
    expect(after.length).toBeGreaterThan(0);
    expect(after.filter((r) => r.targetGroup !== shop.slots.a.targetGroupArn)).toEqual([]);
    expect(after.filter((r) => r.status !== 200)).toEqual([]);
  }, 60_000);

  it('rolls back by its metric gate when green’s target group answers more 5xx than blue’s', async () => {
    const shop = shops.gated;
    const run = await releaseUnderLoad(shop, '1.3.0', '1.3.0-5xx');

    expect(run.release.phase).toBe('RolledBack');
    expect(run.release.reason).toContain('MetricGateFailed');
    expect(run.release.reason).toMatch(
      /green error rate [\d.]+% \(\d+ samples\) is [\d.]+ points above blue 0%/,
    );
    const gate = (await local.ledger.listSteps(run.release.releaseId)).find(
      (step) => step.step === 'gate' && step.outcome === 'failed',
    );
    expect(gate?.evidence?.metrics?.[0]?.queries.map((q) => [q.id, q.dimensions])).toEqual(
      ['green_failures', 'green_requests', 'blue_failures', 'blue_requests'].map((id) => [
        id,
        {
          LoadBalancer: expect.stringMatching(/^app\/gated\//),
          TargetGroup: expect.stringMatching(
            id.startsWith('green') ? /^targetgroup\/gated-b\// : /^targetgroup\/gated-a\//,
          ),
        },
      ]),
    );
    expect(slotWeights(run)).toEqual([
      { a: 80, b: 20 },
      { a: 100, b: 0 },
    ]);
    const summary = colours(shop, run);
    expect(summary.failed).toBe(0);
    expect(summary.byColour['a 1.0.0']?.errors).toBe(0);
    expect(servedUnhealthy(run)).toEqual([]);
  }, 60_000);

  it('retries steps whose responses were lost without a second revision or an unplanned weight', async () => {
    const shop = shops.retry;
    local.alb.ecs.failNextResponse('RegisterTaskDefinition');
    local.alb.ecs.failNextResponse('UpdateService');
    // More than the SDK's own attempts: the step fails and the workflow retries it.
    local.alb.elbv2.failNextResponse('ModifyListener', 3);
    const run = await releaseUnderLoad(shop, '1.1.0', '1.1.0');

    expect(run.release.phase).toBe('Finalized');
    expect(await revisionsOf(shop.taskDefinitionFamily)).toHaveLength(2);
    const green = local.alb.ecs.describeService(shop.name, `${shop.name}-b`);
    expect(green.deployments).toHaveLength(1);
    expect(green.taskDefinition).toMatch(/:task-definition\/retry-web:2$/);
    expect(slotWeights(run)).toEqual([
      { a: 80, b: 20 },
      { a: 0, b: 100 },
    ]);
    expect(colours(shop, run)).toMatchObject({ failed: 0, target5xx: 0 });
    expect(servedUnhealthy(run)).toEqual([]);

    const steps = await local.ledger.listSteps(run.release.releaseId);
    const provision = steps.find((step) => step.step === 'provision');
    expect(provision?.evidence?.warnings).toEqual([
      'Sticky sessions (lb_cookie for 60s) on retry-a (blue): its sessions will move to green at finalize (some earlier, as weights shift)',
      'Sticky sessions (lb_cookie for 60s) on retry-b (green): sessions that reach green will move back to blue if the release rolls back',
    ]);
    const execution = local.cloud.stepFunctions
      .listExecutions()
      .find((e) => e.input.includes('"service":"retry"'));
    const retried = local.cloud.stepFunctions
      .getHistory(execution?.executionArn ?? '')
      .filter((event) => event.type === 'LambdaFunctionFailed')
      .map((event) => String(event.details?.error));
    expect(retried).toEqual(['ServerException', 'InternalFailure']);
  }, 60_000);
});
