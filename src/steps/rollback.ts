import { ErrorName } from '../core/errors.ts';
import { MigrationKind } from '../core/migration.ts';
import { ReleasePhase } from '../core/phases.ts';
import type { ReleaseRecord, ReleaseSpec } from '../core/records.ts';
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

const RollbackInput = z.lazy(() =>
  z.object({ release: ReleaseSpecSchema, failure: FailureSchema }),
);
type Failure = z.infer<typeof FailureSchema>;

/**
 * Puts all traffic back on blue, whatever failed and wherever. The colours come from the
 * ledger, not the workflow state: a failure during provisioning has none in the state, and
 * then there is nothing to move back.
 */
export const rollbackStep: IdempotentStep<
  { release: ReleaseSpec; failure: Failure },
  ReleaseOutcome & { held?: true },
  AdvanceDependencies & Pick<StepDependencies, 'registry' | 'bakes'> & TrafficRouting
> = {
  name: 'rollback',
  input: RollbackInput,
  // A held forward-only release comes here twice: held first, then rolled back by an
  // operator's knowing abort (OperatorAborted), which must not replay the hold's answer.
  idempotencyKey: ({ release, failure }) => ({
    releaseId: release.releaseId,
    step: 'rollback',
    index: failure.Error === ErrorName.OperatorAborted ? 1 : 0,
  }),
  run: async ({ release, failure }, deps) => {
    const service = await serviceOf(deps, release.service);
    const cause = failureMessage(failure);
    let record = await loadRelease(deps, release.releaseId);
    // Forward-only: blue's code may not fit the data any more. Only an operator's knowing
    // abort (the operator command insists on it) takes such a release back to blue.
    if (record.forwardOnly && !record.control?.aborted) {
      return hold(deps, service, record, failure.Error, cause);
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
 * Held goes out once (eventKey `held`). The workflow then waits for an operator.
 */
async function hold(
  deps: AdvanceDependencies & Pick<StepDependencies, 'bakes'>,
  service: Awaited<ReturnType<typeof serviceOf>>,
  record: ReleaseRecord,
  error: string,
  cause: string,
): Promise<ReleaseOutcome & { held: true }> {
  const forwardOnly = record.forwardOnly as NonNullable<ReleaseRecord['forwardOnly']>;
  const why = `${error}: ${cause}`;
  const held = await advanceRelease(
    deps,
    record,
    { type: ReleaseEventType.Held, reason: why },
    {
      eventKey: 'held',
      detail: { forwardOnly, cause: { error, message: cause } },
    },
  );
  await deps.bakes.unwatch(record.releaseId, alarmNamesOf(service));
  await deps.ledger.recordStep(
    record.releaseId,
    stepRecord(deps, {
      key: 'hold',
      step: 'hold',
      outcome: 'held',
      phase: ReleasePhase.Held,
      greenPercent: held.greenPercent,
      reason: `Forward-only since irreversible ${forwardOnly.migrationId} ran (${forwardOnly.since}): traffic stays with ${held.greenPercent}% on green instead of rolling back after ${why}. Waiting for an operator: "greenlight promote ${record.releaseId}" puts all traffic on green and finalizes; "greenlight abort ${record.releaseId} --knowingly" rolls back to code the data may no longer fit`,
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
