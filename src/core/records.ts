import type { RecordedIdentity } from './caller-identity.ts';
import type { FieldIssue } from './errors.ts';
import type { ReleaseMigration } from './migration.ts';
import type { LifecycleEventType, ReleasePhase } from './phases.ts';
import type { Artifact } from './release-event.ts';
import type { LockPolicy } from './service-config.ts';

/** One step of a traffic plan: put `percent` of traffic on green, wait `bakeSeconds`, gate. */
export interface WeightStep {
  index: number;
  percent: number;
  bakeSeconds: number;
}

/** The two colours of a release, as target-specific identifiers (Lambda: version numbers). */
export interface Colours {
  blue: string;
  green: string;
}

/**
 * The approvals a release waits for, fixed at registration from its service and strategy. The
 * workflow's Choice states read the stages; the approval wait's TimeoutSecondsPath reads the
 * timeout.
 */
export interface ReleaseApproval {
  /**
   * The release carries an irreversible migration: approvers must say go, naming it, before it
   * runs. Absent on releases registered before irreversible migrations existed.
   */
  beforeMigration?: boolean;
  beforeShift: boolean;
  beforeFinalize: boolean;
  timeoutSeconds: number;
}

/** A validated release as it travels through the workflow (`$.release` in the state). */
export interface ReleaseSpec {
  releaseId: string;
  service: string;
  version: string;
  attempt: number;
  artifact: Artifact;
  strategy: string;
  plan: WeightStep[];
  commit?: string;
  actor?: string;
  ci?: { provider: string; runUrl: string };
  /** ISO time the release was requested (the event's time, else registration time). */
  requestedAt: string;
  /** Absent when the release needs no human decision. */
  approval?: ReleaseApproval;
  /** The service's lock policy at registration; absent on releases registered before it. */
  lockPolicy?: LockPolicy;
  /** The event asked for this build even if older than the live one (see OlderThanLive). */
  allowOlder?: true;
  /** The database migration the release carries (checked against the service at Register). */
  migration?: ReleaseMigration;
  /** The release this one rolls back by re-provisioning the build before it (greenlight rollback). */
  rollbackOf?: string;
}

/**
 * What operators asked of a release in flight (`greenlight pause`, `promote`, `abort`). Only
 * operator events change it; a step's write never does (see advanceRelease).
 */
export interface ReleaseControl {
  /** Hold the weight where it is: each gate check answers "hold" and looks again. */
  paused: boolean;
  /** Skip the remaining steps and bakes: the next weight is 100%. */
  promoted: boolean;
  /** Roll back now: the next step (or the bake or approval waiting) fails with OperatorAborted. */
  aborted: boolean;
}

/** The release item of the ledger: its current state plus what an operator needs to see. */
export interface ReleaseRecord extends ReleaseSpec {
  phase: ReleasePhase;
  /** Human-readable reason for the current phase ("Alarm checkout-errors in ALARM"). */
  reason: string;
  /** Execution that owns this release; a duplicate event's execution finds someone else here. */
  executionId: string;
  colours?: Colours;
  /** Percent of traffic on green as last set. */
  greenPercent: number;
  /** Index of the last weight step set, -1 before traffic moves. */
  stepIndex: number;
  updatedAt: string;
  /** Absent until an operator first steers the release. */
  control?: ReleaseControl;
  /** Set at finalize: the colour left without traffic, its warm window and its teardown. */
  idle?: IdleColourRecord;
  /**
   * What became of the release's migration, as the runner answered: absent until the migrate
   * step (an expand) or the teardown (a contract) reached the runner.
   */
  migrationState?: MigrationState;
  /**
   * Set by the migrate step once the release's irreversible migration ran: from then on a
   * failure holds the traffic (phase Held) instead of rolling back to code the data no longer
   * fits.
   */
  forwardOnly?: ForwardOnly;
}

/** A release that can no longer go back on its own: which migration made it so, and since when. */
export interface ForwardOnly {
  migrationId: string;
  since: string;
  /**
   * An operator rolled it back anyway (`greenlight abort --knowingly`): who, when and why,
   * kept beside the migration that made rolling back unsafe.
   */
  rolledBackKnowingly?: { by: string; at: string; reason: string };
  /**
   * Which round of the hold the release is in; absent means the first. A promote whose
   * Finalize then fails past its retries holds the release again as the next round, which
   * needs a decision of its own (and keeps its wait's token under its own approval id).
   */
  holdRound?: number;
}

/** The round of a forward-only release's hold (1 for the first). */
export function holdRoundOf(record: Pick<ReleaseRecord, 'forwardOnly'>): number {
  return record.forwardOnly?.holdRound ?? 1;
}

/**
 * Where a release's migration stands in greenlight's ledger. The runner's own bookkeeping is
 * the authority on what is applied; this is what greenlight last heard from it, and what a
 * later contract's Register reads to know its expand ran.
 */
