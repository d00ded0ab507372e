import { describe, expect, it } from 'vitest';
import { OperatorCommandDetailType } from '../../../src/core/operator-command.ts';
import { ReleasePhase } from '../../../src/core/phases.ts';
import { ApprovalStage, type ReleaseRecord } from '../../../src/core/records.ts';
import { approvalTimeoutStep } from '../../../src/steps/approval-timeout.ts';
import { finalizeStep } from '../../../src/steps/finalize.ts';
import { migrateStep } from '../../../src/steps/migrate.ts';
import { operatorCommandStep } from '../../../src/steps/operator-command.ts';
import { requestApprovalStep } from '../../../src/steps/request-approval.ts';
import { rollbackStep } from '../../../src/steps/rollback.ts';
import { verifyCallbackStep } from '../../../src/steps/verify-callback.ts';
import {
  anIdleColour,
  aReleaseRecord,
  aService,
  aShiftingRelease,
  specOf,
} from '../../support/builders.ts';
import { aFakeWorld, type FakeWorld } from '../../support/fakes.ts';

// A forward-only release (its irreversible migration ran): held instead of rolled back, and
// what an operator can do about it. One world per test; the steps as the workflow calls them.

const forwardOnly = { migrationId: '0009_drop_note', since: '2026-11-21T09:59:00.000Z' };
const shifting: ReleaseRecord = {
  ...aShiftingRelease(),
  migration: { id: forwardOnly.migrationId, kind: 'irreversible' },
  forwardOnly,
};
const id = shifting.releaseId;
const colours = { blue: '7', green: '8' };
const service = aService({
  approval: { type: 'slack', channel: 'C0RELEASES', approvers: ['U0DANA'] },
  migrations: { runner: { type: 'lambda', functionName: 'checkout-migrations' } },
});
const gateFailure = { Error: 'AlarmGateFailed', Cause: 'Alarm checkout-errors in ALARM' };

async function aWorld(release: ReleaseRecord = shifting): Promise<FakeWorld> {
  const world = aFakeWorld({ releases: [release], services: [service] });
  world.lock.hold('checkout', id);
  await world.bakes.watch(id, ['checkout-errors']);
  world.target.greenPercent = release.greenPercent;
  return world;
}

function command(eventId: string, detail: Record<string, unknown>) {
  return {
    id: eventId,
    'detail-type': OperatorCommandDetailType,
    detail: { schemaVersion: 1, actor: 'dana', reason: 'data fits green only', ...detail },
  } as const;
}

const holdWait = (taskToken: string) => ({
  release: specOf(shifting),
  colours,
  stage: ApprovalStage.ForwardOnlyHold,
  taskToken,
});
const verifyHold = (callback: unknown = { answered: 'success' }) => ({
  release: specOf(shifting),
  stage: ApprovalStage.ForwardOnlyHold,
  callback,
  wait: { unbacked: 0 },
});

/** A held release waiting on `hold-token`, as Rollback and the Held state leave it. */
async function aHeldWorld(): Promise<FakeWorld> {
  const world = await aWorld();
  await rollbackStep.run({ release: specOf(shifting), failure: gateFailure }, world.deps);
  await requestApprovalStep.run(holdWait('hold-token'), world.deps);
  return world;
}

describe('rollbackStep on a forward-only release', () => {
  it('holds traffic where it is, keeps the lock and announces the hold once', async () => {
    const world = await aWorld();
    const input = { release: specOf(shifting), failure: gateFailure };

    const first = await rollbackStep.run(input, world.deps);
    const again = await rollbackStep.run(input, world.deps);

    expect(first).toEqual({
      phase: 'Held',
      held: true,
      reason:
        'Held with 10% on green, forward-only: AlarmGateFailed: Alarm checkout-errors in ALARM',
    });
    expect(again).toEqual(first);
    expect(world.target.changes).toEqual([]);
    expect(world.lock.holderOf('checkout')).toBe(id);
    expect(world.bakes.watchedBy(id)).toEqual([]);
    expect(world.events.types()).toEqual(['Release Held']);
    expect(world.events.published[0]?.detail).toMatchObject({
      eventKey: `${id}#held`,
      phase: 'Held',
      greenPercent: 10,
      forwardOnly,
    });
    const [hold] = await world.ledger.listSteps(id);
    expect(hold).toMatchObject({ key: 'hold', outcome: 'held', phase: 'Held' });
    expect(hold?.reason).toMatch(
      /^Forward-only since irreversible 0009_drop_note ran .*"greenlight promote .*"greenlight abort .* --knowingly" rolls back/,
    );
  });
});

