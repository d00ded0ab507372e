import { IdentitySource, type RecordedIdentity } from '../core/caller-identity.ts';
import { ApprovalNotFound, InvalidTransition } from '../core/errors.ts';
import { ReleasePhase } from '../core/phases.ts';
import type {
  ApprovalStore,
  CallbackOutcome,
  ReleaseLedger,
  TaskCallbacks,
} from '../core/ports.ts';
import {
  type ApprovalRecord,
  ApprovalStage,
  ApprovalStatus,
  type ReleaseRecord,
  type StepRecord,
} from '../core/records.ts';
import { ReleaseEventType, transition } from '../core/transitions.ts';
import { ApprovalErrorName } from './errors.ts';
import { approvalDecidedMessage, approvalView } from './messages.ts';
import type { SlackMessenger } from './messenger.ts';

/** Where a human decision goes. `slack` is optional: the CLI may decide without a bot token. */
export interface DecisionDependencies {
  approvals: ApprovalStore;
  ledger: Pick<ReleaseLedger, 'getRelease' | 'updateRelease' | 'listSteps' | 'recordStep'>;
  callbacks: TaskCallbacks;
  slack?: Pick<SlackMessenger, 'updateMessage'>;
  now(): Date;
}

export interface HumanDecision {
  approvalId: string;
  status: typeof ApprovalStatus.Approved | typeof ApprovalStatus.Rejected;
  /** A Slack user id, or the operator's name for the CLI. */
  by: string;
  /** How people know them ("dana"); shown in the ledger and the rejection cause. */
  byName?: string;
  /** `slack` or `cli`. */
  via: string;
  reason?: string;
  /**
   * Who decided and what vouches for it, recorded beside the decision: the CLI's AWS principal.
   * Absent for a Slack click, whose user id the request signature vouches for.
   */
  identity?: RecordedIdentity;
}

export type DecisionResult =
  /** This decision won and was handed to the workflow (or the workflow had stopped waiting). */
  | {
      decided: true;
      record: ApprovalRecord;
      delivery: CallbackOutcome;
      /** The decision stands even when the message could not be updated. */
      message: 'updated' | 'skipped' | { failed: string };
    }
  /** Someone (or the timeout) decided first: `record` holds that decision; nothing changed. */
  | { decided: false; record: ApprovalRecord };

/** What SendTaskSuccess hands the workflow after an approval (`$.approval` in the lead's ASL). */
export interface ApprovalOutput {
  approvalId: string;
  stage: ApprovalRecord['stage'];
  approvedBy: string;
  approvedByName?: string;
  approvedAt: string;
  via: string;
}

/**
 * Takes one human decision: stores it if the approval is still pending (first wins), hands it
 * to the waiting workflow (SendTaskSuccess, or SendTaskFailure `ApprovalRejected`), records
 * who decided and when in the release's timeline, and shows the outcome on the Slack message.
 *
 * Ordering: the conditional write comes first because it picks the winner between two clicks
 * (or a click and the timeout); the callback only ever carries the winning decision. If the
 * process dies between the two, the approval's timeout still ends the release (fail safe).
 */
export async function decideApproval(
  deps: DecisionDependencies,
  decision: HumanDecision,
): Promise<DecisionResult> {
  const at = deps.now().toISOString();
  const stored = await deps.approvals.get(decision.approvalId);
  if (!stored) {
    throw new ApprovalNotFound(`Approval ${decision.approvalId} is not in the ledger`, {
      approvalId: decision.approvalId,
    });
  }
  if (stored.status !== ApprovalStatus.Pending) return { decided: false, record: stored };
  const identity = identityOf(decision);
  const result = await deps.approvals.decide(decision.approvalId, {
    status: decision.status,
    by: decision.by,
    at,
    via: decision.via,
    ...(decision.reason === undefined ? {} : { reason: decision.reason }),
    ...(identity?.principalArn === undefined ? {} : { principalArn: identity.principalArn }),
  });
  if (!result.decided) return { decided: false, record: result.record };
  const record = result.record;
  const name = decision.byName ? `${decision.byName} (${decision.by})` : decision.by;

  // The phase moves before the workflow hears of the decision: the first weight step refuses
  // to run for a release still AwaitingApproval, and it may start the moment the token is
  // answered.
  const release = await moveRelease(deps, record, name, decision.reason, at);
  const delivery = await deliverDecision(deps.callbacks, record, record.taskToken, decision.byName);

  const verb = decision.status === ApprovalStatus.Approved ? 'Approved' : 'Rejected';
  const late = delivery.delivered
    ? ''
    : `, but the release had stopped waiting (${delivery.reason}); nothing changed`;
  await deps.ledger.recordStep(record.releaseId, {
    key: `approval#${record.stage}`,
    step: 'approval',
    at,
    outcome:
      decision.status === ApprovalStatus.Approved && delivery.delivered ? 'succeeded' : 'failed',
    reason: `${verb} by ${name} via ${decision.via} at ${at}${decision.reason ? `: ${decision.reason}` : ''}${late}`,
    phase: release?.phase ?? 'AwaitingApproval',
    ...(identity === undefined ? {} : { identity }),
  });

  if (!deps.slack || !record.slack) return { decided: true, record, delivery, message: 'skipped' };
  try {
    const steps = await deps.ledger.listSteps(record.releaseId);
    const view = approvalView(record, release ?? {}, testStepOf(steps));
    if (!delivery.delivered) {
      view.note = 'The release had stopped waiting; this decision changed nothing.';
    }
    await deps.slack.updateMessage(record.slack, approvalDecidedMessage(view));
    return { decided: true, record, delivery, message: 'updated' };
  } catch (error) {
    const failed = error instanceof Error ? error.message : String(error);
    return { decided: true, record, delivery, message: { failed } };
  }
}

