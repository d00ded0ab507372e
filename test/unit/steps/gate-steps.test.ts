import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoBakeStore } from '../../../src/aws/dynamo-bakes.ts';
import { DynamoReleaseLedger } from '../../../src/aws/dynamo-ledger.ts';
import { DynamoReleaseQueue } from '../../../src/aws/dynamo-release-queue.ts';
import { idempotencyTableInput, ledgerTableInput } from '../../../src/aws/dynamo-tables.ts';
import type { MetricQuery, MetricQueryResult } from '../../../src/core/metric-gate.ts';
import { ReleasePhase } from '../../../src/core/phases.ts';
import type { AlarmEvidence, LifecycleEvent, ReleaseRecord } from '../../../src/core/records.ts';
import { StaticServiceRegistry } from '../../../src/core/registry.ts';
import { ServiceConfig } from '../../../src/core/service-config.ts';
import type { StepDependencies } from '../../../src/runtime/dependencies.ts';
import { createIdempotentStepHandler } from '../../../src/runtime/idempotent-step-handler.ts';
import { createStepHandler, logger } from '../../../src/runtime/step-handler.ts';
import { checkGatesStep } from '../../../src/steps/check-gates.ts';
import { testGreenStep } from '../../../src/steps/test-green.ts';
import { aReleaseRecord, aService } from '../../support/builders.ts';
import { type RunningDynalite, startDynalite } from '../../support/dynalite.ts';

// The gate steps as Lambda runs them (input validation; test-green with idempotency on the
// real Powertools layer), against the real ledger and bake store on dynalite, with CloudWatch
// scripted. Each case runs a step twice with the same input, as a Step Functions retry does.

const colours = { blue: '7', green: '8' };
const now = new Date('2026-11-21T10:10:00.000Z');
const greenDims = { FunctionName: 'checkout', Resource: 'checkout:live', ExecutedVersion: '8' };
const aliasDims = { FunctionName: 'checkout', Resource: 'checkout:live' };

const service = ServiceConfig.parse({
  ...aService(),
  alarms: ['checkout-errors-green', { name: 'checkout-errors', scope: 'service' }],
  metricGates: [
    {
      name: 'errors',
      metric: 'error-rate',
      maxAboveBlue: 1,
      minSamples: 100,
      windowSeconds: 60,
      holdSeconds: 30,
      maxHoldSeconds: 60,
    },
  ],
});

function anAlarm(name: string, dimensions: Record<string, string>): AlarmEvidence {
  return {
    name,
    state: 'OK',
    reason: 'Threshold Crossed: 1 datapoint [0.0] was not greater than the threshold (1.0).',
    updatedAt: '2026-11-21T10:00:00.000Z',
    namespace: 'AWS/Lambda',
    metric: 'Errors',
    dimensions,
  };
}

/** What CloudWatch answers; each case sets it. */
const cloud = {
  alarms: [] as AlarmEvidence[],
  metrics: {} as Record<string, number[]>,
};
const published: LifecycleEvent[] = [];
let dynalite: RunningDynalite;
let deps: StepDependencies;
let ledger: DynamoReleaseLedger;
let requests = 0;

const context = (): Context =>
  ({
    functionName: 'greenlight-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:greenlight-test',
    memoryLimitInMB: '512',
    awsRequestId: `request-${++requests}`,
    logGroupName: '/aws/lambda/greenlight-test',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => 60_000,
    callbackWaitsForEmptyEventLoop: false,
  }) as Context;

const testGreen = createIdempotentStepHandler(testGreenStep, () => deps);
const checkGates = createStepHandler(checkGatesStep, () => deps);

/** Runs a handler twice with the same input; both answers (or both errors) must agree. */
async function twice(
  handler: (event: never, context: Context) => Promise<unknown>,
  input: unknown,
): Promise<{ value?: unknown; error?: Error }> {
  const run = async () => {
    try {
      return { value: await handler(input as never, context()) };
    } catch (error) {
      return { error: error as Error };
    }
  };
  const first = await run();
  const second = await run();
  expect(second.error?.name).toBe(first.error?.name);
  expect(second.value).toEqual(first.value);
  return first;
}

async function aRelease(version: string, phase: ReleasePhase): Promise<ReleaseRecord> {
  const record = aReleaseRecord({
    version,
    phase,
    colours,
    ...(phase === ReleasePhase.Shifting ? { stepIndex: 0, greenPercent: 10 } : {}),
  });
  await ledger.createRelease(record);
  return record;
}

function inputOf(record: ReleaseRecord, extra: Record<string, unknown> = {}) {
  const {
    phase: _p,
    reason: _r,
    executionId: _e,
    colours: _c,
    greenPercent: _g,
    stepIndex: _s,
    updatedAt: _u,
    ...release
  } = record;
  return { release, colours, step: release.plan[0], ...extra };
}

