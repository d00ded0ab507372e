import { describe, expect, it } from 'vitest';
import type { ReleaseControl, ReleaseRecord } from '../../../src/core/records.ts';
import { alarmEventStep } from '../../../src/steps/alarm-event.ts';
import { bakeTickStep } from '../../../src/steps/bake-tick.ts';
import { endBakeStep } from '../../../src/steps/end-bake.ts';
import { startBakeStep } from '../../../src/steps/start-bake.ts';
import { anAborted, aShiftingRelease, specOf } from '../../support/builders.ts';
import { aFakeWorld, anAlarm, type FakeWorld } from '../../support/fakes.ts';

// The bake of the first weight step (10% on green, 60 s) of the default canary, in both modes:
// event-driven (start-bake stores the token, end-bake or an alarm event answers it) and polled
// (bake-tick). The clock starts at 10:00:00.250.

const shifting = aShiftingRelease();
const id = shifting.releaseId;
const colours = { blue: '7', green: '8' };
const step = { index: 0, percent: 10, bakeSeconds: 60 };
const input = { release: specOf(shifting), colours, step };
const bakeEnds = '2026-11-21T10:01:00.250Z';
const control = (change: Partial<ReleaseControl>): ReleaseControl => ({
  paused: false,
  promoted: false,
  aborted: false,
  ...change,
});

function aWorld(release: ReleaseRecord = shifting): FakeWorld {
  const world = aFakeWorld({ releases: [release] });
  world.alarms.allOk('checkout-errors');
  return world;
}

const alarmEvent = (value = 'ALARM') => ({
  'detail-type': 'CloudWatch Alarm State Change' as const,
  source: 'aws.cloudwatch',
  detail: {
    alarmName: 'checkout-errors',
    state: {
      value,
      reason: 'Threshold Crossed: 1 datapoint [5.0] was greater than the threshold (1.0).',
      timestamp: '2026-11-21T10:00:30.000+0000',
    },
  },
});

describe('startBakeStep', () => {
  it('stores the token, watches the gate alarms and keeps the bake’s end when retried', async () => {
    const world = aWorld();

    const first = await startBakeStep.run({ ...input, taskToken: 'token-1' }, world.deps);
    world.clock.advance(3);
    const retried = await startBakeStep.run({ ...input, taskToken: 'token-2' }, world.deps);

    expect(first).toEqual({ bakingUntil: bakeEnds });
    expect(retried).toEqual({ bakingUntil: bakeEnds });
    expect(await world.bakes.get(id)).toMatchObject({
      stepIndex: 0,
      taskToken: 'token-2',
      status: 'baking',
      startedAt: '2026-11-21T10:00:00.250Z',
      endsAt: bakeEnds,
    });
    expect(world.bakes.watchedBy(id)).toEqual(['checkout-errors']);
    expect(await world.ledger.timeline(id)).toEqual(['bake#0:started']);
    expect(world.callbacks.sent).toEqual([]);
  });

  it('cuts the bake short at once when a gate alarm fired before it started watching', async () => {
    const world = aWorld();
    world.alarms.alarms = [anAlarm('checkout-errors', 'ALARM')];

    await startBakeStep.run({ ...input, taskToken: 'token-1' }, world.deps);

    expect((await world.bakes.get(id))?.status).toBe('interrupted');
    expect(world.callbacks.delivered()).toEqual(['fail:token-1:AlarmGateFailed']);
    expect(world.ledger.release(id).phase).toBe('RollingBack');
    expect(world.events.types()).toEqual(['Gate Failed']);
    expect(await world.ledger.timeline(id)).toEqual(['gate#0:failed']);
  });

  it('fails a retried wait at once when an alarm event cut the bake short meanwhile', async () => {
    const world = aWorld();
    await startBakeStep.run({ ...input, taskToken: 'token-1' }, world.deps);
    await alarmEventStep.run(alarmEvent(), world.deps);

    await startBakeStep.run({ ...input, taskToken: 'token-2' }, world.deps);

    expect(world.callbacks.delivered()).toEqual([
      'fail:token-1:AlarmGateFailed',
      'fail:token-2:AlarmGateFailed',
    ]);
    expect(world.events.types()).toEqual(['Gate Failed']);
  });

  it('answers a wait entered again after the timer already ended the bake', async () => {
    const world = aWorld();
    await startBakeStep.run({ ...input, taskToken: 'token-1' }, world.deps);
    await endBakeStep.run(input, world.deps);

    await startBakeStep.run({ ...input, taskToken: 'token-2' }, world.deps);

    expect(world.callbacks.delivered()).toEqual(['succeed:token-1', 'succeed:token-2']);
    expect(world.callbacks.sent[1]?.output).toEqual({ bakedSeconds: 60, settledNow: false });
  });

  it('ends itself with OperatorPromoted when promote landed before its token was stored', async () => {
    const world = aWorld({ ...shifting, control: control({ promoted: true }), reason: 'Promoted' });

    await startBakeStep.run({ ...input, taskToken: 'token-1' }, world.deps);

    expect((await world.bakes.get(id))?.status).toBe('ended');
    expect(world.callbacks.delivered()).toEqual(['fail:token-1:OperatorPromoted']);
    expect(world.bakes.watchedBy(id)).toEqual([]);
  });

  it('ends itself with OperatorAborted for an aborted release', async () => {
    const world = aWorld(anAborted(shifting));

    await startBakeStep.run({ ...input, taskToken: 'token-1' }, world.deps);

    expect((await world.bakes.get(id))?.status).toBe('interrupted');
    expect(world.callbacks.sent).toEqual([
      {
        kind: 'fail',
        taskToken: 'token-1',
        error: 'OperatorAborted',
        cause: 'Aborted by dana: wrong build',
      },
    ]);
  });
});

