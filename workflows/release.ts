import { ErrorName } from '../src/core/errors.ts';
import { HoldSeconds } from '../src/core/records.ts';
import { ProvisionBudget } from '../src/core/service-config.ts';

/**
 * The release workflow as Amazon States Language (JSONPath only: the local engine runs neither
 * JSONata nor variables). This is the one definition: SST deploys it with the real function
 * ARNs, the local cloud runs it with local ones.
 *
 * State data, as it grows: the EventBridge envelope is the input; Register adds `$.release`
 * (the validated ReleaseSpec), AcquireLock `$.lock`, ProvisionGreen `$.colours`, Migrate
 * `$.migration` (a release with an expand), TestGreen `$.tests`, an approval `$.approval`
 * (before-shift) or `$.finalApproval`; a timed-out one `$.approvalTimeout`; a caught error lands in `$.failure` and Rollback writes `$.outcome`.
 */

/** The Lambda functions the workflow calls, by logical name (also their local function names). */
export const ReleaseFunction = {
  Register: 'register',
  AcquireLock: 'acquire-lock',
  ProvisionGreen: 'provision-green',
  TestGreen: 'test-green',
  Migrate: 'migrate',
  SetWeight: 'set-weight',
  StartBake: 'start-bake',
  EndBake: 'end-bake',
  BakeTick: 'bake-tick',
  CheckGates: 'check-gates',
  Finalize: 'finalize',
  Rollback: 'rollback',
  RequestApproval: 'request-approval',
  ApprovalTimeout: 'approval-timeout',
  VerifyCallback: 'verify-callback',
} as const;
export type ReleaseFunction = (typeof ReleaseFunction)[keyof typeof ReleaseFunction];

/** State names are public: they show in the console, the history and the local timeline. */
export const ReleaseState = {
  Register: 'Register',
  IsDuplicate: 'IsDuplicate',
  DuplicateIgnored: 'DuplicateIgnored',
  AcquireLock: 'AcquireLock',
  IsLockAcquired: 'IsLockAcquired',
  LockRefused: 'LockRefused',
  WaitForLock: 'WaitForLock',
  ProvisionGreen: 'ProvisionGreen',
  HasExpandMigration: 'HasExpandMigration',
  PlanMigration: 'PlanMigration',
  NeedsMigrationApproval: 'NeedsMigrationApproval',
  MigrationApprovalWait: 'MigrationApprovalWait',
  RequestMigrationApproval: 'RequestMigrationApproval',
  VerifyMigrationApproval: 'VerifyMigrationApproval',
  IsMigrationApprovalVerified: 'IsMigrationApprovalVerified',
  MigrationApprovalTimedOut: 'MigrationApprovalTimedOut',
  OnMigrationApprovalTimeout: 'OnMigrationApprovalTimeout',
  MigrationApprovalTimeoutRejects: 'MigrationApprovalTimeoutRejects',
  Migrate: 'Migrate',
  TestGreen: 'TestGreen',
  NeedsApproval: 'NeedsApproval',
  ApprovalWait: 'ApprovalWait',
  RequestApproval: 'RequestApproval',
  VerifyApproval: 'VerifyApproval',
  IsApprovalVerified: 'IsApprovalVerified',
  ApprovalTimedOut: 'ApprovalTimedOut',
  OnApprovalTimeout: 'OnApprovalTimeout',
  ApprovalTimeoutRejects: 'ApprovalTimeoutRejects',
  ShiftTraffic: 'ShiftTraffic',
  SetWeight: 'SetWeight',
  HasBake: 'HasBake',
  Bake: 'Bake',
  BakeTimer: 'BakeTimer',
  EndBake: 'EndBake',
  WatchGates: 'WatchGates',
  VerifyBake: 'VerifyBake',
  IsBakeWatchOver: 'IsBakeWatchOver',
  BakeWatchEnded: 'BakeWatchEnded',
  BakeTick: 'BakeTick',
  IsBakeDone: 'IsBakeDone',
  WaitForTick: 'WaitForTick',
  CheckGates: 'CheckGates',
  IsGateHeld: 'IsGateHeld',
  HoldWeight: 'HoldWeight',
  StepDone: 'StepDone',
  NeedsFinalApproval: 'NeedsFinalApproval',
  FinalApprovalWait: 'FinalApprovalWait',
  RequestFinalApproval: 'RequestFinalApproval',
  VerifyFinalApproval: 'VerifyFinalApproval',
  IsFinalApprovalVerified: 'IsFinalApprovalVerified',
  FinalApprovalTimedOut: 'FinalApprovalTimedOut',
  OnFinalApprovalTimeout: 'OnFinalApprovalTimeout',
  FinalApprovalTimeoutRejects: 'FinalApprovalTimeoutRejects',
  Finalize: 'Finalize',
  Released: 'Released',
  Rollback: 'Rollback',
  IsHeld: 'IsHeld',
  HoldWait: 'HoldWait',
  Held: 'Held',
  VerifyHold: 'VerifyHold',
  IsHoldOver: 'IsHoldOver',
  RolledBack: 'RolledBack',
} as const;

