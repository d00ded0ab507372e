import { z } from 'zod';
import { ServiceName } from './release-event.ts';

const Percent = z.number().gt(0).max(100);
const Seconds = z.int().min(0).max(86_400);
const StrategyName = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/);

/** How traffic moves from blue to green. Weights are percentages of traffic on green. */
export const Strategy = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('all-at-once'), bakeSeconds: Seconds.default(0) }),
  z.strictObject({
    type: z.literal('canary'),
    percent: Percent.max(99),
    bakeSeconds: Seconds,
  }),
  z.strictObject({
    type: z.literal('linear'),
    percent: Percent.max(50),
    intervalSeconds: Seconds,
  }),
  z.strictObject({
    type: z.literal('steps'),
    steps: z
      .array(z.strictObject({ percent: Percent, bakeSeconds: Seconds }))
      .min(1)
      .max(20),
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
  /**
   * How many of the newest published versions a teardown keeps. Older versions are deleted
   * unless an alias routes to them or a release in flight uses them; the live version is
   * always kept.
   * @default 3
   * @example 5
   */
  keepVersions: z.int().min(1).max(100).default(3),
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
    approval: z
      .discriminatedUnion('type', [
        z.strictObject({ type: z.literal('none') }),
        z.strictObject({
          type: z.literal('slack'),
          channel: z.string().min(1),
          approvers: z.array(z.string().min(1)).min(1),
        }),
      ])
      .default({ type: 'none' }),
    /**
     * How long the idle colour stays warm after finalize, so that a rollback is one switch
     * back, before a one-time schedule tears it down.
     * @default 900
     * @example 3600
     */
    warmWindowSeconds: Seconds.default(900),
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
  });
export type ServiceConfig = z.infer<typeof ServiceConfig>;
export type ServiceConfigInput = z.input<typeof ServiceConfig>;

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
