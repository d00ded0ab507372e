import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { LambdaClient, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import { DeleteScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as teardown } from '../../functions/teardown.ts';
import { DynamoCommandLog } from '../../src/aws/dynamo-commands.ts';
import { SchedulerTeardowns } from '../../src/aws/scheduler-teardowns.ts';
import { teardownScheduleName } from '../../src/core/idle-colour.ts';
import type { CommandRecord } from '../../src/core/operator-command.ts';
import { IdleColourState, type ReleaseRecord } from '../../src/core/records.ts';
import { deriveReleaseId } from '../../src/core/release-id.ts';
import {
  type GreenlightLocal,
  LocalNames,
  startGreenlightLocal,
} from '../../src/local/greenlight-local.ts';
import type { TeardownOutcome } from '../../src/steps/idle-teardown.ts';
import { eventually } from '../support/eventually.ts';
import {
  aLambdaService,
  artifact,
  lifecycleEvents,
  requestRelease,
  waitForPhase,
} from './local-release.ts';

// Warm windows and scheduled teardowns through the local cloud: the release workflow schedules
// the teardown at finalize on the local EventBridge Scheduler, whose clock the tests hold: a
// schedule fires only when they let its time come. Each test releases its own service.
const fixtures = {
  warm: aLambdaService('warm'),
  rolled: aLambdaService('rolled'),
  orphan: aLambdaService('orphan'),
  raced: aLambdaService('raced'),
  late: aLambdaService('late'),
};
for (const fixture of Object.values(fixtures)) {
  fixture.service.warmWindowSeconds = 1;
  fixture.service.target = {
    kind: 'lambda-alias',
    functionName: fixture.fn.functionName,
    alias: 'live',
    keepVersions: 1,
  };
}
// The orphan's blue keeps provisioned concurrency warm: it costs money until it is torn down.
fixtures.orphan.fn.provisionedConcurrency = 2;

/** The scheduler's clock: held at the epoch (nothing is due) until a test lets time come. */
let schedulerClock = new Date(0);
let local: GreenlightLocal;
let lambda: LambdaClient;

beforeAll(async () => {
  local = await startGreenlightLocal({
    retryIntervalMs: 10,
    services: Object.values(fixtures).map((f) => f.service),
    functions: Object.values(fixtures).map((f) => f.fn),
    alarms: Object.values(fixtures).map((f) => f.alarm),
    schedulerNow: () => schedulerClock,
  });
  lambda = new LambdaClient(local.clientConfig);
});

afterAll(async () => {
  lambda?.destroy();
  await local?.close();
});

/** Releases `service` 1.1.0 and waits until it is finalized with blue (version 1) warm. */
async function finalizeRelease(service: string): Promise<ReleaseRecord> {
  await requestRelease(local, { service, version: '1.1.0', artifact: artifact('1.1.0') });
  const release = await waitForPhase(local, deriveReleaseId(service, '1.1.0', 1));
  expect(release).toMatchObject({ phase: 'Finalized', colours: { blue: '1', green: '2' } });
  return release;
}

/** Lets the scheduler's clock reach `at`, fires what is due, and holds the clock again. */
async function letTimeCome(at: string): Promise<void> {
  schedulerClock = new Date(at);
  await local.scheduler.fireDue();
  schedulerClock = new Date(0);
}

async function waitForIdleState(releaseId: string, state: string): Promise<ReleaseRecord> {
  let release: ReleaseRecord | undefined;
  return eventually(
    async () => {
      release = await local.ledger.getRelease(releaseId);
      return release?.idle?.state === state ? release : undefined;
    },
    {
      what: () =>
        `idle colour of ${releaseId} to become ${state}; last read: ${JSON.stringify(release?.idle)}`,
    },
  );
}

describe('the warm window and its teardown', () => {
  it('keeps blue warm at finalize and tears it down when its schedule fires, not before', async () => {
    const release = await finalizeRelease('warm');
    const name = teardownScheduleName(release.releaseId);
    expect(release.idle).toMatchObject({
      colour: '1',
      live: '2',
      state: 'warm',
      schedule: name,
      cost: { hourlyUsd: 0, basis: 'no provisioned concurrency: no cost while idle' },
    });
    expect(local.scheduler.schedules()).toMatchObject({
      [`${LocalNames.scheduleGroup}/${name}`]: `at(${release.idle?.teardownAt.slice(0, 19)})`,
    });

    // A second before its time, nothing happens.
    await letTimeCome(new Date(Date.parse(release.idle?.teardownAt ?? '') - 1_000).toISOString());
    expect(local.scheduler.firings()).toEqual([]);
    expect((await local.ledger.getRelease(release.releaseId))?.idle?.state).toBe('warm');
    expect(local.lambda.describe('warm').versions).toEqual(['1', '2']);

    await letTimeCome(release.idle?.teardownAt ?? '');
    const tornDown = await waitForIdleState(release.releaseId, IdleColourState.TornDown);

    expect(tornDown.idle?.actions).toEqual(['Deleted version 1 (beyond the newest 1)']);
    expect(local.lambda.describe('warm')).toMatchObject({
      versions: ['2'],
      alias: { version: '2', weights: {} },
    });
    expect(local.scheduler.schedules()).toEqual({});
    const steps = await local.ledger.listSteps(release.releaseId);
    expect(steps.at(-1)).toMatchObject({
      key: 'teardown',
      outcome: 'succeeded',
      reason:
        'Idle colour 1 torn down at the end of its warm window: Deleted version 1 (beyond the newest 1)',
    });
    expect(lifecycleEvents(local, release.releaseId).at(-1)).toMatchObject({
      'detail-type': 'Idle Colour Torn Down',
      detail: { colour: '1', live: '2', via: 'schedule', actions: tornDown.idle?.actions },
    });
  });

  it('does nothing when retried: the torn-down colour stays as recorded', async () => {
    const releaseId = deriveReleaseId('warm', '1.1.0', 1);
    const events = lifecycleEvents(local, releaseId).length;
    const before = await local.ledger.getRelease(releaseId);

    const again = (await teardown(
      { service: 'warm', releaseId, colour: '1' } as never,
      {} as never,
    )) as TeardownOutcome;

    expect(again).toMatchObject({ outcome: 'settled', actions: before?.idle?.actions });
    expect((await local.ledger.getRelease(releaseId))?.idle).toEqual(before?.idle);
    expect(lifecycleEvents(local, releaseId)).toHaveLength(events);
    expect(local.lambda.describe('warm').versions).toEqual(['2']);
  });

  it('skips the teardown when blue is live again, and records why', async () => {
    const release = await finalizeRelease('rolled');
    // An operator rolls back during the warm window: one switch, blue takes the traffic again.
    await lambda.send(
      new UpdateAliasCommand({ FunctionName: 'rolled', Name: 'live', FunctionVersion: '1' }),
    );

    await letTimeCome(release.idle?.teardownAt ?? '');
    const skipped = await waitForIdleState(release.releaseId, IdleColourState.LiveAgain);

    expect(skipped.idle?.reason).toBe(
      '1 takes production traffic again (a rollback or a later release made it live); left running',
    );
    expect(local.lambda.describe('rolled').versions).toEqual(['1', '2']);
    const teardownStep = (await local.ledger.listSteps(release.releaseId)).find(
      (step) => step.key === 'teardown',
    );
    expect(teardownStep).toMatchObject({ outcome: 'skipped' });
    expect(teardownStep?.reason).toContain(
      'Teardown of 1 skipped: 1 takes production traffic again',
    );
    expect(lifecycleEvents(local, release.releaseId).map((e) => e['detail-type'])).not.toContain(
      'Idle Colour Torn Down',
    );
  });

  it('lets the daily sweeper tear down an orphan whose schedule was lost', async () => {
    const release = await finalizeRelease('orphan');
    expect(release.idle?.cost?.hourlyUsd).toBeGreaterThan(0);
    expect(release.idle?.cost?.basis).toBe(
      'provisioned concurrency 2 x 128 MB (x86_64, us-east-1 list price)',
    );
    const scheduler = new SchedulerClient(local.clientConfig);
    await scheduler.send(
      new DeleteScheduleCommand({
        Name: release.idle?.schedule,
        GroupName: LocalNames.scheduleGroup,
      }),
    );
    scheduler.destroy();
    // The sweeper function reads the machine's clock (the local cloud gives it no other), as
    // the release's functions did when they stamped teardownAt: wait for that clock to pass it.
    const teardownAt = Date.parse(release.idle?.teardownAt ?? '');
    await eventually(() => (Date.now() > teardownAt ? true : undefined), {
      what: `the machine's clock to pass ${release.idle?.teardownAt}`,
      intervalMs: 50,
    });

    const sweep = await local.sweep();

    expect(sweep.failed).toEqual([]);
    expect(sweep.swept).toEqual([
      {
        releaseId: release.releaseId,
        colour: '1',
        outcome: 'torn-down',
        reason:
          'Idle colour 1 torn down by the daily sweeper: Removed provisioned concurrency 2 from version 1; Deleted version 1 (beyond the newest 1)',
        actions: [
          'Removed provisioned concurrency 2 from version 1',
          'Deleted version 1 (beyond the newest 1)',
        ],
      },
    ]);
    expect(local.lambda.describe('orphan')).toMatchObject({
      versions: ['2'],
      provisionedConcurrency: {},
    });
    // Nothing is left for the next sweep.
    expect((await local.sweep()).swept).toEqual([]);
  });

  it('tears a colour down once when its schedule, delivered twice, races the sweeper', async () => {
    const release = await finalizeRelease('raced');
    const target = { service: 'raced', releaseId: release.releaseId, colour: '1' };
    const teardownAt = Date.parse(release.idle?.teardownAt ?? '');
    await eventually(() => (Date.now() > teardownAt ? true : undefined), {
      what: `the machine's clock to pass ${release.idle?.teardownAt}`,
      intervalMs: 50,
    });
    // Two deliveries are two invocations: Lambda gives each its own request id.
    const delivery = (awsRequestId: string) =>
      teardown(target as never, { awsRequestId } as never) as Promise<TeardownOutcome>;

    const [first, second, sweep] = await Promise.all([
      delivery('delivery-1'),
      delivery('delivery-2'),
      local.sweep(),
    ]);

    const outcomes = [
      first,
      second,
      ...sweep.swept.filter((s) => s.releaseId === release.releaseId),
    ]
      .map((o) => o.outcome)
      .sort();
    expect(outcomes.filter((o) => o === 'torn-down')).toHaveLength(1);
    expect(
      outcomes.filter((o) => o !== 'torn-down').every((o) => o === 'claimed' || o === 'settled'),
    ).toBe(true);
    expect(
      lifecycleEvents(local, release.releaseId).filter(
        (e) => e['detail-type'] === 'Idle Colour Torn Down',
      ),
    ).toHaveLength(1);
    expect((await local.ledger.getRelease(release.releaseId))?.idle).toMatchObject({
      state: 'torn-down',
    });
  });

  it('finds its own schedule when a retried finalize creates it again', async () => {
    const teardowns = new SchedulerTeardowns({
      client: new SchedulerClient(local.clientConfig),
      groupName: LocalNames.scheduleGroup,
      roleArn: `arn:aws:iam::${LocalNames.accountId}:role/${LocalNames.schedulerRole}`,
      targetArn: `arn:aws:lambda:${LocalNames.region}:${LocalNames.accountId}:function:${LocalNames.teardownFunction}`,
    });
    const target = { service: 'warm', releaseId: 'warm-9-9-9-a1-0000000000', colour: '2' };
    const first = await teardowns.schedule({
      name: teardownScheduleName(target.releaseId),
      at: new Date('2099-01-01T00:15:00.000Z'),
      target,
    });
    const retried = await teardowns.schedule({
      name: teardownScheduleName(target.releaseId),
      at: new Date('2099-01-01T00:15:07.000Z'),
      target,
    });
    expect(first.created).toBe(true);
    expect(retried).toEqual({
      name: first.name,
      at: new Date('2099-01-01T00:15:00.000Z'),
      created: false,
    });
  });
});

describe('greenlight rollback after the warm window', () => {
  it('re-provisions blue, torn down with its version, as a new release of the build before it', async () => {
    await finalizeRelease('late');
    const firstBuild = local.lambda.describe('late').latest.codeSha256;
    // 1.2.0 ships the 1.0.0 build: the demo's good builds are 1.0.0 and 1.1.0.
    await requestRelease(local, { service: 'late', version: '1.2.0', artifact: artifact('1.0.0') });
    const second = await waitForPhase(local, deriveReleaseId('late', '1.2.0', 1));
    expect(second).toMatchObject({ phase: 'Finalized', colours: { blue: '2', green: '3' } });
    await letTimeCome(second.idle?.teardownAt ?? '');
    await waitForIdleState(second.releaseId, IdleColourState.TornDown);
    expect(local.lambda.describe('late').versions).toEqual(['3']);

    const outcome = await operatorCommand({ command: 'rollback', service: 'late' });

    const again = deriveReleaseId('late', '1.1.0', 2);
    expect(outcome).toMatchObject({
      outcome: 'applied',
      releaseId: second.releaseId,
      newReleaseId: again,
    });
    expect(outcome.message).toContain(
      `re-provisioning late 1.1.0 (the build of ${deriveReleaseId('late', '1.1.0', 1)}) as ${again}, through tests and gates`,
    );
    const rollback = await waitForPhase(local, again);
    expect(rollback).toMatchObject({
      phase: 'Finalized',
      rollbackOf: second.releaseId,
      actor: 'dana',
      colours: { blue: '3', green: '4' },
    });
    const steps = (await local.ledger.listSteps(again)).map((step) => step.step);
    expect(steps).toEqual(expect.arrayContaining(['register', 'provision', 'test', 'finalize']));
    expect((await local.ledger.listSteps(again))[0]?.reason).toMatch(
      new RegExp(`^Rollback of ${second.releaseId} requested by dana`),
    );
    // The build before is live again, on a version published from its recorded artifact.
    expect(local.lambda.describe('late')).toMatchObject({
      alias: { version: '4', weights: {} },
      latest: { codeSha256: firstBuild },
    });
    // The release it replaced stays as it ended: finalized, its idle colour torn down.
    expect((await local.ledger.getRelease(second.releaseId))?.phase).toBe('Finalized');
  });
});

/** Puts an Operator Command on the bus, as the CLI does, and reads its outcome from the ledger. */
async function operatorCommand(detail: Record<string, string>): Promise<CommandRecord> {
  const events = new EventBridgeClient(local.clientConfig);
  try {
    const result = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: LocalNames.bus,
            Source: 'greenlight.cli',
            DetailType: 'Operator Command',
            Detail: JSON.stringify({
              schemaVersion: 1,
              actor: 'dana',
              reason: 'the 1.2.0 bug showed up hours later',
              ...detail,
            }),
          },
        ],
      }),
    );
    const eventId = result.Entries?.[0]?.EventId as string;
    const commands = new DynamoCommandLog({
      client: DynamoDBDocumentClient.from(new DynamoDBClient(local.clientConfig)),
      tableName: LocalNames.ledgerTable,
    });
    // The local bus delivers before PutEvents answers; in AWS the CLI polls for this.
    const outcome = await commands.get(eventId);
    if (!outcome) throw new Error(`No outcome recorded for command ${eventId}`);
    return outcome;
  } finally {
    events.destroy();
  }
}