describe('the hold’s wait', () => {
  it('keeps its token with the hold, posts nothing, and records that it waits', async () => {
    const world = await aHeldWorld();

    const hold = await world.approvals.get(`${id}-forward-only-hold`);
    expect(hold).toMatchObject({ status: 'pending', taskToken: 'hold-token' });
    expect(world.slack.posted).toEqual([]);
    expect(await world.ledger.timeline(id)).toContain('hold-wait:held');
  });

  it('waits again on an answer the ledger does not back: the release stays held', async () => {
    const world = await aHeldWorld();

    const check = await verifyCallbackStep.run(verifyHold(), world.deps);

    expect(check).toMatchObject({ next: 'wait', forged: true, unbacked: 1 });
    expect(world.ledger.release(id).phase).toBe('Held');
  });
});

describe('operator commands on a held release', () => {
  it('promote answers the hold, and the release finalizes with all traffic on green', async () => {
    const world = await aHeldWorld();

    const outcome = await operatorCommandStep.run(
      command('c-1', { command: 'promote', releaseId: id }),
      world.deps,
    );

    expect(outcome).toMatchObject({ outcome: 'applied' });
    expect(outcome.message).toMatch(/^Promoted out of its hold by dana at 10% on green/);
    expect(world.callbacks.delivered()).toEqual(['succeed:hold-token']);
    expect(await verifyCallbackStep.run(verifyHold(), world.deps)).toMatchObject({ next: 'go' });
    await finalizeStep.run({ release: specOf(shifting), colours }, world.deps);
    expect(world.ledger.release(id)).toMatchObject({ phase: 'Finalized', greenPercent: 100 });
    expect(world.target.greenPercent).toBe(100);
    expect(world.lock.holderOf('checkout')).toBeUndefined();
  });

  it('a promote before the hold waits is delivered when it starts waiting', async () => {
    const world = await aWorld();
    await rollbackStep.run({ release: specOf(shifting), failure: gateFailure }, world.deps);
    await operatorCommandStep.run(
      command('c-1', { command: 'promote', releaseId: id }),
      world.deps,
    );

    await requestApprovalStep.run(holdWait('late-token'), world.deps);

    expect(world.callbacks.delivered()).toEqual(['succeed:late-token']);
  });

  it('refuses an abort that is not knowing, and the release stays held', async () => {
    const world = await aHeldWorld();

    const outcome = await operatorCommandStep.run(
      command('c-2', { command: 'abort', releaseId: id }),
      world.deps,
    );

    expect(outcome).toMatchObject({ outcome: 'refused' });
    expect(outcome.message).toMatch(
      /^Release .* is forward-only: irreversible migration 0009_drop_note ran at .*--knowingly/,
    );
    expect(world.ledger.release(id).phase).toBe('Held');
    expect(world.callbacks.delivered()).toEqual([]);
  });

  it('rolls back on a knowing abort, and records that it was knowing', async () => {
    const world = await aHeldWorld();

    const outcome = await operatorCommandStep.run(
      command('c-3', { command: 'abort', releaseId: id, knowingly: true }),
      world.deps,
    );

    expect(outcome).toMatchObject({ outcome: 'applied' });
    expect(world.callbacks.delivered()).toEqual(['fail:hold-token:OperatorAborted']);
    await expect(verifyCallbackStep.run(verifyHold(), world.deps)).rejects.toMatchObject({
      name: 'OperatorAborted',
    });
    const rolledBack = await rollbackStep.run(
      { release: specOf(shifting), failure: { Error: 'OperatorAborted', Cause: outcome.message } },
      world.deps,
    );
    expect(rolledBack.phase).toBe('RolledBack');
    expect(world.target.changes).toEqual(['0% on 8']);
    expect(world.ledger.release(id).forwardOnly?.rolledBackKnowingly).toEqual({
      by: 'dana',
      at: world.clock.now().toISOString(),
      reason: 'data fits green only',
    });
    expect(world.ledger.release(id).reason).toMatch(
      /knowingly, although irreversible 0009_drop_note ran/,
    );
  });
});

