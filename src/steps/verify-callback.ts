import {
  AlarmGateFailed,
  ApprovalNotRecorded,
  ApprovalRejected,
  ApprovalTimedOut,
  OperatorAborted,
  OperatorPromoted,
} from '../core/errors.ts';
import { ReleasePhase } from '../core/phases.ts';
import type { ApprovalStore } from '../core/ports.ts';
import {
  type ApprovalRecord,
  ApprovalStage,
  ApprovalStatus,
  holdRoundOf,
  type ReleaseRecord,
  type ReleaseSpec,
  type WeightStep,
} from '../core/records.ts';
import * as z from '../core/zod.ts';
import type { StepDependencies } from '../runtime/dependencies.ts';
import type { Step } from '../runtime/step-handler.ts';
import { slackApprovalOf } from '../slack/settings.ts';
import { isAborted, loadRelease, stepRecord } from './advance-release.ts';
import { ReleaseSpecSchema, WeightStepSchema } from './inputs.ts';
import { approvalIdOf } from './request-approval.ts';
import { serviceOf } from './service.ts';

/**
 * Why this step exists: a task token travels in the Task's parameters, so it sits in the
 * execution history (and in the execution log when execution data is logged), and the ledger
 * stores it beside the approval or bake it belongs to. Anyone allowed `states:SendTaskSuccess`
 * or `states:SendTaskFailure` who can read one could answer the wait. So an answer is only a
 * hint that something happened: this step reads the ledger, where only greenlight's own
 * functions write decisions and commands, and the workflow acts on what the ledger says.
 */

/** The ways a human decision reaches the ledger: the signed Slack endpoint and the CLI. */
const HumanDecisionChannels: ReadonlySet<string> = new Set(['slack', 'cli']);

/** `decidedVia` of an approval this step closed because its wait was answered without one. */
export const ForgedCallbackVia = 'forged-callback';

/**
 * Unbacked answers taken before the wait gives up. Each one costs the execution a few history
 * events (of 25,000); waiting again for ever would let a token holder exhaust them.
 */
export const MaxUnbackedCallbacks = 25;

/** What the workflow carries between waits (`$.approvalWait`, `$.bakeWatch`). */
const WaitState = z.lazy(() => z.object({ unbacked: z._default(z.int().check(z.minimum(0)), 0) }));

const ApprovalCheckInput = z.lazy(() =>
  z.object({
    release: ReleaseSpecSchema,
    stage: z.enum([
      ApprovalStage.BeforeMigration,
      ApprovalStage.BeforeShift,
      ApprovalStage.BeforeFinalize,
      ApprovalStage.ForwardOnlyHold,
    ]),
    /** The wait's result: SendTaskSuccess's output, or a Catch's `{ Error, Cause }`. */
    callback: z.unknown(),
    wait: z.optional(WaitState),
  }),
);

// Not strict: a bake's branch hands over its whole state (colours, the gate so far).
const BakeCheckInput = z.lazy(() =>
  z.object({
    release: ReleaseSpecSchema,
    step: WeightStepSchema,
    callback: z.unknown(),
    bakeWatch: z.optional(WaitState),
  }),
);

export type VerifyCallbackInput =
  | {
      release: ReleaseSpec;
      stage: ApprovalStage;
      callback?: unknown;
      wait?: { unbacked: number };
    }
  | {
      release: ReleaseSpec;
      step: WeightStep;
      callback?: unknown;
      bakeWatch?: { unbacked: number };
    };

export const VerifyCallbackInputSchema = z.lazy(() =>
  z.union([ApprovalCheckInput, BakeCheckInput]),
) as unknown as z.ZodMiniType<VerifyCallbackInput>;

/**
 * What the workflow does next:
 * - `go`: the ledger backs the answer (an approval by an approver; a bake that ran its course);
 * - `wait`: the ledger records nothing that ends the wait: wait again, for what is left of it;
 * - `timed-out`: the approval's time ran out meanwhile: the timeout path decides;
 * - `stop-watching`: too many unbacked answers on a bake: its alarms are checked when the bake
 *   ends (the gate check), not as events; the bake still lasts its full time.
 * Verdicts the ledger records (a rejection, an abort, a gate failure, a promote) are thrown as
 * their named errors instead, which the workflow's Catch matches as before.
 */