/**
 * Errors worth another try: throttling and transient service faults from AWS, a Lambda
 * invocation that failed in the service, and a step whose previous attempt is still marked in
 * progress by the idempotency store. Domain errors (GreenTestFailed, AlarmGateFailed, ...) are
 * deliberately absent: retrying them would only repeat the same verdict.
 *
 * The four Lambda service exceptions are those of "Handle Lambda service exceptions"
 * (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html).
 * An error AcquireLock or WaitForLock still has after these retries goes to Rollback, which
 * ends a release that never started (RolledBack, no traffic touched) and hands the lock on;
 * left uncaught, it stayed Requested in the ledger for good (found by the fault matrix,
 * src/local/fault-matrix.ts). Register has no Catch: until it answers there may be no release
 * record to end, and a release it did write stays Requested; the execution fails, which the
 * execution-faults alarm (src/infra/monitoring.ts) reports.
 */
export const TransientErrors = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.TooManyRequestsException',
  'Lambda.Unknown',
  'States.Timeout',
  'ThrottlingException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'ServiceException',
  // ECS's own name for a fault on its side.
  'ServerException',
  'ServiceUnavailable',
  'InternalFailure',
  'InternalServerError',
  'ResourceConflictException',
  'IdempotencyAlreadyInProgressError',
  'IdempotencyPersistenceLayerError',
];

/**
 * How a bake watches its gates.
 * - `event`: the bake is a callback wait that times out when the bake is over; an alarm
 *   entering ALARM (the CloudWatch Alarm State Change event) fails it at once, so rollback
 *   starts within seconds. The gate check at the end of the bake stays as a backstop.
 * - `poll`: a loop that checks the gates every `pollSeconds` (for accounts that cannot route
 *   alarm events to greenlight). Slower to react and more state transitions.
 */
export const BakeMode = { Event: 'event', Poll: 'poll' } as const;
export type BakeMode = (typeof BakeMode)[keyof typeof BakeMode];

export interface ReleaseWorkflowOptions {
  /** ARN of each function, e.g. `arn:aws:lambda:eu-west-1:123456789012:function:greenlight-register`. */
  functionArns: Record<ReleaseFunction, string>;
  /**
   * A release waiting for its service's lock is woken when the lock is handed to it; after
   * this many seconds without a wake-up it asks again anyway (the backstop that finds a
   * holder whose execution died).
   * @default 600
   */
  lockRecheckSeconds?: number;
  /**
   * Upper bound for one step's Lambda invocation; provisioning waits for AWS to finish the
   * code update, so it gets `provisionTimeoutSeconds`.
   * @default 60
   */
  taskTimeoutSeconds?: number;
  /**
   * An ALB service's health wait must fit in it (ProvisionBudget, checked by the service schema).
   * @default 900
   */
  provisionTimeoutSeconds?: number;
  /**
   * Upper bound for the migrate step: the runner's calls (each within the service's
   * `migrations.timeoutSeconds`) and blue's tests. Lambda's own maximum.
   * @default 900
   */
  migrateTimeoutSeconds?: number;
  /** @default 'event' */
  bakeMode?: BakeMode;
  /** Seconds between two gate checks in `poll` mode. @default 30 */
  pollSeconds?: number;
}

type AslState = Record<string, unknown> & { Type: string };
export interface AslDefinition {
  Comment?: string;
  StartAt: string;
  States: Record<string, AslState>;
  TimeoutSeconds?: number;
}

const retryTransient = [
  {
    ErrorEquals: TransientErrors,
    IntervalSeconds: 2,
    MaxAttempts: 6,
    BackoffRate: 2,
    MaxDelaySeconds: 30,
    JitterStrategy: 'FULL',
  },
];

/**
 * A Task that hands `functionArn` a callback token (lambda:invoke.waitForTaskToken) and waits
 * for its answer. The answer decides nothing: what a success carries is dropped (an output near
 * Step Functions' 256 KB payload quota would fail the execution with States.DataLimitExceeded,
 * which no Catch matches: "Error handling in Step Functions workflows"), and whatever the token
 * was answered with goes to `verify`, a state that reads the ledger. Only transient faults are
 * retried; `catchFirst` takes what the wait's own verdicts (its timeout) mean before that.
 */
