import { ErrorName, InvalidStepInput } from '../core/errors.ts';
import {
  type ApprovalRecord,
  ApprovalStage,
  ApprovalStatus,
  type Colours,
  HoldSeconds,
  holdRoundOf,
  type ReleaseRecord,
  type ReleaseSpec,
} from '../core/records.ts';
import { ApprovalTimeoutAction as TimeoutAction } from '../core/service-config.ts';
import * as z from '../core/zod.ts';
import type { Step } from '../runtime/step-handler.ts';
import { deliverDecision, testStepOf } from '../slack/decide-approval.ts';
import type { ApprovalStepDependencies } from '../slack/dependencies.ts';
import { approvalRequestMessage, approvalView, migrationViewOf } from '../slack/messages.ts';
import { slackApprovalOf } from '../slack/settings.ts';
import { isAborted, loadRelease, stepRecord } from './advance-release.ts';
import { ColoursSchema, ReleaseSpecSchema } from './inputs.ts';
import { serviceOf } from './service.ts';

export interface RequestApprovalInput {
  release: ReleaseSpec;
  colours: Colours;
  stage: ApprovalStage;
  /** `$$.Task.Token` of the `.waitForTaskToken` state; stored in the approval record only. */
  taskToken: string;
}

export const RequestApprovalInputSchema = z.lazy(() =>
  z.object({
    release: ReleaseSpecSchema,
    colours: ColoursSchema,
    stage: z.enum([
      ApprovalStage.BeforeMigration,
      ApprovalStage.BeforeShift,
      ApprovalStage.BeforeFinalize,
      ApprovalStage.ForwardOnlyHold,
    ]),
    // SendTaskSuccess accepts tokens of 1 to 2048 characters.
    taskToken: z.string().check(z.minLength(1), z.maxLength(2048)),
  }),
) as unknown as z.ZodMiniType<RequestApprovalInput>;

/**
 * What the Lambda returns. Step Functions discards it (the state's result is what the callback
 * sends); it is logged, so it never holds the token.
 */
export interface RequestApprovalOutcome {
  approvalId: string;
  status: ApprovalStatus;
  /** `posted` a new message, found one `existing`, or `none` because it was decided already. */
  message: 'posted' | 'existing' | 'none';
  channel?: string;
  ts?: string;
}

/**
 * Deterministic: a retried request finds its approval, and a button needs nothing else. Each
 * round of a forward-only hold (`holdRoundOf`) waits under its own id, so a promote given in
 * an earlier round never answers a later one; the first keeps the plain id.
 */
export function approvalIdOf(releaseId: string, stage: ApprovalStage, holdRound = 1): string {
  return stage === ApprovalStage.ForwardOnlyHold && holdRound > 1
    ? `${releaseId}-${stage}-${holdRound}`
    : `${releaseId}-${stage}`;
}

/**
 * Asks the service's approvers in Slack. Called by a `lambda:invoke.waitForTaskToken` state: the
 * workflow waits until the interactivity endpoint (or the CLI) answers the token, or the
 * state's TimeoutSeconds runs out.
 *
 * Safe to run again without an idempotency record (one would replay a stale token): the
 * approval is created once; a retried Task state brings a new token, which replaces the dead
 * one while the approval is pending, or receives the decision at once if it was taken in
 * between; a message is posted only while none is attached. A crash between posting and
 * attaching can leave one extra message, which never carries a token either.
 */
export const requestApprovalStep: Step<
  RequestApprovalInput,
  RequestApprovalOutcome,
  Pick<
    ApprovalStepDependencies,
    'registry' | 'ledger' | 'approvals' | 'callbacks' | 'slack' | 'now'
  >
