import { describe, expect, it } from 'vitest';
import {
  IdleColourStillDraining,
  InvalidStepInput,
  TeardownDeferred,
} from '../../../src/core/errors.ts';
import { ReleasePhase } from '../../../src/core/phases.ts';
import type { ReleaseRecord } from '../../../src/core/records.ts';
import {
  tearDownIdleColour,
  teardownClaimant,
  teardownLeaseMs,
} from '../../../src/steps/idle-teardown.ts';
import { anIdleColour, aReleaseRecord } from '../../support/builders.ts';
import { aTestClock } from '../../support/clock.ts';
import { aFakeWorld, failNext } from '../../support/fakes.ts';

const finalized = aReleaseRecord({
  phase: ReleasePhase.Finalized,
  colours: { blue: '3', green: '4' },
  greenPercent: 100,
  idle: anIdleColour(),
});
const target = { service: 'checkout', releaseId: finalized.releaseId, colour: '3' };

/** The ports a teardown uses, in memory, at 10:15:01: just past the warm window's end. */
function aWorld(releases: ReleaseRecord[]) {
  return aFakeWorld({ releases, clock: aTestClock('2026-11-21T10:15:01.000Z') });
}

describe('tearDownIdleColour', () => {
  it('tears blue down, protecting the live colour and those of releases in flight', async () => {
    const inFlight = aReleaseRecord({
      version: '1.5.0',
      phase: ReleasePhase.Shifting,
      colours: { blue: '4', green: '5' },
    });
    const world = aWorld([finalized, inFlight]);

    const outcome = await tearDownIdleColour(world.deps, target, 'schedule', 'schedule:request-1');

    expect(outcome).toMatchObject({ outcome: 'torn-down', actions: ['Deleted version 3'] });
    expect(world.idle.tornDown).toEqual([
      { colour: '3', protectedColours: ['4', '5'], idleSince: '2026-11-21T10:00:00.000Z' },
    ]);
    expect(world.ledger.release(finalized.releaseId).idle).toMatchObject({
      state: 'torn-down',
      settledAt: '2026-11-21T10:15:01.000Z',
      actions: ['Deleted version 3'],
    });
    expect(world.events.published.map((e) => [e.detailType, e.detail.eventKey])).toEqual([
      ['Idle Colour Torn Down', `${finalized.releaseId}#teardown`],
    ]);
  });

  it('drains the idle colour from the end of a later release that put traffic on it', async () => {
    // A later release ran its green on the idle colour (an ALB slot), moved traffic, and was
    // rolled back: clients of that green may still come back to it.
    const rolledBack = aReleaseRecord({
      version: '1.5.0',
      phase: ReleasePhase.RolledBack,
      colours: { blue: '4', green: '3' },
      stepIndex: 0,
      updatedAt: '2026-11-21T10:12:00.000Z',
    });
    const world = aWorld([finalized, rolledBack]);

    await tearDownIdleColour(world.deps, target, 'schedule', 'schedule:request-1');

    expect(world.idle.tornDown).toMatchObject([
      { colour: '3', idleSince: '2026-11-21T10:12:00.000Z' },
    ]);
  });

  it('records a deferral and asks to be retried while the idle slot still drains', async () => {
    const world = aWorld([finalized]);
    world.idle.failWith = new IdleColourStillDraining('Slot a: may serve sticky requests', {
      notBefore: '2026-11-21T10:20:00.000Z',
    });

    const teardown = tearDownIdleColour(world.deps, target, 'schedule', 'schedule:request-1');

    await expect(teardown).rejects.toThrow(TeardownDeferred);
    await expect(teardown).rejects.toMatchObject({
      details: { colour: '3', notBefore: '2026-11-21T10:20:00.000Z' },
    });
    expect(world.ledger.release(finalized.releaseId).idle).toMatchObject({
      state: 'warm',
      reason: 'Deferred: Slot a: may serve sticky requests',
    });
    expect(await world.ledger.listSteps(finalized.releaseId)).toEqual([
      expect.objectContaining({ key: 'teardown-deferred', outcome: 'skipped' }),
    ]);
    expect(world.events.published).toEqual([]);
  });

  it('does nothing for a release that did not finalize: its blue is live', async () => {
    const rolledBack = { ...finalized, phase: ReleasePhase.RolledBack };
    const world = aWorld([rolledBack]);

    expect(
      await tearDownIdleColour(world.deps, target, 'schedule', 'schedule:request-1'),
    ).toMatchObject({
      outcome: 'not-idle',
    });
    expect(world.idle.tornDown).toEqual([]);
    expect(await world.ledger.listSteps(finalized.releaseId)).toEqual([]);
  });

  it('refuses input naming another colour than the release left idle', async () => {
    const world = aWorld([finalized]);
    await expect(
      tearDownIdleColour(world.deps, { ...target, colour: '4' }, 'sweeper', 'sweeper:request-1'),
    ).rejects.toThrow(InvalidStepInput);
  });
});