export interface MigrationState {
  id: string;
  kind: ReleaseMigration['kind'];
  /**
   * `applied`: the runner applied it (or found it applied). `refused`: greenlight refused it
   * before anything ran. `reverted`: applied, then undone (it broke blue). `unknown`: the runner
   * failed or gave no answer after `apply` was sent, so it may or may not have run.
   */
  status: 'applied' | 'refused' | 'reverted' | 'unknown';
  at: string;
  reason: string;
}

/** Where an idle colour is between finalize and its teardown. */
export const IdleColourState = {
  /** Still running, so a rollback is one switch back; torn down at `teardownAt`. */
  Warm: 'warm',
  /** Scaled down (or found with nothing left to take down). */
  TornDown: 'torn-down',
  /** Took traffic again before its teardown (an operator rolled back to it): left alone. */
  LiveAgain: 'live-again',
} as const;
export type IdleColourState = (typeof IdleColourState)[keyof typeof IdleColourState];

/** What an idle colour costs while it runs, estimated from list prices. */
export interface IdleCost {
  /** US dollars per hour; absent when it could not be estimated (`basis` says why). */
  hourlyUsd?: number;
  /** What the estimate counts: "2 tasks x 0.5 vCPU, 1 GB (Fargate, X86_64)". */
  basis: string;
}

/**
 * The colour a finalized release took traffic away from (its blue), kept warm for an instant
 * rollback until the end of the service's warm window, then torn down. `greenlight status`
 * shows it; an operator rollback reads it to know whether one switch back is still possible.
 */
export interface IdleColourRecord {
  /** The idle colour (Lambda version, ALB slot): the release's blue. */
  colour: string;
  /** The colour that took all traffic at finalize: the release's green. */
  live: string;
  /** When the idle colour's share of traffic went to 0 (finalize). */
  idleSince: string;
  /** End of the warm window; the teardown is scheduled for then. */
  teardownAt: string;
  /** Name of the one-time schedule; absent when it could not be made (`reason` says why). */
  schedule?: string;
  state: IdleColourState;
  reason: string;
  /** Measured at finalize. */
  cost?: IdleCost;
  /** When it left `warm`. */
  settledAt?: string;
  /** What the teardown did, one line each. */
  actions?: string[];
  /** The teardown working on the colour now; gone once it settles (see IdleTeardownClaim). */
  claim?: IdleTeardownClaim;
}

/**
 * A lease on a warm idle colour taken before its teardown acts, so that two teardowns (its
 * schedule and the sweeper, or a schedule delivered twice) never both tear down and publish.
 * The holder's retries carry the same `by`; past `until` another teardown may take it over, so
 * a teardown that crashed never leaves the colour warm for good.
 */
export interface IdleTeardownClaim {
  /** Who holds it: the trigger and the Lambda request id (`schedule:<awsRequestId>`). */
  by: string;
  /** ISO time the lease ends; longer than any teardown function runs. */
  until: string;
}

export interface AlarmEvidence {
  name: string;
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  reason: string;
  updatedAt: string;
  /**
   * The metric a single-metric alarm watches; absent for metric-math and composite alarms,
   * whose subject greenlight does not read. Preflight tells from these whether it watches green.
   */
  namespace?: string;
  metric?: string;
  dimensions?: Record<string, string>;
}

/** One GetMetricData query a metric gate ran, with what came back. */
export interface MetricQueryEvidence {
  id: string;
  colour: 'green' | 'blue';
  namespace: string;
  metric: string;
  dimensions: Record<string, string>;
  stat: string;
  /** The datapoints' aggregate (sum of sums, worst percentile); absent with no datapoints. */
  value?: number;
  datapoints: number;
}

/** What one metric gate saw and decided at one look. */
export interface MetricEvidence {
  gate: string;
  metric: 'error-rate' | 'latency-p99';
  verdict: 'pass' | 'fail' | 'inconclusive';
  reason: string;
  /** Percent for error-rate, milliseconds for latency-p99; absent without samples. */
  green: { value?: number; samples: number };
  blue: { value?: number; samples: number };
  threshold: { max?: number; maxAboveBlue?: number; minSamples: number };
  window: { start: string; end: string };
  queries: MetricQueryEvidence[];
  /** How many times this step had been held before this look, and for how long. */
  holds: number;
  heldSeconds: number;
}

export interface TestEvidence {
  name: string;
  passed: boolean;
  statusCode?: number;
  functionError?: string;
  /** Why it failed: the first mismatched field, the error, the status. */
  detail: string;
  durationMs: number;
}

/**
 * One entry of a release's timeline. `key` is deterministic (step name + index), so a retried
 * step writes the same entry again instead of a second one.
 */