function callbackWait(input: {
  functionArn: string;
  /** The function's payload, besides the token. */
  payload: Record<string, unknown>;
  timeout: { TimeoutSeconds: number } | { TimeoutSecondsPath: string };
  /** Errors of the function retried like transient faults. */
  retryAlso?: readonly string[];
  resultPath: string;
  verify: string;
  catchFirst?: readonly Record<string, unknown>[];
}): AslState {
  return {
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
    Parameters: {
      FunctionName: input.functionArn,
      Payload: { ...input.payload, 'taskToken.$': '$$.Task.Token' },
    },
    ...input.timeout,
    Retry: [
      {
        ...retryTransient[0],
        // A timeout is the wait's own verdict, never a transient fault.
        ErrorEquals: [
          ...TransientErrors.filter((e) => e !== 'States.Timeout'),
          ...(input.retryAlso ?? []),
        ],
      },
    ],
    ResultSelector: { answered: 'success' },
    ResultPath: input.resultPath,
    Catch: [
      ...(input.catchFirst ?? []),
      { ErrorEquals: ['States.ALL'], ResultPath: input.resultPath, Next: input.verify },
    ],
    Next: input.verify,
  };
}

/**
 * Rollback must not give up easily: it is what puts users back on a known-good colour. Errors
 * that the same input would raise again are not retried: ten tries would only delay the
 * failure an operator has to see.
 */
const retryRollback = [
  { ErrorEquals: [ErrorName.InvalidStepInput], MaxAttempts: 0 },
  {
    ErrorEquals: ['States.ALL'],
    IntervalSeconds: 2,
    MaxAttempts: 10,
    BackoffRate: 2,
    MaxDelaySeconds: 60,
    JitterStrategy: 'FULL',
  },
];

const catchIntoRollback = [
  { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: ReleaseState.Rollback },
];

/**
 * The lock's deliberate refusals end the release themselves (phase, timeline, lifecycle event,
 * lock handed on); LockRefused fails the execution with their name, as a rejected event does.
 * Anything else goes to Rollback.
 */
export const LockRefusals = [
  ErrorName.OlderThanLive,
  ErrorName.ReleaseSuperseded,
  ErrorName.ServiceBusy,
];
const catchAtLock = [
  { ErrorEquals: LockRefusals, ResultPath: '$.failure', Next: ReleaseState.LockRefused },
  ...catchIntoRollback,
];