/** The identity a decision is recorded with: the caller's, or a Slack click's signed user id. */
function identityOf(decision: HumanDecision): RecordedIdentity | undefined {
  if (decision.identity) return decision.identity;
  if (decision.via !== 'slack') return undefined;
  return {
    source: IdentitySource.SlackSignature,
    actor: decision.byName ?? decision.by,
    slackUserId: decision.by,
  };
}

/**
 * Applies a before-shift decision to the release: AwaitingApproval → Shifting (approved) or
 * RollingBack (rejected). A release that already left AwaitingApproval (an operator aborted
 * it, or a retried decision moved it) is left as it is. Both transitions have no effects to
 * carry out (no lifecycle event, no lock), so the ledger write is all there is.
 */
async function moveRelease(
  deps: DecisionDependencies,
  approval: ApprovalRecord,
  by: string,
  reason: string | undefined,
  at: string,
): Promise<ReleaseRecord | undefined> {
  const release = await deps.ledger.getRelease(approval.releaseId);
  if (
    !release ||
    approval.stage !== ApprovalStage.BeforeShift ||
    release.phase !== ReleasePhase.AwaitingApproval
  ) {
    return release;
  }
  const state = {
    phase: release.phase,
    stepIndex: release.stepIndex,
    greenPercent: release.greenPercent,
  };
  const moved = transition(
    state,
    approval.status === ApprovalStatus.Approved
      ? { type: ReleaseEventType.ApprovalGranted, by }
      : { type: ReleaseEventType.ApprovalDenied, by, reason: reason ?? 'no reason given' },
  );
  try {
    return await deps.ledger.updateRelease(
      release.releaseId,
      {
        phase: moved.next.phase,
        stepIndex: moved.next.stepIndex,
        greenPercent: moved.next.greenPercent,
        reason: moved.reason,
        updatedAt: at,
      },
      [release.phase],
    );
  } catch (error) {
    if (error instanceof InvalidTransition) return deps.ledger.getRelease(release.releaseId);
    throw error;
  }
}

/**
 * Hands a stored decision to the task waiting on `taskToken`: SendTaskSuccess with
 * ApprovalOutput for an approval, SendTaskFailure `ApprovalRejected` or `ApprovalTimedOut`
 * otherwise. Used for the winning click, and by request-approval when a retried wait (new
 * token) finds the approval decided already.
 */
export function deliverDecision(
  callbacks: TaskCallbacks,
  record: ApprovalRecord,
  taskToken: string,
  byName?: string,
): Promise<CallbackOutcome> {
  const at = record.decidedAt ?? '(unknown time)';
  const by = record.decidedBy ?? 'unknown';
  const via = record.decidedVia ?? 'unknown';
  const name = byName ? `${byName} (${by})` : by;
  const because = record.reason ? `: ${record.reason}` : '';
  switch (record.status) {
    case ApprovalStatus.Approved:
      return callbacks.succeed(taskToken, {
        approvalId: record.approvalId,
        stage: record.stage,
        approvedBy: by,
        ...(byName === undefined ? {} : { approvedByName: byName }),
        approvedAt: at,
        via,
      } satisfies ApprovalOutput);
    case ApprovalStatus.Rejected:
      return callbacks.fail(
        taskToken,
        ApprovalErrorName.ApprovalRejected,
        `Rejected by ${name} via ${via} at ${at}${because}`,
      );
    case ApprovalStatus.TimedOut:
      return callbacks.fail(
        taskToken,
        ApprovalErrorName.ApprovalTimedOut,
        `No decision by ${record.expiresAt}${because}`,
      );
    case ApprovalStatus.Pending:
      throw new Error(`Approval ${record.approvalId} is pending: there is no decision to deliver`);
  }
}

/** The pre-traffic test entry of a timeline (written by the test-green step). */
export function testStepOf(steps: readonly StepRecord[]): StepRecord | undefined {
  return steps.find((step) => step.step === 'test');
}
