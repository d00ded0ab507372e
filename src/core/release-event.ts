import { describeUnsafeCharacter, InertTextPattern, isInertText } from './inert-text.ts';
import { ReleaseMigration } from './migration.ts';
import * as z from './zod.ts';

/** `detail-type` of the one event greenlight acts on. */
export const ReleaseRequestedDetailType = 'Release Requested';

/** The `source` of the Release Requested events greenlight's operator function puts (retry, late rollback). */
export const OperatorEventSource = 'greenlight.operator';

export const ServiceName = z.lazy(() =>
  z
    .string()
    .check(
      z.regex(
        /^[a-z][a-z0-9-]{0,39}$/,
        'must be 1-40 characters: lowercase letters, digits and dashes, starting with a letter',
      ),
    ),
);

export const Version = z.lazy(() =>
  z
    .string()
    .check(
      z.regex(
        /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/,
        'must be 1-64 characters: letters, digits, ".", "_", "+" or "-", starting with a letter or digit',
      ),
    ),
);

/**
 * Text a person or a CI system wrote (`actor`, `ci.provider`): printable, at most `maxChars`.
 * Printable means no character a terminal or a reader's eye would act on (see inert-text.ts);
 * the pattern carries the rule into JSON Schema, the message names the character and where.
 */
export function printableText(maxChars: number) {
  return z
    .string()
    .check(
      z.minLength(1),
      z.maxLength(maxChars),
      z.regex(InertTextPattern, { error: notPrintable }),
    );
}

function notPrintable(issue: { input?: unknown }): string {
  const found = typeof issue.input === 'string' ? describeUnsafeCharacter(issue.input) : undefined;
  return `must be printable text${found ? `, but has ${found}` : ''}: no control characters (C0, DEL, C1, ESC sequences), bidirectional controls, line separators or lone surrogates`;
}

/**
 * UTF-8 bytes of `text`. S3 limits object key names and version ids in bytes ("Naming Amazon
 * S3 objects", Amazon S3 User Guide: a key is up to 1,024 bytes of UTF-8; "How S3 Versioning
 * works": a version id is no more than 1,024 bytes), where zod's `max` and JSON Schema's
 * `maxLength` count characters.
 */
function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).byteLength;
}

/** Printable text S3 takes as a key or version id: at most 1,024 bytes of UTF-8. */
function s3Name(what: string) {
  return z.string().check(
    z.minLength(1),
    z.maxLength(1024),
    z.regex(InertTextPattern, { error: notPrintable }),
    z.refine((text) => utf8Bytes(text) <= 1024, {
      error: (issue) =>
        `must be at most 1,024 bytes as UTF-8 (S3's limit for ${what}); this one is ${utf8Bytes(String(issue.input))} bytes`,
    }),
  );
}

/**
 * A general purpose bucket name, by "General purpose bucket naming rules" (Amazon S3 User
 * Guide): 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter
 * or digit; no two adjacent periods; not an IP address; none of the reserved prefixes
 * (`xn--`, `sthree-`, `amzn-s3-demo-`) or suffixes (`-s3alias`, `--ol-s3`, `.mrap`, `--x-s3`,
 * `--table-s3`).
 */
export const S3BucketName = z.lazy(() =>
  z.string().check(
    z.regex(
      /^(?!xn--|sthree-|amzn-s3-demo-)(?!.*\.\.)(?!\d{1,3}(?:\.\d{1,3}){3}$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
      'must be a valid S3 bucket name: 3-63 lowercase letters, digits, "." and "-", starting and ending with a letter or digit, no "..", not an IP address',
    ),
    z.refine(
      (name) => !/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name),
      'must not end with a suffix S3 reserves (-s3alias, --ol-s3, .mrap, --x-s3, --table-s3)',
    ),
  ),
);

export const S3Artifact = z.lazy(() =>
  z.strictObject({
    s3: z.strictObject({
      bucket: S3BucketName,
      key: s3Name('a key'),
      objectVersion: z.optional(s3Name('a version id')),
    }),
  }),
);

/**
 * ECS takes an image as `registry/repository:tag` in at most 255 characters, or
 * `registry/repository@sha256:<64 hex>` with at most 255 before the `@` (Amazon ECS API
 * Reference, ContainerDefinition `image`). The repository follows ECR's pattern (Amazon ECR
 * API Reference, CreateRepository `repositoryName`: lowercase letters and digits in runs
 * joined by single ".", "_" or "-", in "/"-separated parts), the tag Docker's rule (a letter,
 * digit or "_", then up to 127 of letters, digits, "_", "." and "-").
 */