export function buildReleaseDefinition(options: ReleaseWorkflowOptions): AslDefinition {
  const arns = options.functionArns;
  const timeout = options.taskTimeoutSeconds ?? 60;
  const bakeMode = options.bakeMode ?? BakeMode.Event;
  const task = (fn: ReleaseFunction, extra: Record<string, unknown>): AslState => ({
    Type: 'Task',
    Resource: arns[fn],
    TimeoutSeconds: timeout,
    Retry: retryTransient,
    ...extra,
  });

  const definition: AslDefinition = {
    Comment:
      'greenlight release: register, lock, provision green, test green, [approve], shift traffic in gated steps, [approve], finalize or roll back',
    StartAt: ReleaseState.Register,
    States: {
      [ReleaseState.Register]: task(ReleaseFunction.Register, {
        Parameters: { 'event.$': '$', 'executionId.$': '$$.Execution.Id' },
        ResultPath: '$.release',
        Next: ReleaseState.IsDuplicate,
      }),
      [ReleaseState.IsDuplicate]: {
        Type: 'Choice',
        Choices: [
          {
            Variable: '$.release.duplicate',
            BooleanEquals: true,
            Next: ReleaseState.DuplicateIgnored,
          },
        ],
        Default: ReleaseState.AcquireLock,
      },
      [ReleaseState.DuplicateIgnored]: {
        Type: 'Succeed',
        Comment: 'Another execution already owns this release: a duplicate event starts nothing.',
      },
      [ReleaseState.AcquireLock]: task(ReleaseFunction.AcquireLock, {
        Parameters: { 'release.$': '$.release' },
        ResultPath: '$.lock',
        Catch: catchAtLock,
        Next: ReleaseState.IsLockAcquired,
      }),
      // Nothing was touched: the execution fails with the refusal's own name and message.
      // ErrorPath and CausePath: "Fail workflow state"
      // (https://docs.aws.amazon.com/step-functions/latest/dg/state-fail.html).
      [ReleaseState.LockRefused]: {
        Type: 'Fail',
        ErrorPath: '$.failure.Error',
        CausePath: '$.failure.Cause',
      },
      [ReleaseState.IsLockAcquired]: {
        Type: 'Choice',
        Choices: [
          {
            Variable: '$.lock.acquired',
            BooleanEquals: true,
            Next: ReleaseState.ProvisionGreen,
          },
        ],
        Default: ReleaseState.WaitForLock,
      },
      // Parked in the service's queue: the token is stored with the release's place in it, and
      // whoever frees the lock hands it on and answers the token. A timeout only asks again.
      [ReleaseState.WaitForLock]: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: {
          FunctionName: arns[ReleaseFunction.AcquireLock],
          Payload: { 'release.$': '$.release', 'taskToken.$': '$$.Task.Token' },
        },
        TimeoutSeconds: options.lockRecheckSeconds ?? 600,
        Retry: [
          {
            ...retryTransient[0],
            ErrorEquals: TransientErrors.filter((e) => e !== 'States.Timeout'),
          },
        ],
        Catch: [
          {
            ErrorEquals: ['States.Timeout'],
            ResultPath: '$.lockWait',
            Next: ReleaseState.AcquireLock,
          },
          ...catchAtLock,
        ],
        ResultPath: '$.lockWait',
        Next: ReleaseState.AcquireLock,
      },
      [ReleaseState.ProvisionGreen]: task(ReleaseFunction.ProvisionGreen, {
        TimeoutSeconds: options.provisionTimeoutSeconds ?? ProvisionBudget.taskTimeoutSeconds,
        Parameters: { 'release.$': '$.release' },
        ResultPath: '$.colours',
        Catch: catchIntoRollback,
        Next: ReleaseState.HasExpandMigration,
      }),
      // Rules in order, first match wins: the kind is read only when a migration is there (a
      // Choice on a missing path fails the execution). Contracts run at teardown, not here.
      // `Not IsPresent: true`, not `IsPresent: false`: aws-local-stepfunctions 3.0.0 answers
      // false to every `IsPresent: false` (its testChoiceRule returns `IsPresent && present`),
      // which would send a release without a migration on to read the kind, and fail.
      [ReleaseState.HasExpandMigration]: {
        Type: 'Choice',
        Choices: [
          {
            Not: { Variable: '$.release.migration', IsPresent: true },
            Next: ReleaseState.TestGreen,
          },
          {
            Variable: '$.release.migration.kind',
            StringEquals: 'expand',
            Next: ReleaseState.Migrate,
          },
          {
            Variable: '$.release.migration.kind',
            StringEquals: 'irreversible',
            Next: ReleaseState.PlanMigration,
          },
        ],
        Default: ReleaseState.TestGreen,
      },
      // An irreversible migration: its plan first (runs nothing), for the approval that names
      // it; Migrate then applies it only if approved, and the release is forward-only.
      [ReleaseState.PlanMigration]: task(ReleaseFunction.Migrate, {
        TimeoutSeconds: options.migrateTimeoutSeconds ?? 900,
        Parameters: { 'release.$': '$.release', 'colours.$': '$.colours', only: 'plan' },
        ResultPath: '$.migrationPlan',
        Retry: [
          {
            ...retryTransient[0],
            ErrorEquals: TransientErrors.filter((e) => e !== 'States.Timeout'),
          },
        ],
        Catch: catchIntoRollback,
        Next: ReleaseState.NeedsMigrationApproval,
      }),
      // A rejection or no decision in time rolls back like any other: nothing ran.
      ...approvalStates(
        {
          stage: 'before-migration',
          flag: '$.release.approval.beforeMigration',
          resultPath: '$.migrationApproval',
          next: ReleaseState.Migrate,
          names: {
            needs: ReleaseState.NeedsMigrationApproval,
            wait: ReleaseState.MigrationApprovalWait,
            request: ReleaseState.RequestMigrationApproval,
            verify: ReleaseState.VerifyMigrationApproval,
            verified: ReleaseState.IsMigrationApprovalVerified,
            timedOut: ReleaseState.MigrationApprovalTimedOut,
            onTimeout: ReleaseState.OnMigrationApprovalTimeout,
            rejects: ReleaseState.MigrationApprovalTimeoutRejects,
          },
        },
        arns,
        task,
      ),
      // Not retried on a timeout: the runner may still be at work, and the migrate step's
      // own answer to that (status first) is for an operator's release, not a blind retry.
      // MigrationRefused, MigrationRunnerFailed, MigrationRunnerReplyInvalid and
      // MigrationBrokeBlue are verdicts, never retried: Catch → Rollback.
      [ReleaseState.Migrate]: task(ReleaseFunction.Migrate, {
        TimeoutSeconds: options.migrateTimeoutSeconds ?? 900,
        Parameters: { 'release.$': '$.release', 'colours.$': '$.colours' },
        ResultPath: '$.migration',
        Retry: [
          {
            ...retryTransient[0],
            ErrorEquals: TransientErrors.filter((e) => e !== 'States.Timeout'),
          },
        ],
        Catch: catchIntoRollback,
        Next: ReleaseState.TestGreen,
      }),
      [ReleaseState.TestGreen]: task(ReleaseFunction.TestGreen, {
        Parameters: { 'release.$': '$.release', 'colours.$': '$.colours' },
        ResultPath: '$.tests',
        Catch: catchIntoRollback,
        Next: ReleaseState.NeedsApproval,
      }),
      ...approvalStates(
        {
          stage: 'before-shift',
          flag: '$.release.approval.beforeShift',
          resultPath: '$.approval',
          next: ReleaseState.ShiftTraffic,
          names: {
            needs: ReleaseState.NeedsApproval,
            wait: ReleaseState.ApprovalWait,
            request: ReleaseState.RequestApproval,
            verify: ReleaseState.VerifyApproval,
            verified: ReleaseState.IsApprovalVerified,
            timedOut: ReleaseState.ApprovalTimedOut,
            onTimeout: ReleaseState.OnApprovalTimeout,
            rejects: ReleaseState.ApprovalTimeoutRejects,
          },
        },
        arns,
        task,
      ),
      [ReleaseState.ShiftTraffic]: {
        Type: 'Map',
        Comment: 'One iteration per weight step, strictly in order: set weight, bake, gate.',
        ItemsPath: '$.release.plan',
        MaxConcurrency: 1,
        ItemSelector: {
          'release.$': '$.release',
          'colours.$': '$.colours',
          'step.$': '$$.Map.Item.Value',
        },
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: ReleaseState.SetWeight,
          States: {
            // SetWeight answers with the step as applied: an operator's promote turns the rest
            // of the plan into one step to 100% with no bake, and everything after reads $.step.
            [ReleaseState.SetWeight]: task(ReleaseFunction.SetWeight, {
              ResultPath: '$.step',
              Next: ReleaseState.HasBake,
            }),
            [ReleaseState.HasBake]: {
              Type: 'Choice',
              Choices: [
                {
                  Variable: '$.step.bakeSeconds',
                  NumericGreaterThan: 0,
                  Next: bakeMode === BakeMode.Event ? ReleaseState.Bake : ReleaseState.BakeTick,
                },
              ],
              Default: ReleaseState.CheckGates,
            },
            ...(bakeMode === BakeMode.Event
              ? eventBake(arns, task)
              : pollingBake(task, options.pollSeconds ?? 30)),
            [ReleaseState.CheckGates]: task(ReleaseFunction.CheckGates, {
              ResultPath: '$.gate',
              Next: ReleaseState.IsGateHeld,
            }),
            // A gate that cannot decide yet (too little data), or a release an operator paused,
            // holds the weight where it is and looks again; a failing gate throws instead.
            // CheckGates gets the whole iteration state, so a look after a hold reads the
            // held verdict in $.gate and counts the holds against the gate's limit.
            [ReleaseState.IsGateHeld]: {
              Type: 'Choice',
              Choices: [
                { Variable: '$.gate.verdict', StringEquals: 'hold', Next: ReleaseState.HoldWeight },
              ],
              Default: ReleaseState.StepDone,
            },
            [ReleaseState.HoldWeight]: {
              Type: 'Wait',
              SecondsPath: '$.gate.holdSeconds',
              Next: ReleaseState.CheckGates,
            },
            [ReleaseState.StepDone]: { Type: 'Pass', End: true },
          },
        },
        ResultPath: null,
        Catch: catchIntoRollback,
        Next: ReleaseState.NeedsFinalApproval,
      },
      ...approvalStates(
        {
          stage: 'before-finalize',
          flag: '$.release.approval.beforeFinalize',
          resultPath: '$.finalApproval',
          next: ReleaseState.Finalize,
          names: {
            needs: ReleaseState.NeedsFinalApproval,
            wait: ReleaseState.FinalApprovalWait,
            request: ReleaseState.RequestFinalApproval,
            verify: ReleaseState.VerifyFinalApproval,
            verified: ReleaseState.IsFinalApprovalVerified,
            timedOut: ReleaseState.FinalApprovalTimedOut,
            onTimeout: ReleaseState.OnFinalApprovalTimeout,
            rejects: ReleaseState.FinalApprovalTimeoutRejects,
          },
        },
        arns,
        task,
      ),
      [ReleaseState.Finalize]: task(ReleaseFunction.Finalize, {
        Parameters: { 'release.$': '$.release', 'colours.$': '$.colours' },
        ResultPath: '$.outcome',
        Catch: catchIntoRollback,
        Next: ReleaseState.Released,
      }),
      [ReleaseState.Released]: { Type: 'Succeed' },
      [ReleaseState.Rollback]: {
        Type: 'Task',
        Resource: arns[ReleaseFunction.Rollback],
        TimeoutSeconds: timeout,
        // The whole state: besides the release and the failure it reads `$.holdWait` when a
        // promoted hold's Finalize failed (the round to hold again), which other paths lack,
        // and a Parameters path to a missing field fails the state.
        ResultPath: '$.outcome',
        Retry: retryRollback,
        Next: ReleaseState.IsHeld,
      },
      // A forward-only release (its irreversible migration ran) is held, not rolled back.
      [ReleaseState.IsHeld]: {
        Type: 'Choice',
        Choices: [
          {
            And: [
              { Variable: '$.outcome.held', IsPresent: true },
              { Variable: '$.outcome.held', BooleanEquals: true },
            ],
            Next: ReleaseState.HoldWait,
          },
        ],
        Default: ReleaseState.RolledBack,
      },
      ...holdStates(arns, task),
      [ReleaseState.RolledBack]: {
        Type: 'Fail',
        Error: 'ReleaseRolledBack',
        Cause:
          'Traffic is back on blue. The ledger has the reason and evidence: greenlight status --release <id>.',
      },
    },
  };
  checkGraph(definition);
  return definition;
}

