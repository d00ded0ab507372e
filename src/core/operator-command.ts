import { ServiceName } from './release-event.ts';
import * as z from './zod.ts';

/** `detail-type` of the events operators put on the bus to steer releases (`greenlight pause`, ...). */
export const OperatorCommandDetailType = 'Operator Command';

/**
 * What an operator may ask. `pause`, `resume`, `promote` and `abort` steer a release in flight;
 * `rollback` puts a service's last finalized release back on blue while blue is still warm;
 * `retry` starts a failed release again as its next attempt.
 */
export const OperatorCommandName = {
  Pause: 'pause',
  Resume: 'resume',
  Promote: 'promote',
  Abort: 'abort',
  Rollback: 'rollback',
  Retry: 'retry',
} as const;
export type OperatorCommandName = (typeof OperatorCommandName)[keyof typeof OperatorCommandName];

// What GetCallerIdentity may return (IAM User Guide, "IAM identifiers"): an IAM or STS ARN of
// printable ASCII; the length is STS's for an assumed-role ARN (AssumedRoleUser.Arn, 20-2048).
const PrincipalArn = z.lazy(() =>
  z
    .string()
    .check(
      z.maxLength(2048),
      z.regex(
        /^arn:aws(?:-[a-z]+)*:(?:iam|sts)::\d{12}:[!-~]+$/,
        'must be an IAM or STS principal ARN',
      ),
    ),
);
const ReleaseId = z.lazy(() =>
  z.string().check(z.regex(/^[A-Za-z0-9_-]{1,80}$/, 'must be a release id')),
);
const who = {
  /** Who asks: the CLI sends --actor, else $GITHUB_ACTOR / $USER. */
  actor: z.string().check(z.minLength(1), z.maxLength(128)),
  /** Why; recorded in the ledger beside who. */
  reason: z.string().check(z.minLength(1), z.maxLength(512)),
  /**
   * The AWS principal the sender's credentials belong to (STS GetCallerIdentity), which the
   * CLI reads and sends. The bus does not vouch for it: the bus policy decides who may put a
   * command at all, and CloudTrail records who put this one.
   */
  principalArn: z.optional(PrincipalArn),
  /**
   * `abort` of a forward-only release (its irreversible migration ran) and `rollback` over an
   * irreversible migration: roll back anyway, to code the data may no longer fit. Without it
   * both are refused with the reason; with it the ledger records that it was knowing.
   */
  knowingly: z.optional(z.literal(true)),
};

/** `detail` of an Operator Command event, schema version 1. */
export const OperatorCommandV1 = z.lazy(() =>
  z.discriminatedUnion('command', [
    z.strictObject({
      schemaVersion: z.literal(1),
      command: z.enum([
        OperatorCommandName.Pause,
        OperatorCommandName.Resume,
        OperatorCommandName.Promote,
        OperatorCommandName.Abort,
        OperatorCommandName.Retry,
      ]),
      releaseId: ReleaseId,
      ...who,
    }),
    z.strictObject({
      schemaVersion: z.literal(1),
      command: z.literal(OperatorCommandName.Rollback),
      service: ServiceName,
      ...who,
    }),
  ]),
);
export type OperatorCommandV1 = z.infer<typeof OperatorCommandV1>;

/** EventBridge pattern of the rule that hands operator commands to the operator function. */
export const operatorRulePattern = {
  'detail-type': [OperatorCommandDetailType],
} as const;

/**
 * The outcome of one command, kept in the ledger under the command's id (the EventBridge event
 * id, which PutEvents returns to the sender) so that the CLI can say what happened, and so that
 * a redelivered event changes nothing.
 */
export interface CommandRecord {
  commandId: string;
  command: OperatorCommandName;
  actor: string;
  reason: string;
  /** The sender's AWS principal, as the CLI read it from STS and sent it (see OperatorCommandV1). */
  principalArn?: string;
  /** The release it applied to (for `rollback`, the service's last release). */
  releaseId?: string;
  service?: string;
  outcome: 'applied' | 'refused';
  /** What happened, or why not: "Paused by dana at 10% on green: ...". */
  message: string;
  at: string;
  /** `retry`: the new attempt's release id. */
  newReleaseId?: string;
}
