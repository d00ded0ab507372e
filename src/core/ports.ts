import type { EventEcho } from './bound-rejection.ts';
import type { MetricQuery, MetricQueryResult } from './metric-gate.ts';
import type { MigrationRunnerReply, MigrationRunnerRequest } from './migration.ts';
import type { CommandRecord } from './operator-command.ts';
import type {
  AlarmEvidence,
  ApprovalRecord,
  ApprovalStatus,
  BakeRecord,
  Colours,
  IdleCost,
  IdleTeardownClaim,
  LifecycleEvent,
  ReleaseRecord,
  ReleaseSpec,
  StepRecord,
  TestEvidence,
} from './records.ts';
import type { ReleaseRequestedV1 } from './release-event.ts';
import type { ReleaseUpdateThread } from './release-updates.ts';
import type { LockPolicy, MigrationsConfig, ServiceConfig } from './service-config.ts';

/** Durable record of every release and step: the audit trail `greenlight status` reads. */
export interface ReleaseLedger {
  /**
   * Creates the release item unless one exists. Returns the stored item either way, so the
   * caller can tell a duplicate (another execution owns it) from its own retry.
   */
  createRelease(record: ReleaseRecord): Promise<{ created: boolean; record: ReleaseRecord }>;
  getRelease(releaseId: string): Promise<ReleaseRecord | undefined>;
  /**
   * Writes the release's new state, only if its phase is still one of `expectedPhases`
   * (optimistic concurrency: two writers never both win).
   */
  updateRelease(
    releaseId: string,
    patch: Partial<Omit<ReleaseRecord, 'releaseId'>>,
    expectedPhases: readonly ReleaseRecord['phase'][],
  ): Promise<ReleaseRecord>;
  /**
   * Claims the release's warm idle colour for `claim.by` (conditional write): granted when the
   * release is finalized with its idle colour warm and the colour is unclaimed, claimed by the
   * same `by` (its retry), or claimed until `now` or earlier (an expired lease). Otherwise
   * `claimed` is false and `record` is the release as stored, with the claim that won.
   */
  claimIdleTeardown(
    releaseId: string,
    claim: IdleTeardownClaim,
    now: string,
  ): Promise<{ claimed: boolean; record: ReleaseRecord }>;
  /** Idempotent on `step.key`. */
  recordStep(releaseId: string, step: StepRecord): Promise<void>;
  listSteps(releaseId: string): Promise<StepRecord[]>;
  /** Newest first. */
  listReleases(service: string, limit: number): Promise<ReleaseRecord[]>;
  /**
   * Records an event rejected before it had a release id (keyed by the event id), with the
   * start of the event itself: bounded by the caller, so that the record always fits.
   */
  recordRejection(eventId: string, step: StepRecord, event: EventEcho): Promise<void>;
  /** The rejection recorded for an event id, so a waiting CLI can say why its event was refused. */
  getRejection(eventId: string): Promise<StepRecord | undefined>;
}

/** A release asking for its service's lock; what ordering and staleness are judged by. */
export interface LockRequest {
  service: string;
  releaseId: string;
  /** The execution that runs the release: a holder whose execution ended holds nothing. */
  executionId?: string;
  /** The request's time (the event's): the queue's order, then arrival. */
  requestedAt: string;
  /** Now, by the caller's clock. */
  at: string;
  policy: LockPolicy;
}

/**
 * Where a release stands after asking for the lock. `waiting`: queued behind `holder`, woken
 * when the lock is handed to it. `superseded`: a newer request took its place (policy
 * "supersede"). `busy`: refused at once, the service being busy (policy "reject").
 */
export type LockOutcome =
  | { kind: 'acquired' }
  | { kind: 'waiting'; holder: string }
  | { kind: 'superseded'; by: string }
  | { kind: 'busy'; holder: string };

/** The release whose build serves the service, as the queue judges "older" by. */
export interface LiveRelease {
  releaseId: string;
  version: string;
  requestedAt: string;
}

/**
 * One release per service at a time, and the others in a queue in request order, each woken
 * when the lock is handed to it (src/aws/dynamo-release-queue.ts has the design).
 */
export interface ServiceLock {
  /** Queues the release (once, however often asked) and takes the lock when it is its turn. */
  acquire(request: LockRequest): Promise<LockOutcome>;
  /**
   * Parks a waiting release on a `.waitForTaskToken` task: the token is answered when the lock
   * is handed to it or it is superseded, at once when either happened already.
   */
  park(service: string, releaseId: string, taskToken: string): Promise<void>;
  /**
   * Frees the lock if `releaseId` holds it, handing it to the first release in the queue and
   * waking it. `live` records the release as the one now serving; `reverted` says it serves no
   * more (an operator put blue back), so the one live before it is live again. Safe to repeat:
   * a repeat by the release that handed the lock on wakes the new holder again.
   */
  release(
    service: string,
    releaseId: string,
    options?: { live?: LiveRelease; reverted?: true },
  ): Promise<void>;
  /** The release live on the service, as the last finalize recorded it. */
  live(service: string): Promise<LiveRelease | undefined>;
}