describe('a promoted hold whose Finalize fails past its retries', () => {
  const finalizeFailure = { Error: 'Lambda.ServiceException', Cause: 'Lambda was unavailable' };
  // What the workflow hands Rollback then: VerifyHold's answer for the round it promoted.
  const finalizeFailed = (holdRound: number) => ({
    release: specOf(shifting),
    failure: finalizeFailure,
    holdWait: { holdRound },
  });

  /** Held, promoted (round 1 answered), and its Finalize failed: Rollback holds it again. */
  async function aSecondRound(): Promise<FakeWorld> {
    const world = await aHeldWorld();
    await operatorCommandStep.run(
      command('c-1', { command: 'promote', releaseId: id }),
      world.deps,
    );
    const go = await verifyCallbackStep.run(verifyHold(), world.deps);
    expect(go).toMatchObject({ next: 'go', holdRound: 1 });
    await rollbackStep.run(finalizeFailed(1), world.deps);
    return world;
  }

  it('holds the release again as round 2, saying why, and announces that round once', async () => {
    const world = await aSecondRound();
    const again = await rollbackStep.run(finalizeFailed(1), world.deps);

    expect(again).toEqual({
      phase: 'Held',
      held: true,
      reason:
        "Held again with 10% on green, forward-only: the promote's Finalize failed: Lambda.ServiceException: Lambda was unavailable",
    });
    const record = world.ledger.release(id);
    expect(record.control?.promoted).toBe(false);
    expect(record.forwardOnly?.holdRound).toBe(2);
    expect(world.events.types()).toEqual(['Release Held', 'Release Held']);
    expect(world.events.published.map((event) => event.detail.eventKey)).toEqual([
      `${id}#held`,
      `${id}#held#2`,
    ]);
    const steps = await world.ledger.listSteps(id);
    expect(steps.find((step) => step.key === 'hold#2')?.reason).toMatch(
      /^Held again \(round 2 of the hold\).*round 1's promote went to Finalize, which failed past its retries with Lambda.ServiceException: Lambda was unavailable.*no longer counts/,
    );
    expect(world.lock.holderOf('checkout')).toBe(id);
  });

  it('waits on a token of its own: the earlier promote no longer ends the wait', async () => {
    const world = await aSecondRound();

    await requestApprovalStep.run(holdWait('round-2-token'), world.deps);
    const check = await verifyCallbackStep.run(verifyHold(), world.deps);

    expect(await world.approvals.get(`${id}-forward-only-hold-2`)).toMatchObject({
      status: 'pending',
      taskToken: 'round-2-token',
    });
    expect(await world.approvals.get(`${id}-forward-only-hold`)).toMatchObject({
      status: 'approved',
    });
    expect(world.callbacks.delivered()).toEqual(['succeed:hold-token']);
    expect(check).toMatchObject({ next: 'wait', forged: true, unbacked: 1 });
    expect(await world.ledger.timeline(id)).toEqual(
      expect.arrayContaining(['hold-wait#2:held', 'callback#hold-2#1:failed']),
    );
  });

  it('a second promote answers round 2, and the release finalizes', async () => {
    const world = await aSecondRound();
    await requestApprovalStep.run(holdWait('round-2-token'), world.deps);

    const outcome = await operatorCommandStep.run(
      command('c-2', { command: 'promote', releaseId: id }),
      world.deps,
    );

    expect(outcome).toMatchObject({ outcome: 'applied' });
    expect(world.callbacks.delivered()).toEqual(['succeed:hold-token', 'succeed:round-2-token']);
    expect(await verifyCallbackStep.run(verifyHold(), world.deps)).toMatchObject({
      next: 'go',
      holdRound: 2,
    });
    await finalizeStep.run({ release: specOf(shifting), colours }, world.deps);
    expect(world.ledger.release(id)).toMatchObject({ phase: 'Finalized', greenPercent: 100 });
  });

  it('a redelivered Rollback of round 1 opens no third round once round 2 is promoted', async () => {
    const world = await aSecondRound();
    await requestApprovalStep.run(holdWait('round-2-token'), world.deps);
    await operatorCommandStep.run(
      command('c-2', { command: 'promote', releaseId: id }),
      world.deps,
    );

    await rollbackStep.run(finalizeFailed(1), world.deps);
    await rollbackStep.run({ release: specOf(shifting), failure: gateFailure }, world.deps);

    expect(world.ledger.release(id)).toMatchObject({
      phase: 'Held',
      control: { promoted: true },
      forwardOnly: { holdRound: 2 },
    });
    expect(world.events.types()).toEqual(['Release Held', 'Release Held']);
  });

  it('keys each round’s Rollback apart, so none replays another’s answer', () => {
    const keyOf = (input: Parameters<typeof rollbackStep.idempotencyKey>[0]) =>
      rollbackStep.idempotencyKey(input).index;

    expect(keyOf({ release: specOf(shifting), failure: gateFailure })).toBe(0);
    expect(keyOf(finalizeFailed(1))).toBe(2);
    expect(keyOf(finalizeFailed(2))).toBe(3);
    expect(
      keyOf({ ...finalizeFailed(2), failure: { Error: 'OperatorAborted', Cause: 'knowingly' } }),
    ).toBe(1);
  });

  it('a knowing abort ends round 2’s wait and rolls back', async () => {
    const world = await aSecondRound();
    await requestApprovalStep.run(holdWait('round-2-token'), world.deps);

    const outcome = await operatorCommandStep.run(
      command('c-3', { command: 'abort', releaseId: id, knowingly: true }),
      world.deps,
    );

    expect(outcome).toMatchObject({ outcome: 'applied' });
    expect(outcome.message).toMatch(/the forward-only hold ended now/);
    expect(world.callbacks.delivered()).toEqual([
      'succeed:hold-token',
      'fail:round-2-token:OperatorAborted',
    ]);
    const rolledBack = await rollbackStep.run(
      { release: specOf(shifting), failure: { Error: 'OperatorAborted', Cause: outcome.message } },
      world.deps,
    );
    expect(rolledBack.phase).toBe('RolledBack');
  });
});

