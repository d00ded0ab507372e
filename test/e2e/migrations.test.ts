import { afterAll, describe, expect, it } from 'vitest';
import type { ReleaseRecord } from '../../src/core/records.ts';
import { deriveReleaseId } from '../../src/core/release-id.ts';
import { DemoArtifactBucket } from '../../src/local/demo-registry.ts';
import type { GreenlightLocal } from '../../src/local/greenlight-local.ts';
import { eventually } from '../support/eventually.ts';
import {
  callsAbout,
  migrationArtifactsRoot,
  ordersKey,
  standInRunner,
  standInRunnerKey,
} from '../support/stand-in-runner.ts';
import {
  aLambdaService,
  executionFor,
  type LambdaFixture,
  requestRelease,
  useLocalCloud,
  waitForPhase,
} from './local-release.ts';

// Migrations through the local cloud: the real workflow and handlers, the migrate function
// invoking a stand-in runner registered as a local Lambda function (test/support), and the
// "orders" service whose old code (blue, 1.0.0) a breaking expand breaks. Each test releases
// its own service and its own migration ids.
const artifacts = migrationArtifactsRoot(['1.1.0', '1.2.0']);
const runner = 'orders-migrations';

function anOrdersService(name: string, timeoutSeconds = 30): LambdaFixture {
  const fixture = aLambdaService(name);
  fixture.service.migrations = { runner: { type: 'lambda', functionName: runner }, timeoutSeconds };
  fixture.service.warmWindowSeconds = 1;
  fixture.fn.artifact = { s3: { bucket: DemoArtifactBucket, key: ordersKey('1.0.0') } };
  return fixture;
}
const names = ['passes', 'refused', 'breaks', 'fails', 'timesout', 'hangs', 'contract', 'early'];
const fixtures = names.map((name) => anOrdersService(name, name === 'hangs' ? 1 : 30));
// The runner is a local Lambda function like any other; useLocalCloud seeds functions with a
// service each, so it comes with a registered service that no test releases.
const runnerFixture: LambdaFixture = {
  service: { ...aLambdaService('unused').service, name: 'unused' },
  fn: {
    functionName: runner,
    alias: 'live',
    artifact: { s3: { bucket: DemoArtifactBucket, key: standInRunnerKey } },
  },
};

/** The scheduler's clock: held at the epoch (nothing is due) until a test lets time come. */
let schedulerClock = new Date(0);
let local: GreenlightLocal;
useLocalCloud(
  [...fixtures, runnerFixture],
  (cloud) => {
    local = cloud.local;
  },
  { artifactsRoot: artifacts.root, schedulerNow: () => schedulerClock },
);
afterAll(() => artifacts.remove());

const orders = (version: string) => ({
  s3: { bucket: DemoArtifactBucket, key: ordersKey(version) },
});

async function release(
  service: string,
  version: string,
  migration: Record<string, string>,
): Promise<{ eventId: string; record: ReleaseRecord }> {
  const eventId = await requestRelease(local, {
    service,
    version,
    artifact: orders(version),
    migration,
  });
  return { eventId, record: await waitForPhase(local, deriveReleaseId(service, version, 1)) };
}

async function stepsOf(releaseId: string) {
  return (await local.ledger.listSteps(releaseId)).map((s) => `${s.key}:${s.outcome}`);
}

/** Lets the scheduler's clock reach `at`, fires what is due, and holds the clock again. */
async function letTimeCome(at: string): Promise<void> {
  schedulerClock = new Date(at);
  await local.scheduler.fireDue();
  schedulerClock = new Date(0);
}

