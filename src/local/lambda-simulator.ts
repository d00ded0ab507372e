import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { LocalArtifactStore, ResolvedArtifact } from './artifact-store.ts';
import type { LocalRequest, LocalResponse, LocalService } from './http.ts';

/** Where a function's code comes from, as `UpdateFunctionCode` names it. */
export type LambdaArtifactRef = { s3: { bucket: string; key: string } } | { imageUri: string };

/** One invocation as Lambda's CloudWatch metrics see it (`Errors`, `Invocations`). */
export interface InvocationMetric {
  functionName: string;
  /** The alias the caller invoked through, when it was one. */
  alias?: string;
  /** The version that actually ran (`X-Amz-Executed-Version`). */
  version: string;
  error: boolean;
  at: Date;
  /** How long the handler ran (Lambda's Duration metric), by the simulator's clock. */
  durationMs?: number;
}

export type InvocationListener = (metric: InvocationMetric) => void;

/** Operations whose next response `failNextResponse` can lose. */
export const FaultableOperation = {
  PublishVersion: 'PublishVersion',
  UpdateAlias: 'UpdateAlias',
  UpdateFunctionCode: 'UpdateFunctionCode',
} as const;
export type FaultableOperation = (typeof FaultableOperation)[keyof typeof FaultableOperation];

export interface LocalLambdaOptions {
  artifacts: LocalArtifactStore;
  /** @default 'us-east-1' */
  region?: string;
  /** @default '000000000000' */
  accountId?: string;
  /** @default () => new Date() */
  now?: () => Date;
  /** Source of revision and request ids. @default Math.random */
  random?: () => number;
  /**
   * How long an `UpdateFunctionCode` stays `InProgress` on the injected clock, unless a
   * GetFunction/GetFunctionConfiguration poll settles it first.
   * @default 200
   */
  updateSettleMs?: number;
}

export interface SeedFunctionInput {
  functionName: string;
  artifact: LambdaArtifactRef;
  alias: string;
  /** Provisioned concurrency on the seeded version 1, as a team keeps its live version warm. */
  provisionedConcurrency?: number;
}

export interface FunctionSnapshot {
  /** Published versions, oldest first. */
  versions: string[];
  /** The seeded alias (else the first one created). */
  alias?: { name: string; version: string; weights: Record<string, number> };
  aliases: Record<string, { version: string; weights: Record<string, number> }>;
  latest: { codeSha256: string; lastUpdateStatus: UpdateStatus };
  /** Versions actually created by PublishVersion (unchanged-code publishes not counted). */
  publishCount: number;
  /** Provisioned concurrency by qualifier (version or alias). */
  provisionedConcurrency: Record<string, number>;
}

type UpdateStatus = 'InProgress' | 'Successful';

interface CodeRecord {
  version: string;
  artifact: ResolvedArtifact;
  source: LambdaArtifactRef;
  description: string;
  revisionId: string;
  lastModified: Date;
}

interface LatestRecord extends CodeRecord {
  lastUpdateStatus: UpdateStatus;
  updateStartedAt?: Date;
}

interface AliasRecord {
  name: string;
  functionVersion: string;
  description: string;
  weights: Record<string, number>;
  revisionId: string;
  /** Smooth weighted round-robin state: the running "current weight" per version. */
  rotation: Map<string, number>;
}

interface FunctionRecord {
  name: string;
  latest: LatestRecord;
  versions: Map<string, CodeRecord>;
  aliases: Map<string, AliasRecord>;
  seededAlias?: string;
  nextVersion: number;
  publishCount: number;
  /** Provisioned concurrency configs by qualifier; ready as soon as they are put. */
  provisioned: Map<string, { requested: number; lastModified: Date }>;
}

/** A Lambda error answer: thrown inside operations, turned into the REST-JSON shape at the edge. */
class LambdaFault extends Error {
  readonly status: number;
  readonly type: string;

  constructor(status: number, type: string, message: string) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

const apiPrefix = '/2015-03-31/functions/';
const provisionedConcurrencyPrefix = '/2019-09-30/functions/';
const latestVersion = '$LATEST';
const handlerTimeoutMs = 3_000;
// Integer weights make the round-robin exact: float accumulation would drift over long runs.
const weightScale = 1_000_000;
const revisionMismatch =
  'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id';

/**
 * Lambda's control plane and invoke API for the local cloud, on the REST-JSON wire protocol the
 * unmodified `@aws-sdk/client-lambda` speaks. It enforces the rules the release flow leans on
 * (revision ids, code hashes, unchanged-code publishes, alias routing limits), runs artifacts'
 * handlers in-process, and reports each invocation to metric listeners.
 */
export class LocalLambda implements LocalService {
  readonly name = 'lambda';
  readonly #artifacts: LocalArtifactStore;
  readonly #region: string;
  readonly #accountId: string;
  readonly #now: () => Date;
  readonly #random: () => number;
  readonly #updateSettleMs: number;
  readonly #functions = new Map<string, FunctionRecord>();
  readonly #listeners = new Set<InvocationListener>();
  readonly #faults = new Map<FaultableOperation, number>();
  readonly #modules = new Map<string, Promise<Record<string, unknown>>>();

