import { ErrorName, GreenlightError } from '../core/errors.ts';

/**
 * Error names of the approval flow, a part of core's ErrorName. Public API: the workflow's
 * Catch matches `ApprovalRejected` and `ApprovalTimedOut`.
 */
export const ApprovalErrorName = {
  /** The error SendTaskFailure reports when an approver rejects a release. */
  ApprovalRejected: ErrorName.ApprovalRejected,
  /** The error SendTaskFailure reports when a retried wait finds the approval already timed out. */
  ApprovalTimedOut: ErrorName.ApprovalTimedOut,
  ApprovalNotFound: ErrorName.ApprovalNotFound,
  SlackRequestRejected: ErrorName.SlackRequestRejected,
  SlackApiFailed: ErrorName.SlackApiFailed,
} as const;
export type ApprovalErrorName = (typeof ApprovalErrorName)[keyof typeof ApprovalErrorName];

/** Why a request to the interactivity endpoint was refused; each maps to one HTTP status. */
export const RejectionReason = {
  MissingSignature: 'missing-signature',
  StaleTimestamp: 'stale-timestamp',
  BadSignature: 'bad-signature',
  Replayed: 'replayed',
  NotAnApprover: 'not-an-approver',
} as const;
export type RejectionReason = (typeof RejectionReason)[keyof typeof RejectionReason];

/**
 * A request to the Slack endpoint that must change nothing: unsigned, forged, stale or replayed
 * (401), or from someone who may not decide (403). `expose` as in middy: safe to tell the caller.
 */
export class SlackRequestRejected extends GreenlightError {
  override readonly name = ErrorName.SlackRequestRejected;
  readonly reason: RejectionReason;
  readonly status: 401 | 403;
  readonly expose = true;

  constructor(reason: RejectionReason, message: string, details: Record<string, unknown> = {}) {
    super(message, { reason, ...details });
    this.reason = reason;
    this.status = reason === RejectionReason.NotAnApprover ? 403 : 401;
  }
}

/**
 * A Slack Web API call failed. Carries the method and Slack's error code (`channel_not_found`,
 * `invalid_auth`, `ratelimited`) and never the request, which holds the bot token. The workflow
 * may retry it on the request-approval task.
 */
export class SlackApiFailed extends GreenlightError {
  override readonly name = ErrorName.SlackApiFailed;
  readonly method: string;
  readonly slackError: string;

  constructor(method: string, slackError: string) {
    super(`Slack ${method} failed: ${slackError}`, { method, slackError });
    this.method = method;
    this.slackError = slackError;
  }
}

export function isSlackRequestRejected(error: unknown): error is SlackRequestRejected {
  return error instanceof SlackRequestRejected;
}
