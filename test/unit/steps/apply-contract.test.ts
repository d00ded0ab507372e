import { describe, expect, it } from 'vitest';
import { MigrationRunnerFailed } from '../../../src/core/errors.ts';
import { ReleasePhase } from '../../../src/core/phases.ts';
import type { ReleaseRecord } from '../../../src/core/records.ts';
import { tearDownIdleColour } from '../../../src/steps/idle-teardown.ts';
import { anIdleColour, aReleaseRecord, aService } from '../../support/builders.ts';
import { aTestClock } from '../../support/clock.ts';
import { aFakeWorld } from '../../support/fakes.ts';

// A contract applied at the teardown of its release's idle colour (src/steps/apply-contract.ts).

const contract = { id: '0008_drop_old', kind: 'contract' as const, completes: '0007_add_note' };
const finalized = aReleaseRecord({
  phase: ReleasePhase.Finalized,
  colours: { blue: '3', green: '4' },
  greenPercent: 100,
  idle: anIdleColour(),
  migration: contract,
});
const target = { service: 'checkout', releaseId: finalized.releaseId, colour: '3' };
const service = aService({
  migrations: { runner: { type: 'lambda', functionName: 'checkout-migrations' } },
});

function aWorld(release: ReleaseRecord = finalized) {
  return aFakeWorld({
    releases: [release],
    services: [service],
    clock: aTestClock('2026-11-21T10:15:01.000Z'),
  });
}

describe('a contract at its release’s teardown', () => {
  it('is planned and applied once the idle colour is torn down, and recorded', async () => {
    const world = aWorld();

    const outcome = await tearDownIdleColour(world.deps, target, 'schedule', 'schedule:request-1');

    expect(outcome.outcome).toBe('torn-down');
    expect(outcome.reason).toMatch(
      /; Contract 0008_drop_old applied once idle colour 3 was torn down/,
    );
    expect(world.migrations.calls).toEqual(['plan 0008_drop_old', 'apply 0008_drop_old']);
    expect(world.ledger.release(finalized.releaseId)).toMatchObject({
      idle: { state: 'torn-down' },
      migrationState: { id: '0008_drop_old', kind: 'contract', status: 'applied' },
    });
    expect(await world.ledger.timeline(finalized.releaseId)).toEqual(
      expect.arrayContaining([
        'contract-plan:succeeded',
        'contract-apply:succeeded',
        'teardown:succeeded',
      ]),
    );
  });

  it('throws after a runner failure, leaving the colour warm for a retry that applies it', async () => {
    const world = aWorld();
    world.migrations.failOn.set('apply', new MigrationRunnerFailed('PgError: lock timeout'));

    await expect(
      tearDownIdleColour(world.deps, target, 'schedule', 'schedule:request-1'),
    ).rejects.toThrow(
      /Contract 0008_drop_old was not applied at the teardown .*PgError: lock timeout/,
    );
    expect(world.ledger.release(finalized.releaseId).idle?.state).toBe('warm');
    expect(world.migrations.applied.size).toBe(0);

    world.migrations.failOn.clear();
    // The same claimant: Lambda's retry of the asynchronous invocation.
    const retried = await tearDownIdleColour(world.deps, target, 'schedule', 'schedule:request-1');
    expect(retried.outcome).toBe('torn-down');
    expect(world.migrations.ran).toEqual(['apply 0008_drop_old']);
  });

  it('asks the runner nothing for a release without a contract', async () => {
    const { migration: _none, ...plain } = finalized;
    const world = aWorld(plain);

    await tearDownIdleColour(world.deps, target, 'schedule', 'schedule:request-1');

    expect(world.migrations.calls).toEqual([]);
  });

  it('waits while the colour it would break takes traffic again', async () => {
    const world = aWorld();
    world.idle.takes = true;

    const outcome = await tearDownIdleColour(world.deps, target, 'schedule', 'schedule:request-1');

    expect(outcome.outcome).toBe('live-again');
    expect(world.migrations.calls).toEqual([]);
  });
});