  constructor(options: LocalLambdaOptions) {
    this.#artifacts = options.artifacts;
    this.#region = options.region ?? 'us-east-1';
    this.#accountId = options.accountId ?? '000000000000';
    this.#now = options.now ?? (() => new Date());
    this.#random = options.random ?? Math.random;
    this.#updateSettleMs = options.updateSettleMs ?? 200;
  }

  /** Creates a function from an artifact, publishes version 1 and points `alias` at it. */
  async seedFunction(input: SeedFunctionInput): Promise<void> {
    if (this.#functions.has(input.functionName)) {
      throw new Error(`Function ${input.functionName} is already seeded`);
    }
    const artifact = await this.#resolveArtifact(input.artifact);
    if (!artifact) {
      throw new Error(
        `Cannot seed ${input.functionName}: ${describeRef(input.artifact)} is not in the artifact store`,
      );
    }
    const now = this.#now();
    const fn: FunctionRecord = {
      name: input.functionName,
      latest: {
        version: latestVersion,
        artifact,
        source: input.artifact,
        description: '',
        revisionId: this.#newId(),
        lastModified: now,
        lastUpdateStatus: 'Successful',
      },
      versions: new Map(),
      aliases: new Map(),
      seededAlias: input.alias,
      nextVersion: 1,
      publishCount: 0,
      provisioned: new Map(),
    };
    this.#functions.set(fn.name, fn);
    const version = this.#publish(fn, '');
    fn.aliases.set(input.alias, this.#newAlias(input.alias, version.version, '', {}));
    if (input.provisionedConcurrency !== undefined) {
      fn.provisioned.set(version.version, {
        requested: input.provisionedConcurrency,
        lastModified: now,
      });
    }
  }

  /** Subscribes to invocation metrics; returns the unsubscribe function. */
  onInvocation(listener: InvocationListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Makes the next `times` calls of `operation` take effect and then answer 500
   * ServiceException, as if the response were lost: retries must not double the effect.
   */
  failNextResponse(operation: FaultableOperation, times = 1): void {
    this.#faults.set(operation, (this.#faults.get(operation) ?? 0) + times);
  }

  /** What a test or the demo needs to see of a function, without going through the API. */
  describe(functionName: string): FunctionSnapshot {
    const fn = this.#functions.get(functionName);
    if (!fn) throw new Error(`Function ${functionName} does not exist in the local Lambda`);
    const aliases: FunctionSnapshot['aliases'] = {};
    for (const alias of fn.aliases.values()) {
      aliases[alias.name] = { version: alias.functionVersion, weights: { ...alias.weights } };
    }
    const shown =
      fn.seededAlias && fn.aliases.has(fn.seededAlias) ? fn.seededAlias : [...fn.aliases.keys()][0];
    const snapshot: FunctionSnapshot = {
      versions: [...fn.versions.keys()],
      aliases,
      latest: {
        codeSha256: fn.latest.artifact.sha256,
        lastUpdateStatus: fn.latest.lastUpdateStatus,
      },
      publishCount: fn.publishCount,
      provisionedConcurrency: Object.fromEntries(
        [...fn.provisioned].map(([qualifier, config]) => [qualifier, config.requested]),
      ),
    };
    const shownAlias = shown === undefined ? undefined : aliases[shown];
    if (shown !== undefined && shownAlias) snapshot.alias = { name: shown, ...shownAlias };
    return snapshot;
  }

  async handle(request: LocalRequest): Promise<LocalResponse | undefined> {
    const url = new URL(request.url, 'http://local');
    if (url.pathname.startsWith(provisionedConcurrencyPrefix)) {
      return this.#handleProvisionedConcurrency(request, url);
    }
    if (!url.pathname.startsWith(apiPrefix)) return undefined;
    const segments = url.pathname.slice(apiPrefix.length).split('/').map(decodeURIComponent);
    const route = routeOf(request.method, segments);
    if (!route) return undefined;
    try {
      const qualifier = url.searchParams.get('Qualifier') ?? undefined;
      const response = await this.#dispatch(route, request, url, qualifier);
      if (isFaultable(route.operation) && this.#takeFault(route.operation)) {
        return lambdaError(
          new LambdaFault(
            500,
            'ServiceException',
            'The local cloud lost this response on purpose (failNextResponse).',
          ),
        );
      }
      return response;
    } catch (error) {
      if (error instanceof LambdaFault) return lambdaError(error);
      throw error;
    }
  }

  #dispatch(
    route: Route,
    request: LocalRequest,
    url: URL,
    qualifier: string | undefined,
  ): Promise<LocalResponse> | LocalResponse {
    const target = parseFunctionName(route.functionName);
    switch (route.operation) {
      case 'GetFunction':
        return this.#getFunction(target, qualifier, true);
      case 'GetFunctionConfiguration':
        return this.#getFunction(target, qualifier, false);
      case 'UpdateFunctionCode':
        return this.#updateFunctionCode(target.name, parseBody(request));
      case 'PublishVersion':
        return this.#publishVersion(target.name, parseBody(request));
      case 'ListVersionsByFunction':
        return this.#listVersions(target.name, url.searchParams);
      case 'CreateAlias':
        return this.#createAlias(target.name, parseBody(request));
      case 'ListAliases':
        return this.#listAliases(target.name, url.searchParams);
      case 'DeleteFunction':
        return this.#deleteFunction(target, qualifier);
      case 'GetAlias':
        return this.#getAlias(target.name, route.alias ?? '');
      case 'UpdateAlias':
        return this.#updateAlias(target.name, route.alias ?? '', parseBody(request));
      case 'Invoke':
        return this.#invoke(target, qualifier, request);
    }
  }

  #getFunction(
    target: FunctionTarget,
    queryQualifier: string | undefined,
    withCode: boolean,
  ): LocalResponse {
    const fn = this.#requireFunction(target.name);
    this.#settleUpdate(fn, true);
    const qualifier = mergeQualifier(target.qualifier, queryQualifier);
    const record = this.#resolveQualifier(fn, qualifier).record;
    const configuration = this.#configuration(fn, record, qualifier !== undefined);
    if (!withCode) return lambdaResult(200, configuration);
    const code =
      'imageUri' in record.source
        ? {
            RepositoryType: 'ECR',
            ImageUri: record.source.imageUri,
            ResolvedImageUri: record.source.imageUri,
          }
        : { RepositoryType: 'S3', Location: pathToFileURL(record.artifact.path).href };
    return lambdaResult(200, { Configuration: configuration, Code: code });
  }