/** Whether a workflow execution still runs: a lock holder whose execution ended is stale. */
export interface ExecutionStatus {
  isRunning(executionId: string): Promise<boolean>;
}

export interface LifecycleEvents {
  publish(events: readonly LifecycleEvent[]): Promise<void>;
}

export interface AlarmReader {
  /** Current state of each named alarm that exists; missing alarms are absent from the result. */
  describe(alarmNames: readonly string[]): Promise<AlarmEvidence[]>;
}

/** CloudWatch metric data, for metric gates. */
export interface MetricReader {
  /** The datapoints of each query between `start` and `end`; every query id is answered. */
  query(
    queries: readonly MetricQuery[],
    window: { start: Date; end: Date },
  ): Promise<MetricQueryResult[]>;
}

/**
 * A kind of target (Lambda alias, ALB listener). Every operation reads the current state
 * first and does nothing when it is already as desired, so each is safe to run twice.
 */
export interface TrafficTarget {
  /** Makes green ready to take traffic; returns which colour is which. Never moves traffic. */
  provision(release: ReleaseSpec, service: ServiceConfig): Promise<Colours>;
  /** Runs the service's pre-traffic tests against green only. */
  test(release: ReleaseSpec, service: ServiceConfig, colours: Colours): Promise<TestEvidence[]>;
  /**
   * Runs the same tests against one colour: `green` is `test`; `blue` asks whether the code
   * serving traffic still works, e.g. on the schema an expand migration just changed.
   */
  testColour(
    release: ReleaseSpec,
    service: ServiceConfig,
    colours: Colours,
    colour: keyof Colours,
  ): Promise<TestEvidence[]>;
  /** Puts `percent` (0-100) of traffic on green, the rest on blue. */
  setGreenPercent(service: ServiceConfig, colours: Colours, percent: number): Promise<void>;
  /** All traffic on green, no split left behind. */
  finalize(service: ServiceConfig, colours: Colours): Promise<void>;
  /** All traffic on blue, no split left behind. */
  rollback(service: ServiceConfig, colours: Colours): Promise<void>;
  /**
   * Things an operator should know before traffic moves that do not stop the release (ALB:
   * sticky sessions will move at finalize). Recorded in the release's timeline.
   */
  warnings?(service: ServiceConfig, colours: Colours): Promise<string[]>;
}

/**
 * What the steps after provisioning do to a target: test green, move traffic, settle. Built
 * without the clients that only provisioning needs (ECS, for an ALB service).
 */
export type TrafficRouter = Pick<
  TrafficTarget,
  'test' | 'testColour' | 'setGreenPercent' | 'finalize' | 'rollback'
>;

/** Approval requests and their decisions; the first decision wins, later ones change nothing. */
export interface ApprovalStore {
  /** Stores a new pending approval, or returns the one already stored under its id. */
  create(record: ApprovalRecord): Promise<ApprovalRecord>;
  get(approvalId: string): Promise<ApprovalRecord | undefined>;
  /**
   * Records a decision only if the approval is still pending (conditional write). `decided`
   * is false when someone decided first; `record` is then the earlier decision.
   */
  decide(
    approvalId: string,
    decision: {
      status: Exclude<ApprovalStatus, 'pending'>;
      by: string;
      at: string;
      via: string;
      reason?: string;
      /** The AWS principal of a decision from the CLI (or an operator's abort). */
      principalArn?: string;
    },
  ): Promise<{ decided: boolean; record: ApprovalRecord }>;
  attachMessage(approvalId: string, slack: { channel: string; ts: string }): Promise<void>;
}

/** An ApprovalStore whose pending approvals can move to a new task token. */
export interface RenewableApprovalStore extends ApprovalStore {
  /**
   * Replaces the task token of a pending approval. A retried Task state waits on a new token;
   * the old one is dead. `renewed` is false when the approval was decided first; `record` is
   * then the decision, which the caller hands to the new token.
   */
  renewTaskToken(
    approvalId: string,
    taskToken: string,
  ): Promise<{ renewed: boolean; record: ApprovalRecord }>;
}

/** Remembers request signatures so that a captured request cannot be sent again. */
export interface ReplayGuard {
  /**
   * Records `key` until `expiresAt`; true the first time, false if it was recorded before and
   * has not expired. A conditional write, so two Lambda instances never both see `true`.
   */
  remember(key: string, expiresAt: Date, now: Date): Promise<boolean>;
}

/**
 * What became of a callback. Not delivered: Step Functions no longer waits on the token (the
 * task timed out, the execution stopped, or it was answered before), and nothing changed.
 */
export type CallbackOutcome =
  | { delivered: true }
  | { delivered: false; reason: 'TaskTimedOut' | 'TaskDoesNotExist' | 'InvalidToken' };

