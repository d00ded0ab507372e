import { beforeAll, describe, expect, it } from 'vitest';
import type { ReleaseRecord } from '../../../src/core/records.ts';
import { logger } from '../../../src/runtime/step-handler.ts';
import { finalizeStep } from '../../../src/steps/finalize.ts';
import { anAborted, aService, aShiftingRelease, specOf } from '../../support/builders.ts';
import { aFakeWorld, type FakeWorld, failNext } from '../../support/fakes.ts';

const colours = { blue: '7', green: '8' };
const atFull = aShiftingRelease({ stepIndex: 1, greenPercent: 100 });
const id = atFull.releaseId;
const input = { release: specOf(atFull), colours };

/** A release at 100% on green, holding its service's lock, its gate alarms watched. */
async function aWorldAtFull(release: ReleaseRecord = atFull): Promise<FakeWorld> {
  const world = aFakeWorld({ releases: [release] });
  world.lock.hold('checkout', id);
  await world.bakes.watch(id, ['checkout-errors']);
  world.target.greenPercent = 100;
  world.target.live = '8';
  return world;
}

// A schedule that cannot be made is logged as a fault; the test makes one on purpose.
beforeAll(() => logger.setLogLevel('SILENT'));

describe('finalizeStep', () => {
  it('finalizes, keeps blue warm with one teardown schedule, frees the lock, announces once', async () => {
    const world = await aWorldAtFull();
    world.idle.hourly = { hourlyUsd: 0.42, basis: '2 tasks x 0.5 vCPU' };

    const first = await finalizeStep.run(input, world.deps);
    world.clock.advance(5);
    const second = await finalizeStep.run(input, world.deps);

    expect(first).toEqual({
      phase: 'Finalized',
      reason: 'All traffic on green; release finalized',
    });
    expect(second).toEqual(first);
    // The clock starts at 10:00:00.250: the window's end rounds up to a whole second.
    const teardownAt = '2026-11-21T10:15:01.000Z';
    expect(world.ledger.release(id).idle).toEqual({
      colour: '7',
      live: '8',
      idleSince: '2026-11-21T10:00:00.250Z',
      teardownAt,
      schedule: `teardown-${id}`,
      state: 'warm',
      cost: { hourlyUsd: 0.42, basis: '2 tasks x 0.5 vCPU' },
      reason: `Teardown scheduled for ${teardownAt} (teardown-${id})`,
    });
    expect([...world.teardowns.schedules]).toEqual([
      [
        `teardown-${id}`,
        { at: new Date(teardownAt), target: { service: 'checkout', releaseId: id, colour: '7' } },
      ],
    ]);
    expect(world.events.types()).toEqual(['Release Finalized']);
    expect(world.events.published[0]?.detail).toMatchObject({
      eventKey: `${id}#Finalized`,
      idleColour: '7',
      teardownAt,
      greenPercent: 100,
    });
    expect(world.lock.holderOf('checkout')).toBeUndefined();
    expect(world.bakes.watchedBy(id)).toEqual([]);
    expect(world.target).toMatchObject({ greenPercent: 100, live: '8' });
    expect(await world.ledger.timeline(id)).toEqual(['finalize:succeeded']);
    expect(world.ledger.updates).toHaveLength(1);
  });

  it('puts all traffic on green even when set-weight left a split behind', async () => {
    const world = await aWorldAtFull();
    world.target.greenPercent = 90;

    await finalizeStep.run(input, world.deps);

    expect(world.target.changes).toEqual(['100% on 8']);
  });

  it('finalizes when the schedule cannot be made, leaving the teardown to the sweeper', async () => {
    const world = await aWorldAtFull();
    failNext(
      world.teardowns,
      'schedule',
      Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }),
    );

    await finalizeStep.run(input, world.deps);

    const release = world.ledger.release(id);
    expect(release.phase).toBe('Finalized');
    expect(release.idle).not.toHaveProperty('schedule');
    expect(release.idle?.reason).toBe(
      'Could not schedule the teardown (ThrottlingException: Rate exceeded); the daily sweeper tears blue down after 2026-11-21T10:15:01.000Z',
    );
  });

  it('says so when the stage has no schedule group', async () => {
    const world = await aWorldAtFull();
    world.deps.teardowns = undefined;

    await finalizeStep.run(input, world.deps);

    expect(world.ledger.release(id).idle?.reason).toMatch(
      /^No teardown scheduled \(greenlight's environment names no schedule group\)/,
    );
  });

  it('records an unknown cost rather than failing when the cost cannot be read', async () => {
    const world = await aWorldAtFull();
    failNext(world.idle, 'cost', new Error('AccessDenied'));

    await finalizeStep.run(input, world.deps);

    expect(world.ledger.release(id).idle?.cost).toEqual({ basis: 'unknown: Error: AccessDenied' });
  });

  it('keeps the warm window the service asks for', async () => {
    const world = aFakeWorld({
      releases: [atFull],
      services: [aService({ warmWindowSeconds: 60 })],
    });

    await finalizeStep.run(input, world.deps);

    expect(world.ledger.release(id).idle?.teardownAt).toBe('2026-11-21T10:01:01.000Z');
  });

  it('refuses to finalize a release with less than all traffic on green, touching nothing', async () => {
    const world = await aWorldAtFull({ ...atFull, stepIndex: 0, greenPercent: 10 });

    await expect(finalizeStep.run(input, world.deps)).rejects.toMatchObject({
      name: 'InvalidTransition',
      message: expect.stringContaining('only 10% of traffic is on green'),
    });
    expect(world.target.calls).toEqual([]);
    expect(world.teardowns.schedules.size).toBe(0);
    expect(world.lock.holderOf('checkout')).toBe(id);
  });

  it('fails with OperatorAborted for a release an operator aborted, touching nothing', async () => {
    const world = await aWorldAtFull(anAborted(atFull));

    await expect(finalizeStep.run(input, world.deps)).rejects.toMatchObject({
      name: 'OperatorAborted',
      message: 'Aborted by dana: wrong build',
    });
    expect(world.target.calls).toEqual([]);
  });

  it('stays Shifting and holds the lock when the target fails; the retry finalizes', async () => {
    const world = await aWorldAtFull();
    failNext(world.target, 'finalize', new Error('ServiceUnavailable'));

    await expect(finalizeStep.run(input, world.deps)).rejects.toThrow('ServiceUnavailable');
    expect(world.ledger.release(id).phase).toBe('Shifting');
    expect(world.lock.holderOf('checkout')).toBe(id);
    expect(world.events.published).toEqual([]);

    await finalizeStep.run(input, world.deps);
    expect(world.ledger.release(id).phase).toBe('Finalized');
  });

  it('fails with ReleaseNotFound for a release the ledger does not hold', async () => {
    const world = aFakeWorld();

    await expect(finalizeStep.run(input, world.deps)).rejects.toMatchObject({
      name: 'ReleaseNotFound',
    });
  });

  it('fails, naming the fix, when the service was unregistered mid-release', async () => {
    const world = aFakeWorld({ releases: [atFull], services: [aService({ name: 'other' })] });

    await expect(finalizeStep.run(input, world.deps)).rejects.toThrow(
      'Service "checkout" is no longer registered; it was removed while its release ran. Register it again to finish or roll back.',
    );
  });

  it('keys its idempotency on the release alone', () => {
    expect(finalizeStep.idempotencyKey(input)).toEqual({
      releaseId: id,
      step: 'finalize',
      index: 0,
    });
  });
});
