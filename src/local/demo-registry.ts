import type { ServiceConfigInput } from '../core/service-config.ts';
import type { DemoShop } from './data-plane/local-alb.ts';
import { DemoDatabase, shopOrdersChecks } from './demo-database.ts';

/** Bucket of the demo's Lambda artifacts (demo/artifacts/s3/<bucket>/...). */
export const DemoArtifactBucket = 'greenlight-demo-artifacts';

/** Who may approve `payments` in the local Slack stand-in, and where it asks. */
export const DemoApproval = {
  channel: 'C0RELEASES',
  approver: { id: 'U0DEMOLEAD', username: 'lead' },
} as const;

/**
 * Where the demo services' release updates go in the local Slack stand-in: one message per
 * release, updated in place, with a thread reply per lifecycle event.
 */
export const DemoUpdates = { channel: 'C0DEPLOYS' } as const;

/**
 * The services the local cloud knows. `checkout` is a Lambda behind the `live` alias; its
 * versions under demo/artifacts: 1.0.0 (what blue runs at start), 1.1.0 (good), 1.2.0-broken
 * (fails its pre-traffic test) and 1.3.0-faulty (passes the test, throws on real traffic).
 */
export const demoServices: ServiceConfigInput[] = [
  {
    name: 'checkout',
    // Only the live version is kept after a teardown, so the demo's teardown has a version to
    // delete; real services keep a few (default 3).
    target: { kind: 'lambda-alias', functionName: 'checkout', alias: 'live', keepVersions: 1 },
    strategies: {
      // Bakes of seconds, so that the demo runs in seconds; real services bake for minutes.
      canary: { type: 'canary', percent: 10, bakeSeconds: 3 },
      linear: { type: 'linear', percent: 25, intervalSeconds: 2 },
      'all-at-once': { type: 'all-at-once', bakeSeconds: 2 },
      steps: {
        type: 'steps',
        steps: [
          { percent: 5, bakeSeconds: 2 },
          { percent: 25, bakeSeconds: 2 },
          { percent: 50, bakeSeconds: 2 },
        ],
      },
    },
    defaultStrategy: 'canary',
    artifacts: { s3Buckets: [DemoArtifactBucket] },
    // The alarm watches the alias, blue and green together: service-wide, on purpose.
    alarms: [{ name: 'checkout-errors', scope: 'service' }],
    tests: [
      {
        name: 'health',
        payload: { path: '/health' },
        expect: { statusCode: 200 },
      },
    ],
    // Blue stays warm for seconds, so that the demo shows its teardown; real services keep it
    // for minutes (default 15).
    warmWindowSeconds: 5,
    updates: { channel: DemoUpdates.channel },
  },
  // A second Lambda service whose releases wait for a human "go" in Slack before any traffic
  // moves (the local Slack stand-in; approve with `greenlight approve` or its button).
  {
    name: 'payments',
    target: { kind: 'lambda-alias', functionName: 'payments', alias: 'live' },
    strategies: { canary: { type: 'canary', percent: 10, bakeSeconds: 2 } },
    defaultStrategy: 'canary',
    artifacts: { s3Buckets: [DemoArtifactBucket] },
    // Like checkout's, the alarm watches the alias, blue and green together: service-wide.
    alarms: [{ name: 'payments-errors', scope: 'service' }],
    tests: [{ name: 'health', payload: { path: '/health' }, expect: { statusCode: 200 } }],
    approval: {
      type: 'slack',
      channel: DemoApproval.channel,
      approvers: [DemoApproval.approver.id],
      timeoutSeconds: 3600,
    },
    warmWindowSeconds: 3600,
    updates: { channel: DemoUpdates.channel },
  },
];