describe('greenlight rollback after an irreversible migration', () => {
  const finalized: ReleaseRecord = {
    ...shifting,
    phase: ReleasePhase.Finalized,
    stepIndex: 1,
    greenPercent: 100,
    idle: anIdleColour({ colour: '7', live: '8', teardownAt: '2026-11-21T10:15:00.000Z' }),
  };
  const rollback = (knowingly?: true) =>
    command('c-4', { command: 'rollback', service: 'checkout', ...(knowingly && { knowingly }) });

  it('refuses the warm one-switch rollback, saying which migration ran', async () => {
    const world = aFakeWorld({ releases: [finalized], services: [service] });

    const outcome = await operatorCommandStep.run(rollback(), world.deps);

    expect(outcome).toMatchObject({ outcome: 'refused' });
    expect(outcome.message).toMatch(
      /^irreversible migration 0009_drop_note ran in .* after the build blue runs: blue's code may not fit the data any more\. .*--knowingly/,
    );
    expect(world.target.changes).toEqual([]);
  });

  it('refuses it for an irreversible migration of a release since blue’s that did not finalize', async () => {
    const previous = aReleaseRecord({
      releaseId: 'checkout-1-3-0-a1',
      version: '1.3.0',
      phase: ReleasePhase.RolledBack,
      requestedAt: '2026-11-21T08:00:00.000Z',
      forwardOnly,
    });
    const latest = { ...finalized, forwardOnly: undefined } as unknown as ReleaseRecord;
    delete (latest as Partial<ReleaseRecord>).forwardOnly;
    const world = aFakeWorld({ releases: [previous, latest], services: [service] });

    const outcome = await operatorCommandStep.run(rollback(), world.deps);

    expect(outcome.message).toMatch(
      /^irreversible migration 0009_drop_note ran in checkout-1-3-0-a1/,
    );
  });

  it('switches back knowingly when asked to, and says so', async () => {
    const world = aFakeWorld({ releases: [finalized], services: [service] });
    world.target.greenPercent = 100;
    world.target.live = '8';

    const outcome = await operatorCommandStep.run(rollback(true), world.deps);

    expect(outcome).toMatchObject({ outcome: 'applied' });
    expect(world.target.changes).toEqual(['0% on 8']);
    const steps = await world.ledger.listSteps(id);
    expect(steps.find((s) => s.key === 'revert')?.reason).toMatch(
      /knowingly, although irreversible migration 0009_drop_note ran/,
    );
  });
});

