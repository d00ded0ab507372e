import { constraintViolation, requiredString } from '../aws-protocol/fields.ts';
import { type Page, pageAt, readOffsetMarker } from '../aws-protocol/pages.ts';
import {
  conflict,
  invalidParameter,
  notFound,
  preconditionFailed,
  revisionMismatch,
} from './faults.ts';
import {
  type AliasRecord,
  type FunctionRecord,
  type LambdaArtifactRef,
  latestVersion,
} from './types.ts';
import type { ArnOf } from './wire.ts';

/**
 * The rules Lambda's API enforces, as its API reference documents them
 * (https://docs.aws.amazon.com/lambda/latest/api/): each throws the AwsFault Lambda answers
 * with and changes nothing.
 */

export function requireString(body: Record<string, unknown>, field: string): string {
  return requiredString(body, field, invalidParameter, `${field} is required.`);
}

/** An optimistic lock: a RevisionId, when given, must be the current one (UpdateAlias, PublishVersion, UpdateFunctionCode). */
export function checkRevision(given: unknown, current: string): void {
  if (typeof given === 'string' && given !== current) throw preconditionFailed(revisionMismatch);
}

/** PublishVersion's CodeSha256, when given, must be the code in $LATEST. */
export function checkCodeSha(given: unknown, latestSha: string): void {
  if (typeof given === 'string' && given !== latestSha) {
    throw invalidParameter(
      `CodeSHA256 (${given}) is different from current CodeSHA256 in $LATEST (${latestSha}). Please try again with the CodeSHA256 in $LATEST.`,
    );
  }
}

export function refuseWhileUpdating(fn: FunctionRecord, arn: ArnOf): void {
  if (fn.latest.lastUpdateStatus === 'InProgress') {
    throw conflict(
      `The operation cannot be performed at this time. An update is in progress for resource: ${arn(fn.name)}`,
    );
  }
}

export function mergeQualifier(
  fromName: string | undefined,
  fromQuery: string | undefined,
): string | undefined {
  if (fromName !== undefined && fromQuery !== undefined && fromName !== fromQuery) {
    throw invalidParameter(
      'The derived qualifier from the function name does not match the specified qualifier.',
    );
  }
  return fromName ?? fromQuery;
}

export function codeSourceOf(fn: FunctionRecord, body: Record<string, unknown>): LambdaArtifactRef {
  const isImage = 'imageUri' in fn.latest.source;
  if (body.ZipFile !== undefined) {
    throw invalidParameter(
      'The local cloud takes code from S3 or an image URI; ZipFile uploads are not supported.',
    );
  }
  if (typeof body.ImageUri === 'string') {
    if (!isImage) {
      throw invalidParameter(
        'Please do not provide ImageUri when updating a function with packageType Zip.',
      );
    }
    return { imageUri: body.ImageUri };
  }
  if (typeof body.S3Bucket === 'string' && typeof body.S3Key === 'string') {
    if (isImage) {
      throw invalidParameter(
        'Please provide ImageUri when updating a function with packageType Image.',
      );
    }
    return { s3: { bucket: body.S3Bucket, key: body.S3Key } };
  }
  throw invalidParameter('Please provide a source for function code.');
}

export function missingArtifact(source: LambdaArtifactRef) {
  if ('localModule' in source) {
    return invalidParameter(`Local module ${source.localModule} does not exist.`);
  }
  return 'imageUri' in source
    ? invalidParameter(
        `Source image ${source.imageUri} does not exist. Provide a valid source image.`,
      )
    : invalidParameter(
        'Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist.',
      );
}

/** An alias's RoutingConfig: undefined when omitted (keep), `{}` when emptied (clear). */
export function readWeights(routingConfig: unknown): Record<string, number> | undefined {
  if (routingConfig === undefined || routingConfig === null) return undefined;
  const weights = (routingConfig as { AdditionalVersionWeights?: unknown })
    .AdditionalVersionWeights;
  if (weights === undefined || weights === null) return {};
  if (typeof weights !== 'object') {
    throw invalidParameter('AdditionalVersionWeights must be a map of version to weight.');
  }
  return { ...(weights as Record<string, number>) };
}

