import { describe, expect, it } from 'vitest';
import { ReleasePhase } from '../../../src/core/phases.ts';
import { ReleaseEventType } from '../../../src/core/transitions.ts';
import { advanceRelease } from '../../../src/steps/advance-release.ts';
import { anAborted, aShiftingRelease } from '../../support/builders.ts';
import { aFakeWorld, failNext } from '../../support/fakes.ts';

// The commit protocol every step moves a release by: effects first (events, the lock), the
// conditional ledger write last.

const atFull = aShiftingRelease({ stepIndex: 1, greenPercent: 100 });
const id = atFull.releaseId;
const finalized = { type: ReleaseEventType.Finalized } as const;

async function aWorld() {
  const world = aFakeWorld({ releases: [atFull] });
  world.lock.hold('checkout', id);
  return world;
}

describe('advanceRelease', () => {
  it('publishes, frees the lock, then commits; applied again it changes nothing', async () => {
    const world = await aWorld();

    const first = await advanceRelease(world.deps, atFull, finalized);
    const again = await advanceRelease(world.deps, first, finalized);

    expect(first).toMatchObject({ phase: 'Finalized', updatedAt: '2026-11-21T10:00:00.250Z' });
    expect(again).toEqual(first);
    expect(world.events.types()).toEqual(['Release Finalized']);
    expect(world.lock.releases).toEqual([{ service: 'checkout', releaseId: id }]);
    expect(world.ledger.updates).toHaveLength(1);
  });

  it('leaves the phase as it was when publishing fails, and the retry repeats the same event key', async () => {
    const world = await aWorld();
    failNext(world.events, 'publish', new Error('EventBridge unavailable'));

    await expect(advanceRelease(world.deps, atFull, finalized)).rejects.toThrow(
      'EventBridge unavailable',
    );
    expect(world.ledger.release(id).phase).toBe('Shifting');
    expect(world.lock.holderOf('checkout')).toBe(id);

    await advanceRelease(world.deps, atFull, finalized);
    expect(world.ledger.release(id).phase).toBe('Finalized');
    expect(world.events.published.map((e) => e.detail.eventKey)).toEqual([`${id}#Finalized`]);
  });

  it('republishes under the same key when the commit fails after the effects', async () => {
    const world = await aWorld();
    failNext(world.ledger, 'updateRelease', new Error('InternalServerError'));

    await expect(advanceRelease(world.deps, atFull, finalized)).rejects.toThrow(
      'InternalServerError',
    );
    await advanceRelease(world.deps, atFull, finalized);

    // At least once, never with a new key: consumers drop the repeat by eventKey.
    expect(world.events.published.map((e) => e.detail.eventKey)).toEqual([
      `${id}#Finalized`,
      `${id}#Finalized`,
    ]);
    expect(world.ledger.release(id).phase).toBe('Finalized');
  });

  it('fails with OperatorAborted when an abort moved the release since the step read it', async () => {
    const world = await aWorld();
    world.ledger.releases.set(id, anAborted(atFull));

    await expect(advanceRelease(world.deps, atFull, finalized)).rejects.toMatchObject({
      name: 'OperatorAborted',
      message: 'Aborted by dana: wrong build',
    });
    expect(world.ledger.release(id).phase).toBe(ReleasePhase.RollingBack);
  });

  it('never writes back an operator’s control that it read before a pause landed', async () => {
    const shifting = aShiftingRelease();
    const world = aFakeWorld({ releases: [shifting] });
    const paused = { paused: true, promoted: false, aborted: false };
    world.ledger.releases.set(id, { ...shifting, control: paused });

    await advanceRelease(world.deps, shifting, { type: ReleaseEventType.GatePassed, index: 0 });

    expect(world.ledger.release(id).control).toEqual(paused);
  });
});
