/**
 * Who is calling, as AWS sees it. A name typed on a command line (`--actor dana`) says who the
 * caller claims to be; the principal whose credentials signed the calls is who AWS let in. The
 * ledger keeps both, side by side, and says where each came from.
 */

/**
 * The answer of STS GetCallerIdentity (AWS STS API Reference, "GetCallerIdentity"): the ARN
 * of the credentials' principal (an IAM user, or an assumed-role session such as an IAM
 * Identity Center user's), its account, and its unique id (the `aws:userid` policy variable).
 */
export interface CallerIdentity {
  arn: string;
  account: string;
  userId: string;
}

/** Port: who the current credentials belong to. The CLI asks once per command. */
export interface CallerIdentitySource {
  whoAmI(): Promise<CallerIdentity>;
}

/** How the identity beside a decision or command was established. */
export const IdentitySource = {
  /**
   * The AWS principal whose credentials the greenlight CLI ran with, from STS
   * GetCallerIdentity. The CLI writes it, so it is exactly as trustworthy as the IAM policy
   * that lets that principal write the ledger or put the command: IAM is the gate.
   */
  AwsSts: 'aws-sts',
  /** A Slack user id from a click whose request signature the interactivity function verified. */
  SlackSignature: 'slack-signature',
} as const;
export type IdentitySource = (typeof IdentitySource)[keyof typeof IdentitySource];

/** Who did something, as a ledger entry records it beside the step. */
export interface RecordedIdentity {
  source: IdentitySource;
  /** What the person said they are: `--actor`, or the Slack user's name. */
  actor: string;
  /** `aws-sts`: the caller's ARN. */
  principalArn?: string;
  /** `aws-sts`: the approver the principal maps to in the service's approval config. */
  approver?: string;
  /** `slack-signature`: the Slack user id that clicked. */
  slackUserId?: string;
}

/** One line on who did it, for people: the typed name, then what vouches for it. */
export function describeIdentity(identity: RecordedIdentity): string {
  switch (identity.source) {
    case IdentitySource.AwsSts:
      return `${identity.actor}, AWS principal ${identity.principalArn ?? '(unknown)'} (STS GetCallerIdentity)${identity.approver ? `, deciding as approver ${identity.approver}` : ''}`;
    case IdentitySource.SlackSignature:
      return `${identity.actor}${identity.slackUserId && identity.slackUserId !== identity.actor ? ` (${identity.slackUserId})` : ''}, Slack user (request signature verified)`;
  }
}

/**
 * A principal ARN as an approver mapping may name it (IAM User Guide, "IAM identifiers": ARNs):
 * - `arn:aws:iam::ACCOUNT:user/[PATH/]NAME`: that IAM user, exactly;
 * - `arn:aws:iam::ACCOUNT:role/[PATH/]NAME`: every session of that role, which STS reports as
 *   `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION` (without the role's path);
 * - `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`: one session name of a role, exactly: how
 *   one IAM Identity Center (SSO) user appears, its session name being the user's name.
 * Names are IAM's characters only (`[\w+=,.@-]`, user and role names 1-64, session names 2-64),
 * so no wildcard (`*`, `?`) and no policy variable can stand in one.
 */
export const MappablePrincipalArnPattern =
  /^arn:aws(?:-[a-z]+)*:(?:iam::\d{12}:(?:user|role)\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}|sts::\d{12}:assumed-role\/[\w+=,.@-]{1,64}\/[\w+=,.@-]{2,64})$/;

interface ParsedPrincipal {
  partition: string;
  account: string;
  kind: 'user' | 'role' | 'assumed-role';
  /** User or role name, without the path. */
  name: string;
  session?: string;
}

/** The parts of a principal ARN of the three forms above; undefined for any other ARN. */
export function parsePrincipalArn(arn: string): ParsedPrincipal | undefined {
  if (!MappablePrincipalArnPattern.test(arn)) return undefined;
  const [, partition = '', service, , account = '', resource = ''] = arn.split(':');
  const [type, ...rest] = resource.split('/');
  if (service === 'sts') {
    const [name = '', session = ''] = rest;
    return { partition, account, kind: 'assumed-role', name, session };
  }
  return {
    partition,
    account,
    kind: type === 'user' ? 'user' : 'role',
    name: rest[rest.length - 1] ?? '',
  };
}

/** One entry of a service's approver mapping: this principal decides as this approver. */
export interface PrincipalApprover {
  arn: string;
  approver: string;
}

/**
 * The approver ids `callerArn` maps to: entries naming it exactly, and role entries whose
 * role it is a session of (same partition, account and role name). Case counts: write the
 * ARN as IAM shows it.
 */
export function approversForPrincipal(
  mapping: readonly PrincipalApprover[],
  callerArn: string,
): string[] {
  const caller = parsePrincipalArn(callerArn);
  const found = mapping.filter((entry) => {
    if (entry.arn === callerArn) return true;
    const mapped = parsePrincipalArn(entry.arn);
    return (
      mapped?.kind === 'role' &&
      caller?.kind === 'assumed-role' &&
      mapped.partition === caller.partition &&
      mapped.account === caller.account &&
      mapped.name === caller.name
    );
  });
  return [...new Set(found.map((entry) => entry.approver))];
}
