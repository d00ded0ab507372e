import { ApprovalNotFound } from '../core/errors.ts';
import { ReleasePhase } from '../core/phases.ts';
import {
  type ApprovalRecord,
  ApprovalStage,
  ApprovalStatus,
  type ReleaseSpec,
} from '../core/records.ts';
import { ReleaseEventType } from '../core/transitions.ts';
import * as z from '../core/zod.ts';
import type { Step } from '../runtime/step-handler.ts';
import { testStepOf } from '../slack/decide-approval.ts';
import type { ApprovalStepDependencies } from '../slack/dependencies.ts';
import { approvalTimedOutMessage, approvalView } from '../slack/messages.ts';
import { slackApprovalOf, TimeoutAction } from '../slack/settings.ts';
import { type AdvanceDependencies, advanceRelease, loadRelease } from './advance-release.ts';
import { ReleaseSpecSchema } from './inputs.ts';
import { approvalIdOf } from './request-approval.ts';
import { serviceOf } from './service.ts';

export interface ApprovalTimeoutInput {
  release: ReleaseSpec;
  stage: ApprovalStage;
}

// Not strict: the workflow may hand over its whole state (colours, the caught error).
export const ApprovalTimeoutInputSchema = z.lazy(() =>
  z.object({
    release: ReleaseSpecSchema,
    stage: z.enum([
      ApprovalStage.BeforeMigration,
      ApprovalStage.BeforeShift,
      ApprovalStage.BeforeFinalize,
    ]),
  }),
) as unknown as z.ZodMiniType<ApprovalTimeoutInput>;

/**
 * The approval, Slack, and what moving the release on may need. The moves made here (granted
 * or denied before any traffic moved) publish nothing and keep the lock, but advanceRelease's
 * type does not know that, so the bus and the lock come along.
 */
type ApprovalTimeoutDependencies = AdvanceDependencies &
  Pick<ApprovalStepDependencies, 'registry' | 'approvals' | 'slack'>;

export interface ApprovalTimeoutOutcome {
  approvalId: string;
  /**
   * What the workflow does next: `reject` ends the release (before any traffic moved, at the
   * first stage), `approve` goes on as if approved. Only the service's `onTimeout` can make it
   * `approve`, and only for an approval that really timed out.
   */
  action: TimeoutAction;
  /** The approval's final status: `timed-out`, or a human decision that reached us too late. */
  status: ApprovalStatus;
  reason: string;
}

/**
 * Runs when the wait's TimeoutSeconds ran out: marks the approval timed out (unless a click
 * won the race), moves the release on as the service's `onTimeout` says, shows it on the
 * Slack message, records it, and answers what to do. Safe to run again: the decision is a
 * conditional write, the release's transition is applied once, and the message and ledger
 * entry are rewritten with the same content.
 */
export const approvalTimeoutStep: Step<
  ApprovalTimeoutInput,
  ApprovalTimeoutOutcome,
  ApprovalTimeoutDependencies
> = {
  name: 'approval-timeout',
  input: ApprovalTimeoutInputSchema,
  run: async ({ release, stage }, deps) => {
    const service = await serviceOf(deps, release.service);
    // An irreversible migration never runs because nobody answered: its stage always rejects.
    const configured =
      stage === ApprovalStage.BeforeMigration
        ? TimeoutAction.Reject
        : (slackApprovalOf(service, release.strategy)?.onTimeout ?? TimeoutAction.Reject);
    const approvalId = approvalIdOf(release.releaseId, stage);
    const at = deps.now().toISOString();

    let approval: ApprovalRecord;
    try {
      approval = (
        await deps.approvals.decide(approvalId, {
          status: ApprovalStatus.TimedOut,
          by: 'greenlight',
          at,
          via: 'timeout',
          reason: 'No decision in time',
        })
      ).record;
    } catch (error) {
      if (!(error instanceof ApprovalNotFound)) throw error;
      const reason = `No approval was ever requested (${approvalId}); the release is rejected`;
      await settle(deps, release, stage, TimeoutAction.Reject, reason, at);
      return { approvalId, action: TimeoutAction.Reject, status: ApprovalStatus.TimedOut, reason };
    }

    const timedOut = approval.status === ApprovalStatus.TimedOut;
    // A human decision that reached the store but not the workflow (its callback was lost) is
    // not trusted to move traffic: only a real timeout takes the configured action.
    const action = timedOut ? configured : TimeoutAction.Reject;
    const reason = !timedOut
      ? `The wait timed out although the approval was ${approval.status} by ${approval.decidedBy ?? 'unknown'} at ${approval.decidedAt ?? 'unknown'}; the release is rejected`
      : action === TimeoutAction.Approve
        ? `No decision by ${approval.expiresAt}; the release goes on, as ${service.name}'s onTimeout is "approve"`
        : `No decision by ${approval.expiresAt}; the release is rejected${stage === ApprovalStage.BeforeFinalize ? '' : ' before any traffic moved'}`;
    await settle(deps, release, stage, action, reason, at);
    // A human decision that lost the race already updated the message with its own note.
    if (timedOut && approval.slack) {
      const steps = await deps.ledger.listSteps(release.releaseId);
      await deps.slack.updateMessage(
        approval.slack,
        approvalTimedOutMessage(approvalView(approval, release, testStepOf(steps), action)),
      );
    }
    return { approvalId, action, status: approval.status, reason };
  },
};

/**
 * Moves a release waiting before any traffic moved: on to Shifting, or to RollingBack (the
 * workflow's Rollback then finds nothing moved). At the before-finalize stage the release is
 * Shifting at 100% and stays so; Finalize or Rollback decides. Then the timeline entry.
 */
async function settle(
  deps: AdvanceDependencies,
  release: ReleaseSpec,
  stage: ApprovalStage,
  action: TimeoutAction,
  reason: string,
  at: string,
): Promise<void> {
  let record = await loadRelease(deps, release.releaseId);
  if (stage === ApprovalStage.BeforeShift && record.phase === ReleasePhase.AwaitingApproval) {
    record = await advanceRelease(
      deps,
      record,
      action === TimeoutAction.Approve
        ? { type: ReleaseEventType.ApprovalGranted, by: 'greenlight (no decision in time)' }
        : {
            type: ReleaseEventType.ApprovalDenied,
            by: 'greenlight',
            reason: 'no decision in time',
          },
    );
  }
  await deps.ledger.recordStep(release.releaseId, {
    key: `approval#${stage}`,
    step: 'approval',
    at,
    outcome: action === TimeoutAction.Approve ? 'succeeded' : 'failed',
    phase: record.phase,
    reason,
  });
}
