import { z } from 'zod';
import { ServiceName } from './release-event.ts';

const Percent = z.number().gt(0).max(100);
const Seconds = z.int().min(0).max(86_400);
const StrategyName = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/);

/** What happens when nobody decides before an approval's timeout. */
export const ApprovalTimeoutAction = { Reject: 'reject', Approve: 'approve' } as const;
export type ApprovalTimeoutAction =
  (typeof ApprovalTimeoutAction)[keyof typeof ApprovalTimeoutAction];

/**
 * A human "go" in Slack. Approvers are Slack user ids and/or user groups; each stage listed
 * pauses the release until one of them clicks Approve (or Reject), or the timeout's action.
 */
export const SlackApproval = z.strictObject({
  type: z.literal('slack'),
  /** Channel id (`C…`) or name the greenlight bot is in. */
  channel: z.string().min(1).max(80),
  /** Slack user ids allowed to decide, e.g. `U024BE7LH` (Slack profile → Copy member ID). */
  approvers: z
    .array(z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'must be a Slack user id like U024BE7LH'))
    .max(100)
    .default([]),
  /** Slack user group ids (`S…`) whose members may decide too. */
  approverGroups: z
    .array(z.string().regex(/^S[A-Z0-9]{2,}$/, 'must be a Slack user group id like S0614TZR7'))
    .max(20)
    .default([]),
  /**
   * How long the release waits for a decision.
   * @default 86400
   */
  timeoutSeconds: z
    .int()
    .min(1)
    .max(7 * 86_400)
    .default(86_400),
  /**
   * What greenlight does when nobody decided in time.
   * @default "reject"
   */
  onTimeout: z
    .enum([ApprovalTimeoutAction.Reject, ApprovalTimeoutAction.Approve])
    .default('reject'),
  /**
   * Where the release waits: before any traffic moves, and/or before green takes all traffic.
   * @default ["before-shift"]
   */
  stages: z
    .array(z.enum(['before-shift', 'before-finalize']))
    .min(1)
    .max(2)
    .default(['before-shift']),
});
export type SlackApproval = z.infer<typeof SlackApproval>;

export const ApprovalConfig = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  SlackApproval,
]);
export type ApprovalConfig = z.infer<typeof ApprovalConfig>;

/**
 * A strategy may override the service's approval: e.g. `canary` needs none while
 * `all-at-once` asks Slack.
 */
const strategyApproval = { approval: ApprovalConfig.optional() };

/** How traffic moves from blue to green. Weights are percentages of traffic on green. */
export const Strategy = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('all-at-once'),
    bakeSeconds: Seconds.default(0),
    ...strategyApproval,
  }),
  z.strictObject({
    type: z.literal('canary'),
    percent: Percent.max(99),
    bakeSeconds: Seconds,
    ...strategyApproval,
  }),
  z.strictObject({
    type: z.literal('linear'),
    percent: Percent.max(50),
    intervalSeconds: Seconds,
    ...strategyApproval,
  }),
  z.strictObject({
    type: z.literal('steps'),
    steps: z
      .array(z.strictObject({ percent: Percent, bakeSeconds: Seconds }))
      .min(1)
      .max(20),
    ...strategyApproval,
  }),
]);
export type Strategy = z.infer<typeof Strategy>;

/** A pre-traffic test of a Lambda green version: invoke it and check the response. */
export const LambdaTestEvent = z.strictObject({
  name: z.string().min(1).max(64),
  payload: z.unknown(),
  /** Dotted paths into the JSON response and the values they must equal. */
  expect: z.record(z.string(), z.unknown()).default({}),
});
export type LambdaTestEvent = z.infer<typeof LambdaTestEvent>;

export const LambdaAliasTargetConfig = z.strictObject({
  kind: z.literal('lambda-alias'),
  functionName: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a function name, not an ARN'),
  alias: z.string().regex(/^(?!^[0-9]+$)[A-Za-z0-9_-]{1,128}$/, 'must be an alias name'),
});
export type LambdaAliasTargetConfig = z.infer<typeof LambdaAliasTargetConfig>;

const TargetGroupArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}$/,
    'must be a target group ARN',
  );
const ListenerArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener\/app\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}\/[0-9a-f]{16}$/,
    'must be an Application Load Balancer listener ARN',
  );
const ListenerRuleArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener-rule\/app\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}\/[0-9a-f]{16}\/[0-9a-f]{16}$/,
    'must be an Application Load Balancer listener rule ARN',
  );

/** One of the two colours' homes: a target group and the ECS service that fills it. */
export const AlbSlot = z.strictObject({
  targetGroupArn: TargetGroupArn,
  ecs: z.strictObject({
    cluster: z.string().min(1).max(255),
    service: z.string().min(1).max(255),
  }),
});
export type AlbSlot = z.infer<typeof AlbSlot>;

