import * as z from 'zod';

/** `detail-type` of the one event greenlight acts on. */
export const ReleaseRequestedDetailType = 'Release Requested';

export const ServiceName = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,39}$/,
    'must be 1-40 characters: lowercase letters, digits and dashes, starting with a letter',
  );

export const Version = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/,
    'must be 1-64 characters: letters, digits, ".", "_", "+" or "-", starting with a letter or digit',
  );

export const S3Artifact = z.strictObject({
  s3: z.strictObject({
    bucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name'),
    key: z.string().min(1).max(1024),
    objectVersion: z.string().min(1).max(1024).optional(),
  }),
});

export const ImageArtifact = z.strictObject({
  imageUri: z
    .string()
    .regex(
      /^[a-z0-9.-]+(:[0-9]+)?\/[a-z0-9._/-]+(:[A-Za-z0-9._-]{1,128}|@sha256:[a-f0-9]{64})$/,
      'must be an image URI with a tag or digest, like 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1.4.2',
    ),
});

/** What to deploy as green. Lambda services take either kind; ECS services take an image. */
export const Artifact = z.union([S3Artifact, ImageArtifact]);
export type Artifact = z.infer<typeof Artifact>;

/**
 * `detail` of a Release Requested event, schema version 1. It never carries ARNs to act on:
 * what a release may touch is fixed by the service's registered configuration.
 */
export const ReleaseRequestedV1 = z.strictObject({
  schemaVersion: z.literal(1),
  service: ServiceName,
  version: Version,
  artifact: Artifact,
  commit: z
    .string()
    .regex(/^[0-9a-f]{7,64}$/, 'must be a hex commit id')
    .optional(),
  actor: z.string().min(1).max(128).optional(),
  ci: z
    .strictObject({
      provider: z.string().min(1).max(64),
      runUrl: z.url({ protocol: /^https?$/ }).max(2048),
    })
    .optional(),
  strategy: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,39}$/, 'must name one of the service strategies')
    .optional(),
  attempt: z.int().min(1).max(999).default(1),
});
export type ReleaseRequestedV1 = z.infer<typeof ReleaseRequestedV1>;
export type ReleaseRequestedV1Input = z.input<typeof ReleaseRequestedV1>;

/** The EventBridge envelope, as Step Functions receives it from the rule's target. */
export const ReleaseRequestedEnvelope = z.object({
  id: z.string().optional(),
  source: z.string().min(1),
  'detail-type': z.literal(ReleaseRequestedDetailType),
  time: z.string().optional(),
  detail: z.unknown(),
});
