import { MappablePrincipalArnPattern } from './caller-identity.ts';
import { CiTeamName } from './ci-team.ts';
import { InertTextPattern } from './inert-text.ts';
import { S3BucketName, ServiceName } from './release-event.ts';
import * as z from './zod.ts';

/** A share of traffic above 0 and at most `max`: its own schema per use, so JSON Schema shows each bound. */
function percent(max = 100) {
  return z.number().check(z.gt(0), z.lte(max));
}
const Seconds = z.lazy(() => z.int().check(z.gte(0), z.lte(86_400)));
const StrategyName = z.lazy(() => z.string().check(z.regex(/^[a-z][a-z0-9-]{0,39}$/)));

/** What happens when nobody decides before an approval's timeout. */
export const ApprovalTimeoutAction = { Reject: 'reject', Approve: 'approve' } as const;
export type ApprovalTimeoutAction =
  (typeof ApprovalTimeoutAction)[keyof typeof ApprovalTimeoutAction];

const SlackUserId = z.lazy(() =>
  z.string().check(z.regex(/^[UW][A-Z0-9]{2,}$/, 'must be a Slack user id like U024BE7LH')),
);

/**
 * An AWS principal that decides as an approver from the command line (see `principals`). IAM's
 * name characters only, so no wildcard or policy variable can make one entry match everyone.
 */
const ApproverPrincipal = z.lazy(() =>
  z.strictObject({
    arn: z
      .string()
      .check(
        z.maxLength(2048),
        z.regex(
          MappablePrincipalArnPattern,
          'must be an IAM user ARN (arn:aws:iam::123456789012:user/dana), an IAM role ARN (arn:aws:iam::123456789012:role/Releasers: every session of the role) or one assumed-role session ARN (arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Releasers_0a1b2c/dana@example.com: one IAM Identity Center user), without wildcards',
        ),
      ),
    /** The approver this principal decides as: a Slack user id of `approvers` (or of a group). */
    approver: SlackUserId,
  }),
);

/** Where a service's release updates go in Slack. */
export const ReleaseUpdates = z.lazy(() =>
  z.strictObject({
    /** Channel id (`C…`) or name the greenlight bot is in. */
    channel: z.string().check(z.minLength(1), z.maxLength(80)),
  }),
);
export type ReleaseUpdates = z.infer<typeof ReleaseUpdates>;

/**
 * A human "go" in Slack. Approvers are Slack user ids and/or user groups; each stage listed
 * pauses the release until one of them clicks Approve (or Reject), or the timeout's action.
 */
export const SlackApproval = z.lazy(() =>
  z.strictObject({
    type: z.literal('slack'),
    /** Channel id (`C…`) or name the greenlight bot is in. */
    channel: z.string().check(z.minLength(1), z.maxLength(80)),
    /** Slack user ids allowed to decide, e.g. `U024BE7LH` (Slack profile → Copy member ID). */
    approvers: z._default(z.array(SlackUserId).check(z.maxLength(100)), []),
    /** Slack user group ids (`S…`) whose members may decide too. */
    approverGroups: z._default(
      z
        .array(
          z
            .string()
            .check(z.regex(/^S[A-Z0-9]{2,}$/, 'must be a Slack user group id like S0614TZR7')),
        )
        .check(z.maxLength(20)),
      [],
    ),
    /**
     * How long the release waits for a decision.
     * @default 86400
     */
    timeoutSeconds: z._default(z.int().check(z.gte(1), z.lte(7 * 86_400)), 86_400),
    /**
     * What greenlight does when nobody decided in time.
     * @default "reject"
     */
    onTimeout: z._default(
      z.enum([ApprovalTimeoutAction.Reject, ApprovalTimeoutAction.Approve]),
      'reject',
    ),
    /**
     * Where the release waits: before any traffic moves, and/or before green takes all traffic.
     * @default ["before-shift"]
     */
    stages: z._default(
      z.array(z.enum(['before-shift', 'before-finalize'])).check(z.minLength(1), z.maxLength(2)),
      ['before-shift'],
    ),
    /**
     * Who may decide from the command line (`greenlight approve` / `reject`), by the AWS
     * principal their credentials belong to (STS GetCallerIdentity): each entry maps an IAM user,
     * every session of an IAM role, or one assumed-role session (how an IAM Identity Center user
     * appears) to the approver it decides as. With entries, the CLI refuses a caller that maps to
     * no approver; without, it says that IAM (who may write the ledger and answer the workflow)
     * is the only gate.
     * @example [{ arn: "arn:aws:iam::123456789012:role/Releasers", approver: "U024BE7LH" }]
     */
    principals: z.optional(z.array(ApproverPrincipal).check(z.minLength(1), z.maxLength(100))),
  }),
);
export type SlackApproval = z.infer<typeof SlackApproval>;

