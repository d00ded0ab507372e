import type { SlackMessenger } from './messenger.ts';
import type { SlackApprovalSettings } from './settings.ts';

/**
 * Whether `userId` may decide: listed by id, or a member of one of the approver groups. Group
 * membership is read at click time (never cached across clicks), so removing someone from the
 * group takes effect at once. A failed lookup throws: it never passes as "not an approver" or
 * as "approver".
 */
export async function isApprover(
  settings: Pick<SlackApprovalSettings, 'approvers' | 'approverGroups'>,
  userId: string,
  slack: Pick<SlackMessenger, 'listUsergroupMembers'>,
): Promise<boolean> {
  if (settings.approvers.includes(userId)) return true;
  for (const group of settings.approverGroups) {
    const members = await slack.listUsergroupMembers(group);
    if (members.includes(userId)) return true;
  }
  return false;
}
