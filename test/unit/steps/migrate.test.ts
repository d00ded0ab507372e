import { describe, expect, it } from 'vitest';
import {
  MigrationBrokeBlue,
  MigrationRefused,
  MigrationRunnerFailed,
} from '../../../src/core/errors.ts';
import { ReleasePhase } from '../../../src/core/phases.ts';
import type { ReleaseRecord } from '../../../src/core/records.ts';
import { migrateStep, sqlOf } from '../../../src/steps/migrate.ts';
import { planDigest } from '../../../src/steps/migration-runner-calls.ts';
import { schemaNote } from '../../../src/steps/rollback.ts';
import { anAborted, aReleaseRecord, aService, specOf } from '../../support/builders.ts';
import { aFakeWorld } from '../../support/fakes.ts';

const colours = { blue: '7', green: '8' };
const expand = { id: '0007_add_note', kind: 'expand' as const };
const testing = aReleaseRecord({ phase: ReleasePhase.Testing, colours, migration: expand });
const id = testing.releaseId;
const service = aService({
  migrations: { runner: { type: 'lambda', functionName: 'checkout-migrations' } },
});
const addNote = ['ALTER TABLE orders ADD COLUMN note text'];
const renameTotal = ['ALTER TABLE orders RENAME COLUMN total TO amount'];

function aWorld(release: ReleaseRecord = testing, plan = addNote) {
  const world = aFakeWorld({ releases: [release], services: [service] });
  world.migrations.plans.set(expand.id, plan);
  return world;
}
// Entries written at one instant list in key order; the order of the calls is the runner's.
const sorted = (keys: string[]) => [...keys].sort();
const timelineOf = async (world: ReturnType<typeof aWorld>) =>
  sorted(await world.ledger.timeline(id));
const input = (release: ReleaseRecord = testing) => ({ release: specOf(release), colours });