  async #updateFunctionCode(name: string, body: Record<string, unknown>): Promise<LocalResponse> {
    const fn = this.#requireFunction(name);
    this.#settleUpdate(fn, false);
    this.#refuseWhileUpdating(fn);
    if (typeof body.RevisionId === 'string' && body.RevisionId !== fn.latest.revisionId) {
      throw new LambdaFault(412, 'PreconditionFailedException', revisionMismatch);
    }
    const source = codeSourceOf(fn, body);
    const artifact = await this.#resolveArtifact(source);
    if (!artifact) {
      throw 'imageUri' in source
        ? new LambdaFault(
            400,
            'InvalidParameterValueException',
            `Source image ${source.imageUri} does not exist. Provide a valid source image.`,
          )
        : new LambdaFault(
            400,
            'InvalidParameterValueException',
            'Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist.',
          );
    }
    if (body.DryRun === true) return lambdaResult(200, this.#configuration(fn, fn.latest, false));
    const now = this.#now();
    fn.latest = {
      ...fn.latest,
      artifact,
      source,
      revisionId: this.#newId(),
      lastModified: now,
      lastUpdateStatus: 'InProgress',
      updateStartedAt: now,
    };
    if (body.Publish === true) {
      // Publish=true completes the update and publishes in one call, as Lambda does.
      fn.latest.lastUpdateStatus = 'Successful';
      const version = this.#publish(fn, '');
      return lambdaResult(200, this.#configuration(fn, version, true));
    }
    return lambdaResult(200, this.#configuration(fn, fn.latest, false));
  }

  #publishVersion(name: string, body: Record<string, unknown>): LocalResponse {
    const fn = this.#requireFunction(name);
    this.#settleUpdate(fn, false);
    this.#refuseWhileUpdating(fn);
    if (typeof body.RevisionId === 'string' && body.RevisionId !== fn.latest.revisionId) {
      throw new LambdaFault(412, 'PreconditionFailedException', revisionMismatch);
    }
    if (typeof body.CodeSha256 === 'string' && body.CodeSha256 !== fn.latest.artifact.sha256) {
      throw new LambdaFault(
        400,
        'InvalidParameterValueException',
        `CodeSHA256 (${body.CodeSha256}) is different from current CodeSHA256 in $LATEST (${fn.latest.artifact.sha256}). Please try again with the CodeSHA256 in $LATEST.`,
      );
    }
    const version = this.#publish(fn, typeof body.Description === 'string' ? body.Description : '');
    return lambdaResult(201, this.#configuration(fn, version, true));
  }

  #listVersions(name: string, query: URLSearchParams): LocalResponse {
    const fn = this.#requireFunction(name);
    this.#settleUpdate(fn, false);
    const all = [fn.latest, ...fn.versions.values()].map((record) =>
      this.#configuration(fn, record, true),
    );
    const start = Number(query.get('Marker') ?? '0');
    const maxItems = Number(query.get('MaxItems') ?? '50');
    if (!Number.isInteger(start) || start < 0 || start > all.length) {
      throw new LambdaFault(400, 'InvalidParameterValueException', 'The marker is invalid.');
    }
    const end = Math.min(all.length, start + Math.max(1, Math.min(10_000, maxItems || 50)));
    const result: Record<string, unknown> = { Versions: all.slice(start, end) };
    if (end < all.length) result.NextMarker = String(end);
    return lambdaResult(200, result);
  }

  #createAlias(name: string, body: Record<string, unknown>): LocalResponse {
    const fn = this.#requireFunction(name);
    const aliasName = requireString(body, 'Name');
    const functionVersion = requireString(body, 'FunctionVersion');
    if (fn.aliases.has(aliasName)) {
      throw new LambdaFault(
        409,
        'ResourceConflictException',
        `Alias already exists: ${this.#arn(fn.name, aliasName)}`,
      );
    }
    const weights = readWeights(body.RoutingConfig) ?? {};
    this.#validateAliasTarget(fn, functionVersion, weights);
    const alias = this.#newAlias(
      aliasName,
      functionVersion,
      typeof body.Description === 'string' ? body.Description : '',
      weights,
    );
    fn.aliases.set(aliasName, alias);
    return lambdaResult(201, this.#aliasConfiguration(fn, alias));
  }