export interface CallbackCheck {
  next: 'go' | 'wait' | 'timed-out' | 'stop-watching';
  /** The answer was not backed by the ledger: logged, counted by a metric filter, alarmed. */
  forged: boolean;
  /** Unbacked answers so far in this wait. */
  unbacked: number;
  /** For `wait` on an approval: seconds left until its expiry. */
  timeoutSeconds?: number;
  /**
   * For `go` out of a forward-only hold: the round whose promote it is. Rollback reads it when
   * that Finalize fails, to open the next round once (its idempotency key).
   */
  holdRound?: number;
  reason: string;
}

type VerifyCallbackDependencies = Pick<
  StepDependencies,
  'registry' | 'ledger' | 'bakes' | 'now'
> & {
  approvals: Pick<ApprovalStore, 'get' | 'decide'>;
};

/**
 * Runs after every callback wait of the workflow (approvals, event-mode bakes) returns or
 * fails, and lets only what the ledger records take effect. Safe to run again: it reads, writes
 * its timeline entry under a deterministic key, and closes an approval with a conditional write.
 */
export const verifyCallbackStep: Step<
  VerifyCallbackInput,
  CallbackCheck,
  VerifyCallbackDependencies
> = {
  name: 'verify-callback',
  input: VerifyCallbackInputSchema,
  run: (input, deps) =>
    'stage' in input
      ? input.stage === ApprovalStage.ForwardOnlyHold
        ? checkHold({ ...input, unbacked: input.wait?.unbacked ?? 0 }, deps)
        : checkApproval({ ...input, unbacked: input.wait?.unbacked ?? 0 }, deps)
      : checkBake({ ...input, unbacked: input.bakeWatch?.unbacked ?? 0 }, deps),
};

/**
 * A held forward-only release's wait: only an operator's command, as the release record holds
 * it, ends it. Promoted: go (all traffic to green, finalize). Aborted knowingly: OperatorAborted,
 * which the workflow's Catch takes to Rollback. Anything else (a forged answer, a stray
 * timeout) changes nothing: the release stays held and waits again, however often, because
 * giving up would mean choosing between rolling back and finalizing for the operator.
 */
async function checkHold(
  input: { release: ReleaseSpec; callback?: unknown; unbacked: number },
  deps: VerifyCallbackDependencies,
): Promise<CallbackCheck> {
  const record = await loadRelease(deps, input.release.releaseId);
  if (isAborted(record)) throw new OperatorAborted(record.reason, { releaseId: record.releaseId });
  const round = holdRoundOf(record);
  if (record.phase === ReleasePhase.Held && record.control?.promoted) {
    return {
      next: 'go',
      forged: false,
      unbacked: input.unbacked,
      reason: record.reason,
      holdRound: round,
    };
  }
  const unbacked = input.unbacked + 1;
  const claim = claimOf(input.callback);
  const reason = `The forward-only hold${round > 1 ? ` (round ${round})` : ''} was answered with ${claim ? `SendTaskFailure (${claim})` : 'SendTaskSuccess'}, but the ledger records no promote and no knowing abort: the release stays held`;
  // Each round counts its own unbacked answers: its entries must not land on an earlier round's.
  await recordUnbacked(
    deps,
    record,
    round > 1 ? `hold-${round}#${unbacked}` : `hold#${unbacked}`,
    reason,
  );
  return { next: 'wait', forged: true, unbacked, reason };
}