export const ApprovalConfig = z.lazy(() =>
  z.discriminatedUnion('type', [z.strictObject({ type: z.literal('none') }), SlackApproval]),
);
export type ApprovalConfig = z.infer<typeof ApprovalConfig>;

/**
 * A strategy may override the service's approval: e.g. `canary` needs none while
 * `all-at-once` asks Slack.
 */
const strategyApproval = { approval: z.optional(ApprovalConfig) };

/** How traffic moves from blue to green. Weights are percentages of traffic on green. */
export const Strategy = z.lazy(() =>
  z.discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('all-at-once'),
      bakeSeconds: z._default(Seconds, 0),
      ...strategyApproval,
    }),
    z.strictObject({
      type: z.literal('canary'),
      percent: percent(99),
      bakeSeconds: Seconds,
      ...strategyApproval,
    }),
    z.strictObject({
      type: z.literal('linear'),
      percent: percent(50),
      intervalSeconds: Seconds,
      ...strategyApproval,
    }),
    z.strictObject({
      type: z.literal('steps'),
      steps: z
        .array(z.strictObject({ percent: percent(), bakeSeconds: Seconds }))
        .check(z.minLength(1), z.maxLength(20)),
      ...strategyApproval,
    }),
  ]),
);
export type Strategy = z.infer<typeof Strategy>;

/** A pre-traffic test of a Lambda green version: invoke it and check the response. */
export const LambdaTestEvent = z.lazy(() =>
  z.strictObject({
    name: z.string().check(z.minLength(1), z.maxLength(64)),
    payload: z.unknown(),
    /** Dotted paths into the JSON response and the values they must equal. */
    expect: z._default(z.record(z.string(), z.unknown()), {}),
  }),
);
export type LambdaTestEvent = z.infer<typeof LambdaTestEvent>;

export const LambdaAliasTargetConfig = z.lazy(() =>
  z.strictObject({
    kind: z.literal('lambda-alias'),
    functionName: z
      .string()
      .check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a function name, not an ARN')),
    alias: z.string().check(z.regex(/^(?!^[0-9]+$)[A-Za-z0-9_-]{1,128}$/, 'must be an alias name')),
    /**
     * How many of the newest published versions a teardown keeps. Older versions are deleted
     * unless an alias routes to them or a release in flight uses them; the live version is
     * always kept.
     * @default 3
     * @example 5
     */
    keepVersions: z._default(z.int().check(z.gte(1), z.lte(100)), 3),
  }),
);
export type LambdaAliasTargetConfig = z.infer<typeof LambdaAliasTargetConfig>;

const TargetGroupArn = z.lazy(() =>
  z
    .string()
    .check(
      z.regex(
        /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}$/,
        'must be a target group ARN',
      ),
    ),
);
const ListenerArn = z.lazy(() =>
  z
    .string()
    .check(
      z.regex(
        /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener\/app\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}\/[0-9a-f]{16}$/,
        'must be an Application Load Balancer listener ARN',
      ),
    ),
);
const ListenerRuleArn = z.lazy(() =>
  z
    .string()
    .check(
      z.regex(
        /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener-rule\/app\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}\/[0-9a-f]{16}\/[0-9a-f]{16}$/,
        'must be an Application Load Balancer listener rule ARN',
      ),
    ),
);