/**
 * The bake as two branches that end together. WatchGates waits on a callback token that
 * start-bake stores while it watches the gate alarms; BakeTimer waits out the bake and then
 * EndBake answers that token. An alarm event fails the token with AlarmGateFailed instead:
 * the branch fails, Step Functions stops the timer branch, and the iteration, and so the Map,
 * fails into Rollback within seconds. The gate check after the bake stays as a backstop.
 *
 * An answer to the token is never taken at its word (a token can be read from the execution
 * history and the ledger): VerifyBake lets only what the ledger records end the bake, so a
 * forged success or OperatorPromoted cannot shorten it, and the timer branch always runs its
 * full time unless a recorded verdict fails the branch.
 *
 * The timer is a Wait state rather than the callback task's TimeoutSecondsPath because the
 * place that path is read from (state input, or the task's parameters) differs between
 * interpreters; a Wait's SecondsPath does not.
 */
function eventBake(
  arns: Record<ReleaseFunction, string>,
  task: (fn: ReleaseFunction, extra: Record<string, unknown>) => AslState,
): Record<string, AslState> {
  return {
    [ReleaseState.Bake]: {
      Type: 'Parallel',
      Branches: [
        {
          StartAt: ReleaseState.BakeTimer,
          States: {
            [ReleaseState.BakeTimer]: {
              Type: 'Wait',
              SecondsPath: '$.step.bakeSeconds',
              Next: ReleaseState.EndBake,
            },
            [ReleaseState.EndBake]: task(ReleaseFunction.EndBake, {
              Retry: [
                // start-bake may still be storing the token when a very short bake ends.
                {
                  ErrorEquals: [ErrorName.BakeNotStarted],
                  IntervalSeconds: 1,
                  MaxAttempts: 5,
                  BackoffRate: 1.5,
                },
                ...retryTransient,
              ],
              ResultPath: null,
              End: true,
            }),
          },
        },
        {
          StartAt: ReleaseState.WatchGates,
          States: {
            // Longer than any bake (at most a day): only a lost EndBake ever reaches it.
            [ReleaseState.WatchGates]: callbackWait({
              functionArn: arns[ReleaseFunction.StartBake],
              payload: { 'release.$': '$.release', 'colours.$': '$.colours', 'step.$': '$.step' },
              timeout: { TimeoutSeconds: 86_400 + 900 },
              resultPath: '$.callback',
              verify: ReleaseState.VerifyBake,
            }),
            // Throws what the ledger records (AlarmGateFailed, OperatorAborted,
            // OperatorPromoted), which fails the branch and so ends the bake now; an answer the
            // ledger does not back is recorded and the watch starts again, with the same end.
            [ReleaseState.VerifyBake]: task(ReleaseFunction.VerifyCallback, {
              ResultPath: '$.bakeWatch',
              Next: ReleaseState.IsBakeWatchOver,
            }),
            [ReleaseState.IsBakeWatchOver]: {
              Type: 'Choice',
              Choices: [
                {
                  Variable: '$.bakeWatch.next',
                  StringEquals: 'wait',
                  Next: ReleaseState.WatchGates,
                },
              ],
              Default: ReleaseState.BakeWatchEnded,
            },
            [ReleaseState.BakeWatchEnded]: { Type: 'Pass', End: true },
          },
        },
      ],
      ResultPath: null,
      // An operator's promote ends the bake at once; the gates are checked once more.
      Catch: [
        {
          ErrorEquals: [ErrorName.OperatorPromoted],
          ResultPath: '$.bakeCutShort',
          Next: ReleaseState.CheckGates,
        },
      ],
      Next: ReleaseState.CheckGates,
    },
  };
}

