import { echoEvent } from '../core/bound-rejection.ts';
import { decideContractReadiness } from '../core/contract-readiness.ts';
import { InvalidReleaseEvent } from '../core/errors.ts';
import { MigrationKind } from '../core/migration.ts';
import { LifecycleEventType, ReleasePhase } from '../core/phases.ts';
import type { ReleaseRecord, ReleaseSpec } from '../core/records.ts';
import { ServiceName, Version } from '../core/release-event.ts';
import { requestedServiceName, resolveRelease } from '../core/resolve-release.ts';
import * as z from '../core/zod.ts';
import type { StepDependencies } from '../runtime/dependencies.ts';
import type { IdempotentStep } from '../runtime/step-handler.ts';
import { stepRecord } from './advance-release.ts';

export type RegisteredRelease = ReleaseSpec & { duplicate: boolean };

const RegisterInput = z.lazy(() =>
  z.object({
    event: z.unknown(),
    executionId: z.string().check(z.minLength(1)),
  }),
);
type RegisterInput = z.infer<typeof RegisterInput>;

/**
 * Validates the Release Requested event against the schema and the registry, and records the
 * release. A second execution for the same release (EventBridge delivered the event twice, or
 * CI sent it again) finds the release owned by another execution and is told to stop.
 */
export const registerStep: IdempotentStep<
  RegisterInput,
  RegisteredRelease,
  Pick<StepDependencies, 'registry' | 'ledger' | 'events' | 'now'>
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
      // Read past the cache: the release after a registration changed sees the change.
      const name = requestedServiceName(input.event);
      const service =
        name === undefined ? undefined : await deps.registry.find(name, { fresh: true });
      spec = resolveRelease(input.event, service === undefined ? [] : [service], now);
      await checkContract(deps, spec);
    } catch (error) {
      if (error instanceof InvalidReleaseEvent) await recordRejection(deps, input, error);
      throw error;
    }
    const requested: ReleaseRecord = {
      ...spec,
      phase: ReleasePhase.Requested,
      reason: `${spec.rollbackOf ? `Rollback of ${spec.rollbackOf} r` : 'R'}equested${spec.actor ? ` by ${spec.actor}` : ''}${spec.ci ? ` from ${spec.ci.provider}` : ''}: ${spec.strategy} strategy, ${spec.plan.length} step${spec.plan.length > 1 ? 's' : ''}`,
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

// A contract's expand is one of the service's recent releases; a contract sent long after its
// expand finds it among these, and one sent much later has nothing older left to wait for.
const releasesLookedAtForExpand = 50;

/**
 * A contract is refused, as an invalid event is (nothing recorded but the rejection), until
 * its expand ran and no colour runs code older than that expand (decideContractReadiness).
 */
async function checkContract(
  deps: Pick<StepDependencies, 'ledger'>,
  spec: ReleaseSpec,
): Promise<void> {
  const migration = spec.migration;
  if (migration?.kind !== MigrationKind.Contract) return;
  const releases = await deps.ledger.listReleases(spec.service, releasesLookedAtForExpand);
  const readiness = decideContractReadiness(
    migration,
    releases.filter((release) => release.releaseId !== spec.releaseId),
  );
  if (!readiness.ready) {
    throw new InvalidReleaseEvent([
      {
        path: 'detail.migration.completes',
        message: `contract "${migration.id}" is refused: ${readiness.reason}`,
      },
    ]);
  }
}

/**
 * Records the rejection under the event's id and announces it (Release Rejected), so that the
 * CI that sent it can say why. Everything written is bounded, whatever the event: the error's
 * reason and issues (InvalidReleaseEvent bounds them), the echoed event (echoEvent), and the
 * ids and names taken from it, which are used only when they have the shape they should.
 */
async function recordRejection(
  deps: Pick<StepDependencies, 'ledger' | 'events' | 'now'>,
  input: RegisterInput,
  error: InvalidReleaseEvent,
): Promise<void> {
  const event = (typeof input.event === 'object' && input.event !== null ? input.event : {}) as {
    id?: unknown;
    detail?: { service?: unknown; version?: unknown };
  };
  const eventId = EventId.safeParse(event.id).data ?? executionName(input.executionId);
  const service = ServiceName.safeParse(event.detail?.service).data;
  const version = Version.safeParse(event.detail?.version).data;
  const omitted = error.issuesOmitted > 0 ? { issuesOmitted: error.issuesOmitted } : {};
  await deps.ledger.recordRejection(
    eventId,
    stepRecord(deps, {
      key: 'rejected',
      step: 'register',
      outcome: 'failed',
      phase: ReleasePhase.Rejected,
      reason: error.message,
      evidence: { issues: [...error.issues], ...omitted },
    }),
    echoEvent(input.event),
  );
  await deps.events.publish([
    {
      detailType: LifecycleEventType.ReleaseRejected,
      detail: {
        eventKey: `rejected#${eventId}`,
        eventId,
        ...(service ? { service } : {}),
        ...(version ? { version } : {}),
        phase: ReleasePhase.Rejected,
        reason: error.message,
        issues: error.issues,
        ...omitted,
      },
    },
  ]);
}

/**
 * An event id fit to key the rejection: EventBridge's are UUIDs. Anything else (an execution
 * started by hand with any input) is filed under the execution's name instead; the ledger's
 * partition key holds at most 2,048 bytes (DynamoDB Developer Guide, "Constraints in Amazon
 * DynamoDB": partition key length).
 */
const EventId = z.lazy(() => z.string().check(z.regex(/^[\x21-\x7e]{1,128}$/)));

/** `arn:aws:states:…:execution:machine:NAME` → `NAME`. */
function executionName(executionId: string): string {
  return executionId.slice(executionId.lastIndexOf(':') + 1);
}
