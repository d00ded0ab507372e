import { GetAliasCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import type { ReleaseRecord } from '../../src/core/records.ts';
import { deriveReleaseId } from '../../src/core/release-id.ts';
import type { GreenlightLocal } from '../../src/local/greenlight-local.ts';
import {
  aLambdaService,
  artifact,
  executionFor,
  lifecycleEvents,
  requestRelease,
  requestReleases,
  useLocalCloud,
  waitForPhase,
} from './local-release.ts';

// Releases of one service in request order, end to end through the local cloud. Event times
// are set by the test (PutEvents Time), never read from the wall clock: the order CI built them.
const t0 = Date.parse('2026-11-02T09:00:00Z');
const at = (second: number) => new Date(t0 + second * 1000);

const spaced = aLambdaService('spaced');
const burst = aLambdaService('burst');
const older = aLambdaService('older');
// The first release of `latest` bakes long enough for the others to queue behind it.
const latest = aLambdaService('latest', 5);
latest.service.lockPolicy = 'supersede';
const fixtures = [spaced, burst, older, latest];
// Blue starts on code that no release sends (it takes no traffic here), so that whichever
// release of a burst comes first publishes a new version: the same code twice in a row would
// publish none, and that release would fail provisioning.
for (const fixture of fixtures) fixture.fn.artifact = artifact('1.3.0-faulty');

let local: GreenlightLocal;
let lambda: LambdaClient;

useLocalCloud(fixtures, (cloud) => {
  ({ local, lambda } = cloud);
});

/** Release i of a service: version `1.<i>.0`, requested at second i; artifacts alternate. */
function nth(service: string, i: number, extra: Record<string, unknown> = {}) {
  return {
    detail: {
      service,
      version: `1.${i}.0`,
      // Two artifacts in turn, so that every release publishes a new Lambda version.
      artifact: artifact(i % 2 === 0 ? '1.0.0' : '1.1.0'),
      ...extra,
    },
    time: at(i),
  };
}

const idOf = (service: string, i: number, attempt = 1) =>
  deriveReleaseId(service, `1.${i}.0`, attempt);

async function liveVersionOf(service: string): Promise<string | undefined> {
  const alias = await lambda.send(new GetAliasCommand({ FunctionName: service, Name: 'live' }));
  return alias.FunctionVersion;
}

async function finalizeTime(releaseId: string): Promise<string> {
  const steps = await local.ledger.listSteps(releaseId);
  const step = steps.find((s) => s.step === 'finalize' && s.outcome === 'succeeded');
  if (!step) throw new Error(`${releaseId} has no finalize step`);
  return step.at;
}

/** How often each execution entered AcquireLock: one ask, plus one per wake-up. */
function lockAsks(executionArn: string): number {
  return local.cloud.stepFunctions
    .getHistory(executionArn)
    .filter((h) => h.type === 'TaskStateEntered' && h.details?.name === 'AcquireLock').length;
}

describe('releases of one service, in request order', () => {
  it('serves releases sent a second apart in order, each woken once, and ends on the newest', async () => {
    const n = 5;
    const events: string[] = [];
    for (let i = 1; i <= n; i++) {
      events.push(await requestRelease(local, nth('spaced', i).detail, at(i)));
      // The next one is sent once this one is queued: a second apart, whatever the machine.
      await waitForPhase(local, idOf('spaced', i), new Set(['Requested', 'Provisioning']));
    }
    const executions = await Promise.all(events.map((id) => executionFor(local, id)));

    expect(executions.map((e) => e.status)).toEqual(Array(n).fill('SUCCEEDED'));
    const finalized = await Promise.all(
      Array.from({ length: n }, (_, k) => finalizeTime(idOf('spaced', k + 1))),
    );
    expect([...finalized].sort()).toEqual(finalized);
    const last = await local.ledger.getRelease(idOf('spaced', n));
    expect(await liveVersionOf('spaced')).toBe(last?.colours?.green);
    // Woken, not polling: the first asks once, every other once more when the lock reaches it.
    expect(executions.map((e) => lockAsks(e.executionArn))).toEqual([1, 2, 2, 2, 2]);
  });

  it('never ends on an older build when a burst arrives all at once, in any order', async () => {
    const n = 6;
    const order = [4, 1, 6, 2, 5, 3];
    const events = await requestReleases(
      local,
      order.map((i) => nth('burst', i)),
    );
    const executions = await Promise.all(events.map((id) => executionFor(local, id)));
    const records = (await Promise.all(
      Array.from({ length: n }, (_, k) => local.ledger.getRelease(idOf('burst', k + 1))),
    )) as ReleaseRecord[];

    // Every release ends: finalized, or refused as older than the build live when its turn came.
    for (const record of records) expect(['Finalized', 'Rejected']).toContain(record.phase);
    const newest = records[n - 1] as ReleaseRecord;
    expect(newest.phase).toBe('Finalized');
    expect(await liveVersionOf('burst')).toBe(newest.colours?.green);
    // The finalized ones finalized in request order: no downgrade at any moment.
    const done = records.filter((r) => r.phase === 'Finalized');
    const times = await Promise.all(done.map((r) => finalizeTime(r.releaseId)));
    expect([...times].sort()).toEqual(times);
    for (const record of records.filter((r) => r.phase === 'Rejected')) {
      expect(record.reason).toMatch(/is older than 1\.\d\.0 .*which is live on burst/);
    }
    const refused = executions.filter((e) => e.status === 'FAILED');
    expect(refused.map((e) => e.error)).toEqual(refused.map(() => 'OlderThanLive'));
    expect(refused).toHaveLength(n - done.length);
    // Linear: at most one ask per release plus one per wake-up, never K² polls.
    const asks = executions.reduce((sum, e) => sum + lockAsks(e.executionArn), 0);
    expect(asks).toBeLessThanOrEqual(2 * n);
  });

  it('refuses a build older than the live one, unless the event allows it', async () => {
    const newer = await requestRelease(local, nth('older', 5).detail, at(5));
    expect((await executionFor(local, newer)).status).toBe('SUCCEEDED');
    const liveBefore = await liveVersionOf('older');

    const stale = await requestRelease(local, nth('older', 3).detail, at(3));
    const refused = await executionFor(local, stale);

    expect(refused).toMatchObject({ status: 'FAILED', error: 'OlderThanLive' });
    expect(await liveVersionOf('older')).toBe(liveBefore);
    const record = await local.ledger.getRelease(idOf('older', 3));
    expect(record?.phase).toBe('Rejected');
    expect(record?.reason).toContain(
      '1.3.0 (requested 2026-11-02T09:00:03Z) is older than 1.5.0 (requested 2026-11-02T09:00:05Z), which is live on older; send "allowOlder": true',
    );
    expect(lifecycleEvents(local, idOf('older', 3)).map((e) => e['detail-type'])).toEqual([
      'Release Rejected',
    ]);

    // Another artifact than the live one's: the same code would publish no new version.
    const meant = nth('older', 3, { attempt: 2, allowOlder: true, artifact: artifact('1.0.0') });
    const downgrade = await requestRelease(local, meant.detail, meant.time);
    expect((await executionFor(local, downgrade)).status).toBe('SUCCEEDED');
    const downgraded = await local.ledger.getRelease(idOf('older', 3, 2));
    expect(await liveVersionOf('older')).toBe(downgraded?.colours?.green);
  });

  it('lets a newer request supersede older ones still waiting, while the one under way goes on', async () => {
    const first = await requestRelease(local, nth('latest', 1).detail, at(1));
    await waitForPhase(local, idOf('latest', 1), new Set(['Shifting']));
    const waiting = await requestReleases(local, [nth('latest', 3), nth('latest', 2)]);
    await waitForPhase(local, idOf('latest', 2), new Set(['Superseded']));
    const last = await requestRelease(local, nth('latest', 4).detail, at(4));

    const [a, b, c, d] = await Promise.all(
      [first, ...waiting, last].map((id) => executionFor(local, id)),
    );
    expect(a?.status).toBe('SUCCEEDED');
    expect([b?.error, c?.error]).toEqual(['ReleaseSuperseded', 'ReleaseSuperseded']);
    expect(d?.status).toBe('SUCCEEDED');
    const phases = await Promise.all(
      [1, 2, 3, 4].map(async (i) => (await local.ledger.getRelease(idOf('latest', i)))?.phase),
    );
    expect(phases).toEqual(['Finalized', 'Superseded', 'Superseded', 'Finalized']);
    expect((await local.ledger.getRelease(idOf('latest', 3)))?.reason).toBe(
      `Superseded by ${idOf('latest', 4)}`,
    );
    expect(lifecycleEvents(local, idOf('latest', 2)).map((e) => e['detail-type'])).toEqual([
      'Release Superseded',
    ]);
    const newest = await local.ledger.getRelease(idOf('latest', 4));
    expect(await liveVersionOf('latest')).toBe(newest?.colours?.green);
  });
});
