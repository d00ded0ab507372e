import * as z from 'zod';
import { InvalidReleaseEvent } from '../core/errors.ts';
import { LifecycleEventType, ReleasePhase } from '../core/phases.ts';
import type { ReleaseRecord, ReleaseSpec } from '../core/records.ts';
import { resolveRelease } from '../core/resolve-release.ts';
import type { StepDependencies } from '../runtime/dependencies.ts';
import type { IdempotentStep } from '../runtime/step-handler.ts';
import { stepRecord } from './advance-release.ts';

export type RegisteredRelease = ReleaseSpec & { duplicate: boolean };

const RegisterInput = z.object({
  event: z.unknown(),
  executionId: z.string().min(1),
});
type RegisterInput = z.infer<typeof RegisterInput>;

/**
 * Validates the Release Requested event against the schema and the registry, and records the
 * release. A second execution for the same release (EventBridge delivered the event twice, or
 * CI sent it again) finds the release owned by another execution and is told to stop.
 */
export const registerStep: IdempotentStep<
  RegisterInput,
  RegisteredRelease,
  Pick<StepDependencies, 'config' | 'ledger' | 'events' | 'now'>
> = {
  name: 'register',
  input: RegisterInput,
  // Keyed on the execution: the same release asked for by two executions must get two
  // different answers (owner, duplicate), while a retry within one execution replays.
  idempotencyKey: (input) => ({ step: 'register', executionId: input.executionId }),
  run: async (input, deps) => {
    const now = deps.now().toISOString();
    let spec: ReleaseSpec;
    try {
      spec = resolveRelease(input.event, deps.config.registry, now);
    } catch (error) {
      if (error instanceof InvalidReleaseEvent) await recordRejection(deps, input, error);
      throw error;
    }
    const requested: ReleaseRecord = {
      ...spec,
      phase: ReleasePhase.Requested,
      reason: `Requested${spec.actor ? ` by ${spec.actor}` : ''}${spec.ci ? ` from ${spec.ci.provider}` : ''}: ${spec.strategy} strategy, ${spec.plan.length} step${spec.plan.length > 1 ? 's' : ''}`,
      executionId: input.executionId,
      greenPercent: 0,
      stepIndex: -1,
      updatedAt: now,
    };
    const { created, record } = await deps.ledger.createRelease(requested);
    if (!created && record.executionId !== input.executionId) {
      await deps.ledger.recordStep(
        spec.releaseId,
        stepRecord(deps, {
          key: `duplicate#${executionName(input.executionId)}`,
          step: 'duplicate',
          outcome: 'skipped',
          phase: record.phase,
          reason: `Duplicate request ignored: execution ${executionName(record.executionId)} already owns this release`,
        }),
      );
      return { ...spec, duplicate: true };
    }
    await deps.ledger.recordStep(
      spec.releaseId,
      stepRecord(deps, {
        key: 'register',
        step: 'register',
        outcome: 'succeeded',
        phase: ReleasePhase.Requested,
        reason: requested.reason,
      }),
    );
    return { ...spec, duplicate: false };
  },
};

async function recordRejection(
  deps: Pick<StepDependencies, 'ledger' | 'events' | 'now'>,
  input: RegisterInput,
  error: InvalidReleaseEvent,
): Promise<void> {
  const event = (typeof input.event === 'object' && input.event !== null ? input.event : {}) as {
    id?: unknown;
    detail?: { service?: unknown; version?: unknown };
  };
  const eventId = typeof event.id === 'string' ? event.id : executionName(input.executionId);
  const service = typeof event.detail?.service === 'string' ? event.detail.service : undefined;
  const version = typeof event.detail?.version === 'string' ? event.detail.version : undefined;
  await deps.ledger.recordRejection(
    eventId,
    stepRecord(deps, {
      key: 'rejected',
      step: 'register',
      outcome: 'failed',
      phase: ReleasePhase.Rejected,
      reason: error.message,
      evidence: { issues: [...error.issues] },
    }),
    input.event,
  );
  await deps.events.publish([
    {
      detailType: LifecycleEventType.ReleaseRejected,
      detail: {
        eventKey: `rejected#${eventId}`,
        eventId,
        ...(service ? { service: service.slice(0, 64) } : {}),
        ...(version ? { version: version.slice(0, 64) } : {}),
        phase: ReleasePhase.Rejected,
        reason: error.message,
        issues: error.issues,
      },
    },
  ]);
}

/** `arn:aws:states:…:execution:machine:NAME` → `NAME`. */
function executionName(executionId: string): string {
  return executionId.slice(executionId.lastIndexOf(':') + 1);
}
