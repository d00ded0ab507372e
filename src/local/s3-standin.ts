import { createHash, randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { LocalArtifactStore } from './artifact-store.ts';
import type { LocalRequest, LocalResponse, LocalService } from './http.ts';

/**
 * S3's HeadObject and GetObject on the local endpoint, served from the artifact store, so that
 * `greenlight plan`, any SDK and the AWS CLI can read the artifacts a release would deploy.
 *
 * Wire protocol (Amazon S3 API Reference, "HeadObject", "GetObject", "Error responses"):
 * REST-XML, path-style here (`/bucket/key`: the SDK and the AWS CLI address an IP endpoint by
 * path), claimed by the SigV4 credential scope `…/s3/aws4_request` since S3 has no target
 * header. A missing object or bucket answers HEAD with a bare 404 (a HEAD response has no
 * body) and GET with a `NoSuchKey` / `NoSuchBucket` error document.
 *
 * Simplifications: the store keeps no versions, so an object exists only as the version
 * `null` (what S3 calls an object in an unversioned bucket); access is never denied; every
 * other S3 operation answers 501 NotImplemented.
 */
export class LocalS3 implements LocalService {
  readonly name = 's3';
  readonly #artifacts: LocalArtifactStore;

  constructor(artifacts: LocalArtifactStore) {
    this.#artifacts = artifacts;
  }

  async handle(request: LocalRequest): Promise<LocalResponse | undefined> {
    if (!signedFor(request, 's3')) return undefined;
    const url = new URL(request.url, 'http://s3.local');
    const [bucketPart = '', ...keyParts] = url.pathname.slice(1).split('/');
    const bucket = decodeURIComponent(bucketPart);
    const key = keyParts.map(decodeURIComponent).join('/');
    const head = request.method === 'HEAD';
    if ((!head && request.method !== 'GET') || bucket === '' || key === '') {
      return s3Error(
        501,
        'NotImplemented',
        'The local S3 serves HeadObject and GetObject only.',
        head,
      );
    }
    const versionId = url.searchParams.get('versionId');
    const object = await this.#artifacts.resolveS3(bucket, key);
    if (object === undefined || (versionId !== null && versionId !== 'null')) {
      if (!(await this.#bucketExists(bucket))) {
        return s3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', head, {
          BucketName: bucket,
        });
      }
      if (versionId !== null && versionId !== 'null') {
        return s3Error(404, 'NoSuchVersion', 'The specified version does not exist.', head, {
          Key: key,
          VersionId: versionId,
        });
      }
      return s3Error(404, 'NoSuchKey', 'The specified key does not exist.', head, { Key: key });
    }
    const bytes = await readFile(object.path);
    const modified = (await stat(object.path)).mtime;
    const headers = {
      'content-type': 'application/zip',
      'content-length': String(bytes.length),
      etag: `"${createHash('md5').update(bytes).digest('hex')}"`,
      'last-modified': modified.toUTCString(),
      'accept-ranges': 'bytes',
      'x-amz-request-id': requestId(),
    };
    return { status: 200, headers, ...(head ? {} : { body: bytes }) };
  }

  async #bucketExists(bucket: string): Promise<boolean> {
    if (bucket.includes('/') || bucket === '..' || bucket === '.') return false;
    try {
      return (await stat(dirname(this.#artifacts.s3Path(bucket, 'probe')))).isDirectory();
    } catch {
      return false;
    }
  }
}

// AWS Signature Version 4: `Credential=AKID/DATE/REGION/SERVICE/aws4_request`.
const credentialScope = /Credential=[^/,\s]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/;

/** Whether the request is signed for `service` (its SigV4 credential scope). */
export function signedFor(request: LocalRequest, service: string): boolean {
  const scope = credentialScope.exec(String(request.headers.authorization ?? ''));
  return scope?.[1] === service;
}

function s3Error(
  status: number,
  code: string,
  message: string,
  head: boolean,
  fields: Record<string, string> = {},
): LocalResponse {
  const id = requestId();
  if (head) return { status, headers: { 'x-amz-request-id': id } };
  const extra = Object.entries(fields)
    .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`)
    .join('');
  return {
    status,
    headers: { 'content-type': 'application/xml', 'x-amz-request-id': id },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message>${extra}<RequestId>${id}</RequestId></Error>`,
  };
}

function requestId(): string {
  return randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase();
}

function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}