describe('endBakeStep', () => {
  it('ends a bake that ran its course and answers its token once', async () => {
    const world = aWorld();
    await startBakeStep.run({ ...input, taskToken: 'token-1' }, world.deps);
    world.clock.advance(60);

    expect(await endBakeStep.run(input, world.deps)).toEqual({ ended: true });
    expect(await endBakeStep.run(input, world.deps)).toEqual({ ended: true });

    expect((await world.bakes.get(id))?.status).toBe('ended');
    expect(world.callbacks.delivered()).toEqual(['succeed:token-1']);
    expect(world.callbacks.sent[0]?.output).toEqual({ bakedSeconds: 60, settledNow: true });
    expect(await world.ledger.listSteps(id)).toEqual([
      expect.objectContaining({
        key: 'bake#0',
        outcome: 'succeeded',
        reason: 'Baked step 1 for 60s with no gate alarm firing',
      }),
    ]);
  });

  it('leaves a bake an alarm cut short as it is: the workflow is rolling back', async () => {
    const world = aWorld();
    await startBakeStep.run({ ...input, taskToken: 'token-1' }, world.deps);
    await alarmEventStep.run(alarmEvent(), world.deps);

    expect(await endBakeStep.run(input, world.deps)).toEqual({ ended: false });
    expect(world.callbacks.delivered()).toEqual(['fail:token-1:AlarmGateFailed']);
  });

  it('fails with BakeNotStarted, for Retry, while start-bake has not stored the bake yet', async () => {
    const world = aWorld();

    await expect(endBakeStep.run(input, world.deps)).rejects.toMatchObject({
      name: 'BakeNotStarted',
      message: `The bake of step 1 of ${id} has not started yet`,
    });
  });

  it('changes nothing for the bake of an earlier step once a later one began', async () => {
    const world = aWorld();
    await startBakeStep.run(
      { ...input, step: { index: 1, percent: 100, bakeSeconds: 0 }, taskToken: 'token-2' },
      world.deps,
    );

    expect(await endBakeStep.run(input, world.deps)).toEqual({ ended: false });
    expect(world.callbacks.sent).toEqual([]);
  });
});