describe('migrateStep', () => {
  it('plans, classifies, applies, then re-tests blue against blue', async () => {
    const world = aWorld();

    const outcome = await migrateStep.run(input(), world.deps);

    expect(outcome).toEqual({ migrationId: expand.id, ran: true, blueTests: 1 });
    expect(world.migrations.calls).toEqual([
      'status 0007_add_note',
      'plan 0007_add_note',
      'apply 0007_add_note',
    ]);
    expect(world.target.calls).toEqual(['test blue 7']);
    expect(await timelineOf(world)).toEqual(
      sorted([
        'migrate-status:succeeded',
        'migrate-plan:succeeded',
        'migrate-classify:succeeded',
        'migrate-apply:succeeded',
        'migrate-blue-test:succeeded',
      ]),
    );
    expect(world.ledger.release(id).migrationState).toMatchObject({
      id: expand.id,
      status: 'applied',
    });
    // Migrate moves no phase: TestGreen, next, does.
    expect(world.ledger.release(id).phase).toBe(ReleasePhase.Testing);
  });

  it('keeps the statements, the classification and the replies as evidence', async () => {
    const world = aWorld();

    await migrateStep.run(input(), world.deps);

    const steps = await world.ledger.listSteps(id);
    const byKey = Object.fromEntries(steps.map((step) => [step.key, step]));
    expect(byKey['migrate-plan']?.evidence?.migration).toEqual({
      migrationId: expand.id,
      kind: 'expand',
      action: 'plan',
      reply: { status: 'pending', statements: addNote, planSha256: planDigest(addNote) },
    });
    expect(byKey['migrate-classify']?.evidence?.migration?.classification).toMatchObject({
      verdict: 'accepted',
      statements: 1,
      refused: [],
    });
    expect(byKey['migrate-apply']?.evidence?.migration?.reply).toEqual({
      status: 'applied',
      ran: true,
    });
    expect(byKey['migrate-blue-test']?.reason).toBe(
      'After expand 0007_add_note: blue (7) passed its 1 test again',
    );
  });

  it('refuses a breaking expand before anything ran, and the runner never gets apply', async () => {
    const world = aWorld(testing, renameTotal);

    const error = await migrateStep.run(input(), world.deps).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MigrationRefused);
    expect((error as Error).message).toMatch(
      /^Expand 0007_add_note refused before anything ran: .*renam/i,
    );
    expect(world.migrations.calls).toEqual(['status 0007_add_note', 'plan 0007_add_note']);
    expect(world.migrations.ran).toEqual([]);
    expect(world.target.calls).toEqual([]);
    expect(await timelineOf(world)).toEqual(
      sorted(['migrate-status:succeeded', 'migrate-plan:succeeded', 'migrate-classify:failed']),
    );
    const classified = (await world.ledger.listSteps(id)).find((s) => s.key === 'migrate-classify');
    expect(classified?.evidence?.migration?.classification?.refused).toEqual([
      expect.objectContaining({ index: 0, effects: ['renames-column'] }),
    ]);
    expect(world.ledger.release(id).migrationState?.status).toBe('refused');
  });

  it('reverts an expand that breaks blue, and stops with MigrationBrokeBlue', async () => {
    const world = aWorld();
    world.target.blueTestResults = [
      { name: 'health', passed: false, statusCode: 500, detail: 'column "note" …', durationMs: 4 },
    ];

    const error = await migrateStep.run(input(), world.deps).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MigrationBrokeBlue);
    expect((error as Error).message).toBe(
      'Expand 0007_add_note broke blue: blue (7) failed 1 of 1 tests: health: column "note" …; reverted',
    );
    expect(world.migrations.ran).toEqual(['apply 0007_add_note', 'revert 0007_add_note']);
    expect(world.migrations.applied.has(expand.id)).toBe(false);
    expect(world.target.changes).toEqual([]);
    expect(await timelineOf(world)).toEqual(
      sorted([
        'migrate-status:succeeded',
        'migrate-plan:succeeded',
        'migrate-classify:succeeded',
        'migrate-apply:succeeded',
        'migrate-blue-test:failed',
        'migrate-revert:succeeded',
      ]),
    );
    expect(world.ledger.release(id).migrationState?.status).toBe('reverted');
  });

  it('says so when the revert of an expand that broke blue fails too', async () => {
    const world = aWorld();
    world.target.blueTestResults = [
      { name: 'health', passed: false, detail: '500', durationMs: 1 },
    ];
    world.migrations.failOn.set(
      'revert',
      new MigrationRunnerFailed('Migration runner failed: PgError: lock timeout'),
    );

    const error = await migrateStep.run(input(), world.deps).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MigrationBrokeBlue);
    expect((error as Error).message).toMatch(
      /and its revert failed \(Migration runner failed: PgError: lock timeout\): the schema still has it$/,
    );
    expect(world.ledger.release(id).migrationState?.status).toBe('applied');
  });

  it('passes the runner’s failure on, recorded, with the expand possibly applied', async () => {
    const world = aWorld();
    const failure = new MigrationRunnerFailed(
      'Migration runner checkout-migrations (apply 0007_add_note) failed: PgError: deadlock detected',
      { errorType: 'PgError' },
    );
    world.migrations.failOn.set('apply', failure);

    await expect(migrateStep.run(input(), world.deps)).rejects.toBe(failure);

    const apply = (await world.ledger.listSteps(id)).find((s) => s.key === 'migrate-apply');
    expect(apply?.outcome).toBe('failed');
    expect(apply?.evidence?.migration?.error).toEqual({
      name: 'MigrationRunnerFailed',
      message: failure.message,
      errorType: 'PgError',
    });
    expect(world.ledger.release(id).migrationState?.status).toBe('unknown');
    expect(world.target.calls).toEqual([]);
  });

  it('applies once when a retry follows an apply whose answer was lost', async () => {
    const world = aWorld();
    const lost = Object.assign(new Error('socket hang up'), { name: 'Lambda.SdkClientException' });
    world.migrations.loseNextApplyResponse = lost;

    await expect(migrateStep.run(input(), world.deps)).rejects.toBe(lost);
    const retried = await migrateStep.run(input(), world.deps);

    expect(retried).toEqual({ migrationId: expand.id, ran: false, blueTests: 1 });
    expect(world.migrations.ran).toEqual(['apply 0007_add_note']);
    expect(world.migrations.calls).toEqual([
      'status 0007_add_note',
      'plan 0007_add_note',
      'apply 0007_add_note',
      // The retry asks status first and finds it applied: no plan, no second apply.
      'status 0007_add_note',
    ]);
    expect(world.target.calls).toEqual(['test blue 7']);
    const skipped = (await world.ledger.listSteps(id)).find((s) => s.key === 'migrate-apply');
    expect(skipped).toMatchObject({
      outcome: 'skipped',
      reason: "Migration 0007_add_note is already applied (the runner's status): not applied again",
    });
    expect(world.ledger.release(id).migrationState?.status).toBe('applied');
  });

  it('touches no schema for a release an operator aborted', async () => {
    const aborted = anAborted({ ...testing });
    const world = aWorld(aborted);

    await expect(migrateStep.run(input(aborted), world.deps)).rejects.toMatchObject({
      name: 'OperatorAborted',
    });
    expect(world.migrations.calls).toEqual([]);
  });
});

