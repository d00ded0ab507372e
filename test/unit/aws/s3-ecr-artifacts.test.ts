import {
  DescribeImagesCommand,
  ECRClient,
  ImageNotFoundException,
  RepositoryNotFoundException,
} from '@aws-sdk/client-ecr';
import { HeadObjectCommand, NotFound, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { S3EcrArtifactProbe } from '../../../src/aws/s3-ecr-artifacts.ts';

const s3 = mockClient(S3Client);
const ecr = mockClient(ECRClient);
let regions: string[];

beforeEach(() => {
  s3.reset();
  ecr.reset();
  regions = [];
});

function probe() {
  return new S3EcrArtifactProbe({
    s3: new S3Client({ region: 'us-east-1' }),
    ecrFor: (region) => {
      regions.push(region);
      return new ECRClient({ region });
    },
  });
}

const zip = { s3: { bucket: 'artifacts', key: 'checkout/1.2.0.zip' } };
const image = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/shop-web:1.2.0';
const forbidden = () =>
  new S3ServiceException({
    name: 'Forbidden',
    $fault: 'client',
    message: 'UnknownError',
    $metadata: { httpStatusCode: 403 },
  });

describe('S3EcrArtifactProbe for S3', () => {
  it('asks HeadObject for the object (and its version) and passes when S3 answers', async () => {
    s3.on(HeadObjectCommand).resolves({ ContentLength: 812 });

    expect(await probe().readable(zip)).toEqual({
      ok: true,
      detail: 's3://artifacts/checkout/1.2.0.zip is readable (HeadObject: 812 bytes)',
    });
    await probe().readable({ s3: { ...zip.s3, objectVersion: 'v7' } });
    expect(s3.commandCalls(HeadObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: 'artifacts', Key: 'checkout/1.2.0.zip' },
      { Bucket: 'artifacts', Key: 'checkout/1.2.0.zip', VersionId: 'v7' },
    ]);
  });

  it('says a 404 is a missing object', async () => {
    s3.on(HeadObjectCommand).rejects(
      new NotFound({ message: 'Not Found', $metadata: { httpStatusCode: 404 } }),
    );
    expect(await probe().readable(zip)).toEqual({
      ok: false,
      detail: expect.stringMatching(
        /^s3:\/\/artifacts\/checkout\/1\.2\.0\.zip does not exist \(HeadObject: 404 Not Found\)/,
      ),
    });
  });

  it('says a 403 is access denied, and that a missing object without ListBucket reads so too', async () => {
    s3.on(HeadObjectCommand).rejects(forbidden());
    const { ok, detail } = await probe().readable(zip);
    expect(ok).toBe(false);
    expect(detail).toMatch(
      /^access denied to s3:\/\/artifacts\/checkout\/1\.2\.0\.zip \(HeadObject: 403 Forbidden\): the caller needs s3:GetObject on it/,
    );
    expect(detail).toContain('without s3:ListBucket');
  });

  it('fails with the error for anything else', async () => {
    s3.on(HeadObjectCommand).rejects(
      Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }),
    );
    expect(await probe().readable(zip)).toEqual({
      ok: false,
      detail: 's3://artifacts/checkout/1.2.0.zip could not be read: TimeoutError: socket hang up',
    });
  });
});

describe('S3EcrArtifactProbe for ECR', () => {
  it('asks DescribeImages in the image’s region for its tag, or its digest', async () => {
    ecr.on(DescribeImagesCommand).resolves({
      imageDetails: [{ imageDigest: `sha256:${'a'.repeat(64)}` }],
    });

    expect(await probe().readable({ imageUri: image })).toEqual({
      ok: true,
      detail: `${image} exists (DescribeImages: sha256:${'a'.repeat(64)})`,
    });
    const digest = `sha256:${'b'.repeat(64)}`;
    await probe().readable({
      imageUri: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/shop-web@${digest}`,
    });
    expect(regions).toEqual(['eu-west-1', 'eu-west-1']);
    expect(ecr.commandCalls(DescribeImagesCommand).map((c) => c.args[0].input)).toEqual([
      {
        registryId: '123456789012',
        repositoryName: 'team/shop-web',
        imageIds: [{ imageTag: '1.2.0' }],
      },
      {
        registryId: '123456789012',
        repositoryName: 'team/shop-web',
        imageIds: [{ imageDigest: digest }],
      },
    ]);
  });

  it('says which is missing: the image or its repository', async () => {
    ecr
      .on(DescribeImagesCommand)
      .rejectsOnce(new ImageNotFoundException({ message: 'not found', $metadata: {} }))
      .rejectsOnce(new RepositoryNotFoundException({ message: 'no repo', $metadata: {} }));

    expect((await probe().readable({ imageUri: image })).detail).toBe(
      `${image} does not exist: no image 1.2.0 in repository team/shop-web (ImageNotFoundException); push it first`,
    );
    expect(await probe().readable({ imageUri: image })).toEqual({
      ok: false,
      detail:
        'repository team/shop-web does not exist in registry 123456789012 (eu-west-1) (RepositoryNotFoundException)',
    });
  });

  it('says access was denied, naming the permission', async () => {
    ecr.on(DescribeImagesCommand).rejects(
      Object.assign(new Error('not authorized'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    expect((await probe().readable({ imageUri: image })).detail).toBe(
      `access denied to ${image} (AccessDeniedException): the caller needs ecr:DescribeImages on repository team/shop-web`,
    );
  });

  it('does not ask about an image outside ECR, and says so', async () => {
    expect(await probe().readable({ imageUri: 'ghcr.io/acme/shop:1' })).toEqual({
      ok: true,
      detail:
        'not checked: ghcr.io/acme/shop:1 is not an Amazon ECR image, and only ECR can be asked',
    });
    expect(ecr.commandCalls(DescribeImagesCommand)).toEqual([]);
  });
});