describe('an expand migration', () => {
  it('runs after green is provisioned, blue re-tested on it, and the release goes on', async () => {
    standInRunner().migrations['0001_add_note'] = {
      up: ['ALTER TABLE orders ADD COLUMN note text'],
    };

    const { record } = await release('passes', '1.1.0', { id: '0001_add_note', kind: 'expand' });

    expect(record.phase).toBe('Finalized');
    expect(callsAbout('0001_add_note')).toEqual(['status', 'plan', 'apply']);
    expect(record.migrationState).toMatchObject({ status: 'applied', id: '0001_add_note' });
    const steps = await stepsOf(record.releaseId);
    expect(steps).toEqual(
      expect.arrayContaining([
        'migrate-status:succeeded',
        'migrate-plan:succeeded',
        'migrate-classify:succeeded',
        'migrate-apply:succeeded',
        'migrate-blue-test:succeeded',
        'test:succeeded',
      ]),
    );
    // In the workflow's order: the expand and blue's tests, then green's.
    const execution = local.cloud.stepFunctions
      .listExecutions()
      .find((e) => e.input.includes('"service":"passes"'));
    const entered = local.cloud.stepFunctions
      .getHistory(execution?.executionArn ?? '')
      .filter((h) => h.type.endsWith('StateEntered'))
      .map((h) => String(h.details?.name));
    expect(
      entered.slice(entered.indexOf('ProvisionGreen'), entered.indexOf('TestGreen') + 1),
    ).toEqual(['ProvisionGreen', 'HasExpandMigration', 'Migrate', 'TestGreen']);
  });

  it('that breaks blue is refused before anything ran: the runner never gets apply', async () => {
    standInRunner().migrations['0002_rename_total'] = {
      up: ['ALTER TABLE orders RENAME COLUMN total TO amount'],
      breaksOldCode: true,
    };

    const { eventId, record } = await release('refused', '1.1.0', {
      id: '0002_rename_total',
      kind: 'expand',
    });

    expect(record.phase).toBe('RolledBack');
    expect(record.reason).toMatch(
      /MigrationRefused: Expand 0002_rename_total refused before anything ran: .*renam/i,
    );
    expect(record.reason).toMatch(/expand 0002_rename_total was refused, nothing ran/);
    expect(callsAbout('0002_rename_total')).toEqual(['status', 'plan']);
    expect(standInRunner().applied.has('0002_rename_total')).toBe(false);
    expect(local.lambda.describe('refused').alias).toMatchObject({ version: '1', weights: {} });
    expect(await executionFor(local, eventId)).toMatchObject({ status: 'FAILED' });
  });

  it('that breaks blue once applied is reverted and rolled back, traffic untouched', async () => {
    // Classified harmless (a new table), yet blue's code fails on it: the re-test is the proof.
    standInRunner().migrations['0003_orders_v2'] = {
      up: ['CREATE TABLE orders_v2 (id bigint PRIMARY KEY)'],
      breaksOldCode: true,
    };

    const { record } = await release('breaks', '1.1.0', { id: '0003_orders_v2', kind: 'expand' });

    expect(record.phase).toBe('RolledBack');
    expect(record.reason).toMatch(
      /MigrationBrokeBlue: Expand 0003_orders_v2 broke blue: blue \(1\) failed 1 of 1 tests: health: .*; reverted/,
    );
    expect(callsAbout('0003_orders_v2')).toEqual(['status', 'plan', 'apply', 'revert']);
    expect(standInRunner().applied.has('0003_orders_v2')).toBe(false);
    expect(record.migrationState?.status).toBe('reverted');
    expect(local.lambda.describe('breaks').alias).toMatchObject({ version: '1', weights: {} });
    // Green never had its tests: the release stopped at the migration.
    expect(await stepsOf(record.releaseId)).not.toContain('test:succeeded');
  });

  it('whose runner fails is rolled back with the runner’s own error', async () => {
    standInRunner().migrations['0004_add_index'] = {
      up: ['CREATE INDEX CONCURRENTLY orders_note ON orders (note)'],
      fail: { apply: { errorType: 'PgError', errorMessage: 'deadlock detected' } },
    };

    const { record } = await release('fails', '1.1.0', { id: '0004_add_index', kind: 'expand' });

    expect(record.phase).toBe('RolledBack');
    expect(record.reason).toMatch(
      /MigrationRunnerFailed: Migration runner orders-migrations \(apply 0004_add_index\) failed: PgError: deadlock detected/,
    );
    expect(record.reason).toMatch(/expand 0004_add_index may have been applied/);
    // Not retried: one apply.
    expect(callsAbout('0004_add_index')).toEqual(['status', 'plan', 'apply']);
  });

  it('whose runner times out in Lambda is rolled back with that reason', async () => {
    standInRunner().migrations['0005_backfill'] = {
      up: ['ALTER TABLE orders ADD COLUMN region text'],
      fail: {
        apply: {
          errorType: 'Sandbox.Timedout',
          errorMessage: 'RequestId: 1 Error: Task timed out after 300.00 seconds',
        },
      },
    };

    const { record } = await release('timesout', '1.1.0', { id: '0005_backfill', kind: 'expand' });

    expect(record.phase).toBe('RolledBack');
    expect(record.reason).toMatch(
      /Sandbox.Timedout: RequestId: 1 Error: Task timed out after 300.00 seconds/,
    );
    expect(local.lambda.describe('timesout').alias).toMatchObject({ version: '1', weights: {} });
  });

  it('whose runner does not answer within migrations.timeoutSeconds is rolled back', async () => {
    standInRunner().migrations['0006_slow'] = {
      up: ['ALTER TABLE orders ADD COLUMN slow text'],
      // Answers after 2.5 s; greenlight waits 1 s (the service's timeoutSeconds).
      fail: { plan: { hangMs: 2_500 } },
    };

    const { record } = await release('hangs', '1.1.0', { id: '0006_slow', kind: 'expand' });

    expect(record.phase).toBe('RolledBack');
    expect(record.reason).toMatch(
      /MigrationRunnerFailed: Migration runner orders-migrations \(plan 0006_slow\) did not answer within 1s/,
    );
    expect(callsAbout('0006_slow')).toEqual(['status', 'plan']);
    expect(standInRunner().applied.has('0006_slow')).toBe(false);
  });
});