const RoleArn = z.lazy(() =>
  z
    .string()
    .check(
      z.regex(
        /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/,
        'must be an IAM role ARN, like arn:aws:iam::123456789012:role/shop-task',
      ),
    ),
);

/**
 * Provisioning waits for green's health inside one invocation of the provision step, which
 * the workflow stops after `taskTimeoutSeconds` (the longest a Lambda function may run). The
 * rest of the step (reading the listener, registering the task definition, updating the
 * service, the last poll, recording the outcome) gets `reservedSeconds`.
 */
export const ProvisionBudget = {
  taskTimeoutSeconds: 900,
  reservedSeconds: 120,
} as const;
const maxHealthyDeadlineSeconds =
  ProvisionBudget.taskTimeoutSeconds - ProvisionBudget.reservedSeconds;

/**
 * ECS cluster, service and container names: up to 255 letters, digits, hyphens and
 * underscores (Amazon ECS API Reference, CreateCluster clusterName, CreateService
 * serviceName, ContainerDefinition name): no wildcard can widen a grant built from them.
 */
const EcsName = z.lazy(() =>
  z
    .string()
    .check(
      z.regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be 1-255 letters, digits, "-" or "_" (no wildcards)'),
    ),
);

/** One of the two colours' homes: a target group and the ECS service that fills it. */
export const AlbSlot = z.lazy(() =>
  z.strictObject({
    targetGroupArn: TargetGroupArn,
    ecs: z.strictObject({
      cluster: EcsName,
      service: EcsName,
    }),
  }),
);
export type AlbSlot = z.infer<typeof AlbSlot>;