export interface StepRecord {
  key: string;
  step: string;
  at: string;
  /** `held`: a gate could not decide yet (too little data) and kept the weight where it is. */
  outcome: 'started' | 'succeeded' | 'failed' | 'skipped' | 'held';
  reason: string;
  phase: ReleasePhase;
  greenPercent?: number;
  /**
   * Who took the decision or sent the command this entry records, and what vouches for it
   * (the AWS principal from STS, or a signed Slack click) next to the name they gave.
   */
  identity?: RecordedIdentity;
  evidence?: {
    alarms?: AlarmEvidence[];
    metrics?: MetricEvidence[];
    tests?: TestEvidence[];
    issues?: FieldIssue[];
    /** Issues found beyond `issues`, which keeps only the first few (boundRejection). */
    issuesOmitted?: number;
    error?: { name: string; message: string };
    /** What an operator should know that does not stop the release (sessions will move). */
    warnings?: string[];
    /** What greenlight asked a migration runner and what came back (bounded). */
    migration?: MigrationEvidence;
  };
}

/** One call to a release's migration runner, or the classification of its plan, as evidence. */
export interface MigrationEvidence {
  migrationId: string;
  kind: ReleaseMigration['kind'];
  /** The action asked; absent for the classification, which asks the runner nothing. */
  action?: 'plan' | 'apply' | 'revert' | 'status';
  /** The runner's reply, its statements cut to what the ledger can hold. */
  reply?: {
    status: string;
    ran?: boolean;
    statements?: string[];
    /** Statements beyond `statements`, which keeps only the first few. */
    statementsOmitted?: number;
    /** SHA-256 of the whole plan's statements (JSON), for a `plan`: what its approvers saw. */
    planSha256?: string;
    evidence?: Record<string, unknown>;
  };
  /** The runner's failure, as it reported it. */
  error?: { name: string; message: string; errorType?: string };
  /** The plan's classification: the verdict, why, and the statements that decided it. */
  classification?: {
    verdict: 'accepted' | 'refused';
    reasons: string[];
    statements: number;
    refused: { index: number; text: string; effects: string[] }[];
  };
}

export interface LifecycleEvent {
  detailType: LifecycleEventType;
  detail: {
    releaseId?: string;
    service?: string;
    version?: string;
    phase: ReleasePhase;
    reason: string;
    [key: string]: unknown;
  };
}

/** Where in a release a human is asked to say go. */
export const ApprovalStage = {
  /** Before an irreversible migration runs; its message names the migration. */
  BeforeMigration: 'before-migration',
  BeforeShift: 'before-shift',
  BeforeFinalize: 'before-finalize',
  /**
   * Not a human approval: the wait of a held forward-only release, whose token only an
   * operator's `promote` or knowing `abort` answers. Kept with the approvals because their
   * store is where callback tokens live (never in a message, an event or a log).
   */
  ForwardOnlyHold: 'forward-only-hold',
} as const;
export type ApprovalStage = (typeof ApprovalStage)[keyof typeof ApprovalStage];

/**
 * How long a held forward-only release waits for an operator: Step Functions' longest
 * execution, a year ("Step Functions service quotas": a Standard workflow runs at most one
 * year), so in practice for as long as nobody decides. No timeout path: doing nothing holds.
 */
export const HoldSeconds = 365 * 86_400;

export const ApprovalStatus = {
  Pending: 'pending',
  Approved: 'approved',
  Rejected: 'rejected',
  TimedOut: 'timed-out',
} as const;
export type ApprovalStatus = (typeof ApprovalStatus)[keyof typeof ApprovalStatus];

/**
 * One request for a human decision. The callback token lives here and nowhere else: never in
 * a Slack message, an event or a log. `approvalId` is deterministic (release id + stage), and
 * it is all a Slack button carries.
 */
export interface ApprovalRecord {
  approvalId: string;
  releaseId: string;
  service: string;
  version: string;
  stage: ApprovalStage;
  taskToken: string;
  status: ApprovalStatus;
  requestedAt: string;
  /** When the workflow stops waiting and the service's timeout action is taken. */
  expiresAt: string;
  decidedBy?: string;
  decidedAt?: string;
  /** `slack` or `cli`. */
  decidedVia?: string;
  /**
   * The AWS principal (STS GetCallerIdentity ARN) the deciding `greenlight approve|reject`,
   * or the aborting operator command, ran as; absent for Slack clicks and timeouts.
   */
  principalArn?: string;
  reason?: string;
  slack?: { channel: string; ts: string };
}

/**
 * The bake of one weight step. In event mode it holds the callback token of the waiting
 * workflow, which an alarm event fails to cut the bake short.
 */
export interface BakeRecord {
  releaseId: string;
  service: string;
  stepIndex: number;
  /** Absent in poll mode, where nothing waits on a token. */
  taskToken?: string;
  alarms: string[];
  startedAt: string;
  endsAt: string;
  status: 'baking' | 'ended' | 'interrupted';
  /** Why the bake was cut short. */
  reason?: string;
}
