import {
  describeModule,
  type LocalArtifactStore,
  type ResolvedArtifact,
} from '../artifact-store.ts';
import { AwsFault } from '../aws-protocol/fault.ts';
import { LostResponses, lostResponseMessage } from '../aws-protocol/lost-responses.ts';
import type { LocalRequest, LocalResponse, LocalService } from '../http.ts';
import { serviceFault } from './faults.ts';
import {
  checkCodeSha,
  checkRevision,
  checkVersionDeletable,
  codeSourceOf,
  mergeQualifier,
  missingArtifact,
  pageOfListing,
  readProvisionedRequest,
  readWeights,
  refuseDuplicateAlias,
  refuseWhileUpdating,
  requireQualifier,
  requireString,
  routesTo,
  sameWeights,
  validateAliasTarget,
} from './rules.ts';
import { HandlerRuntime } from './runtime.ts';
import { LambdaState } from './state.ts';
import {
  type CodeRecord,
  FaultableOperation,
  type FunctionRecord,
  type FunctionSnapshot,
  type InvocationListener,
  type InvocationMetric,
  type LambdaArtifactRef,
  type SeedFunctionInput,
} from './types.ts';
import {
  apiPrefix,
  type FunctionTarget,
  headerOf,
  lambdaError,
  lambdaResult,
  parseBody,
  parseEvent,
  parseFunctionName,
  pathSegments,
  provisionedConcurrencyPrefix,
  type Route,
  renderAlias,
  renderCode,
  renderConfiguration,
  renderProvisioned,
  routeOf,
} from './wire.ts';

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

/**
 * Lambda's control plane and invoke API for the local cloud, on the REST-JSON wire protocol the
 * unmodified `@aws-sdk/client-lambda` speaks. It enforces the rules the release flow leans on
 * (revision ids, code hashes, unchanged-code publishes, alias routing limits), runs artifacts'
 * handlers in-process, and reports each invocation to metric listeners.
 *
 * Its seams: wire.ts (routes, request and response documents), rules.ts (what Lambda refuses),
 * state.ts (the model), runtime.ts (running handlers). This class ties them per operation.
 */
export class LocalLambda implements LocalService {
  readonly name = 'lambda';
  readonly #artifacts: LocalArtifactStore;
  readonly #state: LambdaState;
  readonly #runtime = new HandlerRuntime();
  readonly #listeners = new Set<InvocationListener>();
  readonly #lost = new LostResponses(FaultableOperation);