  #listAliases(name: string, query: URLSearchParams): LocalResponse {
    const fn = this.#requireFunction(name);
    const version = query.get('FunctionVersion') ?? undefined;
    const all = [...fn.aliases.values()]
      .filter(
        (alias) =>
          version === undefined ||
          alias.functionVersion === version ||
          alias.weights[version] !== undefined,
      )
      .map((alias) => this.#aliasConfiguration(fn, alias));
    return lambdaResult(200, page(all, query, 'Aliases'));
  }

  /**
   * Deletes one published version (with a qualifier) or the whole function. Lambda refuses to
   * delete `$LATEST` alone and any version an alias still routes to.
   */
  #deleteFunction(target: FunctionTarget, queryQualifier: string | undefined): LocalResponse {
    const fn = this.#requireFunction(target.name);
    const qualifier = mergeQualifier(target.qualifier, queryQualifier);
    if (qualifier === undefined) {
      this.#functions.delete(fn.name);
      return { status: 204 };
    }
    if (qualifier === latestVersion) {
      throw new LambdaFault(
        400,
        'InvalidParameterValueException',
        '$LATEST version cannot be deleted without deleting the function.',
      );
    }
    if (!fn.versions.has(qualifier)) {
      throw new LambdaFault(
        404,
        'ResourceNotFoundException',
        `Function not found: ${this.#arn(fn.name, qualifier)}`,
      );
    }
    const referencing = [...fn.aliases.values()]
      .filter(
        (alias) => alias.functionVersion === qualifier || alias.weights[qualifier] !== undefined,
      )
      .map((alias) => alias.name);
    if (referencing.length > 0) {
      throw new LambdaFault(
        409,
        'ResourceConflictException',
        `Unable to delete version because the following aliases reference it: [${referencing.join(', ')}]`,
      );
    }
    fn.versions.delete(qualifier);
    fn.provisioned.delete(qualifier);
    return { status: 204 };
  }

