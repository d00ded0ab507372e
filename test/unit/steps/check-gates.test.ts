import { describe, expect, it } from 'vitest';
import type { ReleaseRecord } from '../../../src/core/records.ts';
import { checkGatesStep, pausedHoldSeconds } from '../../../src/steps/check-gates.ts';
import { anAborted, aShiftingRelease, specOf } from '../../support/builders.ts';
import { aFakeWorld, anAlarm, type FakeWorld } from '../../support/fakes.ts';

// Alarm gates and pauses with in-memory ports; metric gates, whose holds depend on CloudWatch
// data, are in gate-steps.test.ts.

const shifting = aShiftingRelease();
const id = shifting.releaseId;
const colours = { blue: '7', green: '8' };
const input = {
  release: specOf(shifting),
  colours,
  step: { index: 0, percent: 10, bakeSeconds: 60 },
};

async function aWorld(release: ReleaseRecord = shifting): Promise<FakeWorld> {
  const world = aFakeWorld({ releases: [release] });
  world.alarms.allOk('checkout-errors');
  await world.bakes.begin({
    releaseId: id,
    service: 'checkout',
    stepIndex: 0,
    taskToken: 'token-1',
    alarms: ['checkout-errors'],
    startedAt: '2026-11-21T10:00:00.250Z',
    endsAt: '2026-11-21T10:01:00.250Z',
    status: 'baking',
  });
  return world;
}

describe('checkGatesStep', () => {
  it('passes when no gate alarm fires, ending the bake, with one timeline entry for two looks', async () => {
    const world = await aWorld();

    const first = await checkGatesStep.run(input, world.deps);
    const second = await checkGatesStep.run(input, world.deps);

    expect(first).toEqual({
      verdict: 'pass',
      holdSeconds: 0,
      reason: '1 alarm not in ALARM',
      holds: 0,
      heldSeconds: 0,
    });
    expect(second).toEqual(first);
    expect((await world.bakes.get(id))?.status).toBe('ended');
    expect(await world.ledger.timeline(id)).toEqual(['gate#0:succeeded']);
    expect(world.ledger.release(id)).toMatchObject({
      phase: 'Shifting',
      reason: 'Gate 0 passed (10% on green)',
    });
    expect(world.events.published).toEqual([]);
  });

  it('rolls back with AlarmGateFailed when an alarm fires, announcing it once for two looks', async () => {
    const world = await aWorld();
    world.alarms.alarms = [anAlarm('checkout-errors', 'ALARM')];

    for (let look = 0; look < 2; look++) {
      await expect(checkGatesStep.run(input, world.deps)).rejects.toMatchObject({
        name: 'AlarmGateFailed',
        message: expect.stringMatching(/^Alarm checkout-errors in ALARM: Threshold Crossed/),
        details: { step: 0 },
      });
    }

    expect(world.ledger.release(id)).toMatchObject({
      phase: 'RollingBack',
      reason: 'Alarm checkout-errors in ALARM at step 0 (10% on green)',
    });
    expect(world.events.types()).toEqual(['Gate Failed']);
    expect(world.events.published[0]?.detail).toMatchObject({
      eventKey: `${id}#gate#0`,
      missing: [],
    });
    expect(await world.ledger.timeline(id)).toEqual(['gate#0:failed']);
  });

  it('rolls back when a gate alarm no longer exists: AWS would call it OK, greenlight does not', async () => {
    const world = await aWorld();
    world.alarms.alarms = [];

    await expect(checkGatesStep.run(input, world.deps)).rejects.toMatchObject({
      name: 'AlarmGateFailed',
      message: expect.stringContaining('Gate alarm not found: checkout-errors'),
    });
    expect(world.events.published[0]?.detail).toMatchObject({ missing: ['checkout-errors'] });
  });

  it('holds a paused release at its weight, looking again every few seconds', async () => {
    const paused = {
      ...shifting,
      reason: 'Paused by dana at 10% on green: watching p99',
      control: { paused: true, promoted: false, aborted: false },
    };
    const world = await aWorld(paused);

    const verdict = await checkGatesStep.run(input, world.deps);

    expect(verdict).toEqual({
      verdict: 'hold',
      holdSeconds: pausedHoldSeconds,
      reason: `Holding at 10% on green, gates checked every ${pausedHoldSeconds}s: Paused by dana at 10% on green: watching p99`,
      holds: 0,
      heldSeconds: 0,
      paused: true,
    });
    expect(world.ledger.release(id)).toMatchObject({
      reason: paused.reason,
      control: paused.control,
    });
    expect(world.ledger.updates).toEqual([]);
    expect(await world.ledger.timeline(id)).toEqual(['gate#0:succeeded', 'hold#0:started']);
  });

  it('still rolls back a paused release whose alarm fires', async () => {
    const world = await aWorld({
      ...shifting,
      control: { paused: true, promoted: false, aborted: false },
    });
    world.alarms.alarms = [anAlarm('checkout-errors', 'ALARM')];

    await expect(checkGatesStep.run(input, world.deps)).rejects.toMatchObject({
      name: 'AlarmGateFailed',
    });
    expect(world.ledger.release(id).phase).toBe('RollingBack');
  });

  it('fails with OperatorAborted, not a pass, for a release aborted during its bake', async () => {
    const world = await aWorld(anAborted(shifting));

    await expect(checkGatesStep.run(input, world.deps)).rejects.toMatchObject({
      name: 'OperatorAborted',
    });
  });
});