describe('the approval before an irreversible migration', () => {
  const testing: ReleaseRecord = {
    ...aReleaseRecord({ phase: ReleasePhase.Testing, colours }),
    migration: { id: '0009_drop_note', kind: 'irreversible' },
    approval: {
      beforeMigration: true,
      beforeShift: false,
      beforeFinalize: false,
      timeoutSeconds: 600,
    },
  };
  const onTimeoutApprove = aService({
    approval: { type: 'slack', channel: 'C0RELEASES', approvers: ['U0DANA'], onTimeout: 'approve' },
    migrations: { runner: { type: 'lambda', functionName: 'checkout-migrations' } },
  });

  async function planned() {
    const world = aFakeWorld({ releases: [testing], services: [onTimeoutApprove] });
    world.migrations.plans.set('0009_drop_note', ['ALTER TABLE orders DROP COLUMN note']);
    await migrateStep.run({ release: specOf(testing), colours, only: 'plan' }, world.deps);
    return world;
  }

  it('names the migration, its statements, what it breaks and what forward-only means', async () => {
    const world = await planned();

    await requestApprovalStep.run(
      { release: specOf(testing), colours, stage: ApprovalStage.BeforeMigration, taskToken: 't-1' },
      world.deps,
    );

    const [post] = world.slack.posted;
    const text = JSON.stringify(post?.message.blocks);
    expect(post?.message.text).toMatch(/\(before the irreversible migration runs\)$/);
    expect(text).toContain('*Migration* `0009_drop_note` (irreversible)');
    expect(text).toContain('ALTER TABLE orders DROP COLUMN note');
    expect(text).toContain('statement 1: drops orders.note');
    expect(text).toContain('*After it runs this release is forward-only*: a failed gate');
    // Nobody answering never lets it run, whatever the service's onTimeout says.
    expect(text).toMatch(/then the release is rejected/);
  });

  it('rejects on timeout even when the service approves on timeout', async () => {
    const world = await planned();
    await requestApprovalStep.run(
      { release: specOf(testing), colours, stage: ApprovalStage.BeforeMigration, taskToken: 't-1' },
      world.deps,
    );

    const outcome = await approvalTimeoutStep.run(
      { release: specOf(testing), stage: ApprovalStage.BeforeMigration },
      world.deps,
    );

    expect(outcome).toMatchObject({ action: 'reject' });
    expect(outcome.reason).toMatch(/the release is rejected before any traffic moved$/);
  });
});
