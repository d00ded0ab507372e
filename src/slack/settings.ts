import type { ServiceConfig } from '../core/service-config.ts';

/** A day: long enough for a human across time zones, short enough not to hold the lock forever. */
export const defaultApprovalTimeoutSeconds = 24 * 3600;

export const TimeoutAction = { Reject: 'reject' } as const;
export type TimeoutAction = (typeof TimeoutAction)[keyof typeof TimeoutAction];

/** What the Slack side needs to know about a service's approval. */
export interface SlackApprovalSettings {
  channel: string;
  /** Slack user ids (`U…`/`W…`) allowed to decide. */
  approvers: readonly string[];
  /** Slack user group ids (`S…`) whose members may decide too. */
  approverGroups: readonly string[];
  timeoutSeconds: number;
  onTimeout: TimeoutAction;
}

/**
 * The service's Slack approval, with defaults, or undefined when it needs none. Reads the
 * optional `approverGroups`, `timeoutSeconds` and `onTimeout` fields proposed for the service
 * schema, so that they take effect as soon as the schema accepts them.
 */
export function slackApprovalOf(service: ServiceConfig): SlackApprovalSettings | undefined {
  const approval = service.approval;
  if (approval.type !== 'slack') return undefined;
  const proposed = approval as typeof approval & {
    approverGroups?: readonly string[];
    timeoutSeconds?: number;
    onTimeout?: TimeoutAction;
  };
  return {
    channel: approval.channel,
    approvers: approval.approvers,
    approverGroups: proposed.approverGroups ?? [],
    timeoutSeconds: proposed.timeoutSeconds ?? defaultApprovalTimeoutSeconds,
    onTimeout: proposed.onTimeout ?? TimeoutAction.Reject,
  };
}
