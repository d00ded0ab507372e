import { IdentitySource } from '../core/caller-identity.ts';
import { ErrorName, isGreenlightError } from '../core/errors.ts';
import { MigrationKind } from '../core/migration.ts';
import {
  type CommandRecord,
  OperatorCommandDetailType,
  OperatorCommandName,
  OperatorCommandV1,
} from '../core/operator-command.ts';
import { ReleasePhase } from '../core/phases.ts';
import type { ApprovalStore, CommandLog, ReleaseRequests } from '../core/ports.ts';
import {
  ApprovalStage,
  ApprovalStatus,
  holdRoundOf,
  IdleColourState,
  type ReleaseRecord,
} from '../core/records.ts';
import { OperatorEventSource } from '../core/release-event.ts';
import { deriveReleaseId } from '../core/release-id.ts';
import { issuesFromZod } from '../core/resolve-release.ts';
import { alarmNamesOf, type ServiceConfig } from '../core/service-config.ts';
import { ReleaseEventType } from '../core/transitions.ts';
import * as z from '../core/zod.ts';
import type { StepDependencies, TrafficRouting } from '../runtime/dependencies.ts';
import type { Step } from '../runtime/step-handler.ts';
import {
  type AdvanceDependencies,
  advanceRelease,
  loadRelease,
  stepRecord,
} from './advance-release.ts';
import { endBakeForOperator } from './operator-bake.ts';
import { approvalIdOf } from './request-approval.ts';

/** What the operator function works through: the steps' ports, approvals, its command log. */
export interface OperatorDependencies extends StepDependencies {
  approvals: ApprovalStore;
  commands: CommandLog;
  requests: ReleaseRequests;
}

/**
 * What the commands touch: the release and its lock, the bake's and approvals' tokens, the
 * command log, the bus for a retry, and the target for a rollback after finalize (traffic only).
 */
type OperatorCommandDependencies = AdvanceDependencies &
  Pick<
    OperatorDependencies,
    'registry' | 'bakes' | 'callbacks' | 'approvals' | 'commands' | 'requests'
  > &
  TrafficRouting;

const OperatorCommandEvent = z.lazy(() =>
  z.object({
    id: z.string().check(z.minLength(1)),
    'detail-type': z.literal(OperatorCommandDetailType),
    detail: z.unknown(),
  }),
);
type OperatorCommandEvent = z.infer<typeof OperatorCommandEvent>;

/** `source` of the Release Requested events a retry or a late rollback puts on the bus. */
export { OperatorEventSource };

/**
 * A command the release's state does not allow, or that names nothing to act on. Recorded as
 * refused, with this message; never retried.
 */
class CommandRefused extends Error {
  readonly releaseId: string | undefined;

  constructor(message: string, releaseId?: string) {
    super(message);
    this.releaseId = releaseId;
  }
}

type Applied = Pick<CommandRecord, 'message' | 'releaseId' | 'newReleaseId'>;

/**
 * Carries out one operator command (an "Operator Command" event from `greenlight pause`,
 * `abort`, ...). Every command goes through the release's transitions, so one that does not
 * fit the release's state ("it is paused already") is refused and changes nothing; either way
 * the outcome is stored under the event's id for the CLI to read, and in the release's
 * timeline with who and why. A redelivered event finds its outcome and does nothing again.
 */
export const operatorCommandStep: Step<
  OperatorCommandEvent,
  CommandRecord,
  OperatorCommandDependencies