async function checkApproval(
  input: { release: ReleaseSpec; stage: ApprovalStage; callback?: unknown; unbacked: number },
  deps: VerifyCallbackDependencies,
): Promise<CallbackCheck> {
  const { release, stage } = input;
  const approvalId = approvalIdOf(release.releaseId, stage);
  const approval = await deps.approvals.get(approvalId);
  const claim = claimOf(input.callback);
  const decided = approval?.status !== undefined && approval.status !== ApprovalStatus.Pending;
  if (approval && decided) {
    // The ledger holds a decision: it, not the callback, says what happens next.
    switch (approval.status) {
      case ApprovalStatus.Approved:
        if (await byApprover(approval, release, deps)) {
          return {
            next: 'go',
            forged: false,
            unbacked: input.unbacked,
            reason: `Approved by ${approval.decidedBy} via ${approval.decidedVia} at ${approval.decidedAt}`,
          };
        }
        break;
      // The verdict is the ledger's; its words are the callback's when it says the same (the
      // deciding function wrote them, with the approver's name), else the ledger's own.
      case ApprovalStatus.Rejected:
        if (approval.decidedVia === 'abort') {
          throw new OperatorAborted(
            causeOf(input.callback, 'OperatorAborted') ?? decisionText(approval),
          );
        }
        if (approval.decidedVia === ForgedCallbackVia) {
          throw new ApprovalNotRecorded(approval.reason ?? decisionText(approval), { approvalId });
        }
        throw new ApprovalRejected(
          causeOf(input.callback, 'ApprovalRejected') ?? decisionText(approval),
          { approvalId },
        );
      case ApprovalStatus.TimedOut:
        throw new ApprovalTimedOut(
          causeOf(input.callback, 'ApprovalTimedOut') ?? `No decision by ${approval.expiresAt}`,
          { approvalId },
        );
    }
  }

  const unbacked = input.unbacked + 1;
  const said = claim ? `SendTaskFailure (${claim})` : 'SendTaskSuccess';
  const holds = !approval
    ? 'no such approval'
    : approval.status === ApprovalStatus.Pending
      ? 'the approval still pending'
      : `an approval ${approval.status} by ${approval.decidedBy ?? 'unknown'} via ${approval.decidedVia ?? 'unknown'}, who may not approve`;
  const record = await loadRelease(deps, release.releaseId);
  const base = `The ${stage} approval wait was answered with ${said}, but the ledger holds ${holds}`;
  if (claim === undefined || !approval || unbacked > MaxUnbackedCallbacks) {
    // A success nobody decided: the release ends before traffic moves on. The approval is
    // closed too, so that a later click changes nothing.
    const reason = `${base}: a task token alone never approves; the release ends`;
    if (approval?.status === ApprovalStatus.Pending) {
      const closed = await deps.approvals.decide(approvalId, {
        status: ApprovalStatus.Rejected,
        by: 'greenlight',
        at: deps.now().toISOString(),
        via: ForgedCallbackVia,
        reason,
      });
      // An approver's click that landed first wins (its callback found the token spent by
      // the forged one): the ledger holds the decision, so the release goes on.
      const won = closed.record;
      if (!closed.decided && won.status === ApprovalStatus.Approved) {
        if (await byApprover(won, release, deps)) {
          await recordUnbacked(
            deps,
            record,
            `${stage}#${unbacked}`,
            `${base}, then an approval by ${won.decidedBy} via ${won.decidedVia}: the release goes on`,
          );
          return {
            next: 'go',
            forged: true,
            unbacked,
            reason: `Approved by ${won.decidedBy} via ${won.decidedVia} at ${won.decidedAt}`,
          };
        }
      }
    }
    await recordUnbacked(deps, record, `${stage}#${unbacked}`, reason);
    throw new ApprovalNotRecorded(reason, { approvalId, unbacked });
  }
  const left = Math.ceil((Date.parse(approval.expiresAt) - deps.now().getTime()) / 1000);
  const reason = `${base}: nothing changed, the wait goes on${left > 0 ? ` (${left}s left)` : ''}`;
  await recordUnbacked(deps, record, `${stage}#${unbacked}`, reason);
  return left > 0
    ? { next: 'wait', forged: true, unbacked, timeoutSeconds: left, reason }
    : { next: 'timed-out', forged: true, unbacked, reason };
}