> = {
  name: 'request-approval',
  input: RequestApprovalInputSchema,
  run: async ({ release, stage, taskToken }, deps) => {
    const service = await serviceOf(deps, release.service);
    const settings = slackApprovalOf(service, release.strategy);
    if (!settings) {
      throw new InvalidStepInput(
        `request-approval ran for "${service.name}", which asks for no Slack approval; the workflow must skip the approval states for it.`,
      );
    }
    const now = deps.now();
    const hold = stage === ApprovalStage.ForwardOnlyHold;
    // The hold's round is the ledger's: Rollback opened it before this wait began.
    const round = hold ? holdRoundOf(await loadRelease(deps, release.releaseId)) : 1;
    const approvalId = approvalIdOf(release.releaseId, stage, round);
    let approval = await deps.approvals.create({
      approvalId,
      releaseId: release.releaseId,
      service: release.service,
      version: release.version,
      stage,
      taskToken,
      status: ApprovalStatus.Pending,
      requestedAt: now.toISOString(),
      expiresAt: new Date(
        now.getTime() + (hold ? HoldSeconds : settings.timeoutSeconds) * 1000,
      ).toISOString(),
    });
    if (approval.status === ApprovalStatus.Pending && approval.taskToken !== taskToken) {
      approval = (await deps.approvals.renewTaskToken(approvalId, taskToken)).record;
    }
    // An operator aborted the release before this wait had a token to fail.
    const record = await loadRelease(deps, release.releaseId);
    if (isAborted(record)) {
      await deps.approvals.decide(approvalId, {
        status: ApprovalStatus.Rejected,
        by: 'greenlight',
        at: now.toISOString(),
        via: 'abort',
        reason: record.reason,
      });
      await deps.callbacks.fail(taskToken, ErrorName.OperatorAborted, record.reason);
      return { approvalId, status: ApprovalStatus.Rejected, message: 'none' };
    }
    if (hold) return holdWait(deps, record, approval, taskToken);
    if (approval.status !== ApprovalStatus.Pending) {
      // Decided while no task was waiting (between a failed attempt and this retry): the new
      // token gets the decision now, or the workflow would wait for a click that came already.
      await deliverDecision(deps.callbacks, approval, taskToken);
      return { approvalId, status: approval.status, message: 'none' };
    }
    if (approval.slack) {
      return { approvalId, status: approval.status, message: 'existing', ...approval.slack };
    }

    const steps = await deps.ledger.listSteps(release.releaseId);
    const migration = stage === ApprovalStage.BeforeMigration;
    const view = approvalView(
      approval,
      release,
      testStepOf(steps),
      // An irreversible migration never runs because nobody answered.
      migration ? TimeoutAction.Reject : settings.onTimeout,
      migration ? migrationViewOf(release, steps) : undefined,
    );
    const posted = await deps.slack.postMessage(settings.channel, approvalRequestMessage(view));
    await deps.approvals.attachMessage(approvalId, posted);
    await deps.ledger.recordStep(
      release.releaseId,
      stepRecord(deps, {
        key: `approval-request#${stage}`,
        step: 'approval-request',
        outcome: 'started',
        phase: record.phase,
        reason: requestReason(
          approval,
          settings.channel,
          settings.approvers,
          settings.approverGroups,
        ),
      }),
    );
    return { approvalId, status: approval.status, message: 'posted', ...posted };
  },
};

/**
 * The hold's wait: its token is kept with the hold (never posted: the release update in Slack
 * says the release is held, and only an operator command answers). A promote or knowing abort
 * that came before this token gets it now.
 */
async function holdWait(
  deps: Pick<ApprovalStepDependencies, 'ledger' | 'approvals' | 'callbacks' | 'now'>,
  record: ReleaseRecord,
  approval: ApprovalRecord,
  taskToken: string,
): Promise<RequestApprovalOutcome> {
  const at = deps.now().toISOString();
  let held = approval;
  if (held.status === ApprovalStatus.Pending && record.control?.promoted) {
    held = (
      await deps.approvals.decide(approval.approvalId, {
        status: ApprovalStatus.Approved,
        by: 'greenlight',
        at,
        via: 'promote',
        reason: record.reason,
      })
    ).record;
  }
  if (held.status !== ApprovalStatus.Pending) {
    await deliverDecision(deps.callbacks, held, taskToken);
    return { approvalId: held.approvalId, status: held.status, message: 'none' };
  }
  const round = holdRoundOf(record);
  await deps.ledger.recordStep(
    record.releaseId,
    stepRecord(deps, {
      key: round > 1 ? `hold-wait#${round}` : 'hold-wait',
      step: 'hold',
      outcome: 'held',
      phase: record.phase,
      greenPercent: record.greenPercent,
      reason: `Held, forward-only, with ${record.greenPercent}% on green${round > 1 ? ` (round ${round} of the hold)` : ''}: waiting for "greenlight promote ${record.releaseId}" or "greenlight abort ${record.releaseId} --knowingly"`,
    }),
  );
  return { approvalId: held.approvalId, status: held.status, message: 'none' };
}

function requestReason(
  approval: ApprovalRecord,
  channel: string,
  approvers: readonly string[],
  groups: readonly string[],
): string {
  const who = [...approvers, ...groups.map((group) => `group ${group}`)].join(', ');
  return `Approval ${approval.approvalId} requested in Slack channel ${channel} from ${who}; waiting until ${approval.expiresAt}`;
}
