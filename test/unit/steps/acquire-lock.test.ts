import { describe, expect, it } from 'vitest';
import type { ReleaseRecord } from '../../../src/core/records.ts';
import { acquireLockStep } from '../../../src/steps/acquire-lock.ts';
import { aReleaseRecord, specOf } from '../../support/builders.ts';
import { aFakeWorld, type FakeWorld, failNext } from '../../support/fakes.ts';

// AcquireLock and WaitForLock with the in-memory queue (test/support/fakes.ts MemoryLock, the
// rules of src/aws/dynamo-release-queue.ts); the queue itself is tested on dynalite.

/** A release of checkout asked for `minutes` after 10:00, as Register records it. */
function requested(version: string, minutes: number, extra: Partial<ReleaseRecord> = {}) {
  return aReleaseRecord({
    version,
    requestedAt: new Date(Date.parse('2026-11-21T10:00:00Z') + minutes * 60_000).toISOString(),
    ...extra,
  });
}

const first = requested('1.4.0', 0);
const second = requested('1.5.0', 1);
const third = requested('1.6.0', 2);
const ask = (world: FakeWorld, release: ReleaseRecord, taskToken?: string) =>
  acquireLockStep.run(
    { release: specOf(release), ...(taskToken === undefined ? {} : { taskToken }) },
    world.deps,
  );