/** The demo functions and the artifact blue starts from (payments runs checkout's code). */
export const demoFunctions = [
  {
    functionName: 'checkout',
    alias: 'live',
    artifact: { s3: { bucket: DemoArtifactBucket, key: 'checkout/1.0.0.zip' } },
  },
  {
    functionName: 'payments',
    alias: 'live',
    artifact: { s3: { bucket: DemoArtifactBucket, key: 'checkout/1.0.0.zip' } },
  },
] as const;

/**
 * A gate alarm as a team would create it in CloudWatch: any error through the function's alias
 * within a short period (periods are seconds here so that releases run in seconds). It watches
 * the alias, blue and green together: service-wide.
 */
export function lambdaErrorsAlarm(functionName: string, alias = 'live') {
  return {
    AlarmName: `${functionName}-errors`,
    AlarmDescription: `Errors through ${functionName}:${alias}`,
    Namespace: 'AWS/Lambda',
    MetricName: 'Errors',
    Dimensions: [
      { Name: 'FunctionName', Value: functionName },
      { Name: 'Resource', Value: `${functionName}:${alias}` },
    ],
    Statistic: 'Sum' as const,
    Period: 10,
    EvaluationPeriods: 1,
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold' as const,
    TreatMissingData: 'notBreaching',
  };
}

/** The demo's gate alarms, one per Lambda service. */
export const demoAlarms = [lambdaErrorsAlarm('checkout'), lambdaErrorsAlarm('payments')];

/**
 * The demo web service `shop` behind the local Application Load Balancer, as a team would
 * register it once its load balancer, target groups and ECS services exist (their ARNs come
 * from the seeded world). Its images under demo/artifacts/images: shop-web 1.0.0 (what blue
 * runs at start), 1.1.0 (good), 1.2.0-unhealthy (never passes its health check) and 1.3.0-5xx
 * (healthy, then answers 500 to user requests).
 */
export function demoShopService(
  shop: DemoShop,
  overrides: {
    bakeSeconds?: number;
    healthyDeadlineSeconds?: number;
    warmWindowSeconds?: number;
    database?: boolean;
  } = {},
): ServiceConfigInput {
  return {
    name: shop.name,
    target: {
      kind: 'alb-listener',
      listenerArn: shop.listenerArn,
      testListenerArn: shop.testListenerArn,
      testUrl: shop.testUrl,
      slots: shop.slots,
      containerName: shop.containerName,
      taskDefinitionFamily: shop.taskDefinitionFamily,
      // Short pauses between smoke tries and a short health deadline: local tasks start in
      // well under a second.
      smoke: {
        consecutivePasses: 3,
        timeoutMs: 1000,
        intervalMs: 50,
        // With the database, the smoke checks write and read orders through it: green's tests,
        // and blue's re-test after an expand, exercise the schema each colour's code expects.
        ...(overrides.database ? { checks: shopOrdersChecks } : {}),
      },
      healthyDeadlineSeconds: overrides.healthyDeadlineSeconds ?? 20,
    },
    strategies: {
      // Bakes are real seconds locally; an alarm event cuts one short.
      canary: { type: 'canary', percent: 20, bakeSeconds: overrides.bakeSeconds ?? 4 },
      'all-at-once': { type: 'all-at-once', bakeSeconds: 2 },
    },
    defaultStrategy: 'canary',
    artifacts: { imageRepositories: [shop.imageRepository] },
    // The 5xx alarm counts the whole load balancer, blue and green together: service-wide, on
    // purpose (green alone is a target group, and the slot green runs in alternates).
    alarms: [{ name: shop.targetErrorsAlarm.AlarmName as string, scope: 'service' }],
    warmWindowSeconds: overrides.warmWindowSeconds ?? 3600,
    updates: { channel: DemoUpdates.channel },
    // The shop's own migration runner, seeded as a local Lambda function with the database.
    ...(overrides.database
      ? {
          migrations: {
            runner: { type: 'lambda' as const, functionName: DemoDatabase.runnerFunction },
            timeoutSeconds: 60,
          },
        }
      : {}),
  };
}