> = {
  name: 'operator',
  input: OperatorCommandEvent,
  run: async (event, deps) => {
    const earlier = await deps.commands.get(event.id);
    if (earlier) return earlier;
    const at = deps.now().toISOString();
    const parsed = OperatorCommandV1.safeParse(event.detail);
    if (!parsed.success) {
      const detail = (event.detail ?? {}) as Record<string, unknown>;
      return deps.commands.record({
        commandId: event.id,
        command: String(detail.command ?? 'unknown') as CommandRecord['command'],
        actor: String(detail.actor ?? 'unknown'),
        reason: String(detail.reason ?? ''),
        outcome: 'refused',
        message: `Not a valid command: ${issuesFromZod(parsed.error, 'detail')
          .map((issue) => `${issue.path}: ${issue.message}`)
          .join('; ')}`,
        at,
      });
    }
    const command = parsed.data;
    const base = {
      commandId: event.id,
      command: command.command,
      actor: command.actor,
      reason: command.reason,
      ...(command.principalArn === undefined ? {} : { principalArn: command.principalArn }),
      at,
    };
    let outcome: CommandRecord;
    try {
      const applied = await apply(command, deps);
      outcome = { ...base, ...definedOnly(applied), outcome: 'applied' };
    } catch (error) {
      if (!isRefusal(error)) throw error;
      const releaseId =
        error instanceof CommandRefused
          ? error.releaseId
          : 'releaseId' in command
            ? command.releaseId
            : undefined;
      outcome = {
        ...base,
        ...(releaseId === undefined ? {} : { releaseId }),
        ...('service' in command ? { service: command.service } : {}),
        outcome: 'refused',
        message: error.message,
      };
    }
    const stored = await deps.commands.record(outcome);
    if (stored.releaseId !== undefined && (await deps.ledger.getRelease(stored.releaseId))) {
      await deps.ledger.recordStep(
        stored.releaseId,
        stepRecord(deps, {
          key: `operator#${stored.commandId}`,
          step: 'operator',
          outcome: stored.outcome === 'applied' ? 'succeeded' : 'skipped',
          phase: (await loadRelease(deps, stored.releaseId)).phase,
          reason: `${stored.command} by ${stored.actor} (${stored.reason}): ${stored.outcome === 'applied' ? '' : 'refused: '}${stored.message}`,
          ...(stored.principalArn === undefined
            ? {}
            : {
                identity: {
                  source: IdentitySource.AwsSts,
                  actor: stored.actor,
                  principalArn: stored.principalArn,
                },
              }),
        }),
      );
    }
    return stored;
  },
};

async function apply(
  command: OperatorCommandV1,
  deps: OperatorCommandDependencies,
): Promise<Applied> {
  if (command.command === OperatorCommandName.Rollback) return revert(command, deps);
  const record = await loadRelease(deps, command.releaseId);
  const by = command.actor;
  const reason = command.reason;
  switch (command.command) {
    case OperatorCommandName.Pause: {
      const paused = await advanceRelease(deps, record, {
        type: ReleaseEventType.Paused,
        by,
        reason,
      });
      return { releaseId: record.releaseId, message: paused.reason };
    }
    case OperatorCommandName.Resume: {
      const resumed = await advanceRelease(deps, record, {
        type: ReleaseEventType.Resumed,
        by,
        reason,
      });
      return { releaseId: record.releaseId, message: resumed.reason };
    }
    case OperatorCommandName.Promote: {
      const promoted = await advanceRelease(deps, record, {
        type: ReleaseEventType.Promoted,
        by,
        reason,
      });
      if (record.phase === ReleasePhase.Held) {
        const answered = await answerHold(deps, record, promoted.reason, by);
        return {
          releaseId: record.releaseId,
          message: `${promoted.reason}${answered ? '' : '; the workflow takes it up when its hold starts waiting'}`,
        };
      }
      const bake = await endBakeForOperator(deps, {
        releaseId: record.releaseId,
        action: 'promote',
        reason: promoted.reason,
      });
      return {
        releaseId: record.releaseId,
        message: `${promoted.reason}${bake.ended ? `; the bake of step ${(bake.stepIndex ?? 0) + 1} ended now` : ''}`,
      };
    }
    case OperatorCommandName.Abort:
      return abort(
        record,
        { by, reason, principalArn: command.principalArn, knowingly: command.knowingly === true },
        deps,
      );
    case OperatorCommandName.Retry:
      return retry(record, by, reason, deps);
  }
}