  constructor(options: LocalLambdaOptions) {
    this.#artifacts = options.artifacts;
    this.#state = new LambdaState({
      region: options.region ?? 'us-east-1',
      accountId: options.accountId ?? '000000000000',
      now: options.now ?? (() => new Date()),
      random: options.random ?? Math.random,
      updateSettleMs: options.updateSettleMs ?? 200,
    });
  }

  /** Creates a function from an artifact, publishes version 1 and points `alias` at it. */
  async seedFunction(input: SeedFunctionInput): Promise<void> {
    if (this.#state.functions.has(input.functionName)) {
      throw new Error(`Function ${input.functionName} is already seeded`);
    }
    const artifact = await this.#resolveArtifact(input.artifact);
    if (!artifact) {
      throw new Error(
        `Cannot seed ${input.functionName}: ${describeRef(input.artifact)} is not in the artifact store`,
      );
    }
    const fn = this.#state.createFunction(input.functionName, artifact, input.artifact, {
      ...(input.timeoutSeconds === undefined ? {} : { timeoutSeconds: input.timeoutSeconds }),
      ...(input.environment === undefined ? {} : { environment: input.environment }),
    });
    fn.seededAlias = input.alias;
    const version = this.#state.publish(fn, '');
    fn.aliases.set(input.alias, this.#state.newAlias(input.alias, version.version, '', {}));
    if (input.provisionedConcurrency !== undefined) {
      fn.provisioned.set(version.version, {
        requested: input.provisionedConcurrency,
        lastModified: fn.latest.lastModified,
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
    this.#lost.lose(operation, times);
  }

  /** What a test or the demo needs to see of a function, without going through the API. */
  describe(functionName: string): FunctionSnapshot {
    return this.#state.snapshot(functionName);
  }

  async handle(request: LocalRequest): Promise<LocalResponse | undefined> {
    const url = new URL(request.url, 'http://local');
    if (url.pathname.startsWith(provisionedConcurrencyPrefix)) {
      return this.#handleProvisionedConcurrency(request, url);
    }
    if (!url.pathname.startsWith(apiPrefix)) return undefined;
    const route = routeOf(request.method, pathSegments(url, apiPrefix));
    if (!route) return undefined;
    try {
      const qualifier = url.searchParams.get('Qualifier') ?? undefined;
      const response = await this.#dispatch(route, request, url, qualifier);
      if (this.#lost.take(route.operation)) return lambdaError(serviceFault(lostResponseMessage));
      return response;
    } catch (error) {
      if (error instanceof AwsFault) return lambdaError(error);
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
    const fn = this.#state.requireFunction(target.name);
    this.#state.settleUpdate(fn, true);
    const qualifier = mergeQualifier(target.qualifier, queryQualifier);
    const record = this.#state.resolveQualifier(fn, qualifier).record;
    const configuration = this.#configuration(fn, record, qualifier !== undefined);
    if (!withCode) return lambdaResult(200, configuration);
    return lambdaResult(200, { Configuration: configuration, Code: renderCode(record) });
  }

  async #updateFunctionCode(name: string, body: Record<string, unknown>): Promise<LocalResponse> {
    const fn = this.#state.requireFunction(name);
    this.#state.settleUpdate(fn, false);
    refuseWhileUpdating(fn, this.#state.arn);
    checkRevision(body.RevisionId, fn.latest.revisionId);
    const source = codeSourceOf(fn, body);
    const artifact = await this.#resolveArtifact(source);
    if (!artifact) throw missingArtifact(source);
    if (body.DryRun === true) return lambdaResult(200, this.#configuration(fn, fn.latest, false));
    this.#state.updateCode(fn, artifact, source);
    if (body.Publish === true) {
      // Publish=true completes the update and publishes in one call, as Lambda does.
      fn.latest.lastUpdateStatus = 'Successful';
      const version = this.#state.publish(fn, '');
      return lambdaResult(200, this.#configuration(fn, version, true));
    }
    return lambdaResult(200, this.#configuration(fn, fn.latest, false));
  }

  #publishVersion(name: string, body: Record<string, unknown>): LocalResponse {
    const fn = this.#state.requireFunction(name);
    this.#state.settleUpdate(fn, false);
    refuseWhileUpdating(fn, this.#state.arn);
    checkRevision(body.RevisionId, fn.latest.revisionId);
    checkCodeSha(body.CodeSha256, fn.latest.artifact.sha256);
    const description = typeof body.Description === 'string' ? body.Description : '';
    const version = this.#state.publish(fn, description);
    return lambdaResult(201, this.#configuration(fn, version, true));
  }

  #listVersions(name: string, query: URLSearchParams): LocalResponse {
    const fn = this.#state.requireFunction(name);
    this.#state.settleUpdate(fn, false);
    const all = [fn.latest, ...fn.versions.values()].map((record) =>
      this.#configuration(fn, record, true),
    );
    return lambdaResult(200, pageOfListing(all, query, 'Versions'));
  }

  #createAlias(name: string, body: Record<string, unknown>): LocalResponse {
    const fn = this.#state.requireFunction(name);
    const aliasName = requireString(body, 'Name');
    const functionVersion = requireString(body, 'FunctionVersion');
    refuseDuplicateAlias(fn, aliasName, this.#state.arn);
    const weights = readWeights(body.RoutingConfig) ?? {};
    validateAliasTarget(fn, functionVersion, weights, this.#state.arn);
    const description = typeof body.Description === 'string' ? body.Description : '';
    const alias = this.#state.newAlias(aliasName, functionVersion, description, weights);
    fn.aliases.set(aliasName, alias);
    return lambdaResult(201, renderAlias(fn, alias, this.#state.arn));
  }

  #listAliases(name: string, query: URLSearchParams): LocalResponse {
    const fn = this.#state.requireFunction(name);
    const version = query.get('FunctionVersion') ?? undefined;
    const all = [...fn.aliases.values()]
      .filter((alias) => version === undefined || routesTo(alias, version))
      .map((alias) => renderAlias(fn, alias, this.#state.arn));
    return lambdaResult(200, pageOfListing(all, query, 'Aliases'));
  }

  /**
   * Deletes one published version (with a qualifier) or the whole function. Lambda refuses to
   * delete `$LATEST` alone and any version an alias still routes to.
   */
  #deleteFunction(target: FunctionTarget, queryQualifier: string | undefined): LocalResponse {
    const fn = this.#state.requireFunction(target.name);
    const qualifier = mergeQualifier(target.qualifier, queryQualifier);
    if (qualifier === undefined) {
      this.#state.functions.delete(fn.name);
      return { status: 204 };
    }
    checkVersionDeletable(fn, qualifier, this.#state.arn);
    fn.versions.delete(qualifier);
    fn.provisioned.delete(qualifier);
    return { status: 204 };
  }

  /** Put, Get, Delete and List of provisioned concurrency configs (the 2019-09-30 API). */
  #handleProvisionedConcurrency(request: LocalRequest, url: URL): LocalResponse | undefined {
    const [rawName, resource, ...rest] = pathSegments(url, provisionedConcurrencyPrefix);
    if (!rawName || resource !== 'provisioned-concurrency' || rest.length > 0) return undefined;
    try {
      const target = parseFunctionName(rawName);
      const fn = this.#state.requireFunction(target.name);
      if (request.method === 'GET' && url.searchParams.get('List') === 'ALL') {
        const all = [...fn.provisioned].map(([qualifier, config]) =>
          renderProvisioned(config, this.#state.arn(fn.name, qualifier)),
        );
        return lambdaResult(
          200,
          pageOfListing(all, url.searchParams, 'ProvisionedConcurrencyConfigs'),
        );
      }
      const qualifier = requireQualifier(
        mergeQualifier(target.qualifier, url.searchParams.get('Qualifier') ?? undefined),
      );
      switch (request.method) {
        case 'PUT': {
          const requested = readProvisionedRequest(parseBody(request), qualifier);
          // Resolves the qualifier (a version or an alias) or answers ResourceNotFoundException.
          this.#state.resolveQualifier(fn, qualifier);
          const config = { requested, lastModified: this.#state.now() };
          fn.provisioned.set(qualifier, config);
          return lambdaResult(202, renderProvisioned(config, undefined));
        }
        case 'GET':
          return lambdaResult(
            200,
            renderProvisioned(this.#state.requireProvisioned(fn, qualifier), undefined),
          );
        case 'DELETE':
          this.#state.requireProvisioned(fn, qualifier);
          fn.provisioned.delete(qualifier);
          return { status: 204 };
        default:
          return undefined;
      }
    } catch (error) {
      if (error instanceof AwsFault) return lambdaError(error);
      throw error;
    }
  }

  #getAlias(name: string, aliasName: string): LocalResponse {
    const fn = this.#state.requireFunction(name);
    return lambdaResult(
      200,
      renderAlias(fn, this.#state.requireAlias(fn, aliasName), this.#state.arn),
    );
  }

  #updateAlias(name: string, aliasName: string, body: Record<string, unknown>): LocalResponse {
    const fn = this.#state.requireFunction(name);
    const alias = this.#state.requireAlias(fn, aliasName);
    checkRevision(body.RevisionId, alias.revisionId);
    const functionVersion =
      typeof body.FunctionVersion === 'string' ? body.FunctionVersion : alias.functionVersion;
    // An omitted RoutingConfig keeps the routing; an empty AdditionalVersionWeights clears it.
    const weights = readWeights(body.RoutingConfig) ?? alias.weights;
    validateAliasTarget(fn, functionVersion, weights, this.#state.arn);
    const routingChanged =
      functionVersion !== alias.functionVersion || !sameWeights(weights, alias.weights);
    alias.functionVersion = functionVersion;
    alias.weights = { ...weights };
    if (typeof body.Description === 'string') alias.description = body.Description;
    alias.revisionId = this.#state.newId();
    if (routingChanged) alias.rotation = new Map();
    return lambdaResult(200, renderAlias(fn, alias, this.#state.arn));
  }

  async #invoke(
    target: FunctionTarget,
    queryQualifier: string | undefined,
    request: LocalRequest,
  ): Promise<LocalResponse> {
    const fn = this.#state.requireFunction(target.name);
    const qualifier = mergeQualifier(target.qualifier, queryQualifier);
    const resolved = this.#state.resolveQualifier(fn, qualifier);
    const record = resolved.alias
      ? this.#state.pickAliasVersion(fn, resolved.alias)
      : resolved.record;
    const invocationType = headerOf(request, 'x-amz-invocation-type') ?? 'RequestResponse';
    const event = parseEvent(request);
    if (invocationType === 'DryRun')
      return { status: 204, headers: { 'x-amz-executed-version': record.version } };
    const deadline = performance.now() + fn.timeoutSeconds * 1000;
    const context = {
      functionName: fn.name,
      functionVersion: record.version,
      invokedFunctionArn: this.#state.arn(fn.name, qualifier),
      memoryLimitInMB: '128',
      awsRequestId: this.#state.newId(),
      logGroupName: `/aws/lambda/${fn.name}`,
      logStreamName: 'local',
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, deadline - performance.now()),
    };
    const startedAt = this.#state.now();
    const code = {
      artifact: record.artifact,
      source: record.source,
      environment: fn.environment,
      timeoutSeconds: fn.timeoutSeconds,
    };
    const run = this.#runtime.run(code, event, context).then((outcome) => {
      const at = this.#state.now();
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

  #configuration(fn: FunctionRecord, record: CodeRecord, qualified: boolean) {
    return renderConfiguration(fn, record, qualified, this.#state.arn, this.#state.accountId);
  }

  #resolveArtifact(ref: LambdaArtifactRef): Promise<ResolvedArtifact | undefined> {
    if ('localModule' in ref) return describeModule(ref.localModule);
    return 'imageUri' in ref
      ? this.#artifacts.resolveImage(ref.imageUri)
      : this.#artifacts.resolveS3(ref.s3.bucket, ref.s3.key);
  }
}

function describeRef(ref: LambdaArtifactRef): string {
  if ('localModule' in ref) return `module ${ref.localModule}`;
  return 'imageUri' in ref ? `image ${ref.imageUri}` : `s3://${ref.s3.bucket}/${ref.s3.key}`;
}
