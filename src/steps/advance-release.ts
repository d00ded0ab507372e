import { ReleaseNotFound } from '../core/errors.ts';
import type { LifecycleEvent, ReleaseRecord, StepRecord } from '../core/records.ts';
import { type ReleaseEvent, transition } from '../core/transitions.ts';
import type { StepDependencies } from '../runtime/dependencies.ts';

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
  deps: StepDependencies,
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
  const result = transition(
    { phase: record.phase, stepIndex: record.stepIndex, greenPercent: record.greenPercent },
    event,
  );
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
    await deps.lock.release(record.service, record.releaseId);
  }
  const { releaseId: _id, ...patch } = next;
  return deps.ledger.updateRelease(record.releaseId, patch, [record.phase]);
}

/**
 * Throws InvalidTransition unless `event` may happen to the release now. Steps that act on the
 * target call it before acting: a step that runs out of order (a late retry, or the local
 * engine starting the next Map iteration after a gate failed, which AWS never does) must not
 * move traffic for a release that is already rolling back.
 */
export function assertCanAdvance(record: ReleaseRecord, event: ReleaseEvent): void {
  transition(
    { phase: record.phase, stepIndex: record.stepIndex, greenPercent: record.greenPercent },
    event,
  );
}

/** Reads the release a step works on; a missing one means the workflow state is corrupt. */
export async function loadRelease(
  deps: StepDependencies,
  releaseId: string,
): Promise<ReleaseRecord> {
  const record = await deps.ledger.getRelease(releaseId);
  if (!record) {
    throw new ReleaseNotFound(`Release ${releaseId} is not in the ledger`);
  }
  return record;
}

/** Timeline entry helper: every step record carries the time from the injected clock. */
export function stepRecord(deps: StepDependencies, entry: Omit<StepRecord, 'at'>): StepRecord {
  return { ...entry, at: deps.now().toISOString() };
}