const ImageNameMaxChars = 255;

/** The part of an image URI ECS counts: everything before a digest's `@`. */
function imageName(uri: string): string {
  const at = uri.indexOf('@');
  return at === -1 ? uri : uri.slice(0, at);
}

export const ImageArtifact = z.lazy(() =>
  z.strictObject({
    imageUri: z.string().check(
      z.refine((uri) => imageName(uri).length <= ImageNameMaxChars, {
        error: (issue) =>
          `must have at most ${ImageNameMaxChars} characters before any @digest (ECS's limit for an image); this one has ${imageName(String(issue.input)).length}`,
        abort: true,
      }),
      z.maxLength(ImageNameMaxChars + '@sha256:'.length + 64),
      z.regex(
        /^[a-z0-9.-]+(?::[0-9]{1,5})?\/(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[A-Za-z0-9_][A-Za-z0-9._-]{0,127}|@sha256:[a-f0-9]{64})$/,
        'must be an image URI with a tag or digest, like 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1.4.2',
      ),
    ),
  }),
);

/** What to deploy as green. Lambda services take either kind; ECS services take an image. */
export const Artifact = z.lazy(() => z.union([S3Artifact, ImageArtifact]));
export type Artifact = z.infer<typeof Artifact>;

/**
 * `detail` of a Release Requested event, schema version 1. It never carries ARNs to act on:
 * what a release may touch is fixed by the service's registered configuration.
 */
export const ReleaseRequestedV1 = z.lazy(() =>
  z.strictObject({
    schemaVersion: z.literal(1),
    service: ServiceName,
    version: Version,
    artifact: Artifact,
    commit: z.optional(z.string().check(z.regex(/^[0-9a-f]{7,64}$/, 'must be a hex commit id'))),
    actor: z.optional(printableText(128)),
    ci: z.optional(
      z.strictObject({
        provider: printableText(64),
        // WHATWG URL parsing percent-encodes what a URI may not hold, so zod's url() lets
        // control and bidi characters through; JSON Schema's "uri" format does not, and keeps it.
        runUrl: z
          .url({ protocol: /^https?$/ })
          .check(z.maxLength(2048), z.refine(isInertText, { error: notPrintable })),
      }),
    ),
    strategy: z.optional(
      z
        .string()
        .check(z.regex(/^[a-z][a-z0-9-]{0,39}$/, 'must name one of the service strategies')),
    ),
    attempt: z._default(z.int().check(z.gte(1), z.lte(999)), 1),
    /**
     * Releases run in the order CI requested them (the event's time), and one requested before
     * the build that is live is refused (OlderThanLive). `true` says the older build is meant:
     * a deliberate downgrade.
     */
    allowOlder: z.optional(z.boolean()),
    /**
     * The database migration this release carries, run through the service's registered runner
     * (`migrations.runner`): an `expand` after green is provisioned and before green's tests, a
     * `contract` (naming the expand it `completes`) at this release's teardown of its idle colour.
     * `irreversible` (needs the service's Slack approvers) after an approval that names it, and
     * makes the release forward-only: a failure after it holds traffic instead of rolling back.
     * @example { "id": "0007_add_orders_note", "kind": "expand" }
     */
    migration: z.optional(ReleaseMigration),
    /**
     * Set by `greenlight rollback` when blue was torn down: this release re-provisions the build
     * `rollbackOf` replaced, through tests and gates like any release. Taken only from greenlight's
     * operator source (a team's CI cannot put that source; see busPolicy), so that the ledger's
     * "rollback of" is greenlight's word, not a CI's.
     */
    rollbackOf: z.optional(
      z.string().check(z.regex(/^[A-Za-z0-9_-]{1,80}$/, 'must be a release id')),
    ),
  }),
);
export type ReleaseRequestedV1 = z.infer<typeof ReleaseRequestedV1>;
export type ReleaseRequestedV1Input = z.input<typeof ReleaseRequestedV1>;

/** The EventBridge envelope, as Step Functions receives it from the rule's target. */
export const ReleaseRequestedEnvelope = z.lazy(() =>
  z.object({
    id: z.optional(z.string()),
    source: z.string().check(z.minLength(1)),
    'detail-type': z.literal(ReleaseRequestedDetailType),
    time: z.optional(z.string()),
    detail: z.unknown(),
  }),
);
