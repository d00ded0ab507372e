import {
  InvalidStepInput,
  MigrationBrokeBlue,
  MigrationRefused,
  MigrationRunnerFailed,
} from '../core/errors.ts';
import {
  MigrationAction,
  MigrationKind,
  type MigrationRunnerReply,
  MigrationStatus,
  type ReleaseMigration,
} from '../core/migration.ts';
import { ReleasePhase } from '../core/phases.ts';
import type { MigrationRunner } from '../core/ports.ts';
import {
  ApprovalStage,
  type Colours,
  type MigrationEvidence,
  type MigrationState,
  type ReleaseRecord,
  type ReleaseSpec,
  type StepRecord,
  type TestEvidence,
} from '../core/records.ts';
import { ReleaseEventType } from '../core/transitions.ts';
import * as z from '../core/zod.ts';
import {
  classifyMigration,
  type MigrationClassification,
} from '../migrations/classify-migration.ts';
import type { StepDependencies, TrafficRouting } from '../runtime/dependencies.ts';
import type { Step } from '../runtime/step-handler.ts';
import { assertCanAdvance, loadRelease, stepRecord } from './advance-release.ts';
import { ColoursSchema, ReleaseSpecSchema } from './inputs.ts';
import { messageOf, planDigest, runnerCall } from './migration-runner-calls.ts';
import { serviceOf } from './service.ts';

export interface MigrateOutcome {
  migrationId: string;
  /** Whether this release's `apply` ran the migration (false: the runner had it applied). */
  ran: boolean;
  blueTests: number;
  /** An irreversible migration ran (or may have): the release is forward-only from now on. */
  forwardOnly?: true;
  /** `only: plan`: how many statements the plan holds (they are in the timeline). */
  statements?: number;
}

/**
 * `only: 'plan'` (state PlanMigration, before an irreversible migration's approval): ask the
 * runner's plan and classify it for the record, run nothing. The approval's message shows it.
 */
export interface MigrateInput {
  release: ReleaseSpec;
  colours: Colours;
  only?: 'plan';
}

const MigrateInputSchema = z.lazy(() =>
  z.object({
    release: ReleaseSpecSchema,
    colours: ColoursSchema,
    only: z.optional(z.literal('plan')),
  }),
) as unknown as z.ZodMiniType<MigrateInput>;

/** No lock and no bus: Migrate moves no phase (TestGreen does, next) and publishes nothing. */
export type MigrateDependencies = Pick<StepDependencies, 'registry' | 'ledger' | 'now'> &
  TrafficRouting & { migrations: MigrationRunner };

// The classification keeps its own cut texts of the refused statements; this many of them.
const refusedKept = 10;

/**
 * Runs a release's expand migration after green is provisioned and before green's tests:
 * `status`, then `plan`, whose statements are classified with PostgreSQL's parser and refused
 * (MigrationRefused, before anything ran) when they would break blue or block its writes;
 * then `apply`, then blue's own tests against blue. If blue fails them the expand is reverted
 * and the release stops (MigrationBrokeBlue), traffic untouched.
 *
 * Never applies twice, whatever retries: the runner's `status` comes first and a migration it
 * has applied is not applied again (a retry after `apply` whose answer was lost goes straight to
 * blue's tests), and the runner itself does nothing on a second `apply`. Every call and answer
 * is a timeline entry with its evidence; the release's `migrationState` says where it stands,
 * for Rollback's reason and a later contract's Register.
 *
 * No idempotency record on purpose, as teardown: the runner's bookkeeping is the record, and a
 * retry must ask it again rather than replay an answer (it also keeps Powertools' idempotency,
 * ~40 KB, out of a bundle that holds PostgreSQL's parser).
 */
