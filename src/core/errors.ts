import { boundRejection } from './bound-rejection.ts';

/**
 * Typed errors. Their `name`s are public API: the workflow's Retry and Catch match on them
 * (Lambda reports `error.name` as the error type), and operators read them in the console.
 */

export const ErrorName = {
  InvalidReleaseEvent: 'InvalidReleaseEvent',
  InvalidTransition: 'InvalidTransition',
  GreenProvisionFailed: 'GreenProvisionFailed',
  GreenTestFailed: 'GreenTestFailed',
  GateAlarmMissing: 'GateAlarmMissing',
  GateAlarmUnusable: 'GateAlarmUnusable',
  AlarmGateFailed: 'AlarmGateFailed',
  MetricGateFailed: 'MetricGateFailed',
  GateInconclusive: 'GateInconclusive',
  TargetStateConflict: 'TargetStateConflict',
  ReleaseNotFound: 'ReleaseNotFound',
  ReleaseRolledBack: 'ReleaseRolledBack',
  InvalidStepInput: 'InvalidStepInput',
  BakeNotStarted: 'BakeNotStarted',
  /** An approver rejected the release (SendTaskFailure on the approval's token). */
  ApprovalRejected: 'ApprovalRejected',
  /** Nobody decided in time, and the service's timeout action is to reject. */
  ApprovalTimedOut: 'ApprovalTimedOut',
  ApprovalNotFound: 'ApprovalNotFound',
  /** A request to the Slack interactivity endpoint that must change nothing (401/403). */
  SlackRequestRejected: 'SlackRequestRejected',
  SlackApiFailed: 'SlackApiFailed',
  /** An operator aborted the release: the workflow rolls back now. */
  OperatorAborted: 'OperatorAborted',
  /**
   * An operator promoted the release: the bake under way ends now (its wait fails with this,
   * which the workflow catches into the gate check), and the next weight is 100%.
   */
  OperatorPromoted: 'OperatorPromoted',
  /**
   * An approval wait returned success but the ledger holds no approval taken by an approver
   * through Slack or `greenlight approve`: a task token was answered by someone else.
   */
  ApprovalNotRecorded: 'ApprovalNotRecorded',
  IdleColourStillDraining: 'IdleColourStillDraining',
  TeardownDeferred: 'TeardownDeferred',
  /** The release is older (by its request's time) than the one live; not asked for explicitly. */
  OlderThanLive: 'OlderThanLive',
  /** A newer request of the service superseded this one while it waited (policy "supersede"). */
  ReleaseSuperseded: 'ReleaseSuperseded',
  /** The service was busy and its lock policy is "reject". */
  ServiceBusy: 'ServiceBusy',
  /**
   * A release's update thread has no parent message yet (another delivery is posting it), or
   * kept changing under this one: the event is redelivered (Lambda's asynchronous retries).
   */
  ReleaseUpdateNotReady: 'ReleaseUpdateNotReady',
  /** A migration greenlight will not run as declared (an expand that breaks blue); nothing ran. */
  MigrationRefused: 'MigrationRefused',
  /** The migration runner failed (a function error, a Lambda timeout) or did not answer in time. */
  MigrationRunnerFailed: 'MigrationRunnerFailed',
  /** The runner answered something that is not a MigrationRunnerReply for the migration asked. */
  MigrationRunnerReplyInvalid: 'MigrationRunnerReplyInvalid',
  /** Blue failed its own tests after the expand ran; the expand was reverted. */
  MigrationBrokeBlue: 'MigrationBrokeBlue',
} as const;
export type ErrorName = (typeof ErrorName)[keyof typeof ErrorName];

/** Field-level reason for a rejected input: `path` is dotted (`detail.version`). */
export interface FieldIssue {
  path: string;
  message: string;
}

export abstract class GreenlightError extends Error {
  abstract override readonly name: ErrorName;
  /** Structured facts for the ledger and logs; never secrets. */
  readonly details: Record<string, unknown>;

  constructor(message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.details = details;
  }
}

/**
 * The event is malformed or names an unregistered service. Never retried. Its message and
 * issues are bounded (boundRejection): they echo the event, and they become a ledger item, a
 * Release Rejected event and the execution's failure cause, each with a size limit.
 */
export class InvalidReleaseEvent extends GreenlightError {
  override readonly name = ErrorName.InvalidReleaseEvent;
  /** The first issues found, each cut to its budget. */
  readonly issues: readonly FieldIssue[];
  /** How many more issues were found than `issues` holds. */
  readonly issuesOmitted: number;

  constructor(issues: readonly FieldIssue[]) {
    const bounded = boundRejection(issues);
    super(bounded.reason, { issues: bounded.issues, issuesOmitted: bounded.issuesOmitted });
    this.issues = bounded.issues;
    this.issuesOmitted = bounded.issuesOmitted;
  }
}

/** A phase change that the release state machine does not allow. A bug or a race; never retried. */
export class InvalidTransition extends GreenlightError {
  override readonly name = ErrorName.InvalidTransition;
}

/** Green could not be provisioned (bad artifact, update failed, deadline passed). */
export class GreenProvisionFailed extends GreenlightError {
  override readonly name = ErrorName.GreenProvisionFailed;
}

/** Green failed its pre-traffic tests; nothing has moved. */
export class GreenTestFailed extends GreenlightError {
  override readonly name = ErrorName.GreenTestFailed;
}

/** A gate alarm named in the service configuration does not exist (AWS would call it OK). */
export class GateAlarmMissing extends GreenlightError {
  override readonly name = ErrorName.GateAlarmMissing;
}