/**
 * Rolls back now: the release goes to RollingBack, and whatever the workflow waits on (a bake,
 * an approval) fails at once with OperatorAborted; otherwise the step under way finishes and
 * the next one fails with it. Either way the workflow's Rollback puts traffic on blue.
 */
async function abort(
  record: ReleaseRecord,
  who: { by: string; reason: string; principalArn: string | undefined; knowingly: boolean },
  deps: OperatorCommandDependencies,
): Promise<Applied> {
  const { by, reason, principalArn } = who;
  const forwardOnly = record.forwardOnly;
  if (forwardOnly && !who.knowingly) {
    throw new CommandRefused(
      `Release ${record.releaseId} is forward-only: irreversible migration ${forwardOnly.migrationId} ran at ${forwardOnly.since}, and rolling back puts blue's code on data it may no longer fit. Promote it ("greenlight promote ${record.releaseId}"), leave it ${record.phase === ReleasePhase.Held ? 'held' : 'going'}, or roll back knowingly: "greenlight abort ${record.releaseId} --knowingly --reason ..."`,
      record.releaseId,
    );
  }
  const at = deps.now().toISOString();
  const aborted = await advanceRelease(
    deps,
    record,
    {
      type: ReleaseEventType.AbortRequested,
      by,
      reason: forwardOnly
        ? `knowingly, although irreversible ${forwardOnly.migrationId} ran: ${reason}`
        : reason,
    },
    forwardOnly
      ? { patch: { forwardOnly: { ...forwardOnly, rolledBackKnowingly: { by, at, reason } } } }
      : {},
  );
  const interrupted: string[] = [];
  const bake = await endBakeForOperator(deps, {
    releaseId: record.releaseId,
    action: 'abort',
    reason: aborted.reason,
  });
  if (bake.ended) interrupted.push(`the bake of step ${(bake.stepIndex ?? 0) + 1}`);
  for (const stage of [
    ApprovalStage.BeforeMigration,
    ApprovalStage.BeforeShift,
    ApprovalStage.BeforeFinalize,
    ApprovalStage.ForwardOnlyHold,
  ]) {
    const approvalId = approvalIdOf(record.releaseId, stage, holdRoundOf(record));
    const approval = await deps.approvals.get(approvalId);
    if (approval?.status !== ApprovalStatus.Pending) continue;
    const decided = await deps.approvals.decide(approvalId, {
      status: ApprovalStatus.Rejected,
      by,
      at: deps.now().toISOString(),
      via: 'abort',
      reason,
      ...(principalArn === undefined ? {} : { principalArn }),
    });
    if (!decided.decided) continue;
    await deps.callbacks.fail(decided.record.taskToken, ErrorName.OperatorAborted, aborted.reason);
    interrupted.push(
      stage === ApprovalStage.ForwardOnlyHold ? 'the forward-only hold' : `the ${stage} approval`,
    );
  }
  return {
    releaseId: record.releaseId,
    message: `${aborted.reason}; ${interrupted.length > 0 ? `${interrupted.join(' and ')} ended now` : 'the step under way finishes, then the release rolls back'}`,
  };
}

/**
 * Answers a held release's wait after a promote: the record of the hold's current round (kept
 * with the approvals, where tokens live) is decided and its token answered. False when that
 * round is not waiting yet: request-approval finds the promote in the release record when it
 * starts to.
 */
async function answerHold(
  deps: OperatorCommandDependencies,
  record: ReleaseRecord,
  reason: string,
  by: string,
): Promise<boolean> {
  const approvalId = approvalIdOf(
    record.releaseId,
    ApprovalStage.ForwardOnlyHold,
    holdRoundOf(record),
  );
  const hold = await deps.approvals.get(approvalId);
  if (hold?.status !== ApprovalStatus.Pending) return false;
  const decided = await deps.approvals.decide(approvalId, {
    status: ApprovalStatus.Approved,
    by,
    at: deps.now().toISOString(),
    via: 'promote',
    reason,
  });
  if (!decided.decided) return false;
  await deps.callbacks.succeed(decided.record.taskToken, { promoted: true });
  return true;
}

