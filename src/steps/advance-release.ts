import { InvalidTransition, OperatorAborted, ReleaseNotFound } from '../core/errors.ts';
import { ReleasePhase } from '../core/phases.ts';
import type { LifecycleEvent, ReleaseRecord, StepRecord } from '../core/records.ts';
import {
  OperatorEventTypes,
  type ReleaseEvent,
  ReleaseEventType,
  type ReleaseState,
  transition,
} from '../core/transitions.ts';
import type { StepDependencies } from '../runtime/dependencies.ts';

/** The part of the ledger, bus and lock that moving a release on needs. */
export type AdvanceDependencies = Pick<StepDependencies, 'ledger' | 'events' | 'lock' | 'now'>;

/**
 * Moves a release on by one event: asks the core for the transition, carries out its effects
 * (lifecycle events, freeing the lock), then stores the new state with a conditional write on
 * the phase it started from.
 *
 * Ordering: the ledger write comes last because it is the commit point. If the step dies
 * before it, the retried step finds the old phase and redoes the effects (freeing a lock is
 * idempotent; a lifecycle event may then arrive twice, so each carries a deterministic
 * `eventKey` for consumers to drop repeats). If it dies after it, the retry gets `unchanged`
 * and does nothing.
 */
export async function advanceRelease(
  deps: AdvanceDependencies,
  record: ReleaseRecord,
  event: ReleaseEvent,
  options: {
    patch?: Partial<ReleaseRecord>;
    detail?: Record<string, unknown>;
    eventKey?: string;
    /** What led here, appended to the core's reason ("... after AlarmGateFailed: ..."). */
    because?: string;
  } = {},
): Promise<ReleaseRecord> {
  const result = transitionOrAbort(record, event);
  if (result.kind === 'unchanged') return record;

  const now = deps.now().toISOString();
  const reason = options.because ? `${result.reason} after ${options.because}` : result.reason;
  const next = { ...record, ...options.patch, ...result.next, reason, updatedAt: now };
  const published: LifecycleEvent[] = [];
  for (const effect of result.effects) {
    if (effect.type === 'publish') {
      published.push({
        detailType: effect.detailType,
        detail: {
          eventKey: `${record.releaseId}#${options.eventKey ?? event.type}`,
          releaseId: record.releaseId,
          service: record.service,
          version: record.version,
          phase: next.phase,
          reason,
          greenPercent: next.greenPercent,
          ...(next.colours ? { colours: next.colours } : {}),
          ...(record.actor ? { actor: record.actor } : {}),
          ...(record.commit ? { commit: record.commit } : {}),
          ...options.detail,
        },
      });
    }
  }
  if (published.length > 0) await deps.events.publish(published);
  if (result.effects.some((effect) => effect.type === 'releaseLock')) {
    // A finalized release is the live one: later requests are ordered against it.
    const live =
      next.phase === ReleasePhase.Finalized
        ? { releaseId: record.releaseId, version: record.version, requestedAt: record.requestedAt }
        : undefined;
    await deps.lock.release(record.service, record.releaseId, live === undefined ? {} : { live });
  }
  // `control` is the operators': a step writing back the record it read would undo a pause
  // or promote that landed since. Only an operator's own event writes it, and a new round of a
  // forward-only hold (Held while Held), which takes back the promote its Finalize could not
  // carry out. That write is conditional on phase Held, where a second promote is refused
  // and an abort moves the phase: no operator's command is lost under it.
  const { releaseId: _id, control, ...patch } = next;
  const ownsControl =
    OperatorEventTypes.has(event.type) ||
    (event.type === ReleaseEventType.Held && record.phase === ReleasePhase.Held);
  const written = ownsControl && control !== undefined ? { ...patch, control } : patch;
  try {
    return await deps.ledger.updateRelease(record.releaseId, written, [record.phase]);
  } catch (error) {
    // The phase moved under us; when an operator's abort moved it, say so.
    if (error instanceof InvalidTransition) {
      const current = await deps.ledger.getRelease(record.releaseId);
      if (current && isAborted(current)) throw abortedError(current);
    }
    throw error;
  }
}

/**
 * Throws InvalidTransition unless `event` may happen to the release now (OperatorAborted when an
 * operator aborted it). Steps that act on the target call it before acting: a step that runs out
 * of order (a late retry, or an engine that starts the next Map iteration after a gate failed,
 * as aws-local-stepfunctions does without the local host's Map guard) must not move traffic for
 * a release that is rolling back.
 */
export function assertCanAdvance(record: ReleaseRecord, event: ReleaseEvent): void {
  transitionOrAbort(record, event);
}

/** The state the core's transitions work on, read from the ledger's record. */
export function releaseStateOf(record: ReleaseRecord): ReleaseState {
  return {
    phase: record.phase,
    stepIndex: record.stepIndex,
    greenPercent: record.greenPercent,
    ...(record.control ? { control: record.control } : {}),
  };
}

/** Whether an operator aborted the release and it is on its way back to blue. */
export function isAborted(record: ReleaseRecord): boolean {
  return record.phase === ReleasePhase.RollingBack && record.control?.aborted === true;
}

/** The error a step meets when an operator aborted the release under it: Catch → Rollback. */
export function abortedError(record: ReleaseRecord): OperatorAborted {
  return new OperatorAborted(record.reason, { releaseId: record.releaseId });
}

function transitionOrAbort(record: ReleaseRecord, event: ReleaseEvent) {
  try {
    return transition(releaseStateOf(record), event);
  } catch (error) {
    if (error instanceof InvalidTransition && isAborted(record)) throw abortedError(record);
    throw error;
  }
}

/** Reads the release a step works on; a missing one means the workflow state is corrupt. */
export async function loadRelease(
  deps: Pick<StepDependencies, 'ledger'>,
  releaseId: string,
): Promise<ReleaseRecord> {
  const record = await deps.ledger.getRelease(releaseId);
  if (!record) {
    throw new ReleaseNotFound(`Release ${releaseId} is not in the ledger`);
  }
  return record;
}

/** Timeline entry helper: every step record carries the time from the injected clock. */
export function stepRecord(
  deps: Pick<StepDependencies, 'now'>,
  entry: Omit<StepRecord, 'at'>,
): StepRecord {
  return { ...entry, at: deps.now().toISOString() };
}
