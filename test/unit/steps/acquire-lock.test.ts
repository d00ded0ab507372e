import { describe, expect, it } from 'vitest';
import { acquireLockStep } from '../../../src/steps/acquire-lock.ts';
import { aReleaseRecord, specOf } from '../../support/builders.ts';
import { aFakeWorld, failNext } from '../../support/fakes.ts';

const requested = aReleaseRecord();
const id = requested.releaseId;
const input = { release: specOf(requested) };
const other = aReleaseRecord({ version: '1.4.1' }).releaseId;

describe('acquireLockStep', () => {
  it('takes a free lock and starts the release, once however often it runs', async () => {
    const world = aFakeWorld({ releases: [requested] });

    const first = await acquireLockStep.run(input, world.deps);
    const second = await acquireLockStep.run(input, world.deps);

    expect(first).toEqual({ acquired: true, holder: id });
    expect(second).toEqual(first);
    expect(world.lock.holderOf('checkout')).toBe(id);
    expect(world.ledger.release(id)).toMatchObject({
      phase: 'Provisioning',
      reason: 'Lock acquired; provisioning green',
    });
    expect(world.events.types()).toEqual(['Release Started']);
    expect(world.ledger.updates).toHaveLength(1);
    expect(await world.ledger.timeline(id)).toEqual(['lock:succeeded']);
  });

  it('reports the holder and waits in Requested, one timeline entry per holder', async () => {
    const world = aFakeWorld({ releases: [requested] });
    await world.lock.acquire('checkout', other, '2026-11-21T09:59:00.000Z');

    const polls = [];
    for (let poll = 0; poll < 3; poll++) {
      polls.push(await acquireLockStep.run(input, world.deps));
      world.clock.advance(5);
    }

    expect(polls).toEqual(Array(3).fill({ acquired: false, holder: other }));
    expect(world.ledger.release(id).phase).toBe('Requested');
    expect(world.events.published).toEqual([]);
    expect(await world.ledger.listSteps(id)).toEqual([
      expect.objectContaining({
        key: `lock-wait#${other}`,
        outcome: 'started',
        reason: `Waiting for checkout's lock, held by ${other}`,
      }),
    ]);
  });

  it('takes the lock once its holder frees it', async () => {
    const world = aFakeWorld({ releases: [requested] });
    await world.lock.acquire('checkout', other, '2026-11-21T09:59:00.000Z');
    await acquireLockStep.run(input, world.deps);

    await world.lock.release('checkout', other);
    const outcome = await acquireLockStep.run(input, world.deps);

    expect(outcome).toEqual({ acquired: true, holder: id });
    expect(await world.ledger.timeline(id)).toEqual([
      `lock:succeeded`,
      `lock-wait#${other}:started`,
    ]);
  });

  it('keeps the lock it took when the ledger write fails, and the retry goes on', async () => {
    const world = aFakeWorld({ releases: [requested] });
    failNext(world.ledger, 'updateRelease', new Error('InternalServerError'));

    await expect(acquireLockStep.run(input, world.deps)).rejects.toThrow('InternalServerError');
    expect(world.lock.holderOf('checkout')).toBe(id);

    expect(await acquireLockStep.run(input, world.deps)).toEqual({ acquired: true, holder: id });
    expect(world.ledger.release(id).phase).toBe('Provisioning');
  });

  it('fails with ReleaseNotFound for a release Register never recorded', async () => {
    const world = aFakeWorld();

    await expect(acquireLockStep.run(input, world.deps)).rejects.toMatchObject({
      name: 'ReleaseNotFound',
    });
  });
});