  /** Put, Get, Delete and List of provisioned concurrency configs (the 2019-09-30 API). */
  #handleProvisionedConcurrency(request: LocalRequest, url: URL): LocalResponse | undefined {
    const [rawName, resource, ...rest] = url.pathname
      .slice(provisionedConcurrencyPrefix.length)
      .split('/')
      .map(decodeURIComponent);
    if (!rawName || resource !== 'provisioned-concurrency' || rest.length > 0) return undefined;
    try {
      const target = parseFunctionName(rawName);
      const fn = this.#requireFunction(target.name);
      if (request.method === 'GET' && url.searchParams.get('List') === 'ALL') {
        const all = [...fn.provisioned].map(([qualifier, config]) =>
          this.#provisionedConfiguration(fn, qualifier, config, true),
        );
        return lambdaResult(200, page(all, url.searchParams, 'ProvisionedConcurrencyConfigs'));
      }
      const qualifier = mergeQualifier(
        target.qualifier,
        url.searchParams.get('Qualifier') ?? undefined,
      );
      if (qualifier === undefined || qualifier === '') {
        throw new LambdaFault(400, 'InvalidParameterValueException', 'Qualifier is required.');
      }
      switch (request.method) {
        case 'PUT':
          return this.#putProvisionedConcurrency(fn, qualifier, parseBody(request));
        case 'GET':
          return lambdaResult(
            200,
            this.#provisionedConfiguration(
              fn,
              qualifier,
              this.#requireProvisioned(fn, qualifier),
              false,
            ),
          );
        case 'DELETE':
          this.#requireProvisioned(fn, qualifier);
          fn.provisioned.delete(qualifier);
          return { status: 204 };
        default:
          return undefined;
      }
    } catch (error) {
      if (error instanceof LambdaFault) return lambdaError(error);
      throw error;
    }
  }

  #putProvisionedConcurrency(
    fn: FunctionRecord,
    qualifier: string,
    body: Record<string, unknown>,
  ): LocalResponse {
    const requested = body.ProvisionedConcurrentExecutions;
    if (typeof requested !== 'number' || !Number.isInteger(requested) || requested < 1) {
      throw new LambdaFault(
        400,
        'InvalidParameterValueException',
        'ProvisionedConcurrentExecutions must be a whole number of at least 1.',
      );
    }
    if (qualifier === latestVersion) {
      throw new LambdaFault(
        400,
        'InvalidParameterValueException',
        'Provisioned Concurrency Configs cannot be applied to unpublished function versions.',
      );
    }
    // Resolves the qualifier (a version or an alias) or answers ResourceNotFoundException.
    this.#resolveQualifier(fn, qualifier);
    const config = { requested, lastModified: this.#now() };
    fn.provisioned.set(qualifier, config);
    return lambdaResult(202, this.#provisionedConfiguration(fn, qualifier, config, false));
  }

  #requireProvisioned(fn: FunctionRecord, qualifier: string) {
    const config = fn.provisioned.get(qualifier);
    if (!config) {
      throw new LambdaFault(
        404,
        'ProvisionedConcurrencyConfigNotFoundException',
        'No Provisioned Concurrency Config found for this function',
      );
    }
    return config;
  }

  #provisionedConfiguration(
    fn: FunctionRecord,
    qualifier: string,
    config: { requested: number; lastModified: Date },
    withArn: boolean,
  ): Record<string, unknown> {
    return {
      ...(withArn ? { FunctionArn: this.#arn(fn.name, qualifier) } : {}),
      RequestedProvisionedConcurrentExecutions: config.requested,
      AllocatedProvisionedConcurrentExecutions: config.requested,
      AvailableProvisionedConcurrentExecutions: config.requested,
      Status: 'READY',
      LastModified: config.lastModified.toISOString().replace('Z', '+0000'),
    };
  }

  #getAlias(name: string, aliasName: string): LocalResponse {
    const fn = this.#requireFunction(name);
    return lambdaResult(200, this.#aliasConfiguration(fn, this.#requireAlias(fn, aliasName)));
  }

  #updateAlias(name: string, aliasName: string, body: Record<string, unknown>): LocalResponse {
    const fn = this.#requireFunction(name);
    const alias = this.#requireAlias(fn, aliasName);
    if (typeof body.RevisionId === 'string' && body.RevisionId !== alias.revisionId) {
      throw new LambdaFault(412, 'PreconditionFailedException', revisionMismatch);
    }
    const functionVersion =
      typeof body.FunctionVersion === 'string' ? body.FunctionVersion : alias.functionVersion;
    // An omitted RoutingConfig keeps the routing; an empty AdditionalVersionWeights clears it.
    const weights = readWeights(body.RoutingConfig) ?? alias.weights;
    this.#validateAliasTarget(fn, functionVersion, weights);
    const routingChanged =
      functionVersion !== alias.functionVersion || !sameWeights(weights, alias.weights);
    alias.functionVersion = functionVersion;
    alias.weights = { ...weights };
    if (typeof body.Description === 'string') alias.description = body.Description;
    alias.revisionId = this.#newId();
    if (routingChanged) alias.rotation = new Map();
    return lambdaResult(200, this.#aliasConfiguration(fn, alias));
  }

  async #invoke(
    target: FunctionTarget,
    queryQualifier: string | undefined,
    request: LocalRequest,
  ): Promise<LocalResponse> {
    const fn = this.#requireFunction(target.name);
    const qualifier = mergeQualifier(target.qualifier, queryQualifier);
    const resolved = this.#resolveQualifier(fn, qualifier);
    const record = resolved.alias ? this.#pickAliasVersion(fn, resolved.alias) : resolved.record;
    const invocationType = headerOf(request, 'x-amz-invocation-type') ?? 'RequestResponse';
    let event: unknown = {};
    if (request.body.length > 0) {
      try {
        event = JSON.parse(request.body.toString('utf8'));
      } catch {
        throw new LambdaFault(
          400,
          'InvalidRequestContentException',
          'Could not parse request body into json: Unexpected character.',
        );
      }
    }
    if (invocationType === 'DryRun')
      return { status: 204, headers: { 'x-amz-executed-version': record.version } };
    const context = {
      functionName: fn.name,
      functionVersion: record.version,
      invokedFunctionArn: this.#arn(fn.name, qualifier),
      memoryLimitInMB: '128',
      awsRequestId: this.#newId(),
      logGroupName: `/aws/lambda/${fn.name}`,
      logStreamName: 'local',
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => handlerTimeoutMs,
    };
    const startedAt = this.#now();
    const run = this.#runHandler(record, event, context).then((outcome) => {
      const at = this.#now();
      const metric: InvocationMetric = {
        functionName: fn.name,
        version: record.version,
        error: outcome.error,
        at,
        durationMs: at.getTime() - startedAt.getTime(),
      };
      if (resolved.alias) metric.alias = resolved.alias.name;
      for (const listener of this.#listeners) listener(metric);
      return outcome;
    });
    if (invocationType === 'Event') {
      void run;
      return { status: 202, headers: { 'x-amzn-requestid': context.awsRequestId } };
    }
    const outcome = await run;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-amz-executed-version': record.version,
      'x-amzn-requestid': context.awsRequestId,
    };
    if (outcome.error) headers['x-amz-function-error'] = 'Unhandled';
    return { status: 200, headers, body: outcome.payload };
  }

  async #runHandler(
    record: CodeRecord,
    event: unknown,
    context: object,
  ): Promise<{ error: boolean; payload: string }> {
    try {
      const module = await this.#loadModule(record.artifact);
      const handler = module.handler;
      if (typeof handler !== 'function') {
        return failure('Runtime.HandlerNotFound', 'index.handler is undefined or not exported');
      }
      const result: unknown = await handler(event, context);
      return { error: false, payload: JSON.stringify(result ?? null) };
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      const message = error instanceof Error ? error.message : String(error);
      return failure(name, message);
    }
  }

  #loadModule(artifact: ResolvedArtifact): Promise<Record<string, unknown>> {
    let loaded = this.#modules.get(artifact.sha256);
    if (!loaded) {
      // Imported from a data: URL of the file's bytes: Node refuses to load a module from a
      // file named .zip, and the content (not the path, which can hold new code over time) is
      // what identifies a Lambda version's code. Demo handlers are single self-contained files.
      loaded = readFile(artifact.path).then(
        (code) =>
          import(
            /* @vite-ignore */ `data:text/javascript;base64,${code.toString('base64')}`
          ) as Promise<Record<string, unknown>>,
      );
      this.#modules.set(artifact.sha256, loaded);
      loaded.catch(() => this.#modules.delete(artifact.sha256));
    }
    return loaded;
  }

  /**
   * Chooses the version an aliased invoke runs with a smooth weighted round-robin (the nginx
   * algorithm) rather than a random draw: over any run of requests each version's share is
   * within one request of its weight, so tests and demos are reproducible and exact.
   */
  #pickAliasVersion(fn: FunctionRecord, alias: AliasRecord): CodeRecord {
    const additional = Object.entries(alias.weights);
    const candidates: [string, number][] = [[alias.functionVersion, weightScale]];
    for (const [version, weight] of additional) {
      const scaled = Math.round(weight * weightScale);
      candidates.push([version, scaled]);
      candidates[0] = [alias.functionVersion, (candidates[0]?.[1] ?? 0) - scaled];
    }
    let chosen = alias.functionVersion;
    let best = Number.NEGATIVE_INFINITY;
    for (const [version, weight] of candidates) {
      const current = (alias.rotation.get(version) ?? 0) + weight;
      alias.rotation.set(version, current);
      if (current > best) {
        best = current;
        chosen = version;
      }
    }
    alias.rotation.set(chosen, (alias.rotation.get(chosen) ?? 0) - weightScale);
    return this.#recordOf(fn, chosen);
  }

  #validateAliasTarget(
    fn: FunctionRecord,
    functionVersion: string,
    weights: Record<string, number>,
  ): void {
    const entries = Object.entries(weights);
    if (entries.length > 1) {
      throw new LambdaFault(
        400,
        'InvalidParameterValueException',
        'Number of items in AdditionalVersionWeights cannot be greater than 1',
      );
    }
    for (const [version, weight] of entries) {
      if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0 || weight > 1) {
        throw new LambdaFault(
          400,
          'InvalidParameterValueException',
          `1 validation error detected: Value '{${version}=${String(weight)}}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]`,
        );
      }
    }
    if (
      entries.length > 0 &&
      (functionVersion === latestVersion || weights[latestVersion] !== undefined)
    ) {
      throw new LambdaFault(
        400,
        'InvalidParameterValueException',
        '$LATEST is not supported for an alias pointing to more than 1 version',
      );
    }
    for (const version of [functionVersion, ...Object.keys(weights)]) {
      if (version !== latestVersion && !fn.versions.has(version)) {
        throw new LambdaFault(
          404,
          'ResourceNotFoundException',
          `Function not found: ${this.#arn(fn.name, version)}`,
        );
      }
    }
    if (weights[functionVersion] !== undefined) {
      throw new LambdaFault(
        400,
        'InvalidParameterValueException',
        `Additional version ${functionVersion} must be different from the alias's primary version ${functionVersion}.`,
      );
    }
  }

  #publish(fn: FunctionRecord, description: string): CodeRecord {
    const newest = [...fn.versions.values()].at(-1);
    // Lambda publishes nothing for unchanged code: it answers with the version that has it.
    if (newest && newest.artifact.sha256 === fn.latest.artifact.sha256) return newest;
    const version: CodeRecord = {
      version: String(fn.nextVersion),
      artifact: fn.latest.artifact,
      source: fn.latest.source,
      description,
      revisionId: this.#newId(),
      lastModified: this.#now(),
    };
    fn.nextVersion += 1;
    fn.publishCount += 1;
    fn.versions.set(version.version, version);
    return version;
  }

  /** An update finishes at the first poll after it, or once `updateSettleMs` has passed. */
  #settleUpdate(fn: FunctionRecord, polled: boolean): void {
    const { latest } = fn;
    if (latest.lastUpdateStatus !== 'InProgress') return;
    const started = latest.updateStartedAt?.getTime() ?? 0;
    if (polled || this.#now().getTime() - started >= this.#updateSettleMs) {
      latest.lastUpdateStatus = 'Successful';
    }
  }

  #refuseWhileUpdating(fn: FunctionRecord): void {
    if (fn.latest.lastUpdateStatus === 'InProgress') {
      throw new LambdaFault(
        409,
        'ResourceConflictException',
        `The operation cannot be performed at this time. An update is in progress for resource: ${this.#arn(fn.name)}`,
      );
    }
  }

  #resolveQualifier(
    fn: FunctionRecord,
    qualifier: string | undefined,
  ): { record: CodeRecord; alias?: AliasRecord } {
    if (qualifier === undefined || qualifier === latestVersion) return { record: fn.latest };
    const version = fn.versions.get(qualifier);
    if (version) return { record: version };
    const alias = fn.aliases.get(qualifier);
    if (alias) return { record: this.#recordOf(fn, alias.functionVersion), alias };
    throw new LambdaFault(
      404,
      'ResourceNotFoundException',
      `Function not found: ${this.#arn(fn.name, qualifier)}`,
    );
  }

  #recordOf(fn: FunctionRecord, version: string): CodeRecord {
    const record = version === latestVersion ? fn.latest : fn.versions.get(version);
    if (!record)
      throw new LambdaFault(
        404,
        'ResourceNotFoundException',
        `Function not found: ${this.#arn(fn.name, version)}`,
      );
    return record;
  }

  #requireFunction(name: string): FunctionRecord {
    const fn = this.#functions.get(name);
    if (!fn)
      throw new LambdaFault(
        404,
        'ResourceNotFoundException',
        `Function not found: ${this.#arn(name)}`,
      );
    return fn;
  }

  #requireAlias(fn: FunctionRecord, aliasName: string): AliasRecord {
    const alias = fn.aliases.get(aliasName);
    if (!alias)
      throw new LambdaFault(
        404,
        'ResourceNotFoundException',
        `Alias not found: ${this.#arn(fn.name, aliasName)}`,
      );
    return alias;
  }

  #takeFault(operation: FaultableOperation): boolean {
    const left = this.#faults.get(operation) ?? 0;
    if (left <= 0) return false;
    this.#faults.set(operation, left - 1);
    return true;
  }

  #resolveArtifact(ref: LambdaArtifactRef): Promise<ResolvedArtifact | undefined> {
    return 'imageUri' in ref
      ? this.#artifacts.resolveImage(ref.imageUri)
      : this.#artifacts.resolveS3(ref.s3.bucket, ref.s3.key);
  }

  #newAlias(
    name: string,
    functionVersion: string,
    description: string,
    weights: Record<string, number>,
  ): AliasRecord {
    return {
      name,
      functionVersion,
      description,
      weights: { ...weights },
      revisionId: this.#newId(),
      rotation: new Map(),
    };
  }

  #configuration(
    fn: FunctionRecord,
    record: CodeRecord,
    qualified: boolean,
  ): Record<string, unknown> {
    const isImage = 'imageUri' in record.source;
    const latest = record.version === latestVersion;
    const configuration: Record<string, unknown> = {
      FunctionName: fn.name,
      FunctionArn: this.#arn(fn.name, qualified || !latest ? record.version : undefined),
      Role: `arn:aws:iam::${this.#accountId}:role/${fn.name}-role`,
      CodeSize: record.artifact.size,
      CodeSha256: record.artifact.sha256,
      Description: record.description,
      Timeout: handlerTimeoutMs / 1000,
      MemorySize: 128,
      LastModified: formatLastModified(record.lastModified),
      Version: record.version,
      RevisionId: record.revisionId,
      State: 'Active',
      LastUpdateStatus: latest ? fn.latest.lastUpdateStatus : 'Successful',
      PackageType: isImage ? 'Image' : 'Zip',
      Architectures: ['x86_64'],
    };
    if (!isImage) {
      configuration.Runtime = 'nodejs24.x';
      configuration.Handler = 'index.handler';
    }
    return configuration;
  }

  #aliasConfiguration(fn: FunctionRecord, alias: AliasRecord): Record<string, unknown> {
    const configuration: Record<string, unknown> = {
      AliasArn: this.#arn(fn.name, alias.name),
      Name: alias.name,
      FunctionVersion: alias.functionVersion,
      Description: alias.description,
      RevisionId: alias.revisionId,
    };
    if (Object.keys(alias.weights).length > 0) {
      configuration.RoutingConfig = { AdditionalVersionWeights: { ...alias.weights } };
    }
    return configuration;
  }

  #arn(name: string, qualifier?: string): string {
    const base = `arn:aws:lambda:${this.#region}:${this.#accountId}:function:${name}`;
    return qualifier === undefined ? base : `${base}:${qualifier}`;
  }

  #newId(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.#random() * 16).toString(16));
    hex[12] = '4';
    hex[16] = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
    const s = hex.join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }
}

