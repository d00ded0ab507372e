import { ErrorName } from '../core/errors.ts';
import { MigrationKind } from '../core/migration.ts';
import { ReleasePhase } from '../core/phases.ts';
import { holdRoundOf, type ReleaseRecord, type ReleaseSpec } from '../core/records.ts';
import { alarmNamesOf } from '../core/service-config.ts';
import { ReleaseEventType } from '../core/transitions.ts';
import * as z from '../core/zod.ts';
import type { StepDependencies, TrafficRouting } from '../runtime/dependencies.ts';
import type { IdempotentStep } from '../runtime/step-handler.ts';
import {
  type AdvanceDependencies,
  advanceRelease,
  loadRelease,
  stepRecord,
} from './advance-release.ts';
import type { ReleaseOutcome } from './finalize.ts';
import { FailureSchema, ReleaseSpecSchema } from './inputs.ts';
import { serviceOf } from './service.ts';

// Not strict: Rollback gets the workflow's whole state, because what it needs besides the
// release and the failure (`holdWait`, set only once a release was held) is not there on every
// path, and a Parameters path to a missing field fails the state.
const RollbackInput = z.lazy(() =>
  z.object({
    release: ReleaseSpecSchema,
    failure: FailureSchema,
    holdWait: z.optional(z.object({ holdRound: z.optional(z.int().check(z.minimum(1))) })),
  }),
) as unknown as z.ZodMiniType<RollbackInput>;
type Failure = z.infer<typeof FailureSchema>;
interface RollbackInput {
  release: ReleaseSpec;
  failure: Failure;
  /** VerifyHold's last answer, once the release was held: `holdRound` when it said go. */
  holdWait?: { holdRound?: number };
}

/**
 * Puts all traffic back on blue, whatever failed and wherever. The colours come from the
 * ledger, not the workflow state: a failure during provisioning has none in the state, and
 * then there is nothing to move back.
 */
export const rollbackStep: IdempotentStep<
  RollbackInput,
  ReleaseOutcome & { held?: true },
  AdvanceDependencies & Pick<StepDependencies, 'registry' | 'bakes'> & TrafficRouting
> = {
  name: 'rollback',
  input: RollbackInput,
  // A held forward-only release comes here more than once: held first, then rolled back by an
  // operator's knowing abort (OperatorAborted), which must not replay the hold's answer; and
  // each time the Finalize of a promoted round fails, to hold it again as round n + 1, which
  // neither replays an earlier round's answer nor opens another round when redelivered.
  idempotencyKey: ({ release, failure, holdWait }) => ({
    releaseId: release.releaseId,
    step: 'rollback',
    index:
      failure.Error === ErrorName.OperatorAborted
        ? 1
        : holdWait?.holdRound !== undefined
          ? holdWait.holdRound + 1
          : 0,
  }),
  run: async ({ release, failure, holdWait }, deps) => {
    const service = await serviceOf(deps, release.service);
    const cause = failureMessage(failure);
    let record = await loadRelease(deps, release.releaseId);
    // Forward-only: blue's code may not fit the data any more. Only an operator's knowing
    // abort (the operator command insists on it) takes such a release back to blue.
    if (record.forwardOnly && !record.control?.aborted) {
      return hold(deps, service, record, {
        error: failure.Error,
        cause,
        promotedRound: holdWait?.holdRound,
      });
    }
    const reason = `${failure.Error}: ${cause}${schemaNote(record)}`;
    // RolledBack: a run that committed and lost its answer (or its idempotency record). The
    // rest is safe to redo, and the final transition finds it applied.
    if (record.phase !== ReleasePhase.RollingBack && record.phase !== ReleasePhase.RolledBack) {
      record = await advanceRelease(deps, record, {
        type: ReleaseEventType.RollbackRequested,
        reason,
      });
    }
    if (record.colours) await deps.targetFor(service).rollback(service, record.colours);
    await deps.bakes.unwatch(release.releaseId, alarmNamesOf(service));
    await deps.ledger.recordStep(
      release.releaseId,
      stepRecord(deps, {
        key: 'rollback',
        step: 'rollback',
        outcome: 'succeeded',
        phase: ReleasePhase.RolledBack,
        greenPercent: 0,
        reason: !record.colours
          ? `Nothing had moved; released the lock after: ${reason}`
          : record.stepIndex < 0
            ? `Green never took traffic; blue (${record.colours.blue}) kept all of it after: ${reason}`
            : `All traffic back on blue (${record.colours.blue}) after: ${reason}`,
        evidence: { error: { name: failure.Error, message: cause } },
      }),
    );
    const final = await advanceRelease(
      deps,
      record,
      { type: ReleaseEventType.RolledBack },
      { because: reason, detail: { cause: { error: failure.Error, message: cause } } },
    );
    return { phase: final.phase, reason: final.reason };
  },
};