/**
 * The hold of a forward-only release: traffic stays where Rollback left it, and the workflow
 * waits on a callback token (stored with the approvals by request-approval, stage
 * forward-only-hold; no polling) until an operator decides. As for approvals the answer
 * decides nothing: VerifyHold reads the release record, so a promote goes to Finalize (all
 * traffic to green), a knowing abort throws OperatorAborted into Rollback, which then rolls
 * back, and anything else waits again. Its timeout is Step Functions' longest execution: doing
 * nothing holds.
 */
function holdStates(
  arns: Record<ReleaseFunction, string>,
  task: (fn: ReleaseFunction, extra: Record<string, unknown>) => AslState,
): Record<string, AslState> {
  return {
    [ReleaseState.HoldWait]: {
      Type: 'Pass',
      Parameters: { unbacked: 0 },
      ResultPath: '$.holdWait',
      Next: ReleaseState.Held,
    },
    [ReleaseState.Held]: callbackWait({
      functionArn: arns[ReleaseFunction.RequestApproval],
      payload: { 'release.$': '$.release', 'colours.$': '$.colours', stage: 'forward-only-hold' },
      timeout: { TimeoutSeconds: HoldSeconds },
      resultPath: '$.holdCallback',
      verify: ReleaseState.VerifyHold,
    }),
    [ReleaseState.VerifyHold]: task(ReleaseFunction.VerifyCallback, {
      Parameters: {
        'release.$': '$.release',
        stage: 'forward-only-hold',
        'callback.$': '$.holdCallback',
        'wait.$': '$.holdWait',
      },
      ResultPath: '$.holdWait',
      Catch: catchIntoRollback,
      Next: ReleaseState.IsHoldOver,
    }),
    [ReleaseState.IsHoldOver]: {
      Type: 'Choice',
      Choices: [{ Variable: '$.holdWait.next', StringEquals: 'go', Next: ReleaseState.Finalize }],
      Default: ReleaseState.Held,
    },
  };
}