/**
 * Starts a failed release again as its next attempt: the same version, artifact and strategy,
 * a new release id. The event goes through the bus like CI's, so the new attempt is validated,
 * queued and run exactly like any other release.
 */
async function retry(
  record: ReleaseRecord,
  by: string,
  reason: string,
  deps: OperatorCommandDependencies,
): Promise<Applied> {
  const retryable: ReleasePhase[] = [
    ReleasePhase.RolledBack,
    ReleasePhase.Aborted,
    ReleasePhase.Superseded,
  ];
  if (!retryable.includes(record.phase)) {
    throw new CommandRefused(
      `Release ${record.releaseId} is ${record.phase}; only a release that ended without finalizing (${retryable.join(', ')}) can be retried`,
      record.releaseId,
    );
  }
  const attempt = record.attempt + 1;
  const next = deriveReleaseId(record.service, record.version, attempt);
  const existing = await deps.ledger.getRelease(next);
  if (existing) {
    throw new CommandRefused(
      `Attempt ${attempt} of ${record.service} ${record.version} exists already (${next}, ${existing.phase}); retry that one instead`,
      record.releaseId,
    );
  }
  await deps.requests.request(
    {
      schemaVersion: 1,
      service: record.service,
      version: record.version,
      artifact: record.artifact,
      strategy: record.strategy,
      attempt,
      actor: by,
      ...(record.commit === undefined ? {} : { commit: record.commit }),
      ...(record.ci === undefined ? {} : { ci: record.ci }),
    },
    OperatorEventSource,
  );
  return {
    releaseId: record.releaseId,
    newReleaseId: next,
    message: `Retrying ${record.service} ${record.version} as attempt ${attempt} (${next}), requested by ${by}: ${reason}`,
  };
}

/**
 * Puts a service's last release, finalized, back on the build before it. While blue is warm:
 * one alias or listener switch, no provisioning and no tests. After that, a Lambda service whose
 * blue version still exists (Lambda keeps versions; teardown only drops its provisioned
 * concurrency) still gets the one switch; otherwise blue is gone, and greenlight re-provisions
 * it: a new release of the earlier build, from the artifact its release recorded, taken through
 * tests and gates like any release, with "rollback of" the release it replaces.
 */
async function revert(
  command: Extract<OperatorCommandV1, { command: 'rollback' }>,
  deps: OperatorCommandDependencies,
): Promise<Applied> {
  const service = await deps.registry.find(command.service);
  if (!service) throw new CommandRefused(`Service "${command.service}" is not registered`);
  // Newest first: the release to roll back, then the ones before it (blue's build among them).
  const [latest, ...older] = await deps.ledger.listReleases(service.name, ReleasesSearched);
  if (!latest) throw new CommandRefused(`${service.name} has no release to roll back`);
  const refuse = (why: string) => new CommandRefused(why, latest.releaseId);
  if (latest.phase !== ReleasePhase.Finalized) {
    throw refuse(
      `The last release of ${service.name}, ${latest.releaseId}, is ${latest.phase}, not Finalized; roll back a release in flight with "greenlight abort"`,
    );
  }
  if (!latest.colours) throw refuse(`${latest.releaseId} has no colours recorded`);
  // A contract runs once this release's blue is torn down: after it, blue's code (the build
  // before this release) may need what the contract removed, whichever way blue comes back.
  const contract = latest.migrationState;
  if (contract?.kind === MigrationKind.Contract && contract.status === 'applied') {
    throw refuse(
      `${latest.releaseId} applied contract ${contract.id} at ${contract.at}, after its blue was torn down: the build before it may need what the contract removed. Release a fix forward instead`,
    );
  }
  // An irreversible migration since blue's release left data blue's code may not fit, warm or
  // re-provisioned alike: only a knowing rollback goes back over it.
  const irreversible = irreversibleSinceBlue(latest, older);
  let knowing = '';
  if (irreversible?.forwardOnly) {
    const what = `irreversible migration ${irreversible.forwardOnly.migrationId} ran in ${irreversible.releaseId} at ${irreversible.forwardOnly.since}, after the build blue runs`;
    if (command.knowingly !== true) {
      throw refuse(
        `${what}: blue's code may not fit the data any more. Release a fix forward, or roll back knowingly: "greenlight rollback ${service.name} --knowingly --reason ..."`,
      );
    }
    knowing = `; knowingly, although ${what}`;
  }
  const colours = latest.colours;
  const now = deps.now();
  const found = blueOf(latest, service.warmWindowSeconds, now);
  const blue = { ...found, note: `${found.note}${knowing}` };
  if (blue.warm) return switchBack(command, service, latest, colours, blue.note, deps);
  if (service.target.kind === 'lambda-alias') {
    try {
      return await switchBack(
        command,
        service,
        latest,
        colours,
        `${blue.note}; its version ${colours.blue} still exists, so one switch (it starts cold)`,
        deps,
      );
    } catch (error) {
      if (!isVersionGone(error)) throw error;
    }
  }
  return reprovisionBlue(command, service, latest, older, blue.note, deps);
}

