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
});
export type LambdaAliasTargetConfig = z.infer<typeof LambdaAliasTargetConfig>;

export const TargetConfig = z.discriminatedUnion('kind', [LambdaAliasTargetConfig]);
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