/** An HTTP check run against green through the test listener before any user traffic. */
export const HttpCheck = z.lazy(() =>
  z.strictObject({
    name: z.string().check(z.minLength(1), z.maxLength(64)),
    method: z._default(z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']), 'GET'),
    path: z.string().check(z.regex(/^\//, 'must start with "/"')),
    body: z.optional(z.string().check(z.maxLength(65_536))),
    headers: z._default(z.record(z.string(), z.string()), {}),
    expectStatus: z._default(z.int().check(z.gte(100), z.lte(599)), 200),
    /** A substring the response body must contain. */
    bodyIncludes: z.optional(z.string().check(z.minLength(1))),
  }),
);
export type HttpCheck = z.infer<typeof HttpCheck>;

/**
 * An HTTP service behind an Application Load Balancer: the production listener (or one of its
 * rules) forwards to two target groups by weight; each target group is filled by its own ECS
 * service. Which slot is blue is read from the listener at provisioning: the one taking traffic.
 */
export const AlbListenerTargetConfig = z.lazy(() =>
  z.strictObject({
    kind: z.literal('alb-listener'),
    listenerArn: ListenerArn,
    /** Set when production traffic reaches the service through a listener rule, not the default action. */
    ruleArn: z.optional(ListenerRuleArn),
    /** A listener (or rule) that forwards only to green: smoke checks go through it. */
    testListenerArn: ListenerArn,
    testRuleArn: z.optional(ListenerRuleArn),
    /** Where the test listener answers, e.g. `http://internal-shop-123.eu-west-1.elb.amazonaws.com:8443`. */
    testUrl: z.url({ protocol: /^https?$/ }),
    slots: z.strictObject({ a: AlbSlot, b: AlbSlot }),
    /** The container of the task definition whose image a release replaces. */
    containerName: EcsName,
    /**
     * The task definition family both slots' ECS services run. Green's revision is registered in
     * it, and the stack lets greenlight register revisions of this family only.
     * @example "shop-web"
     */
    taskDefinitionFamily: z
      .string()
      .check(
        z.regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be a task definition family name, not an ARN'),
      ),
    /**
     * The IAM roles blue's task definition names (`taskRoleArn`, `executionRoleArn`). Green's
     * revision names them too, and registering it passes them to ECS (iam:PassRole), which the
     * stack allows for these roles only. A role not listed here stops provisioning.
     * @default []
     */
    passRoles: z._default(z.array(RoleArn).check(z.maxLength(2)), []),
    smoke: z._default(
      z.strictObject({
        paths: z._default(z.array(z.string().check(z.regex(/^\//))), ['/health', '/ready']),
        checks: z._default(z.array(HttpCheck).check(z.maxLength(20)), []),
        /** Each path and check must pass this many times in a row. */
        consecutivePasses: z._default(z.int().check(z.gte(1), z.lte(20)), 3),
        timeoutMs: z._default(z.int().check(z.gte(100), z.lte(30_000)), 2000),
        intervalMs: z._default(z.int().check(z.gte(0), z.lte(30_000)), 500),
      }),
      {
        paths: ['/health', '/ready'],
        checks: [],
        consecutivePasses: 3,
        timeoutMs: 2000,
        intervalMs: 500,
      },
    ),
    /**
     * Green's targets must all be healthy within this long, or the release rolls back. The wait
     * runs inside the provision step, so it must fit in that step's timeout.
     * @default 600
     */
    healthyDeadlineSeconds: z._default(
      z.int().check(
        z.gte(10),
        z.lte(maxHealthyDeadlineSeconds, {
          error: `green's health is awaited inside the provision step, which the workflow stops after ${ProvisionBudget.taskTimeoutSeconds}s, and ${ProvisionBudget.reservedSeconds}s of that are kept for registering the task definition and updating the service. Lower it, or make green start faster`,
        }),
      ),
      600,
    ),
  }),
);
export type AlbListenerTargetConfig = z.infer<typeof AlbListenerTargetConfig>;

export const TargetConfig = z.lazy(() =>
  z.discriminatedUnion('kind', [LambdaAliasTargetConfig, AlbListenerTargetConfig]),
);
export type TargetConfig = z.infer<typeof TargetConfig>;

/**
 * What a gate alarm is meant to watch. `green`: green alone (its Lambda version, its target
 * group), checked before traffic moves, because an alarm on the whole service is diluted by
 * blue's healthy traffic at a 10% canary and may never fire. `service`: the service as a
 * whole, on purpose (an alias-wide or load-balancer-wide alarm).
 */
export const AlarmScope = { Green: 'green', Service: 'service' } as const;
export type AlarmScope = (typeof AlarmScope)[keyof typeof AlarmScope];

/**
 * CloudWatch alarm names are 1-255 characters (PutMetricAlarm, AlarmName); greenlight grants
 * DescribeAlarms on `alarm:NAME` ARNs in IAM scope "arn", where `*` and `?` would match others.
 */
const AlarmName = z.lazy(() =>
  z
    .string()
    .check(
      z.minLength(1),
      z.maxLength(255),
      z.regex(/^[^*?]+$/, 'must be an alarm name without the IAM wildcards * and ?'),
      z.regex(InertTextPattern, 'must be printable text, no control characters'),
    ),
);

/**
 * A gate alarm: its name (meaning it must watch green), or `{ name, scope }`.
 * Parsed into the object form, so code reads one shape.
 * @example "checkout-errors-green"
 * @example { "name": "checkout-errors", "scope": "service" }
 */
export const GateAlarm = z.lazy(() =>
  z.pipe(
    z.union([
      AlarmName,
      z.strictObject({ name: AlarmName, scope: z.enum([AlarmScope.Green, AlarmScope.Service]) }),
    ]),
    z.transform((alarm) =>
      typeof alarm === 'string' ? { name: alarm, scope: AlarmScope.Green } : alarm,
    ),
  ),
);
export type GateAlarm = z.output<typeof GateAlarm>;

/** What a metric gate measures, per colour. */
export const GateMetric = { ErrorRate: 'error-rate', LatencyP99: 'latency-p99' } as const;
export type GateMetric = (typeof GateMetric)[keyof typeof GateMetric];

// GetMetricData periods: 1, 5, 10 or 30 seconds (high resolution) or a multiple of 60.
const MetricWindowSeconds = z.lazy(() =>
  z.int().check(
    z.gte(1),
    z.lte(86_400),
    z.refine((s) => [1, 5, 10, 30].includes(s) || s % 60 === 0, {
      message: 'must be 1, 5, 10, 30 or a multiple of 60 (a CloudWatch GetMetricData period)',
    }),
  ),
);

/**
 * A gate on a metric of green compared with blue, read with CloudWatch GetMetricData after
 * each bake. Too little data is inconclusive: the step is held and looked at again, up to
 * `maxHoldSeconds`, then the release is rolled back; a gate never passes for want of data.
 */
export const MetricGate = z.lazy(() =>
  z
    .strictObject({
      name: z.string().check(z.regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be 1-40 of a-z, 0-9 and "-"')),
      /**
       * `error-rate`: percent of requests that failed (Lambda Errors / Invocations by
       * ExecutedVersion; ALB HTTPCode_Target_5XX_Count / RequestCount by target group).
       * `latency-p99`: milliseconds (Lambda Duration; ALB TargetResponseTime).
       */
      metric: z.enum([GateMetric.ErrorRate, GateMetric.LatencyP99]),
      /** Green fails above this value (percent or milliseconds). */
      max: z.optional(z.number().check(z.gte(0))),
      /**
       * Green fails when it is more than this above blue, in the metric's unit (percentage
       * points or milliseconds). A difference, not a ratio: blue often has no errors at all.
       */
      maxAboveBlue: z.optional(z.number().check(z.gte(0))),
      /** Requests green (and, for `maxAboveBlue`, blue) must have served in the window. @default 100 */
      minSamples: z._default(z.int().check(z.gte(1), z.lte(1_000_000_000)), 100),
      /** The window read, ending at the check. @default 300 */
      windowSeconds: z._default(MetricWindowSeconds, 300),
      /** How long one hold waits before looking again. @default 60 */
      holdSeconds: z._default(z.int().check(z.gte(1), z.lte(3600)), 60),
      /** Holds of one step add up to at most this; then the release rolls back. @default 600 */
      maxHoldSeconds: z._default(z.int().check(z.gte(0), z.lte(86_400)), 600),
    })
    .check(
      z.refine((gate) => gate.max !== undefined || gate.maxAboveBlue !== undefined, {
        message: 'has no threshold; set "max" (absolute) and/or "maxAboveBlue" (relative to blue)',
      }),
    ),
);
export type MetricGate = z.output<typeof MetricGate>;

/**
 * A migration runner that is a Lambda function, invoked synchronously (RequestResponse) with a
 * MigrationRunnerRequest (src/core/migration.ts).
 */
export const LambdaRunnerConfig = z.lazy(() =>
  z.strictObject({
    type: z.literal('lambda'),
    /**
     * The runner's function name, in greenlight's account and region (like the target's). The
     * stack lets greenlight invoke the registered runners alone.
     * @example "shop-migrations"
     */
    functionName: z
      .string()
      .check(z.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a function name, not an ARN')),
  }),
);
export type LambdaRunnerConfig = z.infer<typeof LambdaRunnerConfig>;

/**
 * A migration runner that is an ECS task definition, run as one Fargate task per call
 * (src/aws/ecs-task-migration-runner.ts): the request in the container's environment
 * (GREENLIGHT_MIGRATION_REQUEST), the reply one stdout line read back from its awslogs stream.
 * Every name here scopes a grant of the stack (src/infra/permissions.ts), so none may be a
 * wildcard.
 */
export const EcsTaskRunnerConfig = z.lazy(() =>
  z.strictObject({
    type: z.literal('ecs-task'),
    /** The cluster the task runs in, by name, in greenlight's account and region. */
    cluster: EcsName,
    /**
     * The task definition's family, or `family:revision` to pin one revision; a family alone
     * runs its latest ACTIVE revision (Amazon ECS API Reference, RunTask taskDefinition). The
     * stack lets greenlight run revisions of this family only.
     * @example "shop-migrations"
     */
    taskDefinition: z
      .string()
      .check(
        z.regex(
          /^[A-Za-z0-9_-]{1,255}(:[1-9][0-9]{0,9})?$/,
          'must be a task definition family, optionally with ":revision" (shop-migrations or shop-migrations:7), not an ARN',
        ),
      ),
    /** The container that runs the migration: its environment gets the request. */
    containerName: EcsName,
    /** The task's awsvpc network (Fargate requires it; RunTask networkConfiguration). */
    network: z.strictObject({
      subnets: z
        .array(z.string().check(z.regex(/^subnet-[0-9a-f]{8,17}$/, 'must be a subnet id')))
        .check(z.minLength(1), z.maxLength(16)),
      securityGroups: z
        .array(z.string().check(z.regex(/^sg-[0-9a-f]{8,17}$/, 'must be a security group id')))
        .check(z.minLength(1), z.maxLength(5)),
      /**
       * A public IP for the task, which a task in a public subnet needs to pull its image
       * without a NAT gateway.
       * @default false
       */
      assignPublicIp: z._default(z.boolean(), false),
    }),
    /**
     * The CloudWatch Logs group of the container's awslogs configuration, where greenlight
     * reads the reply. Required (not only read from the task definition) because the stack
     * grants logs:GetLogEvents on this group alone; a task definition logging elsewhere is
     * refused at the call with that reason.
     * @example "/ecs/shop-migrations"
     */
    logGroup: z
      .string()
      .check(
        z.regex(
          /^[A-Za-z0-9_\-/.#]{1,512}$/,
          'must be a log group name (letters, digits, "_", "-", "/", "." or "#"; no wildcards)',
        ),
      ),
    /**
     * The IAM roles the task definition names (`taskRoleArn`, `executionRoleArn`): RunTask
     * passes them to ECS (iam:PassRole), which the stack allows for these roles only.
     * @default []
     */
    passRoles: z._default(z.array(RoleArn).check(z.maxLength(2)), []),
  }),
);
export type EcsTaskRunnerConfig = z.infer<typeof EcsTaskRunnerConfig>;

/** The two kinds of migration runner, by `type`. */
export const MigrationRunnerConfig = z.lazy(() =>
  z.discriminatedUnion('type', [LambdaRunnerConfig, EcsTaskRunnerConfig]),
);
export type MigrationRunnerConfig = z.infer<typeof MigrationRunnerConfig>;

/** Longest a migration runner may take: the migrate step's own Lambda timeout is 900 s. */
export const maxMigrationTimeoutSeconds = 720;

export const MigrationsConfig = z.lazy(() =>
  z.strictObject({
    runner: MigrationRunnerConfig,
    /**
     * How long greenlight waits for one answer of the runner (one `plan`, `apply`, `revert` or
     * `status`) before it gives up and rolls the release back. Set the runner function's own
     * timeout at or below it, so the runner stops first; an ECS task still running then is
     * stopped (StopTask), its start and log reading included in this time.
     * @default 300
     */
    timeoutSeconds: z._default(
      z.int().check(
        z.gte(1),
        z.lte(maxMigrationTimeoutSeconds, {
          error: `the migrate step waits for the runner inside its own 900 s Lambda timeout, and keeps the rest for blue's tests and the ledger. Lower it, or split the migration`,
        }),
      ),
      300,
    ),
  }),
);
export type MigrationsConfig = z.infer<typeof MigrationsConfig>;

export const LockPolicy = {
  Queue: 'queue',
  Supersede: 'supersede',
  Reject: 'reject',
} as const;
export type LockPolicy = (typeof LockPolicy)[keyof typeof LockPolicy];

export const ServiceConfig = z.lazy(() =>
  z
    .strictObject({
      name: ServiceName,
      target: TargetConfig,
      strategies: z.record(StrategyName, Strategy),
      /** Used when the event names no strategy. */
      defaultStrategy: StrategyName,
      /**
       * Where this service's artifacts may come from. A release naming any other bucket or
       * repository is rejected: a crafted event cannot deploy code from elsewhere, and the
       * stack grants read access to these alone.
       */
      artifacts: z._default(
        z.strictObject({
          s3Buckets: z._default(z.array(S3BucketName), []),
          /**
           * Limits the S3 artifacts to keys under this prefix, in every bucket of `s3Buckets`:
           * the way to share one artifact bucket between services without one releasing
           * another's build. Release and IAM grant both stop at it. Ends with "/".
           * @example "checkout/"
           */
          s3KeyPrefix: z.optional(
            z
              .string()
              .check(
                z.regex(
                  /^[A-Za-z0-9!_.'()-][A-Za-z0-9!_.'()/-]{0,510}\/$/,
                  'must be a key prefix ending in "/", of letters, digits and !_.\'()-/ (no wildcards), e.g. "checkout/"',
                ),
              ),
          ),
          /** ECR repository URIs without tag, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout`. */
          imageRepositories: z._default(
            z.array(
              z
                .string()
                .check(
                  z.regex(
                    /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/,
                    'must be an ECR repository URI without tag, like 123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout (ECR CreateRepository repositoryName rules; no wildcards)',
                  ),
                ),
            ),
            [],
          ),
        }),
        { s3Buckets: [], imageRepositories: [] },
      ),
      /**
       * CloudWatch alarms that roll the release back when they fire. Before traffic moves each
       * must exist, have data (not INSUFFICIENT_DATA) and watch green, unless marked
       * `scope: "service"`.
       */
      alarms: z._default(z.array(GateAlarm).check(z.maxLength(100)), []),
      /** Gates comparing green's metrics with blue's after every bake. */
      metricGates: z._default(z.array(MetricGate).check(z.maxLength(10)), []),
      tests: z._default(z.array(LambdaTestEvent).check(z.maxLength(20)), []),
      /** A human "go" before traffic moves (and optionally before finalize). @default { type: "none" } */
      approval: z._default(ApprovalConfig, { type: 'none' }),
      /**
       * How long the idle colour stays warm after finalize, so that a rollback is one switch
       * back, before a one-time schedule tears it down.
       * @default 900
       * @example 3600
       */
      warmWindowSeconds: z._default(Seconds, 900),
      /**
       * What a release of a busy service does. `queue`: waits its turn; turns go in request order
       * (the event's time, then arrival). `supersede`: as queue, but a newer request ends the
       * older ones still waiting as Superseded (the release under way goes on), as teams expect
       * of a busy main branch. `reject`: refused at once (ServiceBusy).
       * @default "queue"
       */
      lockPolicy: z._default(z.enum(['queue', 'supersede', 'reject']), 'queue'),
      /**
       * The CI team that owns the service (a team of `ci.teams` in greenlight.config.ts). A
       * Release Requested from another team's source is rejected; one from a platform CI
       * principal (`ci.principals`) is taken whatever the team. Without it, only platform CI
       * principals may release the service.
       * @example { team: 'payments' }
       */
      ci: z.optional(z.strictObject({ team: CiTeamName })),
      /**
       * A Slack channel that follows each release: one message per release, updated in place as
       * it moves, with a thread reply per lifecycle event (started, each shift, a failed gate
       * with its evidence, rolled back or finalized, idle colour torn down). The greenlight bot
       * must be in the channel.
       * @example { channel: 'C0123DEPLOYS' }
       */
      updates: z.optional(ReleaseUpdates),
      /**
       * The service's migration runner: the function that owns its schema and runs the
       * migration a release carries (`migration` in the Release Requested event). Without it, a
       * release carrying a migration is refused.
       * @example { runner: { type: 'lambda', functionName: 'shop-migrations' } }
       */
      migrations: z.optional(MigrationsConfig),
    })
    .check(
      z.superRefine((service, ctx) => {
        const seen = new Set<string>();
        for (const [i, gate] of service.metricGates.entries()) {
          if (seen.has(gate.name)) {
            ctx.addIssue({
              code: 'custom',
              path: ['metricGates', i, 'name'],
              message: `metric gate "${gate.name}" is listed twice; give each gate its own name`,
            });
          }
          seen.add(gate.name);
        }
        // Own properties only: "constructor" is `in` every object.
        if (!Object.hasOwn(service.strategies, service.defaultStrategy)) {
          ctx.addIssue({
            code: 'custom',
            path: ['defaultStrategy'],
            message: `names no strategy of "${service.name}"; add it under "strategies" or pick one of: ${Object.keys(service.strategies).join(', ')}`,
          });
        }
        const approvals: { approval: ApprovalConfig; path: string[] }[] = [
          { approval: service.approval, path: ['approval'] },
          ...Object.entries(service.strategies).flatMap(([name, strategy]) =>
            strategy.approval
              ? [{ approval: strategy.approval, path: ['strategies', name, 'approval'] }]
              : [],
          ),
        ];
        for (const { approval, path } of approvals) {
          if (approval.type !== 'slack') continue;
          if (approval.approvers.length + approval.approverGroups.length === 0) {
            ctx.addIssue({
              code: 'custom',
              path: [...path, 'approvers'],
              message:
                'names nobody who may decide; list Slack user ids under "approvers" or user group ids under "approverGroups"',
            });
          }
          if (new Set(approval.stages).size !== approval.stages.length) {
            ctx.addIssue({
              code: 'custom',
              path: [...path, 'stages'],
              message: 'lists a stage twice; list each of "before-shift", "before-finalize" once',
            });
          }
          principalIssues(approval, path, ctx);
        }
      }),
    ),
);
export type ServiceConfig = z.infer<typeof ServiceConfig>;
export type ServiceConfigInput = z.input<typeof ServiceConfig>;

/**
 * A principal mapped twice is ambiguous, and one mapped to an id that is neither an approver
 * nor possibly a group member can never decide: both are mistakes, said at load.
 */
function principalIssues(
  approval: SlackApproval,
  path: string[],
  ctx: z.core.$RefinementCtx,
): void {
  const seen = new Set<string>();
  for (const [i, entry] of (approval.principals ?? []).entries()) {
    if (seen.has(entry.arn)) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'principals', i, 'arn'],
        message: `maps ${entry.arn} a second time; map each principal once`,
      });
    }
    seen.add(entry.arn);
    if (approval.approverGroups.length === 0 && !approval.approvers.includes(entry.approver)) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'principals', i, 'approver'],
        message: `maps to ${entry.approver}, who is not listed under "approvers"; add them there or map an approver`,
      });
    }
  }
}

/** The approval a release of `service` with `strategy` needs: the strategy's, else the service's. */
export function approvalOf(service: ServiceConfig, strategy: string): ApprovalConfig {
  return service.strategies[strategy]?.approval ?? service.approval;
}

export const ServiceRegistry = z.lazy(() =>
  z.array(ServiceConfig).check(
    z.superRefine((services, ctx) => {
      const seen = new Set<string>();
      for (const [i, s] of services.entries()) {
        if (seen.has(s.name)) {
          ctx.addIssue({
            code: 'custom',
            path: [i, 'name'],
            message: `service "${s.name}" is registered twice`,
          });
        }
        seen.add(s.name);
      }
    }),
  ),
);
export type ServiceRegistry = z.infer<typeof ServiceRegistry>;

/** The names of a service's gate alarms, in configuration order. */
export function alarmNamesOf(service: Pick<ServiceConfig, 'alarms'>): string[] {
  return service.alarms.map((alarm) => alarm.name);
}