/**
 * The newest release between the service's last finalized one (inclusive) and the finalized
 * release before it, i.e. since the build blue runs, whose irreversible migration ran: the
 * ledger records it on the release (`forwardOnly`, set by the migrate step).
 */
function irreversibleSinceBlue(
  latest: ReleaseRecord,
  older: readonly ReleaseRecord[],
): ReleaseRecord | undefined {
  if (latest.forwardOnly) return latest;
  for (const release of older) {
    if (release.phase === ReleasePhase.Finalized) return undefined;
    if (release.forwardOnly) return release;
  }
  return undefined;
}

/**
 * Whether blue still runs as it did when traffic left it. Finalize records blue as the idle
 * colour with its teardown time; a release finalized before idle colours were recorded is warm
 * for the service's window after it.
 */
function blueOf(
  latest: ReleaseRecord,
  warmWindowSeconds: number,
  now: Date,
): { warm: boolean; note: string } {
  const idle = latest.idle;
  if (idle && idle.state !== IdleColourState.Warm) {
    return { warm: false, note: `blue (${idle.colour}) is ${idle.state}: ${idle.reason}` };
  }
  const warmUntil = idle
    ? Date.parse(idle.teardownAt)
    : Date.parse(latest.updatedAt) + warmWindowSeconds * 1000;
  const until = new Date(warmUntil).toISOString();
  return now.getTime() > warmUntil
    ? { warm: false, note: `blue was kept warm until ${until} and may be gone` }
    : { warm: true, note: `blue is warm until ${until}` };
}

/** Lambda's answer to an alias update naming a version that was deleted. */
function isVersionGone(error: unknown): boolean {
  return error instanceof Error && error.name === 'ResourceNotFoundException';
}

/**
 * All traffic back on blue in one switch. Holds the service's lock meanwhile, so no new release
 * starts halfway through.
 */
