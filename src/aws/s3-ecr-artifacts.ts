import { DescribeImagesCommand, type ECRClient } from '@aws-sdk/client-ecr';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ArtifactProbe } from '../core/plan.ts';
import type { Artifact } from '../core/release-event.ts';

export interface S3EcrArtifactProbeOptions {
  s3: S3Client;
  /** An ECR client for a region: a repository is asked in the region its URI names. */
  ecrFor: (region: string) => ECRClient;
}

/**
 * An Amazon ECR image URI: `ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn]/REPO(:TAG|@DIGEST)`
 * ("Amazon ECR private registry", https://docs.aws.amazon.com/AmazonECR/latest/userguide/Registries.html).
 */
const ecrImage =
  /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9._/-]+)(?::([A-Za-z0-9._-]{1,128})|@(sha256:[a-f0-9]{64}))$/;

/**
 * Whether the caller's credentials can read an artifact, asked as cheaply as AWS allows:
 * HeadObject for S3 (no bytes move), DescribeImages for ECR. It is the caller who is asked, not
 * the roles that will read the artifact during a release (provision-green's for S3, the ECS
 * task execution role for an image): a pass says the artifact exists and is readable from here.
 */
export class S3EcrArtifactProbe implements ArtifactProbe {
  readonly #s3: S3Client;
  readonly #ecrFor: (region: string) => ECRClient;

  constructor(options: S3EcrArtifactProbeOptions) {
    this.#s3 = options.s3;
    this.#ecrFor = options.ecrFor;
  }

  readable(artifact: Artifact): Promise<{ ok: boolean; detail: string }> {
    return 's3' in artifact
      ? this.#headObject(artifact.s3)
      : this.#describeImage(artifact.imageUri);
  }

  async #headObject(s3: {
    bucket: string;
    key: string;
    objectVersion?: string | undefined;
  }): Promise<{ ok: boolean; detail: string }> {
    const where = `${s3.objectVersion === undefined ? '' : `version ${s3.objectVersion} of `}s3://${s3.bucket}/${s3.key}`;
    try {
      const head = await this.#s3.send(
        new HeadObjectCommand({
          Bucket: s3.bucket,
          Key: s3.key,
          ...(s3.objectVersion === undefined ? {} : { VersionId: s3.objectVersion }),
        }),
      );
      return {
        ok: true,
        detail: `${where} is readable (HeadObject: ${head.ContentLength ?? '?'} bytes)`,
      };
    } catch (error) {
      // A HEAD answer has no body, so the status is all S3 says. Without s3:ListBucket on the
      // bucket, S3 answers a missing key with 403 rather than 404 (HeadObject, "Permissions",
      // https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html).
      switch (statusOf(error)) {
        case 404:
          return {
            ok: false,
            detail: `${where} does not exist (HeadObject: 404 Not Found): upload it first, or check the bucket, key and version`,
          };
        case 403:
          return {
            ok: false,
            detail: `access denied to ${where} (HeadObject: 403 Forbidden): the caller needs s3:GetObject${s3.objectVersion === undefined ? '' : 'Version'} on it; without s3:ListBucket on the bucket, a missing object reads as denied too`,
          };
        default:
          return { ok: false, detail: `${where} could not be read: ${messageOf(error)}` };
      }
    }
  }

  async #describeImage(uri: string): Promise<{ ok: boolean; detail: string }> {
    const match = ecrImage.exec(uri);
    if (!match) {
      return {
        ok: true,
        detail: `not checked: ${uri} is not an Amazon ECR image, and only ECR can be asked`,
      };
    }
    const [, registryId, region, repositoryName, imageTag, imageDigest] = match as unknown as [
      string,
      string,
      string,
      string,
      string | undefined,
      string | undefined,
    ];
    try {
      const described = await this.#ecrFor(region).send(
        new DescribeImagesCommand({
          registryId,
          repositoryName,
          imageIds: [imageTag === undefined ? { imageDigest } : { imageTag }],
        }),
      );
      const digest = described.imageDetails?.[0]?.imageDigest;
      return {
        ok: true,
        detail: `${uri} exists (DescribeImages${digest === undefined ? '' : `: ${digest}`})`,
      };
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      // DescribeImages' errors ("Errors", https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImages.html).
      if (name === 'ImageNotFoundException') {
        return {
          ok: false,
          detail: `${uri} does not exist: no image ${imageTag ?? imageDigest} in repository ${repositoryName} (ImageNotFoundException); push it first`,
        };
      }
      if (name === 'RepositoryNotFoundException') {
        return {
          ok: false,
          detail: `repository ${repositoryName} does not exist in registry ${registryId} (${region}) (RepositoryNotFoundException)`,
        };
      }
      if (name === 'AccessDeniedException' || statusOf(error) === 403) {
        return {
          ok: false,
          detail: `access denied to ${uri} (${name || '403'}): the caller needs ecr:DescribeImages on repository ${repositoryName}`,
        };
      }
      return { ok: false, detail: `${uri} could not be read: ${messageOf(error)}` };
    }
  }
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata
    ?.httpStatusCode;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