export const migrateStep: Step<MigrateInput, MigrateOutcome, MigrateDependencies> = {
  name: 'migrate',
  input: MigrateInputSchema,
  run: async ({ release, colours, only }, deps) => {
    const migration = release.migration;
    if (migration?.kind === MigrationKind.Irreversible) {
      return only === 'plan'
        ? planIrreversible(release, migration, deps)
        : applyIrreversible(release, migration, deps);
    }
    if (migration?.kind !== MigrationKind.Expand || only !== undefined) {
      throw new InvalidStepInput(
        `Release ${release.releaseId} carries no ${only === undefined ? 'expand or irreversible' : 'irreversible'} migration; the workflow runs ${only === undefined ? 'Migrate' : 'PlanMigration'} for ${only === undefined ? 'those' : 'that'} only`,
      );
    }
    const { service, record, call } = await prepare(release, migration, deps);

    const status = await call.ask(MigrationAction.Status, 'migrate-status');
    let ran = false;
    if (status.status === MigrationStatus.Applied) {
      await call.note(
        'migrate-apply',
        'skipped',
        `Migration ${migration.id} is already applied (the runner's status): not applied again`,
      );
    } else {
      const plan = await call.ask(MigrationAction.Plan, 'migrate-plan');
      const classification = await classifyMigration(sqlOf(plan.statements ?? []), migration.kind);
      const verdict = `${classification.verdict === 'accepted' ? 'Accepted' : 'Refused'} expand ${migration.id} (${plan.statements?.length ?? 0} statements): ${classification.reasons.join('; ') || 'nothing that breaks blue or blocks its writes'}`;
      await call.note(
        'migrate-classify',
        classification.verdict === 'accepted' ? 'succeeded' : 'failed',
        verdict,
        { classification: classificationEvidence(classification) },
      );
      if (classification.verdict === 'refused') {
        const reason = `Expand ${migration.id} refused before anything ran: ${classification.reasons.join('; ')}`;
        await setState(deps, record, migration, 'refused', reason);
        throw new MigrationRefused(reason, { reasons: classification.reasons });
      }
      let applied: MigrationRunnerReply;
      try {
        applied = await call.ask(MigrationAction.Apply, 'migrate-apply');
      } catch (error) {
        // It may have run before it failed or stopped answering: the runner's status says.
        await setState(deps, record, migration, 'unknown', `apply failed: ${messageOf(error)}`);
        throw error;
      }
      if (applied.status !== MigrationStatus.Applied) {
        const reason = `Migration runner answered apply of ${migration.id} with status "${applied.status}", not "applied"`;
        await setState(deps, record, migration, 'unknown', reason);
        throw new MigrationRunnerFailed(reason, { reply: applied });
      }
      ran = applied.ran !== false;
    }
    await setState(deps, record, migration, 'applied', `Expand ${migration.id} applied`);

    const tests = await deps.targetFor(service).testColour(release, service, colours, 'blue');
    const failed = tests.filter((test) => !test.passed);
    const summary = testSummary(colours.blue, tests, failed);
    await deps.ledger.recordStep(
      release.releaseId,
      stepRecord(deps, {
        key: 'migrate-blue-test',
        step: 'migrate',
        outcome: failed.length === 0 ? 'succeeded' : 'failed',
        phase: ReleasePhase.Testing,
        reason: `After expand ${migration.id}: ${summary}`,
        evidence: { tests },
      }),
    );
    if (failed.length === 0) return { migrationId: migration.id, ran, blueTests: tests.length };

    let revertFailure: string | undefined;
    try {
      await call.ask(MigrationAction.Revert, 'migrate-revert');
    } catch (error) {
      revertFailure = messageOf(error);
    }
    const reason =
      revertFailure === undefined
        ? `Expand ${migration.id} broke blue: ${summary}; reverted`
        : `Expand ${migration.id} broke blue: ${summary}; and its revert failed (${revertFailure}): the schema still has it`;
    await setState(
      deps,
      record,
      migration,
      revertFailure === undefined ? 'reverted' : 'applied',
      reason,
    );
    throw new MigrationBrokeBlue(reason, {
      failed: failed.map((test) => test.name),
      reverted: revertFailure === undefined,
    });
  },
};

/**
 * The runner's calls for a release's migration, with its service (which must still register a
 * runner) and its phase checked: Migrate runs in Testing, before green's tests.
 */