async function switchBack(
  command: Extract<OperatorCommandV1, { command: 'rollback' }>,
  service: ServiceConfig,
  latest: ReleaseRecord,
  colours: NonNullable<ReleaseRecord['colours']>,
  note: string,
  deps: OperatorCommandDependencies,
): Promise<Applied> {
  // Not through the queue: a revert goes only when nothing is under way or waiting. No
  // execution holds it, so a revert that died holds the lock only for the queue's grace time.
  const lock = await deps.lock.acquire({
    service: service.name,
    releaseId: latest.releaseId,
    requestedAt: latest.requestedAt,
    at: deps.now().toISOString(),
    policy: 'reject',
  });
  if (lock.kind !== 'acquired') {
    const holder = 'holder' in lock ? lock.holder : latest.releaseId;
    throw new CommandRefused(
      `Release ${holder} of ${service.name} is under way or waiting; abort it first`,
      latest.releaseId,
    );
  }
  let outOfService = false;
  try {
    await deps.targetFor(service).rollback(service, colours);
    await deps.bakes.unwatch(latest.releaseId, alarmNamesOf(service));
    const reverted = await advanceRelease(
      deps,
      latest,
      { type: ReleaseEventType.Reverted, by: command.actor, reason: command.reason },
      { eventKey: 'reverted' },
    );
    outOfService = true;
    await deps.ledger.recordStep(
      latest.releaseId,
      stepRecord(deps, {
        key: 'revert',
        step: 'revert',
        outcome: 'succeeded',
        phase: ReleasePhase.RolledBack,
        greenPercent: 0,
        reason: `All traffic back on blue (${colours.blue}) in one switch (${note}): ${reverted.reason}`,
      }),
    );
    return { releaseId: latest.releaseId, message: reverted.reason };
  } finally {
    // Reverted, its build serves no more: requests are ordered against the one before it.
    await deps.lock.release(service.name, latest.releaseId, outOfService ? { reverted: true } : {});
  }
}

/** Releases read back to find the build blue ran: enough for any real history between two finalizes. */
const ReleasesSearched = 50;

/**
 * Blue is gone: releases the build it ran again, from the artifact its release recorded, as the
 * next attempt of that version. The event goes through the bus like CI's, so the release is
 * validated, queued, provisioned, tested and gated like any other; it is marked "rollback of"
 * the release it replaces, and may be older than it (allowOlder).
 */
async function reprovisionBlue(
  command: Extract<OperatorCommandV1, { command: 'rollback' }>,
  service: ServiceConfig,
  latest: ReleaseRecord,
  older: readonly ReleaseRecord[],
  note: string,
  deps: OperatorCommandDependencies,
): Promise<Applied> {
  const previous = older.find((r) => r.phase === ReleasePhase.Finalized);
  if (!previous) {
    throw new CommandRefused(
      `${note}, and no finalized release before ${latest.releaseId} is recorded to re-provision it from; release the build you want with "greenlight release"`,
      latest.releaseId,
    );
  }
  let attempt = previous.attempt + 1;
  while (
    await deps.ledger.getRelease(deriveReleaseId(previous.service, previous.version, attempt))
  ) {
    attempt += 1;
  }
  const next = deriveReleaseId(previous.service, previous.version, attempt);
  await deps.requests.request(
    {
      schemaVersion: 1,
      service: previous.service,
      version: previous.version,
      artifact: previous.artifact,
      // Its strategy, unless the service has dropped it since.
      ...(Object.hasOwn(service.strategies, previous.strategy) && { strategy: previous.strategy }),
      attempt,
      actor: command.actor,
      allowOlder: true,
      rollbackOf: latest.releaseId,
      ...(previous.commit === undefined ? {} : { commit: previous.commit }),
    },
    OperatorEventSource,
  );
  return {
    releaseId: latest.releaseId,
    newReleaseId: next,
    message: `${note}: re-provisioning ${previous.service} ${previous.version} (the build of ${previous.releaseId}) as ${next}, through tests and gates, as the rollback of ${latest.releaseId} requested by ${command.actor}: ${command.reason}`,
  };
}

/**
 * A verdict on the command (the state does not allow it, the release is unknown, someone else
 * moved the target): recorded as refused. Anything else is a fault, thrown for EventBridge to
 * retry the invocation.
 */
function isRefusal(error: unknown): error is Error {
  return error instanceof CommandRefused || isGreenlightError(error);
}

function definedOnly(applied: Applied): Applied {
  return Object.fromEntries(
    Object.entries(applied).filter(([, value]) => value !== undefined),
  ) as Applied;
}
