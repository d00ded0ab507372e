import { describe, expect, it } from 'vitest';
import {
  IdleColourStillDraining,
  InvalidStepInput,
  TeardownDeferred,
} from '../../../src/core/errors.ts';
import { ReleasePhase } from '../../../src/core/phases.ts';
import type { IdleColours } from '../../../src/core/ports.ts';
import type { LifecycleEvent, ReleaseRecord, StepRecord } from '../../../src/core/records.ts';
import { StaticServiceRegistry } from '../../../src/core/registry.ts';
import type { TeardownStepDependencies } from '../../../src/runtime/teardown-dependencies.ts';
import { tearDownIdleColour } from '../../../src/steps/idle-teardown.ts';
import { anIdleColour, aReleaseRecord, aService } from '../../support/builders.ts';

const finalized = aReleaseRecord({
  phase: ReleasePhase.Finalized,
  colours: { blue: '3', green: '4' },
  greenPercent: 100,
  idle: anIdleColour(),
});
const target = { service: 'checkout', releaseId: finalized.releaseId, colour: '3' };

/** An idle colour whose answers the test scripts, recording what it was asked to do. */
class ScriptedColours implements IdleColours {
  takes = false;
  failWith: Error | undefined;
  readonly tornDown: { colour: string; protectedColours: string[]; idleSince: string }[] = [];

  async takesTraffic(): Promise<boolean> {
    return this.takes;
  }
  async cost() {
    return { hourlyUsd: 0, basis: 'none' };
  }
  async tearDown(
    _service: unknown,
    colour: string,
    options: { idleSince: Date; now: Date; protectedColours: ReadonlySet<string> },
  ): Promise<string[]> {
    if (this.failWith) throw this.failWith;
    this.tornDown.push({
      colour,
      protectedColours: [...options.protectedColours].sort(),
      idleSince: options.idleSince.toISOString(),
    });
    return [`Deleted version ${colour}`];
  }
}

/** The ports a teardown uses, in memory: releases, their timelines, published events. */
function aWorld(releases: ReleaseRecord[]) {
  const stored = new Map(releases.map((release) => [release.releaseId, release]));
  const steps: StepRecord[] = [];
  const events: LifecycleEvent[] = [];
  const colours = new ScriptedColours();
  const deps = {
    registry: new StaticServiceRegistry([aService()]),
    now: () => new Date('2026-11-21T10:15:01.000Z'),
    idleColoursFor: () => colours,
    events: {
      publish: async (published: readonly LifecycleEvent[]) => void events.push(...published),
    },
    ledger: {
      getRelease: async (id: string) => stored.get(id),
      listReleases: async () => [...stored.values()],
      recordStep: async (_id: string, step: StepRecord) => void steps.push(step),
      updateRelease: async (id: string, patch: Partial<ReleaseRecord>) => {
        const next = { ...(stored.get(id) as ReleaseRecord), ...patch };
        stored.set(id, next);
        return next;
      },
    },
  } as unknown as TeardownStepDependencies;
  return { deps, stored, steps, events, colours };
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
    expect(world.colours.tornDown).toEqual([
      { colour: '3', protectedColours: ['4', '5'], idleSince: '2026-11-21T10:00:00.000Z' },
    ]);
    expect(world.stored.get(finalized.releaseId)?.idle).toMatchObject({
      state: 'torn-down',
      settledAt: '2026-11-21T10:15:01.000Z',
      actions: ['Deleted version 3'],
    });
    expect(world.events.map((e) => [e.detailType, e.detail.eventKey])).toEqual([
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

    expect(world.colours.tornDown).toMatchObject([
      { colour: '3', idleSince: '2026-11-21T10:12:00.000Z' },
    ]);
  });

  it('records a deferral and asks to be retried while the idle slot still drains', async () => {
    const world = aWorld([finalized]);
    world.colours.failWith = new IdleColourStillDraining('Slot a: may serve sticky requests', {
      notBefore: '2026-11-21T10:20:00.000Z',
    });

    const teardown = tearDownIdleColour(world.deps, target, 'schedule');

    await expect(teardown).rejects.toThrow(TeardownDeferred);
    await expect(teardown).rejects.toMatchObject({
      details: { colour: '3', notBefore: '2026-11-21T10:20:00.000Z' },
    });
    expect(world.stored.get(finalized.releaseId)?.idle).toMatchObject({
      state: 'warm',
      reason: 'Deferred: Slot a: may serve sticky requests',
    });
    expect(world.steps).toEqual([
      expect.objectContaining({ key: 'teardown-deferred', outcome: 'skipped' }),
    ]);
    expect(world.events).toEqual([]);
  });

  it('does nothing for a release that did not finalize: its blue is live', async () => {
    const rolledBack = { ...finalized, phase: ReleasePhase.RolledBack };
    const world = aWorld([rolledBack]);

    expect(await tearDownIdleColour(world.deps, target, 'schedule')).toMatchObject({
      outcome: 'not-idle',
    });
    expect(world.colours.tornDown).toEqual([]);
    expect(world.steps).toEqual([]);
  });

  it('refuses input naming another colour than the release left idle', async () => {
    const world = aWorld([finalized]);
    await expect(
      tearDownIdleColour(world.deps, { ...target, colour: '4' }, 'sweeper'),
    ).rejects.toThrow(InvalidStepInput);
  });
});
