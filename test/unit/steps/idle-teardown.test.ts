import { describe, expect, it } from 'vitest';
import {
  IdleColourStillDraining,
  InvalidStepInput,
  TeardownDeferred,
} from '../../../src/core/errors.ts';
import { ReleasePhase } from '../../../src/core/phases.ts';
import type { ReleaseRecord } from '../../../src/core/records.ts';
import { tearDownIdleColour } from '../../../src/steps/idle-teardown.ts';
import { anIdleColour, aReleaseRecord } from '../../support/builders.ts';
import { aTestClock } from '../../support/clock.ts';
import { aFakeWorld } from '../../support/fakes.ts';

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

    const outcome = await tearDownIdleColour(world.deps, target, 'schedule');

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

    await tearDownIdleColour(world.deps, target, 'schedule');

    expect(world.idle.tornDown).toMatchObject([
      { colour: '3', idleSince: '2026-11-21T10:12:00.000Z' },
    ]);
  });

  it('records a deferral and asks to be retried while the idle slot still drains', async () => {
    const world = aWorld([finalized]);
    world.idle.failWith = new IdleColourStillDraining('Slot a: may serve sticky requests', {
      notBefore: '2026-11-21T10:20:00.000Z',
    });

    const teardown = tearDownIdleColour(world.deps, target, 'schedule');

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

    expect(await tearDownIdleColour(world.deps, target, 'schedule')).toMatchObject({
      outcome: 'not-idle',
    });
    expect(world.idle.tornDown).toEqual([]);
    expect(await world.ledger.listSteps(finalized.releaseId)).toEqual([]);
  });

  it('refuses input naming another colour than the release left idle', async () => {
    const world = aWorld([finalized]);
    await expect(
      tearDownIdleColour(world.deps, { ...target, colour: '4' }, 'sweeper'),
    ).rejects.toThrow(InvalidStepInput);
  });
});