describe('tearDownIdleColour, two at once', () => {
  const crash = () => new Error('Task timed out after 60.00 seconds');

  it('lets one of two racing teardowns tear down and publish; the other does nothing', async () => {
    const world = aWorld([finalized]);

    const outcomes = await Promise.all([
      tearDownIdleColour(world.deps, target, 'schedule', 'schedule:request-1'),
      tearDownIdleColour(world.deps, target, 'sweeper', 'sweeper:request-2'),
    ]);

    expect(outcomes.map((o) => o.outcome)).toEqual(['torn-down', 'claimed']);
    expect(outcomes[1]?.reason).toBe(
      'Idle colour 3 is already being torn down by schedule:request-1 (claimed until 2026-11-21T10:30:01.000Z)',
    );
    expect(world.events.published.map((e) => e.detail.eventKey)).toEqual([
      `${finalized.releaseId}#teardown`,
    ]);
    expect(world.idle.tornDown).toHaveLength(1);
    expect(await world.ledger.timeline(finalized.releaseId)).toEqual(['teardown:succeeded']);
    expect(world.ledger.release(finalized.releaseId).idle).toMatchObject({ state: 'torn-down' });
    expect(world.ledger.release(finalized.releaseId).idle?.claim).toBeUndefined();
  });

  it('finishes the job when the claimant retries after crashing between claim and effect', async () => {
    const world = aWorld([finalized]);
    failNext(world.idle, 'tearDown', crash());

    await expect(
      tearDownIdleColour(world.deps, target, 'schedule', 'schedule:request-1'),
    ).rejects.toThrow('Task timed out');
    world.clock.advance(60);
    const other = await tearDownIdleColour(world.deps, target, 'sweeper', 'sweeper:request-2');
    const retry = await tearDownIdleColour(world.deps, target, 'schedule', 'schedule:request-1');

    expect(other.outcome).toBe('claimed');
    expect(retry.outcome).toBe('torn-down');
    expect(world.idle.tornDown).toHaveLength(1);
    expect(world.events.published).toHaveLength(1);
    expect(world.ledger.release(finalized.releaseId).idle?.state).toBe('torn-down');
  });

  it('takes over the claim of a teardown that crashed once its lease has run out', async () => {
    const world = aWorld([finalized]);
    failNext(world.idle, 'tearDown', crash());
    await expect(
      tearDownIdleColour(world.deps, target, 'schedule', 'schedule:request-1'),
    ).rejects.toThrow('Task timed out');

    world.clock.advance(teardownLeaseMs / 1_000 - 1);
    const early = await tearDownIdleColour(world.deps, target, 'sweeper', 'sweeper:request-2');
    world.clock.advance(1);
    const late = await tearDownIdleColour(world.deps, target, 'sweeper', 'sweeper:request-3');

    expect(early.outcome).toBe('claimed');
    expect(late).toMatchObject({ outcome: 'torn-down', actions: ['Deleted version 3'] });
    expect(world.events.published.map((e) => e.detail.via)).toEqual(['sweeper']);
  });

  it('gives up its claim when it defers, so that the next try may take it', async () => {
    const world = aWorld([finalized]);
    world.idle.failWith = new IdleColourStillDraining('Slot a: may serve sticky requests', {});

    await expect(
      tearDownIdleColour(world.deps, target, 'schedule', 'schedule:request-1'),
    ).rejects.toThrow(TeardownDeferred);
    world.idle.failWith = undefined;
    const sweep = await tearDownIdleColour(world.deps, target, 'sweeper', 'sweeper:request-2');

    expect(sweep.outcome).toBe('torn-down');
  });

  it('claims by trigger and Lambda request id, and refuses to run without one', () => {
    expect(teardownClaimant('schedule', { awsRequestId: 'a1' })).toBe('schedule:a1');
    expect(() => teardownClaimant('sweeper', undefined)).toThrow(InvalidStepInput);
  });
});
