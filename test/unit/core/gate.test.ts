import { describe, expect, it } from 'vitest';
import {
  assessAlarmWatch,
  decideGate,
  decidePreflight,
  type ReleaseSubject,
  releaseSubjectOf,
} from '../../../src/core/gate.ts';
import type { AlarmEvidence } from '../../../src/core/records.ts';

function anAlarm(overrides: Partial<AlarmEvidence> = {}): AlarmEvidence {
  return {
    name: 'checkout-errors',
    state: 'OK',
    reason: 'Threshold Crossed: no datapoints were received',
    updatedAt: '2026-11-21T10:00:00.000Z',
    ...overrides,
  };
}

describe('decideGate', () => {
  it('passes when every watched alarm exists and none is in ALARM', () => {
    const decision = decideGate(['checkout-errors'], [anAlarm()]);
    expect(decision).toEqual({
      passed: true,
      missing: [],
      firing: [],
      reason: '1 alarm not in ALARM',
    });
  });

  it('rolls back when any alarm is in ALARM, naming it and its reason', () => {
    const firing = anAlarm({
      name: 'checkout-latency',
      state: 'ALARM',
      reason: 'p99 above 800 ms',
    });
    const decision = decideGate(['checkout-errors', 'checkout-latency'], [anAlarm(), firing]);
    expect(decision.passed).toBe(false);
    expect(decision.firing).toEqual([firing]);
    expect(decision.reason).toBe('Alarm checkout-latency in ALARM: p99 above 800 ms');
  });

  it('fails on a watched alarm that does not exist, saying how to fix it', () => {
    const decision = decideGate(['checkout-errors', 'checkout-typo'], [anAlarm()]);
    expect(decision.passed).toBe(false);
    expect(decision.missing).toEqual(['checkout-typo']);
    expect(decision.reason).toContain(
      'Gate alarm not found: checkout-typo. Create it in CloudWatch',
    );
  });

  it('passes INSUFFICIENT_DATA, which a quiet canary reports', () => {
    expect(decideGate(['checkout-errors'], [anAlarm({ state: 'INSUFFICIENT_DATA' })]).passed).toBe(
      true,
    );
  });

  it('ignores alarms it does not watch', () => {
    const decision = decideGate([], [anAlarm({ state: 'ALARM' })]);
    expect(decision).toMatchObject({ passed: true, reason: 'No alarms to watch' });
  });
});

const lambda: ReleaseSubject = {
  kind: 'lambda-alias',
  functionName: 'checkout',
  alias: 'live',
  blue: '7',
  green: '8',
};
const alb: ReleaseSubject = {
  kind: 'alb-listener',
  loadBalancer: 'app/shop/0123456789abcdef',
  blue: 'targetgroup/shop-a/1111111111111111',
  green: 'targetgroup/shop-b/2222222222222222',
};

function aLambdaAlarm(dimensions: Record<string, string>, overrides: Partial<AlarmEvidence> = {}) {
  return anAlarm({ namespace: 'AWS/Lambda', metric: 'Errors', dimensions, ...overrides });
}

describe('releaseSubjectOf', () => {
  it('names a Lambda release by function, alias and version numbers', () => {
    const subject = releaseSubjectOf(
      { kind: 'lambda-alias', functionName: 'checkout', alias: 'live', keepVersions: 3 },
      { blue: '7', green: '8' },
    );
    expect(subject).toEqual(lambda);
  });

  it('names an ALB release by load balancer and each slot’s target group dimension', () => {
    const arn = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012';
    const slot = (name: string, id: string) => ({
      targetGroupArn: `${arn}:targetgroup/${name}/${id}`,
      ecs: { cluster: 'shop', service: name },
    });
    const subject = releaseSubjectOf(
      {
        kind: 'alb-listener',
        listenerArn: `${arn}:listener/app/shop/0123456789abcdef/fedcba9876543210`,
        testListenerArn: `${arn}:listener/app/shop/0123456789abcdef/0000000000000001`,
        testUrl: 'http://shop.internal:8443',
        slots: {
          a: slot('shop-a', '1111111111111111'),
          b: slot('shop-b', '2222222222222222'),
        },
        containerName: 'web',
        taskDefinitionFamily: 'shop-web',
        passRoles: [],
        smoke: { paths: [], checks: [], consecutivePasses: 1, timeoutMs: 100, intervalMs: 0 },
        healthyDeadlineSeconds: 60,
      },
      { blue: 'a', green: 'b' },
    );
    expect(subject).toEqual(alb);
  });
});

