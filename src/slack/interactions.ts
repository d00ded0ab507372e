import { ApprovalNotFound } from '../core/errors.ts';
import type { ReleaseLedger, ReplayGuard } from '../core/ports.ts';
import { ApprovalStatus } from '../core/records.ts';
import type { ServiceRegistryReader } from '../core/registry.ts';
import { isApprover } from './approvers.ts';
import { type DecisionDependencies, decideApproval } from './decide-approval.ts';
import { RejectionReason, SlackRequestRejected } from './errors.ts';
import { alreadyDecidedText, notAnApproverText } from './messages.ts';
import type { SlackMessenger } from './messenger.ts';
import { ApprovalAction, type ApprovalClick, parseInteraction } from './payload.ts';
import { slackApprovalOf } from './settings.ts';
import { maxClockSkewSeconds, verifySlackRequest } from './signature.ts';

/** Structured log lines; Powertools' Logger fits. Attributes never hold tokens or bodies. */
export interface InteractionLog {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

export interface InteractionDependencies extends DecisionDependencies {
  signingSecret: string;
  registry: Pick<ServiceRegistryReader, 'find'>;
  ledger: Pick<ReleaseLedger, 'getRelease' | 'updateRelease' | 'listSteps' | 'recordStep'>;
  slack: SlackMessenger;
  replayGuard: ReplayGuard;
  log: InteractionLog;
}

export interface InteractionRequest {
  /** Header names in lower case, as function URLs deliver them. */
  headers: Readonly<Record<string, string | undefined>>;
  /** The body exactly as sent, decoded from base64 if the platform encoded it. */
  rawBody: string;
}

export interface InteractionResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

// Long enough that a replay is refused for as long as its timestamp would still be accepted.
const replayMemoryMs = (2 * maxClockSkewSeconds + 60) * 1000;

/**
 * Handles one request to the Slack interactivity endpoint. Verify → remember the signature →
 * parse → load the approval → check the clicker is an approver → decide (first wins) → callback,
 * ledger, message. Refusals (401 forged/stale/replayed, 403 not an approver) change nothing:
 * no decision, no callback, no message update.
 *
 * Slack shows nothing from the HTTP answer to a button click; what the clicker should read
 * ("already approved by …") goes to them as an ephemeral message.
 */
export async function handleSlackInteraction(
  request: InteractionRequest,
  deps: InteractionDependencies,
): Promise<InteractionResponse> {
  const now = deps.now();
  try {
    const signature = verifySlackRequest(
      {
        timestamp: request.headers['x-slack-request-timestamp'],
        signature: request.headers['x-slack-signature'],
        rawBody: request.rawBody,
      },
      deps.signingSecret,
      now,
    );
    // After the HMAC: unsigned junk must not fill the table.
    const first = await deps.replayGuard.remember(
      signature,
      new Date(now.getTime() + replayMemoryMs),
      now,
    );
    if (!first) {
      throw new SlackRequestRejected(RejectionReason.Replayed, 'Request was already received');
    }
  } catch (error) {
    if (!(error instanceof SlackRequestRejected)) return failed(deps, error);
    deps.log.warn('Slack request refused', { reason: error.reason });
    return answer(error.status, error.message);
  }

  const parsed = parseInteraction(request.rawBody);
  if (parsed.kind === 'invalid') {
    deps.log.warn('Slack interaction not understood', { reason: parsed.reason });
    return answer(400, parsed.reason);
  }
  if (parsed.kind === 'ignored') return answer(200, '');

  try {
    return await handleClick(parsed.click, deps);
  } catch (error) {
    if (error instanceof ApprovalNotFound) {
      deps.log.warn('Slack click on an unknown approval', { approvalId: parsed.click.approvalId });
      return answer(404, 'No such approval');
    }
    return failed(deps, error);
  }
}

async function handleClick(
  click: ApprovalClick,
  deps: InteractionDependencies,
): Promise<InteractionResponse> {
  const facts = { approvalId: click.approvalId, user: click.user.id, action: click.action };
  const approval = await deps.approvals.get(click.approvalId);
  if (!approval) throw new ApprovalNotFound(`Approval ${click.approvalId} is not in the ledger`);

  const service = await deps.registry.find(approval.service);
  // The release's strategy may name its own approvers.
  const strategy = (await deps.ledger.getRelease(approval.releaseId))?.strategy;
  const settings = service ? slackApprovalOf(service, strategy) : undefined;
  if (!settings || !(await isApprover(settings, click.user.id, deps.slack))) {
    deps.log.warn('Slack click by a non-approver refused', facts);
    await tell(
      deps,
      click,
      approval.slack?.channel,
      notAnApproverText(approval.service, settings?.approvers ?? []),
    );
    return answer(403, 'Not an approver for this service');
  }

  const result = await decideApproval(deps, {
    approvalId: click.approvalId,
    status:
      click.action === ApprovalAction.Approve ? ApprovalStatus.Approved : ApprovalStatus.Rejected,
    by: click.user.id,
    ...(click.user.name === undefined ? {} : { byName: click.user.name }),
    via: 'slack',
  });
  if (!result.decided) {
    deps.log.info('Slack click on a decided approval', { ...facts, status: result.record.status });
    const { taskToken: _token, ...decided } = result.record;
    await tell(deps, click, approval.slack?.channel, alreadyDecidedText(decided));
    return answer(200, '');
  }
  deps.log.info('Approval decided in Slack', {
    ...facts,
    status: result.record.status,
    delivered: result.delivery.delivered,
    ...(result.delivery.delivered ? {} : { workflow: result.delivery.reason }),
  });
  if (typeof result.message === 'object') {
    deps.log.warn('Approval message not updated', { ...facts, error: result.message.failed });
  }
  return answer(200, '');
}

/** An ephemeral note to the clicker; failing to send it changes no outcome. */
async function tell(
  deps: InteractionDependencies,
  click: ApprovalClick,
  channel: string | undefined,
  text: string,
): Promise<void> {
  const where = click.channel ?? channel;
  if (!where) return;
  try {
    await deps.slack.postEphemeral(where, click.user.id, text);
  } catch (error) {
    deps.log.warn('Ephemeral answer not sent', {
      approvalId: click.approvalId,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

function failed(deps: InteractionDependencies, error: unknown): InteractionResponse {
  deps.log.error('Slack interaction failed', {
    error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
  });
  return answer(500, 'Something went wrong; click again to see where the approval stands.');
}

function answer(statusCode: number, body: string): InteractionResponse {
  return { statusCode, headers: { 'content-type': 'text/plain; charset=utf-8' }, body };
}
