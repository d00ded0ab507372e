import type { ApprovalStage } from '../core/records.ts';
import { ApprovalTimeoutAction, approvalOf, type ServiceConfig } from '../core/service-config.ts';

export const TimeoutAction = ApprovalTimeoutAction;
export type TimeoutAction = ApprovalTimeoutAction;

/** What the Slack side needs to know about a service's approval. */
export interface SlackApprovalSettings {
  channel: string;
  /** Slack user ids (`U…`/`W…`) allowed to decide. */
  approvers: readonly string[];
  /** Slack user group ids (`S…`) whose members may decide too. */
  approverGroups: readonly string[];
  timeoutSeconds: number;
  onTimeout: TimeoutAction;
  stages: readonly ApprovalStage[];
}

/**
 * The Slack approval a release of `service` needs (its strategy's when that overrides the
 * service's), or undefined when it needs none.
 */
export function slackApprovalOf(
  service: ServiceConfig,
  strategy: string = service.defaultStrategy,
): SlackApprovalSettings | undefined {
  const approval = approvalOf(service, strategy);
  if (approval.type !== 'slack') return undefined;
  return {
    channel: approval.channel,
    approvers: approval.approvers,
    approverGroups: approval.approverGroups,
    timeoutSeconds: approval.timeoutSeconds,
    onTimeout: approval.onTimeout,
    stages: approval.stages,
  };
}
