import { ErrorName, OlderThanLive, ReleaseSuperseded, ServiceBusy } from '../core/errors.ts';
import { ReleasePhase } from '../core/phases.ts';
import type { LiveRelease } from '../core/ports.ts';
import type { ReleaseRecord } from '../core/records.ts';
import { ReleaseEventType } from '../core/transitions.ts';
import * as z from '../core/zod.ts';
import type { Step } from '../runtime/step-handler.ts';
import {
  type AdvanceDependencies,
  advanceRelease,
  loadRelease,
  stepRecord,
} from './advance-release.ts';
import { ReleaseSpecSchema } from './inputs.ts';

export interface LockOutcome {
  acquired: boolean;
  holder: string;
}

const AcquireLockInput = z.lazy(() =>
  z.object({
    release: ReleaseSpecSchema,
    /** Present when the workflow parks on WaitForLock: the token that wakes it. */
    taskToken: z.optional(z.string().check(z.minLength(1))),
  }),
);

/**
 * Takes the service's lock when it is the release's turn, or queues it (AcquireLock); parks it
 * until the lock is handed to it (WaitForLock, with a task token). Refuses, with a named error
 * that ends the execution, a release older than the live one (OlderThanLive, unless the event
 * set `allowOlder`), one superseded by a newer request (ReleaseSuperseded), and one for a busy
 * service whose policy is "reject" (ServiceBusy); each refusal is in the ledger and on the bus.
 * No idempotency key: the answer changes while the other release runs, and the queue's
 * conditional writes already make a repeat harmless.
 */
export const acquireLockStep: Step<
  z.infer<typeof AcquireLockInput>,
  LockOutcome,
  AdvanceDependencies
> = {
  name: 'acquire-lock',
  input: AcquireLockInput,
  run: async ({ release, taskToken }, deps) => {
    if (taskToken !== undefined) {
      await deps.lock.park(release.service, release.releaseId, taskToken);
      return { acquired: false, holder: '' };
    }
    const record = await loadRelease(deps, release.releaseId);
    // A refusal committed before a lost response: hand the lock on again, refuse again.
    const refused = await refusalOf(deps, record);
    if (refused !== undefined) {
      await deps.lock.release(record.service, record.releaseId);
      throw refused;
    }
    if (record.phase !== ReleasePhase.Requested) {
      return { acquired: true, holder: record.releaseId };
    }
    const outcome = await deps.lock.acquire({
      service: record.service,
      releaseId: record.releaseId,
      executionId: record.executionId,
      requestedAt: record.requestedAt,
      at: deps.now().toISOString(),
      policy: record.lockPolicy ?? 'queue',
    });
    switch (outcome.kind) {
      case 'waiting':
        // One timeline entry per holder, however often the release is woken and asks again.
        await deps.ledger.recordStep(
          record.releaseId,
          stepRecord(deps, {
            key: `lock-wait#${outcome.holder}`,
            step: 'lock',
            outcome: 'started',
            phase: ReleasePhase.Requested,
            reason: `Waiting for ${record.service}'s lock, held by ${outcome.holder}`,
          }),
        );
        return { acquired: false, holder: outcome.holder };
      case 'superseded': {
        const error = supersededError(record, outcome.by);
        await refuse(deps, record, { type: ReleaseEventType.Superseded, by: outcome.by }, error);
        // Superseded as the lock reached it: the next in line must not wait for nothing.
        await deps.lock.release(record.service, record.releaseId);
        throw error;
      }
      case 'busy': {
        const reason = `${record.service} is busy with ${outcome.holder}, and its lock policy is "reject"`;
        const error = new ServiceBusy(reason, {
          releaseId: record.releaseId,
          holder: outcome.holder,
        });
        await refuse(deps, record, { type: ReleaseEventType.Rejected, reason }, error, 'busy');
        throw error;
      }
      case 'acquired':
        break;
    }
    const live = await deps.lock.live(record.service);
    if (live !== undefined && isOlder(record, live) && record.allowOlder !== true) {
      const reason = olderReason(record, live);
      const error = new OlderThanLive(reason, {
        releaseId: record.releaseId,
        live: live.releaseId,
      });
      await refuse(deps, record, { type: ReleaseEventType.Rejected, reason }, error, 'older');
      await deps.lock.release(record.service, record.releaseId);
      throw error;
    }
    await advanceRelease(deps, record, { type: ReleaseEventType.LockAcquired });
    await deps.ledger.recordStep(
      record.releaseId,
      stepRecord(deps, {
        key: 'lock',
        step: 'lock',
        outcome: 'succeeded',
        phase: ReleasePhase.Provisioning,
        reason: `Took ${record.service}'s lock`,
      }),
    );
    return { acquired: true, holder: record.releaseId };
  },
};

/** Strictly before: two builds requested in the same second go in arrival order. */
function isOlder(record: ReleaseRecord, live: LiveRelease): boolean {
  return (
    live.releaseId !== record.releaseId &&
    Date.parse(record.requestedAt) < Date.parse(live.requestedAt)
  );
}

function olderReason(record: ReleaseRecord, live: LiveRelease): string {
  return `${record.version} (requested ${record.requestedAt}) is older than ${live.version} (requested ${live.requestedAt}), which is live on ${record.service}; send "allowOlder": true to release it anyway`;
}

type Refusal =
  | { type: typeof ReleaseEventType.Superseded; by: string }
  | { type: typeof ReleaseEventType.Rejected; reason: string };

/**
 * Records the refusal as the release's end: its phase, the timeline and the lifecycle event;
 * the timeline's `lock` entry keeps the error as thrown, for a retry to throw it again.
 */
async function refuse(
  deps: AdvanceDependencies,
  record: ReleaseRecord,
  event: Refusal,
  error: ReleaseSuperseded | ServiceBusy | OlderThanLive,
  cause?: 'busy' | 'older',
): Promise<void> {
  const ended = await advanceRelease(deps, record, event, {
    ...(cause === undefined ? {} : { detail: { cause } }),
  });
  await deps.ledger.recordStep(
    record.releaseId,
    stepRecord(deps, {
      key: 'lock',
      step: 'lock',
      outcome: 'skipped',
      phase: ended.phase,
      reason: ended.reason,
      evidence: { error: { name: error.name, message: error.message } },
    }),
  );
}

function supersededError(record: ReleaseRecord, by: string): ReleaseSuperseded {
  return new ReleaseSuperseded(`${record.releaseId} was superseded by ${by}, a newer request`, {
    releaseId: record.releaseId,
    by,
  });
}

/**
 * The error a release refused at the lock ended with, as first thrown: read back from the
 * timeline's `lock` entry, so a retry after a lost response ends the same way, by name and
 * message, whatever the ledger's reason says.
 */
async function refusalOf(
  deps: AdvanceDependencies,
  record: ReleaseRecord,
): Promise<Error | undefined> {
  if (record.phase !== ReleasePhase.Superseded && record.phase !== ReleasePhase.Rejected) {
    return undefined;
  }
  const steps = await deps.ledger.listSteps(record.releaseId);
  const thrown = steps.find((step) => step.key === 'lock')?.evidence?.error;
  const message = thrown?.message ?? record.reason;
  const context = { releaseId: record.releaseId };
  switch (thrown?.name) {
    case ErrorName.ServiceBusy:
      return new ServiceBusy(message, context);
    case ErrorName.OlderThanLive:
      return new OlderThanLive(message, context);
    default:
      return record.phase === ReleasePhase.Superseded
        ? new ReleaseSuperseded(message, context)
        : new OlderThanLive(message, context);
  }
}