describe('acquireLockStep', () => {
  it('takes a free lock and starts the release, once however often it runs', async () => {
    const world = aFakeWorld({ releases: [first] });

    const answers = [await ask(world, first), await ask(world, first)];

    expect(answers).toEqual([
      { acquired: true, holder: first.releaseId },
      { acquired: true, holder: first.releaseId },
    ]);
    expect(world.lock.holderOf('checkout')).toBe(first.releaseId);
    expect(world.ledger.release(first.releaseId)).toMatchObject({
      phase: 'Provisioning',
      reason: 'Lock acquired; provisioning green',
    });
    expect(world.events.types()).toEqual(['Release Started']);
    expect(await world.ledger.timeline(first.releaseId)).toEqual(['lock:succeeded']);
  });

  it('queues behind the holder, one timeline entry per holder however often it asks', async () => {
    const world = aFakeWorld({ releases: [first, second] });
    await ask(world, first);

    const answers = [await ask(world, second), await ask(world, second)];

    expect(answers).toEqual(Array(2).fill({ acquired: false, holder: first.releaseId }));
    expect(world.lock.waiting('checkout')).toEqual([second.releaseId]);
    expect(world.ledger.release(second.releaseId).phase).toBe('Requested');
    expect(await world.ledger.listSteps(second.releaseId)).toEqual([
      expect.objectContaining({
        key: `lock-wait#${first.releaseId}`,
        outcome: 'started',
        reason: `Waiting for checkout's lock, held by ${first.releaseId}`,
      }),
    ]);
  });

  it('parks a waiter on its token, and the holder’s release wakes the earliest request first', async () => {
    const world = aFakeWorld({ releases: [first, second, third] });
    await ask(world, first);
    // Arrive newest first: the queue still serves in request order.
    await ask(world, third);
    await ask(world, second);
    await ask(world, third, 'token-third');
    await ask(world, second, 'token-second');
    expect(world.callbacks.sent).toEqual([]);

    await world.lock.release('checkout', first.releaseId);

    expect(world.callbacks.delivered()).toEqual(['succeed:token-second']);
    expect(await ask(world, second)).toEqual({ acquired: true, holder: second.releaseId });
    expect(world.lock.waiting('checkout')).toEqual([third.releaseId]);
  });

  it('wakes at once a waiter that parks after the lock was handed to it', async () => {
    const world = aFakeWorld({ releases: [first, second] });
    await ask(world, first);
    await ask(world, second);
    await world.lock.release('checkout', first.releaseId);

    await ask(world, second, 'token-second');

    expect(world.callbacks.delivered()).toEqual(['succeed:token-second']);
  });

  it('refuses a build older than the live one with OlderThanLive, and hands the lock on', async () => {
    const world = aFakeWorld({ releases: [first, second] });
    await world.lock.release('checkout', 'none', {
      live: { releaseId: second.releaseId, version: '1.5.0', requestedAt: second.requestedAt },
    });

    const thrown = await refusal(ask(world, first));
    expect(thrown).toMatchObject({
      name: 'OlderThanLive',
      message: expect.stringMatching(
        /^1\.4\.0 \(requested .*\) is older than 1\.5\.0 .*; send "allowOlder": true to release it anyway$/,
      ),
    });
    // A retry (a lost response) reads the refusal back from the ledger: the same error again.
    await expect(ask(world, first)).rejects.toMatchObject({
      name: thrown.name,
      message: thrown.message,
    });

    expect(world.ledger.release(first.releaseId).phase).toBe('Rejected');
    expect(world.lock.holderOf('checkout')).toBeUndefined();
    expect(world.events.types()).toEqual(['Release Rejected']);
    expect(world.events.published[0]?.detail).toMatchObject({ cause: 'older' });
  });

  it('releases an older build when the request allows it', async () => {
    const older = { ...first, allowOlder: true as const };
    const world = aFakeWorld({ releases: [older] });
    await world.lock.release('checkout', 'none', {
      live: { releaseId: second.releaseId, version: '1.5.0', requestedAt: second.requestedAt },
    });

    expect(await ask(world, older)).toEqual({ acquired: true, holder: first.releaseId });
  });

  it('refuses at once with ServiceBusy under the "reject" policy', async () => {
    const busy = { ...second, lockPolicy: 'reject' as const };
    const world = aFakeWorld({ releases: [first, busy] });
    await ask(world, first);

    const thrown = await refusal(ask(world, busy));
    expect(thrown.name).toBe('ServiceBusy');
    // Read back by the error recorded, not by the reason's wording.
    await expect(ask(world, busy)).rejects.toMatchObject({
      name: 'ServiceBusy',
      message: thrown.message,
    });
    expect(world.ledger.release(second.releaseId).phase).toBe('Rejected');
    expect(world.lock.waiting('checkout')).toEqual([]);
  });

  it('ends an older waiter with ReleaseSuperseded under the "supersede" policy', async () => {
    const policy = { lockPolicy: 'supersede' as const };
    const [a, b, c] = [first, second, third].map((r) => ({ ...r, ...policy }));
    const world = aFakeWorld({ releases: [a, b, c] as ReleaseRecord[] });
    await ask(world, a as ReleaseRecord);
    await ask(world, b as ReleaseRecord);
    await ask(world, b as ReleaseRecord, 'token-b');

    await ask(world, c as ReleaseRecord);

    expect(world.callbacks.delivered()).toEqual(['succeed:token-b']);
    await expect(ask(world, b as ReleaseRecord)).rejects.toMatchObject({
      name: 'ReleaseSuperseded',
    });
    expect(world.ledger.release(second.releaseId).phase).toBe('Superseded');
    expect(world.lock.holderOf('checkout')).toBe(first.releaseId);
  });

  it('keeps the lock it took when the ledger write fails, and the retry goes on', async () => {
    const world = aFakeWorld({ releases: [first] });
    failNext(world.ledger, 'updateRelease', new Error('InternalServerError'));

    await expect(ask(world, first)).rejects.toThrow('InternalServerError');
    expect(world.lock.holderOf('checkout')).toBe(first.releaseId);

    expect(await ask(world, first)).toEqual({ acquired: true, holder: first.releaseId });
    expect(world.ledger.release(first.releaseId).phase).toBe('Provisioning');
  });

  it('fails with ReleaseNotFound for a release Register never recorded', async () => {
    const world = aFakeWorld();

    await expect(ask(world, first)).rejects.toMatchObject({ name: 'ReleaseNotFound' });
  });
});

/** The error a step threw; a test that expected one fails when it returned instead. */
async function refusal(asked: Promise<unknown>): Promise<Error> {
  try {
    await asked;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a refusal, and the step returned an outcome');
}
