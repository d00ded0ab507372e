import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalArtifactStore } from './artifact-store.ts';
import { AwsFault, clientFault } from './aws-protocol/fault.ts';
import { awsJson11, awsJsonFault, epochSeconds, parseJsonObject } from './aws-protocol/json.ts';
import {
  awsJsonResult,
  type LocalRequest,
  type LocalResponse,
  type LocalService,
  targetOperation,
} from './http.ts';

export interface LocalEcrOptions {
  artifacts: LocalArtifactStore;
  /** The registry a request without `registryId` means. @default '000000000000' */
  accountId?: string;
}

const targetPrefix = 'AmazonEC2ContainerRegistry_V20150921';
const invalidParameter = clientFault('InvalidParameterException');

/**
 * ECR's DescribeImages on the local endpoint, served from the artifact store's images (one
 * module per image URI), so that `greenlight plan` and any SDK can ask whether an image
 * exists. The image URI is rebuilt as ECS would pull it:
 * `REGISTRY.dkr.ecr.REGION.amazonaws.com/REPOSITORY(:TAG|@DIGEST)`, the region taken from the
 * request's signature.
 *
 * Wire protocol (Amazon ECR API Reference, "DescribeImages"): AWS JSON 1.1, `X-Amz-Target:
 * AmazonEC2ContainerRegistry_V20150921.DescribeImages`. An image id that matches nothing fails
 * the whole call with ImageNotFoundException, a repository with no image at all with
 * RepositoryNotFoundException. Simplifications: a tag and a digest are separate stored images
 * (the digest of a tagged image is the hash of its module, not the one a registry computes);
 * no pagination, filters or access control.
 */
export class LocalEcr implements LocalService {
  readonly name = 'ecr';
  readonly #artifacts: LocalArtifactStore;
  readonly #accountId: string;

  constructor(options: LocalEcrOptions) {
    this.#artifacts = options.artifacts;
    this.#accountId = options.accountId ?? '000000000000';
  }

  async handle(request: LocalRequest): Promise<LocalResponse | undefined> {
    const operation = targetOperation(request, targetPrefix);
    if (operation === undefined) return undefined;
    try {
      if (operation !== 'DescribeImages') {
        throw new AwsFault(
          400,
          'UnknownOperationException',
          `The local ECR serves DescribeImages only, not ${operation}.`,
        );
      }
      return awsJsonResult(await this.#describeImages(request), awsJson11);
    } catch (error) {
      if (error instanceof AwsFault) return awsJsonFault(error, awsJson11);
      throw error;
    }
  }

  async #describeImages(request: LocalRequest): Promise<Record<string, unknown>> {
    const input = parseJsonObject(request, invalidParameter, 'Could not parse the request body.');
    const repositoryName = input.repositoryName;
    if (typeof repositoryName !== 'string' || repositoryName === '') {
      throw invalidParameter('repositoryName must be given');
    }
    const registryId = typeof input.registryId === 'string' ? input.registryId : this.#accountId;
    const region = regionOf(request);
    const repository = `${registryId}.dkr.ecr.${region}.amazonaws.com/${repositoryName}`;
    const stored = await this.#imagesOf(repository);
    if (stored.length === 0) {
      throw new AwsFault(
        400,
        'RepositoryNotFoundException',
        `The repository with name '${repositoryName}' does not exist in the registry with id '${registryId}'`,
      );
    }
    const ids = Array.isArray(input.imageIds)
      ? (input.imageIds as { imageTag?: unknown; imageDigest?: unknown }[])
      : stored.map((reference) => referenceToId(reference));
    const details: Record<string, unknown>[] = [];
    for (const id of ids) {
      const reference =
        typeof id.imageDigest === 'string'
          ? `@${id.imageDigest}`
          : typeof id.imageTag === 'string'
            ? `:${id.imageTag}`
            : undefined;
      if (reference === undefined)
        throw invalidParameter('An image id needs imageTag or imageDigest');
      const image = await this.#artifacts.resolveImage(`${repository}${reference}`);
      if (image === undefined) {
        throw new AwsFault(
          400,
          'ImageNotFoundException',
          `The image with imageId {imageDigest:'${String(id.imageDigest ?? 'null')}', imageTag:'${String(id.imageTag ?? 'null')}'} does not exist within the repository with name '${repositoryName}' in the registry with id '${registryId}'`,
        );
      }
      const bytes = await readFile(image.path);
      details.push({
        registryId,
        repositoryName,
        imageDigest: reference.startsWith('@')
          ? reference.slice(1)
          : `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
        ...(reference.startsWith(':') ? { imageTags: [reference.slice(1)] } : {}),
        imageSizeInBytes: bytes.length,
        imagePushedAt: epochSeconds((await stat(image.path)).mtime),
        imageManifestMediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      });
    }
    return { imageDetails: details };
  }

  /** The stored images of a repository, as their `:tag` or `@digest` references. */
  async #imagesOf(repository: string): Promise<string[]> {
    let files: string[];
    try {
      files = await readdir(join(this.#artifacts.root, 'images'));
    } catch {
      return [];
    }
    return files
      .filter((file) => file.endsWith('.mjs'))
      .map((file) => decodeURIComponent(file.slice(0, -'.mjs'.length)))
      .filter((uri) => uri.startsWith(`${repository}:`) || uri.startsWith(`${repository}@`))
      .map((uri) => uri.slice(repository.length));
  }
}

function referenceToId(reference: string): { imageTag?: string; imageDigest?: string } {
  return reference.startsWith('@')
    ? { imageDigest: reference.slice(1) }
    : { imageTag: reference.slice(1) };
}

// AWS Signature Version 4: `Credential=AKID/DATE/REGION/SERVICE/aws4_request`.
const credentialRegion = /Credential=[^/,\s]+\/\d{8}\/([^/]+)\//;

function regionOf(request: LocalRequest): string {
  return credentialRegion.exec(String(request.headers.authorization ?? ''))?.[1] ?? 'us-east-1';
}
