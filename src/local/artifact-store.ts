import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A stored artifact: where its code is on disk and how Lambda would fingerprint it. */
export interface ResolvedArtifact {
  path: string;
  /** Base64 SHA-256 of the file's bytes, as Lambda reports `CodeSha256`. */
  sha256: string;
  size: number;
}

export interface LocalArtifactStoreOptions {
  /** Directory that holds `s3/<bucket>/<key>` and `images/<encodeURIComponent(uri)>.mjs`. */
  root: string;
}

/**
 * The local stand-in for S3 objects and container images that hold Lambda code.
 *
 * Simplification: a "zip" here is not an archive but a single ESM JavaScript module exporting
 * `handler(event, context)` (for example `s3/greenlight-demo-artifacts/checkout/1.4.2.zip` holds
 * plain JS). The local Lambda imports it directly, which keeps demo artifacts readable and
 * needs no unzip step; the release flow only cares about the object's identity and its hash.
 * An image URI maps to `images/${encodeURIComponent(uri)}.mjs`, one file per tag or digest.
 */
export class LocalArtifactStore {
  readonly root: string;

  constructor(options: LocalArtifactStoreOptions) {
    this.root = options.root;
  }

  /** Where an S3 object lives under the root; write a test artifact here. */
  s3Path(bucket: string, key: string): string {
    return join(this.root, 's3', bucket, ...key.split('/'));
  }

  /** Where an image URI's module lives under the root. */
  imagePath(uri: string): string {
    return join(this.root, 'images', `${encodeURIComponent(uri)}.mjs`);
  }

  resolveS3(bucket: string, key: string): Promise<ResolvedArtifact | undefined> {
    // Keys with `..` segments would escape the bucket directory; S3 would treat them literally.
    if (bucket.includes('/') || key.split('/').includes('..')) return Promise.resolve(undefined);
    return describeFile(this.s3Path(bucket, key));
  }

  resolveImage(uri: string): Promise<ResolvedArtifact | undefined> {
    return describeFile(this.imagePath(uri));
  }
}

/**
 * A module file the local cloud itself owns (not an uploaded artifact), fingerprinted like one:
 * the demo's migration runner, seeded as a Lambda function from its source file.
 */
export function describeModule(path: string): Promise<ResolvedArtifact | undefined> {
  return describeFile(path);
}

async function describeFile(path: string): Promise<ResolvedArtifact | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  return { path, sha256: createHash('sha256').update(bytes).digest('base64'), size: bytes.length };
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR';
}