/**
 * Holds a forward-only release where it is instead of rolling it back: traffic stays (and the
 * alarm watch ends, so nothing cuts a wait short), the ledger says Held and why, and Release
 * Held goes out once per round of the hold (eventKey `held`, then `held#<round>`). The
 * workflow then waits for an operator.
 *
 * A promoted round whose Finalize failed past its retries (`promotedRound`, from VerifyHold's
 * answer) is held again as the next round: the promote is spent, and the next round waits for
 * a decision of its own. Only when the ledger is still in that round: a redelivered Rollback
 * finds the next round open (promote taken back) and changes nothing, and one from before a
 * promote finds no `promotedRound` and leaves the promote standing.
 */
async function hold(
  deps: AdvanceDependencies & Pick<StepDependencies, 'bakes'>,
  service: Awaited<ReturnType<typeof serviceOf>>,
  record: ReleaseRecord,
  failure: { error: string; cause: string; promotedRound: number | undefined },
): Promise<ReleaseOutcome & { held: true }> {
  const { error, cause } = failure;
  const forwardOnly = record.forwardOnly as NonNullable<ReleaseRecord['forwardOnly']>;
  const why = `${error}: ${cause}`;
  const promoted = record.phase === ReleasePhase.Held && record.control?.promoted === true;
  if (promoted && failure.promotedRound !== holdRoundOf(record)) {
    // Not the failure of this round's promote: the promote stands, and the wait finds it.
    return { phase: record.phase, reason: record.reason, held: true };
  }
  const round = promoted ? holdRoundOf(record) + 1 : holdRoundOf(record);
  const held = await advanceRelease(
    deps,
    record,
    { type: ReleaseEventType.Held, reason: why },
    {
      eventKey: round > 1 ? `held#${round}` : 'held',
      ...(promoted ? { patch: { forwardOnly: { ...forwardOnly, holdRound: round } } } : {}),
      detail: {
        forwardOnly: { ...forwardOnly, ...(round > 1 ? { holdRound: round } : {}) },
        cause: { error, message: cause },
      },
    },
  );
  const commands = `"greenlight promote ${record.releaseId}" puts all traffic on green and finalizes; "greenlight abort ${record.releaseId} --knowingly" rolls back to code the data may no longer fit`;
  await deps.bakes.unwatch(record.releaseId, alarmNamesOf(service));
  await deps.ledger.recordStep(
    record.releaseId,
    stepRecord(deps, {
      key: round > 1 ? `hold#${round}` : 'hold',
      step: 'hold',
      outcome: 'held',
      phase: ReleasePhase.Held,
      greenPercent: held.greenPercent,
      reason:
        round > 1
          ? `Held again (round ${round} of the hold), forward-only since irreversible ${forwardOnly.migrationId} ran (${forwardOnly.since}): round ${round - 1}'s promote went to Finalize, which failed past its retries with ${why}. Traffic stays with ${held.greenPercent}% on green; that promote no longer counts. Waiting for an operator again: ${commands}`
          : `Forward-only since irreversible ${forwardOnly.migrationId} ran (${forwardOnly.since}): traffic stays with ${held.greenPercent}% on green instead of rolling back after ${why}. Waiting for an operator: ${commands}`,
      evidence: { error: { name: error, message: cause } },
    }),
  );
  return { phase: held.phase, reason: held.reason, held: true };
}

/**
 * What a rollback leaves of the release's expand migration, said in its reason: rolling back
 * moves traffic, never the schema. An applied expand stays applied, harmless to blue by
 * construction (its plan was classified before it ran, and blue was re-tested on it).
 */
export function schemaNote(record: ReleaseRecord): string {
  const state = record.migrationState;
  if (state?.kind === MigrationKind.Irreversible && record.forwardOnly) {
    return `; irreversible ${state.id} stays applied: rolled back knowingly, blue runs on a schema its code may not fit`;
  }
  if (state === undefined || state.kind !== MigrationKind.Expand) return '';
  switch (state.status) {
    case 'applied':
      return `; expand ${state.id} stays applied: harmless to blue by construction (classified before it ran, blue re-tested on it)`;
    case 'unknown':
      return `; expand ${state.id} may have been applied (${state.reason}): the runner's status says, and it passed classification, so it is harmless to blue`;
    case 'reverted':
      return `; expand ${state.id} was reverted`;
    case 'refused':
      return `; expand ${state.id} was refused, nothing ran`;
  }
}

/**
 * The best reason a failure gives. Step Functions puts the failed task's error name in `Error`
 * and, for a Lambda error, a JSON `{errorType, errorMessage, trace}` document in `Cause`; other
 * engines hand the bare message, an object, null or nothing.
 */
export function failureMessage(failure: Failure): string {
  const cause = failure.Cause;
  if (cause === undefined || cause === null || cause === '') return '(no cause given)';
  if (typeof cause === 'string') {
    try {
      return errorMessageOf(JSON.parse(cause)) ?? cause;
    } catch {
      // Not JSON: a States.* error or a plain message.
      return cause;
    }
  }
  return errorMessageOf(cause) ?? JSON.stringify(cause);
}

function errorMessageOf(document: unknown): string | undefined {
  if (typeof document !== 'object' || document === null) return undefined;
  const message = (document as { errorMessage?: unknown }).errorMessage;
  return typeof message === 'string' ? message : undefined;
}