/**
 * A gate alarm exists but cannot guard green: it has no data (INSUFFICIENT_DATA), or it
 * watches something other than green without being marked service-wide. Nothing has moved.
 */
export class GateAlarmUnusable extends GreenlightError {
  override readonly name = ErrorName.GateAlarmUnusable;
}

/** An alarm gate found an alarm in ALARM after a bake. */
export class AlarmGateFailed extends GreenlightError {
  override readonly name = ErrorName.AlarmGateFailed;
}

/** A metric gate found green worse than its threshold or than blue. */
export class MetricGateFailed extends GreenlightError {
  override readonly name = ErrorName.MetricGateFailed;
}

/**
 * A metric gate still had too little data when the step's holds ran out. The release is rolled
 * back: a gate that could not look is not a gate that passed.
 */
export class GateInconclusive extends GreenlightError {
  override readonly name = ErrorName.GateInconclusive;
}

/** The target changed under us (someone else moved the alias or published a version). */
export class TargetStateConflict extends GreenlightError {
  override readonly name = ErrorName.TargetStateConflict;
}

export class ReleaseNotFound extends GreenlightError {
  override readonly name = ErrorName.ReleaseNotFound;
}

/** A step got input the workflow should never send: a bug in the definition, never retried. */
export class InvalidStepInput extends GreenlightError {
  override readonly name = ErrorName.InvalidStepInput;
}

/** The bake's timer ended before its watch had stored the callback token; retried shortly. */
export class BakeNotStarted extends GreenlightError {
  override readonly name = ErrorName.BakeNotStarted;
}

/**
 * An approval id (a Slack button's, an operator command's) that the store does not hold: deleted,
 * or from another stage's table.
 */
export class ApprovalNotFound extends GreenlightError {
  override readonly name = ErrorName.ApprovalNotFound;
}

/**
 * An operator aborted the release. Fails the bake or approval the workflow waits on, or the
 * next step that would move the release on, so that the workflow goes to Rollback.
 */
export class OperatorAborted extends GreenlightError {
  override readonly name = ErrorName.OperatorAborted;
}

/**
 * A verdict the ledger records (an approver's rejection, a timeout, an operator's promote),
 * raised again by the step that checks a callback against the ledger: the workflow's Catch
 * matches on these names whoever raises them.
 */
export class ApprovalRejected extends GreenlightError {
  override readonly name = ErrorName.ApprovalRejected;
}

export class ApprovalTimedOut extends GreenlightError {
  override readonly name = ErrorName.ApprovalTimedOut;
}

export class OperatorPromoted extends GreenlightError {
  override readonly name = ErrorName.OperatorPromoted;
}

/**
 * An approval wait ended with SendTaskSuccess while the ledger holds no approval by an
 * approver: a task token alone never approves. Caught into Rollback before traffic moves on.
 */
export class ApprovalNotRecorded extends GreenlightError {
  override readonly name = ErrorName.ApprovalNotRecorded;
}

/**
 * The idle colour was asked to scale down before its drain time passed: in-flight requests or
 * sticky clients may still reach it. Retried later, never forced.
 */
export class IdleColourStillDraining extends GreenlightError {
  override readonly name = ErrorName.IdleColourStillDraining;
}

/**
 * The idle colour cannot be torn down yet (an ALB slot may still serve draining or sticky
 * requests). Thrown so that Scheduler tries again later; the sweeper tries the next day.
 */
export class TeardownDeferred extends GreenlightError {
  override readonly name = ErrorName.TeardownDeferred;
}

/**
 * The release would put an older build live than the one serving: its request's time (the
 * order CI built them in) is before the live release's. Refused unless the event says
 * `allowOlder: true`. Nothing was touched; never retried.
 */
export class OlderThanLive extends GreenlightError {
  override readonly name = ErrorName.OlderThanLive;
}

/** A newer request took this one's place in its service's queue; nothing was touched. */
export class ReleaseSuperseded extends GreenlightError {
  override readonly name = ErrorName.ReleaseSuperseded;
}

/** Another release of the service was under way or waiting, under lock policy "reject". */
export class ServiceBusy extends GreenlightError {
  override readonly name = ErrorName.ServiceBusy;
}

export function isGreenlightError(error: unknown): error is GreenlightError {
  return error instanceof GreenlightError;
}

export class ReleaseUpdateNotReady extends GreenlightError {
  override readonly name = ErrorName.ReleaseUpdateNotReady;
}

/**
 * greenlight refused to run the migration as its declared kind: `plan` showed statements that
 * break blue or block its writes (the classifier's reasons are in `details`). Nothing ran;
 * never retried.
 */
export class MigrationRefused extends GreenlightError {
  override readonly name = ErrorName.MigrationRefused;
}

/**
 * The runner failed: Lambda answered with a function error (the runner's `errorType` and
 * `errorMessage` are in `details`; a Lambda timeout is one, "Task timed out"), or it did not
 * answer within the service's `migrations.timeoutSeconds`. Not retried: a retry would only ask
 * again what failed, and `apply` is the runner's to make idempotent, not greenlight's to hope.
 */
export class MigrationRunnerFailed extends GreenlightError {
  override readonly name = ErrorName.MigrationRunnerFailed;
}

/** The runner's answer is not JSON, not a MigrationRunnerReply, or about another migration. */
export class MigrationRunnerReplyInvalid extends GreenlightError {
  override readonly name = ErrorName.MigrationRunnerReplyInvalid;
}

/**
 * Blue's own tests failed against blue once the expand ran: the expand was not harmless to the
 * code serving traffic. It was reverted before this was thrown; traffic never moved.
 */
export class MigrationBrokeBlue extends GreenlightError {
  override readonly name = ErrorName.MigrationBrokeBlue;
}
