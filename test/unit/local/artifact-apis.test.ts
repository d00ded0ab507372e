import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  DescribeImagesCommand,
  ECRClient,
  ImageNotFoundException,
  RepositoryNotFoundException,
} from '@aws-sdk/client-ecr';
import {
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchBucket,
  NoSuchKey,
  NotFound,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalArtifactStore } from '../../../src/local/artifact-store.ts';
import { LocalEcr } from '../../../src/local/ecr-standin.ts';
import { type Endpoint, startEndpoint } from '../../../src/local/endpoint.ts';
import { LocalS3 } from '../../../src/local/s3-standin.ts';

// The local S3 and ECR read APIs over real HTTP with the real SDK clients: what the SDK makes
// of their answers (typed exceptions, a HEAD 404 without a body) is what the plan's probe sees.
const code = 'export const handler = async () => ({ statusCode: 200 });\n';
const repository = '000000000000.dkr.ecr.us-east-1.amazonaws.com/shop-web';
let root: string;
let endpoint: Endpoint;
let s3: S3Client;
let ecr: ECRClient;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'greenlight-artifact-apis-'));
  const store = new LocalArtifactStore({ root });
  for (const path of [
    store.s3Path('artifacts', 'checkout/1.2.0.zip'),
    store.imagePath(`${repository}:1.2.0`),
  ]) {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, code);
  }
  endpoint = await startEndpoint([new LocalS3(store), new LocalEcr({ artifacts: store })]);
  const config = {
    endpoint: endpoint.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' },
  };
  s3 = new S3Client(config);
  ecr = new ECRClient(config);
});

afterAll(async () => {
  s3?.destroy();
  ecr?.destroy();
  await endpoint?.close();
  await rm(root, { recursive: true, force: true });
});

describe('LocalS3', () => {
  it('answers HeadObject and GetObject for a stored object, addressed by path', async () => {
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: 'artifacts', Key: 'checkout/1.2.0.zip' }),
    );
    expect(head.ContentLength).toBe(Buffer.byteLength(code));
    expect(head.ETag).toBe(`"${createHash('md5').update(code).digest('hex')}"`);

    const got = await s3.send(
      new GetObjectCommand({ Bucket: 'artifacts', Key: 'checkout/1.2.0.zip' }),
    );
    expect(await got.Body?.transformToString()).toBe(code);
  });

  it('answers a missing object as S3 does: a bare 404 to HEAD, NoSuchKey or NoSuchBucket to GET', async () => {
    const missing = { Bucket: 'artifacts', Key: 'checkout/9.9.9.zip' };
    const head = await s3.send(new HeadObjectCommand(missing)).catch((error: unknown) => error);
    expect(head).toBeInstanceOf(NotFound);
    expect(head).toMatchObject({ $metadata: { httpStatusCode: 404 } });

    await expect(s3.send(new GetObjectCommand(missing))).rejects.toBeInstanceOf(NoSuchKey);
    await expect(
      s3.send(new GetObjectCommand({ Bucket: 'nobucket', Key: 'checkout/1.2.0.zip' })),
    ).rejects.toBeInstanceOf(NoSuchBucket);
  });

  it('keeps no versions: only the version "null" of an object exists', async () => {
    const object = { Bucket: 'artifacts', Key: 'checkout/1.2.0.zip' };
    await expect(
      s3.send(new HeadObjectCommand({ ...object, VersionId: 'null' })),
    ).resolves.toMatchObject({
      ContentLength: Buffer.byteLength(code),
    });
    await expect(
      s3.send(new HeadObjectCommand({ ...object, VersionId: '3HL4kqtJlcpXroDTDmJ' })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });
});

describe('LocalEcr', () => {
  it('describes a stored image by tag, with the digest of its content', async () => {
    const described = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'shop-web', imageIds: [{ imageTag: '1.2.0' }] }),
    );
    expect(described.imageDetails).toEqual([
      expect.objectContaining({
        registryId: '000000000000',
        repositoryName: 'shop-web',
        imageTags: ['1.2.0'],
        imageDigest: `sha256:${createHash('sha256').update(code).digest('hex')}`,
        imageSizeInBytes: Buffer.byteLength(code),
      }),
    ]);
  });

  it('fails a missing tag with ImageNotFoundException and a missing repository with RepositoryNotFoundException', async () => {
    await expect(
      ecr.send(
        new DescribeImagesCommand({
          repositoryName: 'shop-web',
          imageIds: [{ imageTag: '9.9.9' }],
        }),
      ),
    ).rejects.toBeInstanceOf(ImageNotFoundException);
    await expect(
      ecr.send(
        new DescribeImagesCommand({
          registryId: '000000000000',
          repositoryName: 'nobody',
          imageIds: [{ imageTag: '1.2.0' }],
        }),
      ),
    ).rejects.toBeInstanceOf(RepositoryNotFoundException);
  });
});