describe('migrateStep with an irreversible migration', () => {
  const drop = { id: '0009_drop_note', kind: 'irreversible' as const };
  const dropNote = ['ALTER TABLE orders DROP COLUMN note'];
  const held = aReleaseRecord({ phase: ReleasePhase.Testing, colours, migration: drop });
  const world = () => {
    const w = aFakeWorld({ releases: [held], services: [service] });
    w.migrations.plans.set(drop.id, dropNote);
    return w;
  };
  const approve = (w: ReturnType<typeof world>, outcome: 'succeeded' | 'failed' = 'succeeded') =>
    w.ledger.recordStep(id, {
      key: 'approval#before-migration',
      step: 'approval',
      at: '2026-12-06T09:00:00Z',
      outcome,
      phase: ReleasePhase.Testing,
      reason: 'Approved by dana via slack',
    });

  it('plans and classifies for the approvers, and runs nothing', async () => {
    const w = world();

    const outcome = await migrateStep.run({ ...input(held), only: 'plan' }, w.deps);

    expect(outcome).toEqual({ migrationId: drop.id, ran: false, blueTests: 0, statements: 1 });
    expect(w.migrations.calls).toEqual(['plan 0009_drop_note']);
    const classify = (await w.ledger.listSteps(id)).find((s) => s.key === 'migrate-classify');
    expect(classify?.reason).toMatch(
      /^Irreversible 0009_drop_note \(1 statements\), for its approvers: /,
    );
    expect(classify?.evidence?.migration?.classification?.reasons).toEqual([
      expect.stringMatching(/^statement 1: drops orders\.note: the old code still reads/),
    ]);
    expect(w.ledger.release(id).forwardOnly).toBeUndefined();
  });

  it('refuses to apply without a recorded approval, before calling the runner', async () => {
    const w = world();
    await approve(w, 'failed');

    await expect(migrateStep.run(input(held), w.deps)).rejects.toMatchObject({
      name: 'MigrationRefused',
      message: expect.stringMatching(/has no recorded before-migration approval; nothing ran$/),
    });
    expect(w.migrations.calls).toEqual([]);
  });

  /** PlanMigration showed the approvers the plan, and they approved it. */
  const plannedAndApproved = async (w: ReturnType<typeof world>) => {
    await migrateStep.run({ ...input(held), only: 'plan' }, w.deps);
    await approve(w);
    w.migrations.calls.length = 0;
  };

  it('applies once approved, re-tests no blue, and makes the release forward-only', async () => {
    const w = world();
    await plannedAndApproved(w);

    const outcome = await migrateStep.run(input(held), w.deps);

    expect(outcome).toEqual({ migrationId: drop.id, ran: true, blueTests: 0, forwardOnly: true });
    expect(w.migrations.calls).toEqual([
      'status 0009_drop_note',
      'plan 0009_drop_note',
      'apply 0009_drop_note',
    ]);
    expect(w.target.calls).toEqual([]);
    expect(w.ledger.release(id).forwardOnly).toEqual({
      migrationId: drop.id,
      since: w.clock.now().toISOString(),
    });
    expect(w.ledger.release(id).migrationState).toMatchObject({
      kind: 'irreversible',
      status: 'applied',
    });
  });

  it('refuses, before anything ran, a plan that changed since its approvers saw it', async () => {
    const w = world();
    await plannedAndApproved(w);
    w.migrations.plans.set(drop.id, [...dropNote, 'ALTER TABLE orders DROP COLUMN item']);

    await expect(migrateStep.run(input(held), w.deps)).rejects.toMatchObject({
      name: 'MigrationRefused',
      message:
        'The plan of irreversible 0009_drop_note changed since its approvers saw it (2 statements now, a different digest): nothing ran. Release again to have this plan approved',
    });
    expect(w.migrations.calls).toEqual(['status 0009_drop_note', 'plan 0009_drop_note']);
    expect(w.migrations.ran).toEqual([]);
    // Not forward-only: nothing ran, so the release rolls back as usual.
    expect(w.ledger.release(id).forwardOnly).toBeUndefined();
  });

  it('makes the release forward-only when apply fails, as it may have run', async () => {
    const w = world();
    await plannedAndApproved(w);
    w.migrations.failOn.set(
      'apply',
      new MigrationRunnerFailed('Task timed out after 300.00 seconds'),
    );

    await expect(migrateStep.run(input(held), w.deps)).rejects.toMatchObject({
      name: 'MigrationRunnerFailed',
    });
    expect(w.ledger.release(id).forwardOnly?.migrationId).toBe(drop.id);
    expect(w.ledger.release(id).migrationState?.status).toBe('unknown');
  });
});

describe('sqlOf', () => {
  it('makes one script of statements with or without their semicolons', () => {
    expect(sqlOf(['SELECT 1', 'SELECT 2;', '  '])).toBe('SELECT 1;\nSELECT 2;');
  });
});

describe('schemaNote', () => {
  it.each([
    ['applied', /stays applied: harmless to blue by construction/],
    ['unknown', /may have been applied/],
    ['reverted', /was reverted$/],
    ['refused', /was refused, nothing ran$/],
  ] as const)('says what a rollback leaves of an expand %s', (status, note) => {
    const record = aReleaseRecord({
      migrationState: { id: 'x', kind: 'expand', status, at: '2026-12-06T00:00:00Z', reason: 'r' },
    });
    expect(schemaNote(record)).toMatch(note);
  });

  it('says nothing of a release without a migration', () => {
    expect(schemaNote(aReleaseRecord())).toBe('');
  });
});