interface ApprovalStatesInput {
  stage: 'before-migration' | 'before-shift' | 'before-finalize';
  /** The release's flag that says it waits at this stage (set by Register from its service). */
  flag: string;
  resultPath: string;
  next: string;
  names: {
    needs: string;
    wait: string;
    request: string;
    verify: string;
    verified: string;
    timedOut: string;
    onTimeout: string;
    rejects: string;
  };
}

/**
 * A human "go", when the release asks for one at this stage. RequestApproval waits on a
 * callback token that the request-approval function stores with the approval and that the
 * Slack endpoint or the CLI answers once the decision is in the ledger. The answer itself
 * decides nothing (the token is also in the execution history): VerifyApproval reads the
 * ledger, so approved by an approver goes on, a recorded rejection (or an operator's abort)
 * goes to Rollback, a success nobody recorded ends the release as ApprovalNotRecorded before
 * traffic moves on, and a failure nobody recorded waits again for what is left of the wait. The wait's timeout is
 * the service's; when it runs out, approval-timeout marks the approval, updates the message
 * and answers the service's `onTimeout`: approve goes on, reject goes to Rollback as
 * ApprovalTimedOut.
 */
function approvalStates(
  input: ApprovalStatesInput,
  arns: Record<ReleaseFunction, string>,
  task: (fn: ReleaseFunction, extra: Record<string, unknown>) => AslState,
): Record<string, AslState> {
  const { names } = input;
  return {
    [names.needs]: {
      Type: 'Choice',
      Choices: [
        {
          // Releases registered before approvals existed carry no flag: they wait for nobody.
          And: [
            { Variable: input.flag, IsPresent: true },
            { Variable: input.flag, BooleanEquals: true },
          ],
          Next: names.wait,
        },
      ],
      Default: input.next,
    },
    // The wait's length, which an unbacked answer shortens to what is left of it.
    [names.wait]: {
      Type: 'Pass',
      Parameters: { 'timeoutSeconds.$': '$.release.approval.timeoutSeconds', unbacked: 0 },
      ResultPath: '$.approvalWait',
      Next: names.request,
    },
    [names.request]: callbackWait({
      functionArn: arns[ReleaseFunction.RequestApproval],
      payload: { 'release.$': '$.release', 'colours.$': '$.colours', stage: input.stage },
      // Read from the state input, as Step Functions does (the local cloud emulates that).
      timeout: { TimeoutSecondsPath: '$.approvalWait.timeoutSeconds' },
      retryAlso: [ErrorName.SlackApiFailed],
      resultPath: input.resultPath,
      verify: names.verify,
      // Only Step Functions' own timer is taken at its word.
      catchFirst: [
        { ErrorEquals: ['States.Timeout'], ResultPath: '$.failure', Next: names.timedOut },
      ],
    }),
    [names.verify]: task(ReleaseFunction.VerifyCallback, {
      Parameters: {
        'release.$': '$.release',
        stage: input.stage,
        'callback.$': input.resultPath,
        'wait.$': '$.approvalWait',
      },
      ResultPath: '$.approvalWait',
      Catch: catchIntoRollback,
      Next: names.verified,
    }),
    [names.verified]: {
      Type: 'Choice',
      Choices: [
        { Variable: '$.approvalWait.next', StringEquals: 'go', Next: input.next },
        { Variable: '$.approvalWait.next', StringEquals: 'wait', Next: names.request },
      ],
      Default: names.timedOut,
    },
    [names.timedOut]: task(ReleaseFunction.ApprovalTimeout, {
      Parameters: { 'release.$': '$.release', stage: input.stage },
      ResultPath: '$.approvalTimeout',
      Catch: catchIntoRollback,
      Next: names.onTimeout,
    }),
    [names.onTimeout]: {
      Type: 'Choice',
      Choices: [
        { Variable: '$.approvalTimeout.action', StringEquals: 'approve', Next: input.next },
      ],
      Default: names.rejects,
    },
    [names.rejects]: {
      Type: 'Pass',
      Parameters: { Error: ErrorName.ApprovalTimedOut, 'Cause.$': '$.approvalTimeout.reason' },
      ResultPath: '$.failure',
      Next: ReleaseState.Rollback,
    },
  };
}