/** Step Functions callbacks for a task waiting on a token. */
export interface TaskCallbacks {
  succeed(taskToken: string, output: unknown): Promise<CallbackOutcome>;
  fail(taskToken: string, error: string, cause: string): Promise<CallbackOutcome>;
}

/** Bakes in progress and which releases watch which alarm, for event-driven gates. */
export interface BakeStore {
  /**
   * Starts the bake of `bake.stepIndex`, or, when that bake already exists (a retried
   * invocation), keeps its start and end and takes the new token. Returns what is stored.
   */
  begin(bake: BakeRecord): Promise<BakeRecord>;
  get(releaseId: string): Promise<BakeRecord | undefined>;
  /**
   * Moves the bake of `stepIndex` from baking to `status` (conditional write). `changed` is
   * false when it had already left baking: another event or the bake's end came first.
   */
  settle(
    releaseId: string,
    stepIndex: number,
    status: 'ended' | 'interrupted',
    reason: string,
  ): Promise<{ changed: boolean; record: BakeRecord | undefined }>;
  watch(releaseId: string, alarms: readonly string[]): Promise<void>;
  unwatch(releaseId: string, alarms: readonly string[]): Promise<void>;
  /** Release ids whose gates watch this alarm. */
  watchers(alarmName: string): Promise<string[]>;
}

/** Outcomes of operator commands, by command id; the first outcome stored wins. */
export interface CommandLog {
  /** Stores `record` unless one is stored under its id; returns the stored one either way. */
  record(record: CommandRecord): Promise<CommandRecord>;
  get(commandId: string): Promise<CommandRecord | undefined>;
}

/** Asks for a release the way CI does: a Release Requested event on the greenlight bus. */
export interface ReleaseRequests {
  /** Returns the event id. */
  request(detail: ReleaseRequestedV1, source: string): Promise<string>;
}

/** One release's idle colour: what a teardown acts on, and the teardown function's input. */
export interface TeardownTarget {
  service: string;
  releaseId: string;
  colour: string;
}

/** One-time schedules that tear an idle colour down at the end of its warm window. */
export interface TeardownScheduler {
  /**
   * Creates the schedule `name` that fires once at `at` with `target` as the teardown's input,
   * or finds it already there (a retried finalize) and answers with the time it fires.
   */
  schedule(request: {
    name: string;
    at: Date;
    target: TeardownTarget;
  }): Promise<{ name: string; at: Date; created: boolean }>;
}

/**
 * An idle colour as its kind of target sees it: whether it takes traffic, what keeps running
 * in it and costs money, and scaling it down. Reads before it writes, so safe to repeat.
 */
export interface IdleColours {
  takesTraffic(service: ServiceConfig, colour: string): Promise<boolean>;
  /** What the colour costs per hour while it runs, estimated from list prices. */
  cost(service: ServiceConfig, colour: string): Promise<IdleCost>;
  /**
   * Scales `colour` down (ECS: desired count 0; Lambda: its provisioned concurrency goes and
   * versions beyond the service's retention are deleted). Never touches `protectedColours`.
   * Returns what it did, one line each; empty when nothing was left to do. `idleSince` is when
   * the colour last took traffic (an ALB slot drains from then; see lastTrafficAt); `now` is the
   * step's clock, which that drain is measured against.
   */
  tearDown(
    service: ServiceConfig,
    colour: string,
    options: { idleSince: Date; now: Date; protectedColours: ReadonlySet<string> },
  ): Promise<string[]>;
}

/**
 * The Slack update thread of each release, kept in the ledger. Writes are conditional, so two
 * deliveries handled at once never both post a parent message or lose each other's reply.
 */
export interface ReleaseUpdateThreads {
  get(releaseId: string): Promise<ReleaseUpdateThread | undefined>;
  /** Stores a new thread unless one exists; returns the stored one either way. */
  create(thread: ReleaseUpdateThread): Promise<{ created: boolean; thread: ReleaseUpdateThread }>;
  /** Stores `thread` (with version + 1) only if the stored version is still `thread.version`. */
  save(thread: ReleaseUpdateThread): Promise<{ saved: boolean; thread: ReleaseUpdateThread }>;
}

/**
 * A service's migration runner (src/core/migration.ts has the contract). One call, one action;
 * the runner makes `apply` and `revert` idempotent, and greenlight asks `status` before `apply`.
 */
export interface MigrationRunner {
  /**
   * Sends `request` to the runner `migrations` registers and returns its reply, checked to be
   * a MigrationRunnerReply about `request.migrationId`. Throws MigrationRunnerFailed when the
   * runner failed or did not answer within `migrations.timeoutSeconds`, and
   * MigrationRunnerReplyInvalid for an answer that is not a reply; other errors (throttling,
   * AWS faults) are the transport's, for the workflow to retry.
   */
  call(
    migrations: MigrationsConfig,
    request: MigrationRunnerRequest,
  ): Promise<MigrationRunnerReply>;
}