beforeAll(async () => {
  dynalite = await startDynalite();
  const dynamo = new DynamoDBClient({
    endpoint: dynalite.endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await dynamo.send(new CreateTableCommand(ledgerTableInput('ledger')));
  await dynamo.send(new CreateTableCommand(idempotencyTableInput('idempotency')));
  const documents = DynamoDBDocumentClient.from(dynamo, {
    marshallOptions: { removeUndefinedValues: true },
  });
  ledger = new DynamoReleaseLedger({ client: documents, tableName: 'ledger' });
  logger.setLogLevel('SILENT');
  deps = {
    config: {
      ledgerTable: 'ledger',
      idempotencyTable: 'idempotency',
      busName: 'greenlight',
      registryTable: 'unused',
      idempotencyTtlSeconds: 3600,
    },
    registry: new StaticServiceRegistry([service]),
    ledger,
    lock: new DynamoReleaseQueue({
      client: documents,
      tableName: 'ledger',
      callbacks: {
        succeed: async () => ({ delivered: true }),
        fail: async () => ({ delivered: true }),
      },
      executions: { isRunning: async () => true },
    }),
    events: { publish: async (events) => void published.push(...events) },
    alarms: {
      describe: async (names) => cloud.alarms.filter((alarm) => names.includes(alarm.name)),
    },
    metrics: {
      query: async (queries: readonly MetricQuery[]): Promise<MetricQueryResult[]> =>
        queries.map((query) => ({ id: query.id, values: cloud.metrics[query.id] ?? [] })),
    },
    bakes: new DynamoBakeStore({ client: documents, tableName: 'ledger' }),
    callbacks: {
      succeed: async () => ({ delivered: true }),
      fail: async () => ({ delivered: true }),
    },
    targetFor: () => ({
      provision: async () => colours,
      test: async () => [{ name: 'health', passed: true, detail: 'ok', durationMs: 3 }],
      testColour: async () => [{ name: 'health', passed: true, detail: 'ok', durationMs: 3 }],
      setGreenPercent: async () => undefined,
      finalize: async () => undefined,
      rollback: async () => undefined,
    }),
    dynamo,
    now: () => now,
  };
});

afterAll(async () => {
  deps?.dynamo.destroy();
  await dynalite?.close();
});

beforeEach(() => {
  published.length = 0;
  cloud.alarms = [
    anAlarm('checkout-errors-green', greenDims),
    anAlarm('checkout-errors', aliasDims),
  ];
  cloud.metrics = {
    green_failures: [0],
    green_requests: [150],
    blue_failures: [2],
    blue_requests: [1350],
  };
});

describe('test-green preflight, retried', () => {
  it('passes alarms on green and service-wide ones, recording one preflight entry', async () => {
    const record = await aRelease('2.0.0', ReleasePhase.Testing);

    const outcome = await twice(testGreen, inputOf(record));

    expect(outcome.value).toEqual({ passed: true, tests: 1, alarms: 2 });
    const steps = await ledger.listSteps(record.releaseId);
    expect(steps.map((s) => `${s.step}:${s.outcome}`)).toEqual([
      'preflight:succeeded',
      'test:succeeded',
    ]);
    expect(steps[0]?.evidence?.alarms?.[0]?.dimensions).toEqual(greenDims);
  });

  it('stops before traffic moves when a gate alarm is missing', async () => {
    cloud.alarms = [anAlarm('checkout-errors', aliasDims)];
    const record = await aRelease('2.0.1', ReleasePhase.Testing);

    const outcome = await twice(testGreen, inputOf(record));

    expect(outcome.error?.name).toBe('GateAlarmMissing');
    expect(outcome.error?.message).toContain('checkout-errors-green does not exist');
    expect((await ledger.getRelease(record.releaseId))?.greenPercent).toBe(0);
  });

  it('stops before traffic moves when a gate alarm has no data', async () => {
    cloud.alarms = [
      { ...anAlarm('checkout-errors-green', greenDims), state: 'INSUFFICIENT_DATA' },
      anAlarm('checkout-errors', aliasDims),
    ];
    const record = await aRelease('2.0.2', ReleasePhase.Testing);

    const outcome = await twice(testGreen, inputOf(record));

    expect(outcome.error?.name).toBe('GateAlarmUnusable');
    const steps = await ledger.listSteps(record.releaseId);
    expect(steps.map((s) => `${s.step}:${s.outcome}`)).toEqual(['preflight:failed']);
  });

  it('stops before traffic moves when an alarm not marked service-wide watches the alias', async () => {
    cloud.alarms = [
      anAlarm('checkout-errors-green', aliasDims),
      anAlarm('checkout-errors', aliasDims),
    ];
    const record = await aRelease('2.0.3', ReleasePhase.Testing);

    const outcome = await twice(testGreen, inputOf(record));

    expect(outcome.error?.name).toBe('GateAlarmUnusable');
    expect(outcome.error?.message).toBe(
      'Before any traffic moved: checkout-errors-green watches checkout:live, blue and green together: make it watch green (dimensions FunctionName = checkout, Resource = checkout:live, ExecutedVersion = 8; or Resource = checkout:8), or mark it { "name": "checkout-errors-green", "scope": "service" } if it is meant to watch the whole service',
    );
  });
});

describe('check-gates, retried', () => {
  it('passes with the metric evidence, and a retry changes nothing', async () => {
    const record = await aRelease('3.0.0', ReleasePhase.Shifting);

    const outcome = await twice(checkGates, inputOf(record));

    expect(outcome.value).toMatchObject({ verdict: 'pass', holdSeconds: 0, holds: 0 });
    const steps = await ledger.listSteps(record.releaseId);
    expect(steps.map((s) => `${s.key}:${s.outcome}`)).toEqual(['gate#0:succeeded']);
    expect(steps[0]?.evidence?.metrics?.[0]).toMatchObject({
      gate: 'errors',
      verdict: 'pass',
      green: { value: 0, samples: 150 },
      blue: { samples: 1350 },
      window: { start: '2026-11-21T10:09:00.000Z', end: '2026-11-21T10:10:00.000Z' },
    });
    expect(published).toEqual([]);
  });

  it('holds without data, each retry writing the same hold, then passes once data comes', async () => {
    cloud.metrics = {};
    const record = await aRelease('3.0.1', ReleasePhase.Shifting);

    const first = await twice(checkGates, inputOf(record));
    expect(first.value).toMatchObject({ verdict: 'hold', holdSeconds: 30, holds: 1 });
    const second = await twice(checkGates, inputOf(record, { gate: first.value }));
    expect(second.value).toMatchObject({
      verdict: 'hold',
      holdSeconds: 30,
      holds: 2,
      heldSeconds: 30,
    });
    cloud.metrics = { green_requests: [120], blue_requests: [1080] };
    const third = await twice(checkGates, inputOf(record, { gate: second.value }));

    expect(third.value).toMatchObject({ verdict: 'pass', holds: 2, heldSeconds: 60 });
    const steps = await ledger.listSteps(record.releaseId);
    expect(steps.map((s) => `${s.key}:${s.outcome}`).sort()).toEqual([
      'gate#0#hold#1:held',
      'gate#0#hold#2:held',
      'gate#0:succeeded',
    ]);
    expect((await ledger.getRelease(record.releaseId))?.phase).toBe('Shifting');
  });

  it('rolls back as inconclusive once the holds run out, never passing without data', async () => {
    cloud.metrics = { green_requests: [12], blue_requests: [1000] };
    const record = await aRelease('3.0.2', ReleasePhase.Shifting);

    const outcome = await twice(
      checkGates,
      inputOf(record, { gate: { verdict: 'hold', holdSeconds: 30, holds: 1, heldSeconds: 30 } }),
    );

    expect(outcome.error?.name).toBe('GateInconclusive');
    const release = await ledger.getRelease(record.releaseId);
    expect(release?.phase).toBe('RollingBack');
    expect(release?.reason).toBe('Metric gate errors inconclusive at step 0 (10% on green)');
    expect(published.map((e) => e.detailType)).toEqual(['Gate Failed']);
    const gate = (await ledger.listSteps(record.releaseId)).find((s) => s.key === 'gate#0');
    expect(gate?.outcome).toBe('failed');
    expect(gate?.evidence?.metrics?.[0]).toMatchObject({
      verdict: 'inconclusive',
      holds: 1,
      heldSeconds: 60,
    });
  });

  it('rolls back when green is worse than blue, with one Gate Failed event for two tries', async () => {
    cloud.metrics = { ...cloud.metrics, green_failures: [9] };
    const record = await aRelease('3.0.3', ReleasePhase.Shifting);

    const outcome = await twice(checkGates, inputOf(record));

    expect(outcome.error?.name).toBe('MetricGateFailed');
    expect(outcome.error?.message).toBe(
      'Metric gate errors: green error rate 6% (150 samples) is 5.85 points above blue 0.15% (1350 samples); at most 1 points allowed',
    );
    expect(published.map((e) => e.detailType)).toEqual(['Gate Failed']);
    expect((await ledger.getRelease(record.releaseId))?.phase).toBe('RollingBack');
  });
});