/** An HTTP check run against green through the test listener before any user traffic. */
export const HttpCheck = z.strictObject({
  name: z.string().min(1).max(64),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']).default('GET'),
  path: z.string().regex(/^\//, 'must start with "/"'),
  body: z.string().max(65_536).optional(),
  headers: z.record(z.string(), z.string()).default({}),
  expectStatus: z.int().min(100).max(599).default(200),
  /** A substring the response body must contain. */
  bodyIncludes: z.string().min(1).optional(),
});
export type HttpCheck = z.infer<typeof HttpCheck>;

/**
 * An HTTP service behind an Application Load Balancer: the production listener (or one of its
 * rules) forwards to two target groups by weight; each target group is filled by its own ECS
 * service. Which slot is blue is read from the listener at provisioning: the one taking traffic.
 */
export const AlbListenerTargetConfig = z.strictObject({
  kind: z.literal('alb-listener'),
  listenerArn: ListenerArn,
  /** Set when production traffic reaches the service through a listener rule, not the default action. */
  ruleArn: ListenerRuleArn.optional(),
  /** A listener (or rule) that forwards only to green: smoke checks go through it. */
  testListenerArn: ListenerArn,
  testRuleArn: ListenerRuleArn.optional(),
  /** Where the test listener answers, e.g. `http://internal-shop-123.eu-west-1.elb.amazonaws.com:8443`. */
  testUrl: z.url({ protocol: /^https?$/ }),
  slots: z.strictObject({ a: AlbSlot, b: AlbSlot }),
  /** The container of the task definition whose image a release replaces. */
  containerName: z.string().min(1).max(255),
  smoke: z
    .strictObject({
      paths: z.array(z.string().regex(/^\//)).default(['/health', '/ready']),
      checks: z.array(HttpCheck).max(20).default([]),
      /** Each path and check must pass this many times in a row. */
      consecutivePasses: z.int().min(1).max(20).default(3),
      timeoutMs: z.int().min(100).max(30_000).default(2000),
      intervalMs: z.int().min(0).max(30_000).default(500),
    })
    .default({
      paths: ['/health', '/ready'],
      checks: [],
      consecutivePasses: 3,
      timeoutMs: 2000,
      intervalMs: 500,
    }),
  /** Green's targets must all be healthy within this long, or the release rolls back. */
  healthyDeadlineSeconds: z.int().min(10).max(3600).default(600),
});
export type AlbListenerTargetConfig = z.infer<typeof AlbListenerTargetConfig>;

export const TargetConfig = z.discriminatedUnion('kind', [
  LambdaAliasTargetConfig,
  AlbListenerTargetConfig,
]);
export type TargetConfig = z.infer<typeof TargetConfig>;

export const LockPolicy = {
  Queue: 'queue',
  Supersede: 'supersede',
  Reject: 'reject',
} as const;
export type LockPolicy = (typeof LockPolicy)[keyof typeof LockPolicy];

export const ServiceConfig = z
  .strictObject({
    name: ServiceName,
    target: TargetConfig,
    strategies: z.record(StrategyName, Strategy),
    /** Used when the event names no strategy. */
    defaultStrategy: StrategyName,
    /** CloudWatch alarm names watched after every bake. All must exist before traffic moves. */
    /**
     * Where this service's artifacts may come from. A release naming any other bucket or
     * repository is rejected: a crafted event cannot deploy code from elsewhere, and the
     * stack grants read access to these alone.
     */
    artifacts: z
      .strictObject({
        s3Buckets: z.array(z.string().min(3).max(63)).default([]),
        /** ECR repository URIs without tag, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout`. */
        imageRepositories: z.array(z.string().min(1)).default([]),
      })
      .default({ s3Buckets: [], imageRepositories: [] }),
    alarms: z.array(z.string().min(1).max(255)).max(100).default([]),
    tests: z.array(LambdaTestEvent).max(20).default([]),
    /** A human "go" before traffic moves (and optionally before finalize). @default { type: "none" } */
    approval: ApprovalConfig.default({ type: 'none' }),
    /** How long the idle colour stays warm after finalize before it is torn down. */
    warmWindowSeconds: Seconds.default(3600),
    lockPolicy: z.enum(['queue', 'supersede', 'reject']).default('queue'),
  })
  .superRefine((service, ctx) => {
    if (!(service.defaultStrategy in service.strategies)) {
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
    }
  });
export type ServiceConfig = z.infer<typeof ServiceConfig>;
export type ServiceConfigInput = z.input<typeof ServiceConfig>;

/** The approval a release of `service` with `strategy` needs: the strategy's, else the service's. */
export function approvalOf(service: ServiceConfig, strategy: string): ApprovalConfig {
  return service.strategies[strategy]?.approval ?? service.approval;
}

export const ServiceRegistry = z.array(ServiceConfig).superRefine((services, ctx) => {
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
});
export type ServiceRegistry = z.infer<typeof ServiceRegistry>;