describe('a contract migration', () => {
  it('is refused at Register when its expand was never applied, and changes nothing', async () => {
    const eventId = await requestRelease(local, {
      service: 'early',
      version: '1.1.0',
      artifact: orders('1.1.0'),
      migration: { id: '0102_drop', kind: 'contract', completes: '0101_never' },
    });

    expect(await executionFor(local, eventId)).toMatchObject({
      status: 'FAILED',
      error: 'InvalidReleaseEvent',
    });
    const rejection = await local.ledger.getRejection(eventId);
    expect(rejection?.evidence?.issues).toEqual([
      {
        path: 'detail.migration.completes',
        message: expect.stringMatching(
          /^contract "0102_drop" is refused: the ledger has no applied expand "0101_never"/,
        ),
      },
    ]);
    expect(callsAbout('0102_drop')).toEqual([]);
    expect(await local.ledger.getRelease(deriveReleaseId('early', '1.1.0', 1))).toBeUndefined();
  });

  it('is refused while blue of its expand is warm, then applied at its own release’s teardown', async () => {
    standInRunner().migrations['0201_add_amount'] = {
      up: ['ALTER TABLE orders ADD COLUMN amount numeric'],
    };
    standInRunner().migrations['0202_drop_total'] = {
      up: ['ALTER TABLE orders DROP COLUMN total'],
    };
    const expand = await release('contract', '1.1.0', { id: '0201_add_amount', kind: 'expand' });
    expect(expand.record).toMatchObject({ phase: 'Finalized', idle: { state: 'warm' } });
    const contract = { id: '0202_drop_total', kind: 'contract', completes: '0201_add_amount' };

    // Too early: the expand's blue (old code) may still take the traffic back.
    const early = await requestRelease(local, {
      service: 'contract',
      version: '1.2.0',
      artifact: orders('1.2.0'),
      migration: contract,
    });
    expect((await executionFor(local, early)).error).toBe('InvalidReleaseEvent');
    const refusal = await local.ledger.getRejection(early);
    expect(refusal?.reason).toContain(
      `its idle colour 1 runs code older than the expand and stays warm for a rollback until its teardown at ${expand.record.idle?.teardownAt}`,
    );

    // Blue of the expand torn down: the contract is released, and waits for its own teardown.
    await letTimeCome(expand.record.idle?.teardownAt ?? '');
    await eventually(
      async () =>
        (await local.ledger.getRelease(expand.record.releaseId))?.idle?.state === 'torn-down' ||
        undefined,
      { what: 'the expand release’s idle colour to be torn down' },
    );
    const { record } = await release('contract', '1.2.0', contract);
    expect(record.phase).toBe('Finalized');
    expect(callsAbout('0202_drop_total')).toEqual([]);

    await letTimeCome(record.idle?.teardownAt ?? '');
    const applied = await eventually(
      async () => {
        const now = await local.ledger.getRelease(record.releaseId);
        return now?.migrationState?.status === 'applied' ? now : undefined;
      },
      { what: 'the contract to be applied at the teardown' },
    );
    expect(callsAbout('0202_drop_total')).toEqual(['plan', 'apply']);
    expect(standInRunner().applied.has('0202_drop_total')).toBe(true);
    expect(applied.idle?.state).toBe('torn-down');
    expect(await stepsOf(record.releaseId)).toEqual(
      expect.arrayContaining([
        'contract-plan:succeeded',
        'contract-apply:succeeded',
        'teardown:succeeded',
      ]),
    );
  });
});