async function prepare(
  release: ReleaseSpec,
  migration: ReleaseMigration,
  deps: MigrateDependencies,
) {
  const service = await serviceOf(deps, release.service);
  const runnerConfig = service.migrations;
  if (runnerConfig === undefined) {
    throw new MigrationRunnerFailed(
      `Service ${service.name} no longer registers a migration runner; register it again (migrations.runner) and release again`,
    );
  }
  const record = await loadRelease(deps, release.releaseId);
  // Before green's tests, in Testing: a late retry of a release rolling back (or aborted by an
  // operator) must not touch the schema.
  assertCanAdvance(record, { type: ReleaseEventType.GreenTestsPassed, approvalRequired: false });
  const call = runnerCall(deps, runnerConfig, release, migration, {
    step: 'migrate',
    phase: ReleasePhase.Testing,
  });
  return { service, record, call };
}

/**
 * An irreversible migration's plan, before its approval: the statements and their
 * classification go to the timeline (where the approval's message reads them). Nothing is
 * refused: breaking the old code is what an irreversible migration may do, and the approvers
 * decide, with the classifier's findings in front of them.
 */
async function planIrreversible(
  release: ReleaseSpec,
  migration: ReleaseMigration,
  deps: MigrateDependencies,
): Promise<MigrateOutcome> {
  const { call } = await prepare(release, migration, deps);
  const plan = await call.ask(MigrationAction.Plan, 'migrate-plan');
  const statements = plan.statements ?? [];
  const classification = await classifyMigration(sqlOf(statements), migration.kind);
  // What would refuse it as an expand, said to the approvers as findings.
  const findings = [
    ...classification.reasons,
    ...classification.statements.flatMap((statement) =>
      statement.effects.map((effect) => `statement ${statement.index + 1}: ${effect.reason}`),
    ),
  ];
  const evidence = classificationEvidence(classification);
  await call.note(
    'migrate-classify',
    'succeeded',
    `Irreversible ${migration.id} (${statements.length} statements), for its approvers: ${findings.join('; ') || 'nothing the classifier flags'}`,
    { classification: { ...evidence, reasons: findings.slice(0, refusedKept) } },
  );
  return { migrationId: migration.id, ran: false, blueTests: 0, statements: statements.length };
}

/**
 * Applies an irreversible migration once its approvers said go: `status` (applied already: not
 * again), then `apply`. Blue is not re-tested: its code is not expected to fit the new schema.
 * From here the release is forward-only (`forwardOnly` on its record): Rollback holds the
 * traffic instead of moving it back. An `apply` that failed or went unanswered may have run,
 * so it makes the release forward-only too; an operator who knows it did not can still abort
 * knowingly.
 */
async function applyIrreversible(
  release: ReleaseSpec,
  migration: ReleaseMigration,
  deps: MigrateDependencies,
): Promise<MigrateOutcome> {
  const { record, call } = await prepare(release, migration, deps);
  // The workflow asks the approvers first; an unapproved irreversible migration never runs,
  // whatever path led here.
  const approvalKey = `approval#${ApprovalStage.BeforeMigration}`;
  // The timeline, read once: the approval and the plan its approvers saw are both in it.
  const timeline = await deps.ledger.listSteps(release.releaseId);
  const approved = timeline.some(
    (step) => step.key === approvalKey && step.outcome === 'succeeded',
  );
  if (!approved) {
    throw new MigrationRefused(
      `Irreversible ${migration.id} has no recorded ${ApprovalStage.BeforeMigration} approval; nothing ran`,
      { reasons: ['not approved'] },
    );
  }
  const forwardOnly = async () => {
    await deps.ledger.updateRelease(
      record.releaseId,
      { forwardOnly: { migrationId: migration.id, since: deps.now().toISOString() } },
      [ReleasePhase.Testing, ReleasePhase.RollingBack],
    );
  };
  const status = await call.ask(MigrationAction.Status, 'migrate-status');
  let ran = false;
  if (status.status === MigrationStatus.Applied) {
    await call.note(
      'migrate-apply',
      'skipped',
      `Migration ${migration.id} is already applied (the runner's status): not applied again`,
    );
  } else {
    await assertPlanAsApproved(migration, timeline, call);
    let applied: MigrationRunnerReply;
    try {
      applied = await call.ask(MigrationAction.Apply, 'migrate-apply');
    } catch (error) {
      const reason = `apply failed: ${messageOf(error)}; it may have run, so the release is forward-only`;
      await setState(deps, record, migration, 'unknown', reason);
      await forwardOnly();
      throw error;
    }
    if (applied.status !== MigrationStatus.Applied) {
      const reason = `Migration runner answered apply of ${migration.id} with status "${applied.status}", not "applied"`;
      await setState(deps, record, migration, 'unknown', reason);
      await forwardOnly();
      throw new MigrationRunnerFailed(reason, { reply: applied });
    }
    ran = applied.ran !== false;
  }
  await setState(
    deps,
    record,
    migration,
    'applied',
    `Irreversible ${migration.id} applied: the release is forward-only`,
  );
  await forwardOnly();
  await deps.ledger.recordStep(
    release.releaseId,
    stepRecord(deps, {
      key: 'migrate-forward-only',
      step: 'migrate',
      outcome: 'succeeded',
      phase: ReleasePhase.Testing,
      reason: `Irreversible ${migration.id} applied; blue is not re-tested (its code is not expected to fit). From now on a failure holds the traffic instead of rolling back`,
    }),
  );
  return { migrationId: migration.id, ran, blueTests: 0, forwardOnly: true };
}