/** The bake as a loop: check the gates, wait, again, until the bake's time is up. */
function pollingBake(
  task: (fn: ReleaseFunction, extra: Record<string, unknown>) => AslState,
  pollSeconds: number,
): Record<string, AslState> {
  return {
    [ReleaseState.BakeTick]: task(ReleaseFunction.BakeTick, {
      Parameters: {
        'release.$': '$.release',
        'colours.$': '$.colours',
        'step.$': '$.step',
        pollSeconds,
      },
      ResultPath: '$.tick',
      Next: ReleaseState.IsBakeDone,
    }),
    [ReleaseState.IsBakeDone]: {
      Type: 'Choice',
      Choices: [{ Variable: '$.tick.done', BooleanEquals: true, Next: ReleaseState.CheckGates }],
      Default: ReleaseState.WaitForTick,
    },
    [ReleaseState.WaitForTick]: {
      Type: 'Wait',
      SecondsPath: '$.tick.waitSeconds',
      Next: ReleaseState.BakeTick,
    },
  };
}

/**
 * Fails the build when a state points at a state that does not exist, when a state cannot be
 * reached, or when a non-terminal state has nowhere to go. Runs on nested Map graphs too.
 */
export function checkGraph(
  definition: Pick<AslDefinition, 'StartAt' | 'States'>,
  where = 'workflow',
): void {
  const names = new Set(Object.keys(definition.States));
  const problems: string[] = [];
  const edges = new Map<string, string[]>();
  for (const [name, state] of Object.entries(definition.States)) {
    const targets: string[] = [];
    if (typeof state.Next === 'string') targets.push(state.Next);
    if (typeof state.Default === 'string') targets.push(state.Default);
    for (const choice of (state.Choices as { Next: string }[] | undefined) ?? [])
      targets.push(choice.Next);
    for (const c of (state.Catch as { Next: string }[] | undefined) ?? []) targets.push(c.Next);
    for (const target of targets) {
      if (!names.has(target)) {
        problems.push(
          `state "${name}" goes to "${target}", which is not a state of the ${where}; add it or fix the name`,
        );
      }
    }
    const terminal = state.End === true || ['Succeed', 'Fail', 'Choice'].includes(state.Type);
    if (!terminal && typeof state.Next !== 'string') {
      problems.push(`state "${name}" has neither Next nor End; give it one`);
    }
    edges.set(name, targets);
    const processor = state.ItemProcessor as Pick<AslDefinition, 'StartAt' | 'States'> | undefined;
    if (processor) checkGraph(processor, `"${name}" iteration`);
    const branches =
      (state.Branches as Pick<AslDefinition, 'StartAt' | 'States'>[] | undefined) ?? [];
    for (const [i, branch] of branches.entries()) checkGraph(branch, `"${name}" branch ${i}`);
  }
  if (!names.has(definition.StartAt)) {
    problems.push(`StartAt "${definition.StartAt}" is not a state of the ${where}`);
  }
  const reached = new Set<string>();
  const queue = [definition.StartAt];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    if (reached.has(next)) continue;
    reached.add(next);
    queue.push(...(edges.get(next) ?? []));
  }
  for (const name of names) {
    if (!reached.has(name))
      problems.push(
        `state "${name}" cannot be reached from "${definition.StartAt}"; connect it or remove it`,
      );
  }
  if (problems.length > 0) {
    throw new Error(`The release ${where} definition is broken:\n- ${problems.join('\n- ')}`);
  }
}

/** Function ARNs for a region and account, named `${prefix}-${function}` (the local cloud's scheme). */
export function functionArnsFor(
  region: string,
  accountId: string,
  prefix = 'greenlight',
): Record<ReleaseFunction, string> {
  const entries = Object.values(ReleaseFunction).map(
    (fn) => [fn, `arn:aws:lambda:${region}:${accountId}:function:${prefix}-${fn}`] as const,
  );
  return Object.fromEntries(entries) as Record<ReleaseFunction, string>;
}
