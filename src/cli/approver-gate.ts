import { approversForPrincipal } from '../core/caller-identity.ts';
import type { ApprovalRecord } from '../core/records.ts';
import type { ServiceRegistryReader } from '../core/registry.ts';
import { approvalOf } from '../core/service-config.ts';
import type { SlackMessenger } from '../slack/messenger.ts';

/** What the CLI reads to tell whether a caller may decide an approval. */
export interface ApproverGateDependencies {
  registry: Pick<ServiceRegistryReader, 'find'>;
  /** The release's strategy, whose approval may override the service's. */
  strategyOf(releaseId: string): Promise<string | undefined>;
  /** Only with SLACK_BOT_TOKEN: members of approver groups are then approvers too. */
  slack?: Pick<SlackMessenger, 'listUsergroupMembers'>;
}

export type ApproverGate =
  /** The service maps no AWS principal to approvers: whoever IAM lets decide, decides. */
  | { gate: 'iam'; service: string }
  /** The caller's principal maps to `approver`, who may decide. */
  | { gate: 'approvers'; service: string; approver: string }
  /** The service maps principals, and the caller's maps to no approver who may decide. */
  | { gate: 'refused'; service: string; message: string };

/**
 * Whether the principal `callerArn` may decide `approval`, by the service's approval config as
 * registered now (the release's strategy's approval when it has one). With a `principals`
 * mapping, only a principal that maps to a listed approver (or, with a Slack token, to a member
 * of an approver group) may; without one, IAM is the only gate, and the caller is told so.
 *
 * This runs in the caller's own process with the caller's own credentials: it keeps honest
 * people from deciding what they should not, and it records who they are. Whoever IAM lets
 * write the ledger and call SendTask* can still do so without greenlight: IAM stays the gate.
 */
export async function checkApprover(
  deps: ApproverGateDependencies,
  approval: Pick<ApprovalRecord, 'service' | 'releaseId'>,
  callerArn: string,
): Promise<ApproverGate> {
  const service = await deps.registry.find(approval.service);
  if (!service) {
    return {
      gate: 'refused',
      service: approval.service,
      message: `${approval.service} is not registered, so its approvers cannot be checked; nothing was decided`,
    };
  }
  const strategy = (await deps.strategyOf(approval.releaseId)) ?? service.defaultStrategy;
  const config = Object.hasOwn(service.strategies, strategy)
    ? approvalOf(service, strategy)
    : service.approval;
  if (config.type !== 'slack' || config.principals === undefined) {
    return { gate: 'iam', service: service.name };
  }
  const mapped = approversForPrincipal(config.principals, callerArn);
  for (const approver of mapped) {
    if (config.approvers.includes(approver)) {
      return { gate: 'approvers', service: service.name, approver };
    }
  }
  if (deps.slack && config.approverGroups.length > 0) {
    for (const group of config.approverGroups) {
      const members = await deps.slack.listUsergroupMembers(group);
      const approver = mapped.find((id) => members.includes(id));
      if (approver) return { gate: 'approvers', service: service.name, approver };
    }
  }
  const why =
    mapped.length === 0
      ? 'maps to no approver'
      : `maps to ${mapped.join(', ')}, who ${mapped.length === 1 ? 'is' : 'are'} not among its approvers${config.approverGroups.length > 0 && !deps.slack ? ' (approver groups are checked only with SLACK_BOT_TOKEN set)' : ''}`;
  return {
    gate: 'refused',
    service: service.name,
    message: `AWS principal ${callerArn} ${why} of ${service.name} (approval.principals in its configuration); nothing was decided. Decide in Slack, or have the principal mapped to an approver`,
  };
}
