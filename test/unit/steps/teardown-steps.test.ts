import { beforeAll, describe, expect, it } from 'vitest';
import { ReleasePhase } from '../../../src/core/phases.ts';
import type { ReleaseRecord } from '../../../src/core/records.ts';
import { logger } from '../../../src/runtime/step-handler.ts';
import { sweeperStep } from '../../../src/steps/sweeper.ts';
import { TeardownInput, teardownStep } from '../../../src/steps/teardown.ts';
import { anIdleColour, aReleaseRecord, aService } from '../../support/builders.ts';
import { aTestClock } from '../../support/clock.ts';
import { aFakeWorld, failNext } from '../../support/fakes.ts';

// The two ways an idle colour is torn down: its schedule (teardown) and the daily sweeper.
// What a teardown decides is in idle-teardown.test.ts; here, what each entry point adds.

function aFinalized(service: string, version: string, teardownAt: string): ReleaseRecord {
  return aReleaseRecord({
    service,
    version,
    phase: ReleasePhase.Finalized,
    colours: { blue: '3', green: '4' },
    greenPercent: 100,
    idle: anIdleColour({ teardownAt }),
  });
}

const services = [aService(), aService({ name: 'payments' })];
const due = aFinalized('checkout', '1.4.2', '2026-11-21T10:15:00.000Z');
const target = { service: 'checkout', releaseId: due.releaseId, colour: '3' };
/** The day after the releases finalized: every warm window has ended. */
const nextDay = () => aTestClock('2026-11-22T03:00:00.000Z');

// The sweeper logs each colour it could not tear down; the tests make it fail on purpose.
beforeAll(() => logger.setLogLevel('SILENT'));

describe('teardownStep', () => {
  it('tears the idle colour down when its schedule fires, and does nothing when it fires again', async () => {
    const world = aFakeWorld({ releases: [due], clock: nextDay() });

    const first = await teardownStep.run(target, world.deps);
    const again = await teardownStep.run(target, world.deps);

    expect(first).toMatchObject({ outcome: 'torn-down', actions: ['Deleted version 3'] });
    expect(first.reason).toBe(
      'Idle colour 3 torn down at the end of its warm window: Deleted version 3',
    );
    expect(again).toMatchObject({ outcome: 'settled', actions: ['Deleted version 3'] });
    expect(world.idle.tornDown).toHaveLength(1);
    expect(world.events.types()).toEqual(['Idle Colour Torn Down']);
    expect(world.events.published[0]?.detail.via).toBe('schedule');
  });

  it('takes exactly what finalize scheduled, and nothing else', () => {
    expect(TeardownInput.safeParse(target).success).toBe(true);
    expect(TeardownInput.safeParse({ ...target, functionName: 'other' }).success).toBe(false);
    expect(TeardownInput.safeParse({ ...target, releaseId: 'a b' }).success).toBe(false);
  });
});

describe('sweeperStep', () => {
  it('tears down the colours left warm past their window, service by service, once', async () => {
    const older = aFinalized('payments', '2.0.0', '2026-11-21T09:00:00.000Z');
    const notYet = aFinalized('payments', '2.1.0', '2026-11-23T00:00:00.000Z');
    const world = aFakeWorld({ services, releases: [due, older, notYet], clock: nextDay() });

    const first = await sweeperStep.run({}, world.deps);
    const again = await sweeperStep.run({}, world.deps);

    expect(first.swept.map((s) => `${s.releaseId}:${s.outcome}`)).toEqual([
      `${due.releaseId}:torn-down`,
      `${older.releaseId}:torn-down`,
    ]);
    expect(first.failed).toEqual([]);
    expect(again).toEqual({ swept: [], failed: [] });
    expect(world.ledger.release(notYet.releaseId).idle?.state).toBe('warm');
    expect(world.events.published.map((e) => e.detail.via)).toEqual(['sweeper', 'sweeper']);
  });

  it('goes on past a colour it cannot tear down, and tries that one again the next day', async () => {
    const other = aFinalized('payments', '2.0.0', '2026-11-21T09:00:00.000Z');
    const world = aFakeWorld({ services, releases: [due, other], clock: nextDay() });
    failNext(world.idle, 'tearDown', new Error('ResourceConflictException: alias update'));

    const first = await sweeperStep.run({}, world.deps);

    expect(first.failed).toEqual([
      {
        releaseId: due.releaseId,
        colour: '3',
        error: 'Error: ResourceConflictException: alias update',
      },
    ]);
    expect(first.swept.map((s) => s.releaseId)).toEqual([other.releaseId]);
    expect(world.ledger.release(due.releaseId).idle?.state).toBe('warm');

    world.clock.advance(24 * 3600);
    const nextRun = await sweeperStep.run({}, world.deps);

    expect(nextRun.swept.map((s) => s.releaseId)).toEqual([due.releaseId]);
  });

  it('leaves releases that are not finalized alone', async () => {
    const rolledBack = { ...due, phase: ReleasePhase.RolledBack };
    const world = aFakeWorld({ releases: [rolledBack], clock: nextDay() });

    expect(await sweeperStep.run({}, world.deps)).toEqual({ swept: [], failed: [] });
    expect(world.idle.tornDown).toEqual([]);
  });
});
