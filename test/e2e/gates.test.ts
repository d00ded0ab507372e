import type { PutMetricAlarmCommandInput } from '@aws-sdk/client-cloudwatch';
import { GetAliasCommand, InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { deriveReleaseId } from '../../src/core/release-id.ts';
import type { ServiceConfigInput } from '../../src/core/service-config.ts';
import type { GreenlightLocal } from '../../src/local/greenlight-local.ts';
import type { SeedFunctionInput } from '../../src/local/lambda/types.ts';
import {
  aLambdaService,
  artifact,
  executionFor,
  lifecycleEvents,
  requestRelease,
  useLocalCloud,
  waitForHistory,
} from './local-release.ts';

// Gates end to end through the local cloud: the preflight that stops a release before any
// traffic moves, and metric gates reading the local CloudWatch's GetMetricData, which answers
// from the Lambda invocations that really ran, per executed version.

interface Fixture {
  service: ServiceConfigInput;
  fn: SeedFunctionInput;
  alarm?: PutMetricAlarmCommandInput;
}

/** A service whose gate alarm is configured, or created, differently from the usual one. */
function withAlarm(
  name: string,
  change: (fixture: ReturnType<typeof aLambdaService>) => Partial<Fixture>,
): Fixture {
  const base = aLambdaService(name);
  return { ...base, ...change(base) };
}

/** A service gated by green's error rate against blue's; no alarms, so the metric decides. */
function withErrorRateGate(name: string, gate: Record<string, unknown>): Fixture {
  const base = aLambdaService(name, 2);
  return {
    fn: base.fn,
    service: {
      ...base.service,
      alarms: [],
      metricGates: [
        {
          name: 'errors',
          metric: 'error-rate',
          maxAboveBlue: 5,
          minSamples: 5,
          windowSeconds: 30,
          holdSeconds: 1,
          maxHoldSeconds: 20,
          ...gate,
        },
      ],
    },
  };
}

const fixtures: Fixture[] = [
  // Never created: AWS would report it as OK.
  (({ alarm: _never, ...rest }) => rest)(aLambdaService('missing')),
  // Missing data treated as missing, and no traffic yet: INSUFFICIENT_DATA.
  withAlarm('nodata', ({ alarm }) => ({ alarm: { ...alarm, TreatMissingData: 'missing' } })),
  // Watches the alias, but is listed as a plain name: it must watch green.
  withAlarm('alias', ({ service }) => ({ service: { ...service, alarms: ['alias-errors'] } })),
  // Watches green's version (2, once provisioned) under the alias: accepted as a green alarm.
  withAlarm('green', ({ service, alarm }) => ({
    service: { ...service, alarms: ['green-errors'] },
    alarm: {
      ...alarm,
      Dimensions: [...(alarm.Dimensions ?? []), { Name: 'ExecutedVersion', Value: '2' }],
    },
  })),
  withErrorRateGate('quiet', { maxHoldSeconds: 2 }),
  withErrorRateGate('worse', {}),
  withErrorRateGate('better', {}),
];

let local: GreenlightLocal;
let lambda: LambdaClient;

useLocalCloud(fixtures, (cloud) => {
  ({ local, lambda } = cloud);
});

async function release(service: string, version: string, build = version) {
  const eventId = await requestRelease(local, { service, version, artifact: artifact(build) });
  const execution = await executionFor(local, eventId);
  const releaseId = deriveReleaseId(service, version, 1);
  return {
    eventId,
    execution,
    releaseId,
    record: await local.ledger.getRelease(releaseId),
    steps: await local.ledger.listSteps(releaseId),
  };
}

/** Requests through the alias, as users send them; the alias's weights pick the version. */
async function traffic(service: string, requests: number): Promise<void> {
  await Promise.all(
    Array.from({ length: requests }, () =>
      lambda.send(
        new InvokeCommand({
          FunctionName: service,
          Qualifier: 'live',
          Payload: JSON.stringify({ path: '/pay' }),
        }),
      ),
    ),
  );
}

describe('gate preflight', () => {
  it.each([
    ['missing', 'GateAlarmMissing', 'missing-errors does not exist'],
    ['nodata', 'GateAlarmUnusable', 'nodata-errors is in INSUFFICIENT_DATA'],
    [
      'alias',
      'GateAlarmUnusable',
      'alias-errors watches alias:live, blue and green together: make it watch green',
    ],
  ])(
    'stops a release whose gate alarm is %s before any traffic moves (%s)',
    async (name, error, why) => {
      const { execution, releaseId, record, steps } = await release(name, '1.1.0');

      expect(execution).toMatchObject({ status: 'FAILED', error: 'ReleaseRolledBack' });
      expect(record?.phase).toBe('RolledBack');
      expect(record?.reason).toContain(`after ${error}: Before any traffic moved: ${why}`);
      expect(steps.map((s) => `${s.step}:${s.outcome}`)).toEqual([
        'register:succeeded',
        'lock:succeeded',
        'provision:succeeded',
        'preflight:failed',
        'rollback:succeeded',
      ]);
      expect(lifecycleEvents(local, releaseId).map((e) => e['detail-type'])).not.toContain(
        'Traffic Shifted',
      );
      const alias = await lambda.send(new GetAliasCommand({ FunctionName: name, Name: 'live' }));
      expect(alias.FunctionVersion).toBe('1');
      expect(alias.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
    },
  );

  it('lets an alarm on green’s version through, recording what it watches', async () => {
    const { execution, steps } = await release('green', '1.1.0');

    expect(execution.status).toBe('SUCCEEDED');
    const preflight = steps.find((s) => s.step === 'preflight');
    expect(preflight?.reason).toBe(
      'Gate alarms ready: 1 gate alarm ready (1 on green, 0 service-wide), none in ALARM',
    );
    expect(preflight?.evidence?.alarms?.[0]).toMatchObject({
      name: 'green-errors',
      state: 'OK',
      namespace: 'AWS/Lambda',
      metric: 'Errors',
      dimensions: { FunctionName: 'green', Resource: 'green:live', ExecutedVersion: '2' },
    });
  });
});

describe('metric gates', () => {
  it('holds a step that has too little data, then rolls back as inconclusive', async () => {
    const { execution, record, steps, releaseId } = await release('quiet', '1.1.0');

    expect(execution).toMatchObject({ status: 'FAILED', error: 'ReleaseRolledBack' });
    expect(record?.reason).toContain('after GateInconclusive: Metric gate errors: green had 0');
    expect(steps.filter((s) => s.step === 'gate').map((s) => s.outcome)).toEqual([
      'held',
      'held',
      'failed',
    ]);
    const failed = steps.find((s) => s.key === 'gate#0');
    expect(failed?.evidence?.metrics?.[0]).toMatchObject({
      gate: 'errors',
      verdict: 'inconclusive',
      green: { samples: 0 },
      holds: 2,
      heldSeconds: 2,
    });
    expect(failed?.evidence?.metrics?.[0]?.queries.map((q) => q.id)).toEqual([
      'green_failures',
      'green_requests',
      'blue_failures',
      'blue_requests',
    ]);
    expect(lifecycleEvents(local, releaseId).map((e) => e['detail-type'])).toEqual([
      'Release Started',
      'Green Provisioned',
      'Traffic Shifted',
      'Gate Failed',
      'Release Rolled Back',
    ]);
    expect(local.lambda.describe('quiet').alias).toMatchObject({ version: '1', weights: {} });
  });

  it('rolls back when green’s error rate is worse than blue’s', async () => {
    const eventId = await requestRelease(local, {
      service: 'worse',
      version: '1.3.0',
      artifact: artifact('1.3.0-faulty'),
    });
    await waitForHistory(local, eventId, 'TaskSubmitted');
    await traffic('worse', 100);
    const execution = await executionFor(local, eventId);
    const releaseId = deriveReleaseId('worse', '1.3.0', 1);

    expect(execution).toMatchObject({ status: 'FAILED', error: 'ReleaseRolledBack' });
    const record = await local.ledger.getRelease(releaseId);
    expect(record?.reason).toMatch(
      /after MetricGateFailed: Metric gate errors: green error rate 100% \(\d+ samples\) is 100 points above blue 0% \(\d+ samples\)/,
    );
    const gate = (await local.ledger.listSteps(releaseId)).find((s) => s.key === 'gate#0');
    expect(gate?.outcome).toBe('failed');
    const metrics = gate?.evidence?.metrics?.[0];
    expect(metrics).toMatchObject({ verdict: 'fail', green: { value: 100 }, blue: { value: 0 } });
    // The local alias routes by weight exactly: 10% of the requests ran on green.
    expect(metrics?.green.samples).toBe(10);
    expect(metrics?.blue.samples).toBe(90);
    expect(local.lambda.describe('worse').alias).toMatchObject({ version: '1', weights: {} });
  });

  it('finalizes when green’s error rate is no worse than blue’s, with the evidence', async () => {
    const eventId = await requestRelease(local, {
      service: 'better',
      version: '1.1.0',
      artifact: artifact('1.1.0'),
    });
    await waitForHistory(local, eventId, 'TaskSubmitted');
    await traffic('better', 100);
    const execution = await executionFor(local, eventId);

    expect(execution.status).toBe('SUCCEEDED');
    const steps = await local.ledger.listSteps(deriveReleaseId('better', '1.1.0', 1));
    const gates = steps.filter((s) => s.step === 'gate' && s.outcome === 'succeeded');
    expect(gates.map((s) => s.evidence?.metrics?.[0]?.verdict)).toEqual(['pass', 'pass']);
    expect(gates[0]?.evidence?.metrics?.[0]).toMatchObject({
      green: { value: 0, samples: 10 },
      blue: { value: 0, samples: 90 },
    });
  });
});