type Operation =
  | 'DeleteFunction'
  | 'ListAliases'
  | 'GetFunction'
  | 'GetFunctionConfiguration'
  | 'UpdateFunctionCode'
  | 'PublishVersion'
  | 'ListVersionsByFunction'
  | 'CreateAlias'
  | 'GetAlias'
  | 'UpdateAlias'
  | 'Invoke';

interface Route {
  operation: Operation;
  functionName: string;
  alias?: string;
}

interface FunctionTarget {
  name: string;
  qualifier?: string;
}

/** Maps `METHOD functions/{name}/...` to an operation, as the SDK's HTTP bindings lay them out. */
function routeOf(method: string, segments: string[]): Route | undefined {
  const [functionName, resource, alias, ...rest] = segments;
  if (!functionName || rest.length > 0) return undefined;
  const key = `${method} ${resource ?? ''}${alias === undefined ? '' : '/*'}`;
  const operation = (
    {
      'GET ': 'GetFunction',
      'DELETE ': 'DeleteFunction',
      'GET aliases': 'ListAliases',
      'GET configuration': 'GetFunctionConfiguration',
      'PUT code': 'UpdateFunctionCode',
      'POST versions': 'PublishVersion',
      'GET versions': 'ListVersionsByFunction',
      'POST aliases': 'CreateAlias',
      'GET aliases/*': 'GetAlias',
      'PUT aliases/*': 'UpdateAlias',
      'POST invocations': 'Invoke',
    } as const satisfies Record<string, Operation>
  )[key];
  if (!operation) return undefined;
  return alias === undefined ? { operation, functionName } : { operation, functionName, alias };
}