describe('assessAlarmWatch', () => {
  it('accepts a Lambda alarm on green’s ExecutedVersion under the alias', () => {
    const watch = assessAlarmWatch(
      aLambdaAlarm({ FunctionName: 'checkout', Resource: 'checkout:live', ExecutedVersion: '8' }),
      lambda,
    );
    expect(watch).toEqual({
      watchesGreen: true,
      reason:
        'watches green: AWS/Lambda Errors {FunctionName=checkout, Resource=checkout:live, ExecutedVersion=8}',
      fix: '',
    });
  });

  it('accepts a Lambda alarm on the green version’s Resource', () => {
    const alarm = aLambdaAlarm({ FunctionName: 'checkout', Resource: 'checkout:8' });
    expect(assessAlarmWatch(alarm, lambda).watchesGreen).toBe(true);
  });

  it.each([
    [
      { FunctionName: 'checkout', Resource: 'checkout:live' },
      'watches checkout:live, blue and green together',
    ],
    [{ FunctionName: 'checkout' }, 'watches every version of checkout together'],
    [
      { FunctionName: 'checkout', Resource: 'checkout:live', ExecutedVersion: '7' },
      'watches version 7 (blue), not green (8)',
    ],
    [
      { FunctionName: 'checkout', Resource: 'checkout:7' },
      'watches checkout:7 (blue), not green (checkout:8)',
    ],
    [
      { FunctionName: 'payments', ExecutedVersion: '8' },
      'watches AWS/Lambda Errors {FunctionName=payments, ExecutedVersion=8}, not function checkout',
    ],
  ])('refuses a Lambda alarm on %o: %s', (dimensions, reason) => {
    const watch = assessAlarmWatch(aLambdaAlarm(dimensions), lambda);
    expect(watch.watchesGreen).toBe(false);
    expect(watch.reason).toBe(reason);
    expect(watch.fix).toBe(
      'make it watch green (dimensions FunctionName = checkout, Resource = checkout:live, ExecutedVersion = 8; or Resource = checkout:8), or mark it { "name": "checkout-errors", "scope": "service" } if it is meant to watch the whole service',
    );
  });

  it('cannot tell what a metric-math or composite alarm watches', () => {
    const watch = assessAlarmWatch(anAlarm(), lambda);
    expect(watch).toMatchObject({
      watchesGreen: false,
      reason:
        'is a metric-math or composite alarm, so greenlight cannot tell which colour it watches',
    });
  });

  it('accepts an ALB alarm on green’s target group and refuses blue’s or the whole balancer', () => {
    const on = (dimensions: Record<string, string>) =>
      assessAlarmWatch(
        anAlarm({
          namespace: 'AWS/ApplicationELB',
          metric: 'HTTPCode_Target_5XX_Count',
          dimensions,
        }),
        alb,
      );
    expect(on({ LoadBalancer: alb.loadBalancer, TargetGroup: alb.green }).watchesGreen).toBe(true);
    expect(on({ LoadBalancer: alb.loadBalancer, TargetGroup: alb.blue }).reason).toBe(
      "watches blue's target group targetgroup/shop-a/1111111111111111",
    );
    expect(on({ LoadBalancer: alb.loadBalancer })).toMatchObject({
      watchesGreen: false,
      reason: 'watches the whole load balancer, blue and green together',
      fix: expect.stringContaining(
        "make it watch green's target group (dimension TargetGroup = targetgroup/shop-b/2222222222222222)",
      ),
    });
  });
});

describe('decidePreflight', () => {
  const greenAlarm = aLambdaAlarm({
    FunctionName: 'checkout',
    Resource: 'checkout:live',
    ExecutedVersion: '8',
  });
  const aliasAlarm = aLambdaAlarm(
    { FunctionName: 'checkout', Resource: 'checkout:live' },
    { name: 'checkout-alias-errors' },
  );

  it('passes alarms that exist, have data and watch green or are marked service-wide', () => {
    const decision = decidePreflight(
      [
        { name: 'checkout-errors', scope: 'green' },
        { name: 'checkout-alias-errors', scope: 'service' },
      ],
      [greenAlarm, aliasAlarm],
      lambda,
    );
    expect(decision).toEqual({
      passed: true,
      problems: [],
      reason: '2 gate alarms ready (1 on green, 1 service-wide), none in ALARM',
    });
  });

  it('stops on a missing alarm first, listing every other problem too', () => {
    const decision = decidePreflight(
      [
        { name: 'checkout-typo', scope: 'green' },
        { name: 'checkout-alias-errors', scope: 'green' },
      ],
      [aliasAlarm],
      lambda,
    );
    expect(decision.error).toBe('GateAlarmMissing');
    expect(decision.problems.map((p) => [p.alarm, p.kind])).toEqual([
      ['checkout-typo', 'missing'],
      ['checkout-alias-errors', 'not-green'],
    ]);
    expect(decision.reason).toBe(
      'checkout-typo does not exist: create it in CloudWatch or remove it from the service\'s "alarms"; checkout-alias-errors watches checkout:live, blue and green together: make it watch green (dimensions FunctionName = checkout, Resource = checkout:live, ExecutedVersion = 8; or Resource = checkout:8), or mark it { "name": "checkout-alias-errors", "scope": "service" } if it is meant to watch the whole service',
    );
  });

  it('refuses an alarm in INSUFFICIENT_DATA, even a service-wide one, saying how to give it data', () => {
    const decision = decidePreflight(
      [{ name: 'checkout-alias-errors', scope: 'service' }],
      [{ ...aliasAlarm, state: 'INSUFFICIENT_DATA', reason: 'Unchecked: Initial alarm creation' }],
      lambda,
    );
    expect(decision).toMatchObject({ passed: false, error: 'GateAlarmUnusable' });
    expect(decision.reason).toBe(
      'checkout-alias-errors is in INSUFFICIENT_DATA (Unchecked: Initial alarm creation): an alarm without data cannot fire; send its metric data or set its TreatMissingData to "notBreaching"',
    );
  });

  it('refuses an alarm that is not on green unless it is marked service-wide', () => {
    const decision = decidePreflight(
      [{ name: 'checkout-alias-errors', scope: 'green' }],
      [aliasAlarm],
      lambda,
    );
    expect(decision).toMatchObject({ passed: false, error: 'GateAlarmUnusable' });
  });

  it('stops on an alarm already in ALARM with its reason', () => {
    const decision = decidePreflight(
      [{ name: 'checkout-errors', scope: 'green' }],
      [{ ...greenAlarm, state: 'ALARM', reason: 'Threshold Crossed' }],
      lambda,
    );
    expect(decision).toMatchObject({
      passed: false,
      error: 'AlarmGateFailed',
      reason: 'Alarm checkout-errors in ALARM: Threshold Crossed',
    });
  });

  it('passes a service with no gate alarms', () => {
    expect(decidePreflight([], [], lambda)).toEqual({
      passed: true,
      problems: [],
      reason: 'No gate alarms',
    });
  });
});
