import { describe, expect, it } from 'vitest';
import { ReleasePhase } from '../../../src/core/phases.ts';
import type { ReleaseRecord } from '../../../src/core/records.ts';
import { rollbackStep } from '../../../src/steps/rollback.ts';
import { aReleaseRecord, aShiftingRelease, specOf } from '../../support/builders.ts';
import { aFakeWorld, type FakeWorld, failNext } from '../../support/fakes.ts';

const shifting = aShiftingRelease();
const id = shifting.releaseId;
/** What Step Functions hands a Catch for a failed Lambda task: the error document, as JSON. */
const gateFailure = {
  Error: 'AlarmGateFailed',
  Cause: JSON.stringify({
    errorType: 'AlarmGateFailed',
    errorMessage: 'Alarm checkout-errors in ALARM',
    trace: ['AlarmGateFailed: Alarm checkout-errors in ALARM'],
  }),
};

async function aWorld(release: ReleaseRecord): Promise<FakeWorld> {
  const world = aFakeWorld({ releases: [release] });
  world.lock.hold('checkout', id);
  await world.bakes.watch(id, ['checkout-errors']);
  world.target.greenPercent = release.greenPercent;
  return world;
}

describe('rollbackStep', () => {
  it('puts all traffic on blue once, frees the lock and announces one rollback', async () => {
    const world = await aWorld(shifting);
    const input = { release: specOf(shifting), failure: gateFailure };

    const first = await rollbackStep.run(input, world.deps);
    const second = await rollbackStep.run(input, world.deps);

    expect(first).toEqual({
      phase: 'RolledBack',
      reason:
        'All traffic back on blue (green had 10%) after AlarmGateFailed: Alarm checkout-errors in ALARM',
    });
    expect(second).toEqual(first);
    expect(world.target.changes).toEqual(['0% on 8']);
    expect(world.lock.holderOf('checkout')).toBeUndefined();
    expect(world.bakes.watchedBy(id)).toEqual([]);
    expect(world.events.types()).toEqual(['Release Rolled Back']);
    expect(world.events.published[0]?.detail).toMatchObject({
      eventKey: `${id}#RolledBack`,
      greenPercent: 0,
      cause: { error: 'AlarmGateFailed', message: 'Alarm checkout-errors in ALARM' },
    });
    expect(await world.ledger.listSteps(id)).toEqual([
      expect.objectContaining({
        key: 'rollback',
        phase: 'RolledBack',
        reason:
          'All traffic back on blue (7) after: AlarmGateFailed: Alarm checkout-errors in ALARM',
        evidence: {
          error: { name: 'AlarmGateFailed', message: 'Alarm checkout-errors in ALARM' },
        },
      }),
    ]);
  });

  it('finishes a rollback a gate already started, without asking for it again', async () => {
    const world = await aWorld({
      ...shifting,
      phase: ReleasePhase.RollingBack,
      reason: 'Alarm checkout-errors in ALARM at step 0 (10% on green)',
    });

    await rollbackStep.run({ release: specOf(shifting), failure: gateFailure }, world.deps);

    expect(world.ledger.updates.map((u) => u.patch.phase)).toEqual(['RolledBack']);
    expect(world.target.changes).toEqual(['0% on 8']);
  });

  it('moves nothing when the failure came before green existed, and still frees the lock', async () => {
    const provisioning = aReleaseRecord({ phase: ReleasePhase.Provisioning });
    const world = await aWorld(provisioning);

    await rollbackStep.run(
      {
        release: specOf(provisioning),
        failure: { Error: 'GreenProvisionFailed', Cause: 'image not found' },
      },
      world.deps,
    );

    expect(world.target.calls).toEqual([]);
    expect(world.lock.holderOf('checkout')).toBeUndefined();
    expect((await world.ledger.listSteps(id))[0]?.reason).toBe(
      'Nothing had moved; released the lock after: GreenProvisionFailed: image not found',
    );
  });

  it('ends a release whose lock step failed past its retries: RolledBack, nothing moved, the lock handed on', async () => {
    // The lock was taken, then the ledger write that starts the release was throttled for good.
    const requested = aReleaseRecord();
    const world = aFakeWorld({ releases: [requested] });
    const at = requested.requestedAt;
    const lockRequest = { service: 'checkout', at, policy: 'queue' as const };
    await world.lock.acquire({ ...lockRequest, releaseId: id, requestedAt: at });
    await world.lock.acquire({ ...lockRequest, releaseId: 'checkout-next', requestedAt: at });
    const failure = {
      Error: 'ProvisionedThroughputExceededException',
      Cause: 'Rate of requests exceeds the allowed throughput',
    };

    const first = await rollbackStep.run({ release: specOf(requested), failure }, world.deps);
    const again = await rollbackStep.run({ release: specOf(requested), failure }, world.deps);

    expect(first.phase).toBe('RolledBack');
    expect(again).toEqual(first);
    expect(world.ledger.updates.map((u) => u.patch.phase)).toEqual(['RollingBack', 'RolledBack']);
    expect(world.ledger.updates[0]?.patch.reason).toBe(
      'Ending before it started: ProvisionedThroughputExceededException: Rate of requests exceeds the allowed throughput',
    );
    expect(world.target.calls).toEqual([]);
    expect(world.events.types()).toEqual(['Release Rolled Back']);
    expect(world.lock.holderOf('checkout')).toBe('checkout-next');
    expect(world.lock.waiting('checkout')).not.toContain(id);
    expect((await world.ledger.listSteps(id))[0]?.reason).toBe(
      'Nothing had moved; released the lock after: ProvisionedThroughputExceededException: Rate of requests exceeds the allowed throughput',
    );
  });

  it('says green never took traffic when it failed its tests', async () => {
    const testing = aReleaseRecord({
      phase: ReleasePhase.Testing,
      colours: { blue: '7', green: '8' },
    });
    const world = await aWorld(testing);

    await rollbackStep.run(
      { release: specOf(testing), failure: { Error: 'GreenTestFailed', Cause: null } },
      world.deps,
    );

    expect((await world.ledger.listSteps(id))[0]?.reason).toBe(
      'Green never took traffic; blue (7) kept all of it after: GreenTestFailed: (no cause given)',
    );
    expect(world.ledger.release(id).phase).toBe('RolledBack');
  });

  it('keeps the lock and stays RollingBack when the target fails; the retry completes', async () => {
    const world = await aWorld(shifting);
    const input = { release: specOf(shifting), failure: gateFailure };
    failNext(world.target, 'rollback', new Error('TooManyRequestsException'));

    await expect(rollbackStep.run(input, world.deps)).rejects.toThrow('TooManyRequestsException');
    expect(world.ledger.release(id).phase).toBe('RollingBack');
    expect(world.lock.holderOf('checkout')).toBe(id);
    expect(world.events.published).toEqual([]);

    await rollbackStep.run(input, world.deps);
    expect(world.ledger.release(id).phase).toBe('RolledBack');
    expect(world.lock.holderOf('checkout')).toBeUndefined();
  });

  it('refuses to roll back a finalized release: that is the operator’s rollback', async () => {
    const world = await aWorld({ ...shifting, phase: ReleasePhase.Finalized, greenPercent: 100 });

    await expect(
      rollbackStep.run({ release: specOf(shifting), failure: gateFailure }, world.deps),
    ).rejects.toMatchObject({ name: 'InvalidTransition' });
    expect(world.target.calls).toEqual([]);
  });
});