/** One page of a Marker/MaxItems listing, as Lambda's List* operations answer. */
function page(
  all: readonly Record<string, unknown>[],
  query: URLSearchParams,
  field: string,
): Record<string, unknown> {
  const start = Number(query.get('Marker') ?? '0');
  const maxItems = Number(query.get('MaxItems') ?? '50');
  if (!Number.isInteger(start) || start < 0 || start > all.length) {
    throw new LambdaFault(400, 'InvalidParameterValueException', 'The marker is invalid.');
  }
  const end = Math.min(all.length, start + Math.max(1, Math.min(10_000, maxItems || 50)));
  const result: Record<string, unknown> = { [field]: all.slice(start, end) };
  if (end < all.length) result.NextMarker = String(end);
  return result;
}

function isFaultable(operation: Operation): operation is FaultableOperation {
  return operation in FaultableOperation;
}

/** Accepts a name, `name:qualifier`, a partial ARN (`account:function:name`) or a full ARN. */
function parseFunctionName(raw: string): FunctionTarget {
  const parts = raw.split(':');
  let rest = parts;
  if (parts[0] === 'arn') rest = parts.slice(6);
  else if (parts[1] === 'function') rest = parts.slice(2);
  const [name = raw, qualifier] = rest;
  return qualifier === undefined ? { name } : { name, qualifier };
}

