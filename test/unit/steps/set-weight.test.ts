import { describe, expect, it } from 'vitest';
import type { ReleaseControl } from '../../../src/core/records.ts';
import { setWeightStep } from '../../../src/steps/set-weight.ts';
import { anAborted, aShiftingRelease, specOf } from '../../support/builders.ts';
import { aFakeWorld } from '../../support/fakes.ts';

const colours = { blue: '7', green: '8' };
// Canary: 10% for 60 s, then 100%.
const beforeFirst = aShiftingRelease({ stepIndex: -1, greenPercent: 0, reason: 'Approved' });
const id = beforeFirst.releaseId;
const [canary, full] = beforeFirst.plan as [
  (typeof beforeFirst.plan)[number],
  (typeof beforeFirst.plan)[number],
];
const inputFor = (step: typeof canary) => ({ release: specOf(beforeFirst), colours, step });
const control = (change: Partial<ReleaseControl>): ReleaseControl => ({
  paused: false,
  promoted: false,
  aborted: false,
  ...change,
});

describe('setWeightStep', () => {
  it('puts the step’s share on green once, records it, and announces one Traffic Shifted', async () => {
    const world = aFakeWorld({ releases: [beforeFirst] });

    const first = await setWeightStep.run(inputFor(canary), world.deps);
    const second = await setWeightStep.run(inputFor(canary), world.deps);

    expect(first).toEqual(canary);
    expect(second).toEqual(canary);
    expect(world.target.changes).toEqual(['10% on 8']);
    expect(world.ledger.release(id)).toMatchObject({ stepIndex: 0, greenPercent: 10 });
    expect(world.events.types()).toEqual(['Traffic Shifted']);
    expect(world.events.published[0]?.detail).toMatchObject({
      eventKey: `${id}#shift#0`,
      step: 0,
      bakeSeconds: 60,
      greenPercent: 10,
    });
    expect(world.events.published[0]?.detail).not.toHaveProperty('promoted');
    expect(await world.ledger.listSteps(id)).toEqual([
      expect.objectContaining({
        key: 'shift#0',
        greenPercent: 10,
        reason: 'Step 1 of 2: 10% of traffic on green, baking 60s',
      }),
    ]);
  });

  it('moves on to the next step of the plan', async () => {
    const world = aFakeWorld({ releases: [{ ...beforeFirst, stepIndex: 0, greenPercent: 10 }] });
    world.target.greenPercent = 10;

    await setWeightStep.run(inputFor(full), world.deps);

    expect(world.target.changes).toEqual(['100% on 8']);
    expect(world.ledger.release(id)).toMatchObject({ stepIndex: 1, greenPercent: 100 });
  });

  it('refuses a step out of order without touching traffic', async () => {
    const world = aFakeWorld({ releases: [beforeFirst] });

    await expect(setWeightStep.run(inputFor(full), world.deps)).rejects.toMatchObject({
      name: 'InvalidTransition',
      message: expect.stringContaining('step 1 cannot follow step -1'),
    });
    expect(world.target.calls).toEqual([]);
    expect(world.events.published).toEqual([]);
  });

  it('for a promoted release puts all traffic on green with no bake, once', async () => {
    const world = aFakeWorld({
      releases: [{ ...beforeFirst, control: control({ promoted: true }), reason: 'Promoted' }],
    });

    const applied = await setWeightStep.run(inputFor(canary), world.deps);
    const later = await setWeightStep.run(inputFor(full), world.deps);

    expect(applied).toEqual({ index: 0, percent: 100, bakeSeconds: 0 });
    expect(later).toEqual({ index: 0, percent: 100, bakeSeconds: 0 });
    expect(world.target.changes).toEqual(['100% on 8']);
    expect(world.events.types()).toEqual(['Traffic Shifted']);
    expect(world.events.published[0]?.detail).toMatchObject({ promoted: true, bakeSeconds: 0 });
    expect(await world.ledger.timeline(id)).toEqual(['shift#0:succeeded']);
  });

  it('fails with OperatorAborted instead of moving traffic for an aborted release', async () => {
    const world = aFakeWorld({ releases: [anAborted(beforeFirst)] });

    await expect(setWeightStep.run(inputFor(canary), world.deps)).rejects.toMatchObject({
      name: 'OperatorAborted',
    });
    expect(world.target.calls).toEqual([]);
  });

  it('stops the plan with OperatorAborted after promote got to 100%, when aborted since', async () => {
    const promoted = { ...beforeFirst, stepIndex: 0, greenPercent: 100 };
    const world = aFakeWorld({ releases: [anAborted(promoted, { promoted: true })] });

    await expect(setWeightStep.run(inputFor(full), world.deps)).rejects.toMatchObject({
      name: 'OperatorAborted',
    });
  });

  it('keys its idempotency on the step index', () => {
    expect(setWeightStep.idempotencyKey(inputFor(full))).toEqual({
      releaseId: id,
      step: 'shift',
      index: 1,
    });
  });
});
