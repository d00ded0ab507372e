import * as z from 'zod';
import type { Colours, ReleaseSpec, WeightStep } from '../core/records.ts';
import { Artifact, ServiceName, Version } from '../core/release-event.ts';

/** Schemas of what the workflow hands each step (the state built by earlier steps). */

export const WeightStepSchema: z.ZodType<WeightStep> = z.strictObject({
  index: z.int().min(0),
  percent: z.number().min(0).max(100),
  bakeSeconds: z.int().min(0),
});

const ReleaseSpecShape = z.object({
  releaseId: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/),
  service: ServiceName,
  version: Version,
  attempt: z.int().min(1),
  artifact: Artifact,
  strategy: z.string(),
  plan: z.array(WeightStepSchema).min(1),
  commit: z.string().optional(),
  actor: z.string().optional(),
  ci: z.object({ provider: z.string(), runUrl: z.string() }).optional(),
  requestedAt: z.string(),
  approval: z
    .object({
      beforeShift: z.boolean(),
      beforeFinalize: z.boolean(),
      timeoutSeconds: z.int().min(1),
    })
    .optional(),
});

/**
 * zod infers `field?: T | undefined` for optional fields, which exactOptionalPropertyTypes
 * tells apart from `field?: T`; parsing never produces an explicit undefined for an absent
 * key, so the parsed value is a ReleaseSpec.
 */
export const ReleaseSpecSchema = ReleaseSpecShape as unknown as z.ZodType<ReleaseSpec>;

export const ColoursSchema: z.ZodType<Colours> = z.strictObject({
  blue: z.string().min(1),
  green: z.string().min(1),
});

export const ReleaseInput = z.object({ release: ReleaseSpecSchema });
export const ColouredReleaseInput = z.object({
  release: ReleaseSpecSchema,
  colours: ColoursSchema,
});
export const WeightStepInput = z.object({
  release: ReleaseSpecSchema,
  colours: ColoursSchema,
  step: WeightStepSchema,
});

/**
 * What a Catch puts in `$.failure`. Step Functions documents `Cause` as optional and engines
 * differ (absent, null, a plain message, a Lambda error document as JSON), so anything is
 * taken: Rollback must never refuse its input, and failureMessage reads the best reason.
 */
export const FailureSchema = z.object({
  Error: z.string().catch('States.Unknown'),
  Cause: z.unknown().optional(),
});