describe('bakeTickStep', () => {
  const tick = { ...input, pollSeconds: 20 };

  it('looks every poll until the bake’s end, then says done', async () => {
    const world = aWorld();

    const waits: unknown[] = [await bakeTickStep.run(tick, world.deps)];
    world.clock.advance(50);
    waits.push(await bakeTickStep.run(tick, world.deps));
    world.clock.advance(10);
    waits.push(await bakeTickStep.run(tick, world.deps));

    expect(waits).toEqual([
      { done: false, waitSeconds: 20 },
      { done: false, waitSeconds: 10 },
      { done: true, waitSeconds: 0 },
    ]);
    expect(await world.bakes.get(id)).toMatchObject({ startedAt: '2026-11-21T10:00:00.250Z' });
    expect(world.alarms.asked).toHaveLength(3);
  });

  it('fails with AlarmGateFailed when an alarm fires, announcing the gate failure once', async () => {
    const world = aWorld();
    await bakeTickStep.run(tick, world.deps);
    world.alarms.alarms = [anAlarm('checkout-errors', 'ALARM')];

    await expect(bakeTickStep.run(tick, world.deps)).rejects.toMatchObject({
      name: 'AlarmGateFailed',
    });
    await expect(bakeTickStep.run(tick, world.deps)).rejects.toMatchObject({
      name: 'AlarmGateFailed',
    });

    expect(world.ledger.release(id).phase).toBe('RollingBack');
    expect(world.events.types()).toEqual(['Gate Failed']);
    expect((await world.bakes.get(id))?.status).toBe('interrupted');
  });

  it('says done at once for a promoted release', async () => {
    const world = aWorld({ ...shifting, control: control({ promoted: true }) });

    expect(await bakeTickStep.run(tick, world.deps)).toEqual({ done: true, waitSeconds: 0 });
    expect(world.alarms.asked).toEqual([]);
  });

  it('fails with OperatorAborted for an aborted release', async () => {
    const world = aWorld(anAborted(shifting));

    await expect(bakeTickStep.run(tick, world.deps)).rejects.toMatchObject({
      name: 'OperatorAborted',
    });
  });
});

describe('alarmEventStep', () => {
  it('cuts short every bake that watches the alarm, once however often the event comes', async () => {
    const world = aWorld();
    await startBakeStep.run({ ...input, taskToken: 'token-1' }, world.deps);

    const first = await alarmEventStep.run(alarmEvent(), world.deps);
    const again = await alarmEventStep.run(alarmEvent(), world.deps);

    expect(first).toEqual({ alarmName: 'checkout-errors', interrupted: [id], ignored: [] });
    expect(again).toEqual({
      alarmName: 'checkout-errors',
      interrupted: [],
      ignored: [{ releaseId: id, why: 'not baking (RollingBack)' }],
    });
    expect(world.callbacks.delivered()).toEqual(['fail:token-1:AlarmGateFailed']);
    expect(world.callbacks.sent[0]?.cause).toBe(
      'Alarm checkout-errors entered ALARM: Threshold Crossed: 1 datapoint [5.0] was greater than the threshold (1.0).',
    );
    expect(world.events.types()).toEqual(['Gate Failed']);
    expect(world.events.published[0]?.detail).toMatchObject({
      eventKey: `${id}#gate#0`,
      interrupted: true,
    });
    const gate = (await world.ledger.listSteps(id)).find((entry) => entry.key === 'gate#0');
    expect(gate).toMatchObject({ outcome: 'failed', phase: 'RollingBack', greenPercent: 10 });
    expect(gate?.evidence?.alarms?.[0]).toMatchObject({ name: 'checkout-errors', state: 'ALARM' });
  });

  it('does nothing when the alarm goes back to OK', async () => {
    const world = aWorld();
    await startBakeStep.run({ ...input, taskToken: 'token-1' }, world.deps);

    const outcome = await alarmEventStep.run(alarmEvent('OK'), world.deps);

    expect(outcome).toEqual({ alarmName: 'checkout-errors', interrupted: [], ignored: [] });
    expect((await world.bakes.get(id))?.status).toBe('baking');
  });

  it('ignores a watcher whose bake has ended', async () => {
    const world = aWorld();
    await startBakeStep.run({ ...input, taskToken: 'token-1' }, world.deps);
    await endBakeStep.run(input, world.deps);

    const outcome = await alarmEventStep.run(alarmEvent(), world.deps);

    expect(outcome.ignored).toEqual([{ releaseId: id, why: 'not baking (Shifting)' }]);
    expect(world.ledger.release(id).phase).toBe('Shifting');
  });
});
