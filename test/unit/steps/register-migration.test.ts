import { describe, expect, it } from 'vitest';
import { InvalidReleaseEvent } from '../../../src/core/errors.ts';
import { ReleasePhase } from '../../../src/core/phases.ts';
import type { ReleaseRecord } from '../../../src/core/records.ts';
import { registerStep } from '../../../src/steps/register.ts';
import { aReleaseEvent, aReleaseRecord, aService } from '../../support/builders.ts';
import { aFakeWorld } from '../../support/fakes.ts';

// Register's refusals of a release's migration: each with its reason, and nothing recorded but
// the rejection (no release, no lock, no runner call).

const machine = 'arn:aws:states:eu-west-1:123456789012:execution:greenlight-release';
const withRunner = aService({
  migrations: { runner: { type: 'lambda', functionName: 'checkout-migrations' } },
});
const expandId = '0007_add_note';
const contract = { id: '0008_drop_old', kind: 'contract', completes: expandId };

const appliedState = {
  id: expandId,
  kind: 'expand' as const,
  status: 'applied' as const,
  at: '2026-11-21T09:00:00Z',
  reason: 'applied',
};
const tornDownIdle = {
  colour: '7',
  live: '8',
  idleSince: '2026-11-21T09:30:00Z',
  teardownAt: '2026-11-21T09:45:00Z',
  state: 'torn-down' as const,
  reason: 'torn down',
};

/** The release that applied the expand, finalized, its blue as `idle` says. */
function anExpandRelease(overrides: Partial<ReleaseRecord> = {}): ReleaseRecord {
  return aReleaseRecord({
    version: '1.4.1',
    releaseId: 'checkout-1-4-1-a1',
    phase: ReleasePhase.Finalized,
    colours: { blue: '7', green: '8' },
    migration: { id: expandId, kind: 'expand' },
    migrationState: appliedState,
    idle: tornDownIdle,
    ...overrides,
  });
}

async function refusal(
  migration: Record<string, string>,
  options: { services?: ReturnType<typeof aService>[]; releases?: ReleaseRecord[] } = {},
) {
  const world = aFakeWorld({
    services: options.services ?? [withRunner],
    releases: options.releases ?? [],
  });
  const error = await registerStep
    .run({ event: aReleaseEvent({ migration }), executionId: `${machine}:exec-1` }, world.deps)
    .catch((e: unknown) => e);
  return { world, error: error as InvalidReleaseEvent };
}

describe('registerStep with a migration', () => {
  it('carries an expand into the release spec', async () => {
    const world = aFakeWorld({ services: [withRunner] });
    const registered = await registerStep.run(
      {
        event: aReleaseEvent({ migration: { id: expandId, kind: 'expand' } }),
        executionId: `${machine}:exec-1`,
      },
      world.deps,
    );
    expect(registered.migration).toEqual({ id: expandId, kind: 'expand' });
    expect(world.ledger.release(registered.releaseId).migration).toEqual({
      id: expandId,
      kind: 'expand',
    });
  });

  it('refuses a migration for a service without a runner, and records nothing else', async () => {
    const { world, error } = await refusal(
      { id: expandId, kind: 'expand' },
      { services: [aService()] },
    );

    expect(error).toBeInstanceOf(InvalidReleaseEvent);
    expect(error.issues).toEqual([
      {
        path: 'detail.migration',
        message: expect.stringMatching(
          /^service "checkout" registers no migration runner; add "migrations"/,
        ),
      },
    ]);
    expect(world.ledger.releases.size).toBe(0);
    expect(world.migrations.calls).toEqual([]);
  });

  it('refuses an irreversible migration when no approvers would be asked, and records nothing', async () => {
    const irreversible = { id: '0009_drop_orders', kind: 'irreversible' };
    const noApproval = await refusal(irreversible);

    expect(noApproval.error.issues).toEqual([
      {
        path: 'detail.migration.kind',
        message: expect.stringMatching(
          /^an irreversible migration needs an approval naming it, and strategy "canary" of service "checkout" has no approval: /,
        ),
      },
    ]);
    expect(noApproval.world.ledger.releases.size).toBe(0);
    expect(noApproval.world.migrations.calls).toEqual([]);
  });

  it('takes an irreversible migration with approvers, and asks them before it runs', async () => {
    const world = aFakeWorld({
      services: [
        aService({
          migrations: withRunner.migrations,
          approval: { type: 'slack', channel: 'C0RELEASES', approvers: ['U0DANA'] },
        }),
      ],
    });
    const registered = await registerStep.run(
      {
        event: aReleaseEvent({ migration: { id: '0009_drop_orders', kind: 'irreversible' } }),
        executionId: `${machine}:exec-1`,
      },
      world.deps,
    );

    expect(registered.migration).toEqual({ id: '0009_drop_orders', kind: 'irreversible' });
    expect(registered.approval).toEqual({
      beforeMigration: true,
      beforeShift: true,
      beforeFinalize: false,
      timeoutSeconds: 86_400,
    });
    expect(world.migrations.calls).toEqual([]);
  });

  it('refuses a contract whose expand the ledger never saw applied', async () => {
    const reverted = anExpandRelease({
      migrationState: { ...appliedState, status: 'reverted' },
    });
    const { world, error } = await refusal(contract, { releases: [reverted] });

    expect(error.issues[0]?.message).toMatch(
      /^contract "0008_drop_old" is refused: the ledger has no applied expand "0007_add_note" for this service/,
    );
    expect(world.ledger.releases.size).toBe(1);
  });

  it('refuses a contract while the expand’s blue is warm, saying when it is torn down', async () => {
    const warm = anExpandRelease({
      idle: { ...tornDownIdle, state: 'warm', teardownAt: '2026-11-21T10:15:00Z' },
    });
    const { error } = await refusal(contract, { releases: [warm] });

    expect(error.issues[0]?.message).toBe(
      'contract "0008_drop_old" is refused: release checkout-1-4-1-a1 (1.4.1) applied expand "0007_add_note"; its idle colour 7 runs code older than the expand and stays warm for a rollback until its teardown at 2026-11-21T10:15:00Z: send the contract after that',
    );
  });

  it.each([
    [ReleasePhase.Shifting, /and is still Shifting/],
    [
      ReleasePhase.RolledBack,
      /and ended RolledBack: 7, which runs code older than the expand, serves the traffic/,
    ],
  ])('refuses a contract while the expand’s release is %s', async (phase, reason) => {
    const { error } = await refusal(contract, { releases: [anExpandRelease({ phase })] });
    expect(error.issues[0]?.message).toMatch(reason);
  });

  it('refuses a contract when the expand’s blue took traffic again', async () => {
    const liveAgain = anExpandRelease({
      idle: { ...tornDownIdle, state: 'live-again', reason: 'rolled back by dana' },
    });
    const { error } = await refusal(contract, { releases: [liveAgain] });
    expect(error.issues[0]?.message).toMatch(/took traffic again \(rolled back by dana\)/);
  });

  it('takes a contract once the expand’s blue is torn down', async () => {
    const world = aFakeWorld({ services: [withRunner], releases: [anExpandRelease()] });

    const registered = await registerStep.run(
      { event: aReleaseEvent({ migration: contract }), executionId: `${machine}:exec-1` },
      world.deps,
    );

    expect(registered.migration).toEqual(contract);
    expect(world.ledger.release(registered.releaseId).phase).toBe(ReleasePhase.Requested);
  });
});
