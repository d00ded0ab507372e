import { z } from 'zod';
import { ApprovalStage, ApprovalStatus, type ReleaseSpec } from '../core/records.ts';
import { testStepOf } from '../slack/decide-approval.ts';
import type { ApprovalStep } from '../slack/dependencies.ts';
import { ApprovalNotFound } from '../slack/errors.ts';
import { approvalTimedOutMessage, approvalView } from '../slack/messages.ts';
import { slackApprovalOf, TimeoutAction } from '../slack/settings.ts';
import { loadRelease, stepRecord } from './advance-release.ts';
import { ReleaseSpecSchema } from './inputs.ts';
import { approvalIdOf } from './request-approval.ts';
import { serviceOf } from './service.ts';

export interface ApprovalTimeoutInput {
  release: ReleaseSpec;
  stage: ApprovalStage;
}

// Not strict: the workflow may hand over its whole state (colours, the caught error).
export const ApprovalTimeoutInputSchema = z.object({
  release: ReleaseSpecSchema,
  stage: z.enum([ApprovalStage.BeforeShift, ApprovalStage.BeforeFinalize]),
}) as unknown as z.ZodType<ApprovalTimeoutInput>;

export interface ApprovalTimeoutOutcome {
  approvalId: string;
  /** What the workflow does next; only `reject` for now (end the release, traffic untouched). */
  action: TimeoutAction;
  /** The approval's final status: `timed-out`, or a human decision that reached us too late. */
  status: ApprovalStatus;
  reason: string;
}

/**
 * Runs when the wait's TimeoutSeconds ran out: marks the approval timed out (unless a click
 * won the race), shows it on the Slack message, records it, and answers what to do. Safe to
 * run again: the decision is a conditional write, and the message and ledger entry are
 * rewritten with the same content.
 */
export const approvalTimeoutStep: ApprovalStep<ApprovalTimeoutInput, ApprovalTimeoutOutcome> = {
  name: 'approval-timeout',
  input: ApprovalTimeoutInputSchema,
  run: async ({ release, stage }, deps) => {
    const service = serviceOf(deps, release.service);
    const settings = slackApprovalOf(service);
    const action = settings?.onTimeout ?? TimeoutAction.Reject;
    const approvalId = approvalIdOf(release.releaseId, stage);
    const at = deps.now().toISOString();
    const phase = (await loadRelease(deps, release.releaseId)).phase;

    let result: Awaited<ReturnType<typeof deps.approvals.decide>>;
    try {
      result = await deps.approvals.decide(approvalId, {
        status: ApprovalStatus.TimedOut,
        by: 'greenlight',
        at,
        via: 'timeout',
        reason: 'No decision in time',
      });
    } catch (error) {
      if (!(error instanceof ApprovalNotFound)) throw error;
      const reason = `No approval was ever requested (${approvalId}); the release is rejected`;
      await deps.ledger.recordStep(
        release.releaseId,
        stepRecord(deps, {
          key: `approval#${stage}`,
          step: 'approval',
          outcome: 'failed',
          phase,
          reason,
        }),
      );
      return { approvalId, action, status: ApprovalStatus.TimedOut, reason };
    }

    const { record } = result;
    const timedOut = record.status === ApprovalStatus.TimedOut;
    const reason = timedOut
      ? `No decision by ${record.expiresAt}; the release is rejected${stage === ApprovalStage.BeforeShift ? ' before any traffic moved' : ''}`
      : `The wait timed out although the approval was ${record.status} by ${record.decidedBy ?? 'unknown'} at ${record.decidedAt ?? 'unknown'}; the release is rejected`;
    await deps.ledger.recordStep(
      release.releaseId,
      stepRecord(deps, {
        key: `approval#${stage}`,
        step: 'approval',
        outcome: 'failed',
        phase,
        reason,
      }),
    );
    // A human decision that lost the race already updated the message with its own note.
    if (timedOut && record.slack) {
      const steps = await deps.ledger.listSteps(release.releaseId);
      await deps.slack.updateMessage(
        record.slack,
        approvalTimedOutMessage(approvalView(record, release, testStepOf(steps))),
      );
    }
    return { approvalId, action, status: record.status, reason };
  },
};