/**
 * The approvers said go to the plan PlanMigration showed them; the runner's plan now must be
 * that plan, statement for statement (its digest), or nothing runs: a migration edited, or a
 * runner redeployed, between the approval and Migrate would otherwise apply statements nobody
 * approved. Refused before the release is forward-only, so it rolls back as usual.
 */
async function assertPlanAsApproved(
  migration: ReleaseMigration,
  timeline: readonly StepRecord[],
  call: ReturnType<typeof runnerCall>,
): Promise<void> {
  const shown = timeline.find((step) => step.key === 'migrate-plan' && step.outcome === 'succeeded')
    ?.evidence?.migration?.reply?.planSha256;
  const now = await call.ask(MigrationAction.Plan, 'migrate-plan-check');
  const digest = planDigest(now.statements ?? []);
  if (shown === digest) return;
  const reason = shown
    ? `The plan of irreversible ${migration.id} changed since its approvers saw it (${now.statements?.length ?? 0} statements now, a different digest): nothing ran. Release again to have this plan approved`
    : `No approved plan of irreversible ${migration.id} is on record to compare with: nothing ran`;
  await call.note('migrate-plan-check', 'failed', reason);
  throw new MigrationRefused(reason, { reasons: ['plan changed since its approval'] });
}

/**
 * Where the release's migration stands, kept on the release so Rollback and a later
 * contract's Register can read it. Written in the phases Migrate runs in and the one an
 * operator's abort moves it to, so the truth about the schema is kept either way.
 */
async function setState(
  deps: MigrateDependencies,
  record: ReleaseRecord,
  migration: ReleaseMigration,
  status: MigrationState['status'],
  reason: string,
): Promise<void> {
  const migrationState: MigrationState = {
    id: migration.id,
    kind: migration.kind,
    status,
    at: deps.now().toISOString(),
    reason,
  };
  await deps.ledger.updateRelease(record.releaseId, { migrationState }, [
    ReleasePhase.Testing,
    ReleasePhase.RollingBack,
  ]);
}

/** The plan as one script: the runner's statements may or may not end with a semicolon. */
export function sqlOf(statements: readonly string[]): string {
  return statements
    .map((statement) => statement.trim())
    .filter((statement) => statement !== '')
    .map((statement) => (statement.endsWith(';') ? statement : `${statement};`))
    .join('\n');
}

function classificationEvidence(
  classification: MigrationClassification,
): NonNullable<MigrationEvidence['classification']> {
  return {
    verdict: classification.verdict,
    reasons: classification.reasons.slice(0, refusedKept),
    statements: classification.statements.length,
    refused: classification.statements
      .filter((statement) => statement.verdict === 'refused')
      .slice(0, refusedKept)
      .map((statement) => ({
        index: statement.index,
        text: statement.text,
        effects: statement.effects.map((effect) => effect.effect),
      })),
  };
}

function testSummary(blue: string, tests: TestEvidence[], failed: TestEvidence[]): string {
  if (failed.length === 0) {
    return `blue (${blue}) passed its ${tests.length} test${tests.length === 1 ? '' : 's'} again`;
  }
  return `blue (${blue}) failed ${failed.length} of ${tests.length} tests: ${failed.map((t) => `${t.name}: ${t.detail}`).join('; ')}`;
}
