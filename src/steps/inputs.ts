import { ReleaseMigration } from '../core/migration.ts';
import type { Colours, ReleaseSpec, WeightStep } from '../core/records.ts';
import { Artifact, ServiceName, Version } from '../core/release-event.ts';
import * as z from '../core/zod.ts';

/** Schemas of what the workflow hands each step (the state built by earlier steps). */

export const WeightStepSchema: z.ZodMiniType<WeightStep> = z.lazy(() =>
  z.strictObject({
    index: z.int().check(z.gte(0)),
    percent: z.number().check(z.gte(0), z.lte(100)),
    bakeSeconds: z.int().check(z.gte(0)),
  }),
);

const ReleaseSpecShape = z.lazy(() =>
  z.object({
    releaseId: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,80}$/)),
    service: ServiceName,
    version: Version,
    attempt: z.int().check(z.gte(1)),
    artifact: Artifact,
    strategy: z.string(),
    plan: z.array(WeightStepSchema).check(z.minLength(1)),
    commit: z.optional(z.string()),
    actor: z.optional(z.string()),
    ci: z.optional(z.object({ provider: z.string(), runUrl: z.string() })),
    requestedAt: z.string(),
    approval: z.optional(
      z.object({
        beforeMigration: z.optional(z.boolean()),
        beforeShift: z.boolean(),
        beforeFinalize: z.boolean(),
        timeoutSeconds: z.int().check(z.gte(1)),
      }),
    ),
    migration: z.optional(ReleaseMigration),
  }),
);

/**
 * zod infers `field?: T | undefined` for optional fields, which exactOptionalPropertyTypes
 * tells apart from `field?: T`; parsing never produces an explicit undefined for an absent
 * key, so the parsed value is a ReleaseSpec.
 */
export const ReleaseSpecSchema = ReleaseSpecShape as unknown as z.ZodMiniType<ReleaseSpec>;

export const ColoursSchema: z.ZodMiniType<Colours> = z.lazy(() =>
  z.strictObject({
    blue: z.string().check(z.minLength(1)),
    green: z.string().check(z.minLength(1)),
  }),
);

export const ReleaseInput = z.lazy(() => z.object({ release: ReleaseSpecSchema }));
export const ColouredReleaseInput = z.lazy(() =>
  z.object({
    release: ReleaseSpecSchema,
    colours: ColoursSchema,
  }),
);
export const WeightStepInput = z.lazy(() =>
  z.object({
    release: ReleaseSpecSchema,
    colours: ColoursSchema,
    step: WeightStepSchema,
  }),
);

/**
 * What a Catch puts in `$.failure`. Step Functions documents `Cause` as optional and engines
 * differ (absent, null, a plain message, a Lambda error document as JSON), so anything is
 * taken: Rollback must never refuse its input, and failureMessage reads the best reason.
 */
export const FailureSchema = z.lazy(() =>
  z.object({
    Error: z.catch(z.string(), 'States.Unknown'),
    Cause: z.optional(z.unknown()),
  }),
);