async function checkBake(
  input: { release: ReleaseSpec; step: WeightStep; callback?: unknown; unbacked: number },
  deps: VerifyCallbackDependencies,
): Promise<CallbackCheck> {
  const { release, step } = input;
  const [bake, record] = await Promise.all([
    deps.bakes.get(release.releaseId),
    loadRelease(deps, release.releaseId),
  ]);
  const claim = claimOf(input.callback);
  const ours = bake?.stepIndex === step.index;
  // What the ledger records ends the bake, whatever the callback claimed: an operator's
  // abort or promote, an alarm's interruption, or the timer's end.
  if (isAborted(record)) throw new OperatorAborted(record.reason, { releaseId: record.releaseId });
  if (ours && bake.status === 'interrupted') {
    throw new AlarmGateFailed(bake.reason ?? record.reason, { releaseId: record.releaseId });
  }
  if (ours && bake.status === 'ended' && record.control?.promoted) {
    throw new OperatorPromoted(record.reason, { releaseId: record.releaseId });
  }
  if (ours && bake.status === 'ended' && claim === undefined) {
    return {
      next: 'go',
      forged: false,
      unbacked: input.unbacked,
      reason: `The bake of step ${step.index + 1} ran its course`,
    };
  }

  const unbacked = input.unbacked + 1;
  const said = claim ? `SendTaskFailure (${claim})` : 'SendTaskSuccess';
  const over = ours && bake.status === 'ended';
  const base = `The bake of step ${step.index + 1} was answered with ${said}, but the ledger records ${over ? 'only its timer’s end' : 'no promote, abort or alarm for it'}`;
  const next = over ? 'go' : unbacked > MaxUnbackedCallbacks ? 'stop-watching' : 'wait';
  const reason =
    next === 'go'
      ? `${base}: the bake is over anyway`
      : next === 'wait'
        ? `${base}: nothing changed, the bake goes on until ${bake?.endsAt ?? 'its end'}`
        : `${base}: after ${unbacked} such answers the bake stops watching for alarm events; it still lasts its full time and its gates are checked at the end`;
  await recordUnbacked(deps, record, `bake#${step.index}#${unbacked}`, reason);
  return { next, forged: true, unbacked, reason };
}

/**
 * Whether an approval was taken by someone the service lets decide, on a path that checks it:
 * the Slack endpoint (a signed request from a listed approver or group member; group
 * membership is checked there, at click time, as this function has no Slack token) or
 * `greenlight approve` (whose gate is IAM on the ledger, see the README).
 */
async function byApprover(
  approval: ApprovalRecord,
  release: ReleaseSpec,
  deps: Pick<StepDependencies, 'registry'>,
): Promise<boolean> {
  if (!approval.decidedBy || !HumanDecisionChannels.has(approval.decidedVia ?? '')) return false;
  if (approval.decidedVia !== 'slack') return true;
  const settings = slackApprovalOf(await serviceOf(deps, release.service), release.strategy);
  if (!settings) return false;
  return settings.approvers.includes(approval.decidedBy) || settings.approverGroups.length > 0;
}

/** The error a failure callback claims, or undefined for a success. */
function claimOf(callback: unknown): string | undefined {
  if (typeof callback !== 'object' || callback === null || !('Error' in callback)) return undefined;
  const error = (callback as { Error?: unknown }).Error;
  return typeof error === 'string' ? error : 'an unnamed error';
}

/** The Cause of a failure callback that claims `error`, when it is plain text. */
function causeOf(callback: unknown, error: string): string | undefined {
  if (claimOf(callback) !== error) return undefined;
  const cause = (callback as { Cause?: unknown }).Cause;
  return typeof cause === 'string' && cause !== '' ? cause : undefined;
}

function decisionText(approval: ApprovalRecord): string {
  const because = approval.reason ? `: ${approval.reason}` : '';
  return `Rejected by ${approval.decidedBy ?? 'unknown'} via ${approval.decidedVia ?? 'unknown'} at ${approval.decidedAt ?? '(unknown time)'}${because}`;
}

async function recordUnbacked(
  deps: VerifyCallbackDependencies,
  record: ReleaseRecord,
  key: string,
  reason: string,
): Promise<void> {
  await deps.ledger.recordStep(
    record.releaseId,
    stepRecord(deps, {
      key: `callback#${key}`,
      step: 'callback',
      outcome: 'failed',
      phase: record.phase,
      greenPercent: record.greenPercent,
      reason,
    }),
  );
}