export function sameWeights(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

/** Alias routing: one additional version at most, weights in [0, 1], published versions only. */
export function validateAliasTarget(
  fn: FunctionRecord,
  functionVersion: string,
  weights: Record<string, number>,
  arn: ArnOf,
): void {
  const entries = Object.entries(weights);
  if (entries.length > 1) {
    throw invalidParameter('Number of items in AdditionalVersionWeights cannot be greater than 1');
  }
  for (const [version, weight] of entries) {
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0 || weight > 1) {
      throw invalidParameter(
        constraintViolation(
          `'{${version}=${String(weight)}}'`,
          'routingConfig.additionalVersionWeights',
          'Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]',
        ),
      );
    }
  }
  if (
    entries.length > 0 &&
    (functionVersion === latestVersion || weights[latestVersion] !== undefined)
  ) {
    throw invalidParameter('$LATEST is not supported for an alias pointing to more than 1 version');
  }
  for (const version of [functionVersion, ...Object.keys(weights)]) {
    if (version !== latestVersion && !fn.versions.has(version)) {
      throw notFound(`Function not found: ${arn(fn.name, version)}`);
    }
  }
  if (weights[functionVersion] !== undefined) {
    throw invalidParameter(
      `Additional version ${functionVersion} must be different from the alias's primary version ${functionVersion}.`,
    );
  }
}

export function refuseDuplicateAlias(fn: FunctionRecord, aliasName: string, arn: ArnOf): void {
  if (fn.aliases.has(aliasName)) {
    throw conflict(`Alias already exists: ${arn(fn.name, aliasName)}`);
  }
}

/** DeleteFunction with a qualifier: never $LATEST alone, never a version an alias routes to. */
export function checkVersionDeletable(fn: FunctionRecord, qualifier: string, arn: ArnOf): void {
  if (qualifier === latestVersion) {
    throw invalidParameter('$LATEST version cannot be deleted without deleting the function.');
  }
  if (!fn.versions.has(qualifier)) {
    throw notFound(`Function not found: ${arn(fn.name, qualifier)}`);
  }
  const referencing = [...fn.aliases.values()]
    .filter((alias) => routesTo(alias, qualifier))
    .map((alias) => alias.name);
  if (referencing.length > 0) {
    throw conflict(
      `Unable to delete version because the following aliases reference it: [${referencing.join(', ')}]`,
    );
  }
}

export function routesTo(alias: AliasRecord, version: string): boolean {
  return alias.functionVersion === version || alias.weights[version] !== undefined;
}

export function requireQualifier(qualifier: string | undefined): string {
  if (qualifier === undefined || qualifier === '') {
    throw invalidParameter('Qualifier is required.');
  }
  return qualifier;
}

export function readProvisionedRequest(body: Record<string, unknown>, qualifier: string): number {
  const requested = body.ProvisionedConcurrentExecutions;
  if (typeof requested !== 'number' || !Number.isInteger(requested) || requested < 1) {
    throw invalidParameter('ProvisionedConcurrentExecutions must be a whole number of at least 1.');
  }
  if (qualifier === latestVersion) {
    throw invalidParameter(
      'Provisioned Concurrency Configs cannot be applied to unpublished function versions.',
    );
  }
  return requested;
}

/** One page of a Marker/MaxItems listing, as Lambda's List* operations answer. */
export function pageOfListing<T>(
  all: readonly T[],
  query: URLSearchParams,
  field: string,
): Record<string, unknown> {
  const start = readOffsetMarker(
    query.get('Marker'),
    all.length,
    invalidParameter,
    'The marker is invalid.',
  );
  const maxItems = Number(query.get('MaxItems') ?? '50');
  const page: Page<T> = pageAt(all, start, Math.max(1, Math.min(10_000, maxItems || 50)));
  const result: Record<string, unknown> = { [field]: page.items };
  if (page.next !== undefined) result.NextMarker = String(page.next);
  return result;
}