function mergeQualifier(
  fromName: string | undefined,
  fromQuery: string | undefined,
): string | undefined {
  if (fromName !== undefined && fromQuery !== undefined && fromName !== fromQuery) {
    throw new LambdaFault(
      400,
      'InvalidParameterValueException',
      'The derived qualifier from the function name does not match the specified qualifier.',
    );
  }
  return fromName ?? fromQuery;
}

function codeSourceOf(fn: FunctionRecord, body: Record<string, unknown>): LambdaArtifactRef {
  const isImage = 'imageUri' in fn.latest.source;
  if (body.ZipFile !== undefined) {
    throw new LambdaFault(
      400,
      'InvalidParameterValueException',
      'The local cloud takes code from S3 or an image URI; ZipFile uploads are not supported.',
    );
  }
  if (typeof body.ImageUri === 'string') {
    if (!isImage) {
      throw new LambdaFault(
        400,
        'InvalidParameterValueException',
        'Please do not provide ImageUri when updating a function with packageType Zip.',
      );
    }
    return { imageUri: body.ImageUri };
  }
  if (typeof body.S3Bucket === 'string' && typeof body.S3Key === 'string') {
    if (isImage) {
      throw new LambdaFault(
        400,
        'InvalidParameterValueException',
        'Please provide ImageUri when updating a function with packageType Image.',
      );
    }
    return { s3: { bucket: body.S3Bucket, key: body.S3Key } };
  }
  throw new LambdaFault(
    400,
    'InvalidParameterValueException',
    'Please provide a source for function code.',
  );
}

function readWeights(routingConfig: unknown): Record<string, number> | undefined {
  if (routingConfig === undefined || routingConfig === null) return undefined;
  const weights = (routingConfig as { AdditionalVersionWeights?: unknown })
    .AdditionalVersionWeights;
  if (weights === undefined || weights === null) return {};
  if (typeof weights !== 'object') {
    throw new LambdaFault(
      400,
      'InvalidParameterValueException',
      'AdditionalVersionWeights must be a map of version to weight.',
    );
  }
  return { ...(weights as Record<string, number>) };
}

function sameWeights(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

function requireString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') {
    throw new LambdaFault(400, 'InvalidParameterValueException', `${field} is required.`);
  }
  return value;
}

function parseBody(request: LocalRequest): Record<string, unknown> {
  if (request.body.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(request.body.toString('utf8'));
    if (parsed && typeof parsed === 'object') return parsed as Record<string, unknown>;
  } catch {
    // falls through to the same answer as a non-object body
  }
  throw new LambdaFault(
    400,
    'InvalidRequestContentException',
    'Could not parse request body into json.',
  );
}

function headerOf(request: LocalRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function failure(errorType: string, errorMessage: string): { error: boolean; payload: string } {
  return { error: true, payload: JSON.stringify({ errorType, errorMessage, trace: [] }) };
}

function describeRef(ref: LambdaArtifactRef): string {
  return 'imageUri' in ref ? `image ${ref.imageUri}` : `s3://${ref.s3.bucket}/${ref.s3.key}`;
}

/** Lambda's `LastModified` format: `2024-05-01T10:00:00.000+0000`. */
function formatLastModified(at: Date): string {
  return at.toISOString().replace('Z', '+0000');
}

function lambdaResult(status: number, body: unknown): LocalResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** Lambda's REST-JSON error: the SDK maps `x-amzn-errortype` to the typed exception. */
function lambdaError(fault: LambdaFault): LocalResponse {
  const service = fault.status >= 500;
  const body = service
    ? { Type: 'Service', Message: fault.message }
    : { Type: 'User', message: fault.message };
  return {
    status: fault.status,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': fault.type },
    body: JSON.stringify(body),
  };
}
