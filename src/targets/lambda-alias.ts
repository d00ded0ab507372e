import {
  type AliasConfiguration,
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  type GetFunctionConfigurationCommandOutput,
  InvokeCommand,
  type InvokeCommandOutput,
  type LambdaClient,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  type UpdateFunctionCodeCommandInput,
} from '@aws-sdk/client-lambda';
import { GreenProvisionFailed, TargetStateConflict } from '../core/errors.ts';
import { checkExpectations } from '../core/expectations.ts';
import type { PlanCheck, TargetInspection, TargetInspector } from '../core/plan.ts';
import type { TrafficTarget } from '../core/ports.ts';
import type { Colours, ReleaseSpec, TestEvidence } from '../core/records.ts';
import type { Artifact } from '../core/release-event.ts';
import type {
  LambdaAliasTargetConfig,
  LambdaTestEvent,
  ServiceConfig,
} from '../core/service-config.ts';

export interface LambdaAliasTargetOptions {
  client: LambdaClient;
  /**
   * How long provision waits for a code update to finish before giving up.
   * @default 300
   */
  updateTimeoutSeconds?: number;
  /** Pause between status polls; injected so tests do not wait. */
  sleep?: (ms: number) => Promise<void>;
  /** Monotonic milliseconds, for test durations. @default performance.now */
  now?: () => number;
}

/** Where an alias sends traffic: its main version and the weighted extra versions (0-1). */
interface AliasRoute {
  version: string;
  weights: Record<string, number>;
}

const pollIntervalMs = 1_000;
// Alias weights are fractions; two routes closer than this are the same route.
const weightEpsilon = 1e-6;
// Lambda rejects UpdateFunctionCode with these when the artifact itself is unusable: retrying
// cannot help, so they end provisioning rather than surface as transient errors.
const artifactErrorNames: ReadonlySet<string> = new Set([
  'InvalidParameterValueException',
  'CodeStorageExceededException',
  'CodeVerificationFailedException',
  'InvalidCodeSignatureException',
  'CodeSigningConfigNotFoundException',
]);

/**
 * Blue-green on a Lambda alias: green is a freshly published version, traffic moves with the
 * alias's weighted routing. Every write carries the RevisionId just read, so a concurrent
 * change by anyone else makes AWS refuse it and we report a TargetStateConflict instead of
 * overwriting their work.
 */
export class LambdaAliasTarget implements TrafficTarget, TargetInspector {
  readonly #client: LambdaClient;
  readonly #updateTimeoutMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #now: () => number;

  constructor(options: LambdaAliasTargetOptions) {
    this.#client = options.client;
    this.#updateTimeoutMs = (options.updateTimeoutSeconds ?? 300) * 1_000;
    this.#sleep =
      options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()));
    this.#now = options.now ?? (() => performance.now());
  }

  async provision(release: ReleaseSpec, service: ServiceConfig): Promise<Colours> {
    const target = lambdaTargetOf(service);
    const alias = await this.#getAlias(target);
    const blue = alias.FunctionVersion;
    if (blue === undefined) {
      throw new TargetStateConflict(
        `Alias ${target.alias} of ${target.functionName} has no version`,
      );
    }
    if (Object.keys(alias.RoutingConfig?.AdditionalVersionWeights ?? {}).length > 0) {
      throw new TargetStateConflict(
        `Alias ${target.alias} of ${target.functionName} still splits traffic ${JSON.stringify(alias.RoutingConfig?.AdditionalVersionWeights)}; finish or roll back the release that split it first`,
        { functionName: target.functionName, alias: target.alias },
      );
    }

    await this.#updateCode(target.functionName, release.artifact);
    const config = await this.#waitForUpdate(target.functionName);
    // Unchanged code and configuration since the last published version make AWS return that
    // version rather than a new one, so a retried provision never publishes twice.
    const green = await this.#publish(target.functionName, config, release.releaseId);
    if (green === blue) {
      throw new GreenProvisionFailed(
        `version ${green} is already live on alias ${target.alias}; nothing to release`,
        { functionName: target.functionName, alias: target.alias, version: green },
      );
    }
    return { blue, green };
  }

  /**
   * What provision would find, read only: the alias exists, routes to one published version
   * (never $LATEST, whose code the release's UpdateFunctionCode replaces under users' feet) and
   * splits no traffic. Green is predicted as the version after the newest published one.
   */
  async inspect(service: ServiceConfig): Promise<TargetInspection> {
    const target = lambdaTargetOf(service);
    const name = `alias ${target.functionName}:${target.alias}`;
    let alias: AliasConfiguration;
    try {
      alias = await this.#getAlias(target);
    } catch (error) {
      const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      return { checks: [{ check: name, ok: false, detail: `cannot be read (${why})` }] };
    }
    const checks: PlanCheck[] = [{ check: name, ok: true, detail: 'exists' }];
    const route = routeOf(alias);
    const routed = [route.version, ...Object.keys(route.weights)];
    const live = route.version;
    const published = alias.FunctionVersion !== undefined && live !== '$LATEST';
    checks.push(
      !published
        ? {
            check: 'live version',
            ok: false,
            detail: `${name} points at ${live}; point it at a published version (PublishVersion, then UpdateAlias)`,
          }
        : { check: 'live version', ok: true, detail: `version ${live}` },
    );
    checks.push(
      routed.includes('$LATEST')
        ? {
            check: '$LATEST not routed',
            ok: false,
            detail: `${name} routes traffic to $LATEST, which a release overwrites before any gate`,
          }
        : { check: '$LATEST not routed', ok: true, detail: 'no traffic reaches $LATEST' },
    );
    checks.push(
      Object.keys(route.weights).length > 0
        ? {
            check: 'no split',
            ok: false,
            detail: `${name} still splits traffic ${JSON.stringify(route.weights)}; finish or roll back the release that split it`,
          }
        : { check: 'no split', ok: true, detail: 'all traffic on one version' },
    );
    if (!published) return { checks };
    const newest = Math.max(0, ...(await this.#publishedVersions(target.functionName)));
    return { checks, colours: { blue: live, green: String(newest + 1) } };
  }

  async #publishedVersions(functionName: string): Promise<number[]> {
    const versions: number[] = [];
    let marker: string | undefined;
    do {
      const page = await this.#client.send(
        new ListVersionsByFunctionCommand({ FunctionName: functionName, Marker: marker }),
      );
      for (const v of page.Versions ?? []) {
        if (v.Version !== undefined && /^\d+$/.test(v.Version)) versions.push(Number(v.Version));
      }
      marker = page.NextMarker;
    } while (marker !== undefined);
    return versions;
  }

  test(release: ReleaseSpec, service: ServiceConfig, colours: Colours): Promise<TestEvidence[]> {
    return this.testColour(release, service, colours, 'green');
  }

  /** Each test event invoked on the colour's version itself, never through the alias. */
  async testColour(
    _release: ReleaseSpec,
    service: ServiceConfig,
    colours: Colours,
    colour: keyof Colours,
  ): Promise<TestEvidence[]> {
    const target = lambdaTargetOf(service);
    const evidence: TestEvidence[] = [];
    for (const test of service.tests) {
      evidence.push(await this.#runTest(target.functionName, colours[colour], test));
    }
    return evidence;
  }

  async setGreenPercent(service: ServiceConfig, colours: Colours, percent: number): Promise<void> {
    if (!(percent >= 0 && percent <= 100)) {
      throw new RangeError(`Green percent must be between 0 and 100, got ${percent}`);
    }
    if (percent === 0) return this.rollback(service, colours);
    if (percent === 100) return this.finalize(service, colours);
    // Five decimals keep fractional percents (33.333) without float noise (0.07000000000000001).
    const weight = Math.round(percent * 1_000) / 100_000;
    return this.#route(service, colours, {
      version: colours.blue,
      weights: { [colours.green]: weight },
    });
  }

  finalize(service: ServiceConfig, colours: Colours): Promise<void> {
    return this.#route(service, colours, { version: colours.green, weights: {} });
  }

  rollback(service: ServiceConfig, colours: Colours): Promise<void> {
    return this.#route(service, colours, { version: colours.blue, weights: {} });
  }

  async #route(service: ServiceConfig, colours: Colours, desired: AliasRoute): Promise<void> {
    const target = lambdaTargetOf(service);
    const alias = await this.#getAlias(target);
    const observed = routeOf(alias);
    const ours = new Set([colours.blue, colours.green]);
    const strangers = [observed.version, ...Object.keys(observed.weights)].filter(
      (version) => !ours.has(version),
    );
    if (strangers.length > 0) {
      throw new TargetStateConflict(
        `Alias ${target.alias} of ${target.functionName} routes to version ${strangers.join(', ')}, which is neither blue (${colours.blue}) nor green (${colours.green}); someone else changed it`,
        { functionName: target.functionName, alias: target.alias, observed, colours },
      );
    }
    if (isSameRoute(observed, desired)) return;
    try {
      await this.#client.send(
        new UpdateAliasCommand({
          FunctionName: target.functionName,
          Name: target.alias,
          FunctionVersion: desired.version,
          // An empty map is how Lambda is told to drop the routing configuration.
          RoutingConfig: { AdditionalVersionWeights: desired.weights },
          RevisionId: alias.RevisionId,
        }),
      );
    } catch (error) {
      // A lost response to our own earlier write looks like a conflict to the SDK's retry (the
      // revision moved on): if the alias is now exactly where we wanted it, that write landed.
      if (
        isPreconditionFailed(error) &&
        isSameRoute(routeOf(await this.#getAlias(target)), desired)
      ) {
        return;
      }
      throw conflictOr(
        error,
        `Alias ${target.alias} of ${target.functionName} changed while we moved traffic`,
      );
    }
  }

  #getAlias(target: LambdaAliasTargetConfig): Promise<AliasConfiguration> {
    return this.#client.send(
      new GetAliasCommand({ FunctionName: target.functionName, Name: target.alias }),
    );
  }

  async #updateCode(functionName: string, artifact: Artifact): Promise<void> {
    const code: Omit<UpdateFunctionCodeCommandInput, 'FunctionName'> =
      's3' in artifact
        ? {
            S3Bucket: artifact.s3.bucket,
            S3Key: artifact.s3.key,
            ...(artifact.s3.objectVersion === undefined
              ? {}
              : { S3ObjectVersion: artifact.s3.objectVersion }),
          }
        : { ImageUri: artifact.imageUri };
    try {
      await this.#client.send(
        new UpdateFunctionCodeCommand({ FunctionName: functionName, ...code }),
      );
    } catch (error) {
      if (error instanceof Error && artifactErrorNames.has(error.name)) {
        throw new GreenProvisionFailed(
          `Lambda refused the artifact for ${functionName}: ${error.name}: ${error.message}`,
          { functionName, artifact },
        );
      }
      throw error;
    }
  }

  async #waitForUpdate(functionName: string): Promise<GetFunctionConfigurationCommandOutput> {
    let waitedMs = 0;
    for (;;) {
      const config = await this.#client.send(
        new GetFunctionConfigurationCommand({ FunctionName: functionName }),
      );
      if (config.LastUpdateStatus === 'Successful') return config;
      if (config.LastUpdateStatus === 'Failed') {
        throw new GreenProvisionFailed(
          `Updating the code of ${functionName} failed: ${config.LastUpdateStatusReason ?? 'no reason given'}${config.LastUpdateStatusReasonCode ? ` (${config.LastUpdateStatusReasonCode})` : ''}`,
          { functionName, reasonCode: config.LastUpdateStatusReasonCode },
        );
      }
      if (waitedMs >= this.#updateTimeoutMs) {
        throw new GreenProvisionFailed(
          `Updating the code of ${functionName} was still ${config.LastUpdateStatus ?? 'unreported'} after ${this.#updateTimeoutMs / 1_000}s`,
          { functionName },
        );
      }
      await this.#sleep(pollIntervalMs);
      waitedMs += pollIntervalMs;
    }
  }

  async #publish(
    functionName: string,
    config: GetFunctionConfigurationCommandOutput,
    releaseId: string,
  ): Promise<string> {
    try {
      const published = await this.#client.send(
        new PublishVersionCommand({
          FunctionName: functionName,
          // Both guards pin what we publish to the code we just waited for.
          CodeSha256: config.CodeSha256,
          RevisionId: config.RevisionId,
          Description: `greenlight ${releaseId}`,
        }),
      );
      if (published.Version === undefined) {
        throw new GreenProvisionFailed(`PublishVersion of ${functionName} returned no version`);
      }
      return published.Version;
    } catch (error) {
      // Our own publish may have landed with its response lost: then a version with this
      // code and this release's description exists, and it is green.
      const landed = isPreconditionFailed(error)
        ? await this.#findPublished(functionName, config.CodeSha256, releaseId)
        : undefined;
      if (landed !== undefined) return landed;
      throw conflictOr(
        error,
        `${functionName} changed between its code update and publishing green (another deployment?)`,
      );
    }
  }

  async #findPublished(
    functionName: string,
    codeSha256: string | undefined,
    releaseId: string,
  ): Promise<string | undefined> {
    let marker: string | undefined;
    let found: string | undefined;
    do {
      const page = await this.#client.send(
        new ListVersionsByFunctionCommand({ FunctionName: functionName, Marker: marker }),
      );
      for (const version of page.Versions ?? []) {
        if (
          version.Version !== '$LATEST' &&
          version.CodeSha256 === codeSha256 &&
          version.Description === `greenlight ${releaseId}`
        ) {
          found = version.Version;
        }
      }
      marker = page.NextMarker;
    } while (marker !== undefined);
    return found;
  }

  async #runTest(
    functionName: string,
    green: string,
    test: LambdaTestEvent,
  ): Promise<TestEvidence> {
    const started = this.#now();
    const elapsed = () => Math.max(0, Math.round(this.#now() - started));
    let response: InvokeCommandOutput;
    try {
      response = await this.#client.send(
        new InvokeCommand({
          FunctionName: functionName,
          // Green's version number, never the alias: tests must not reach blue or users' traffic.
          Qualifier: green,
          InvocationType: 'RequestResponse',
          Payload: new TextEncoder().encode(
            test.payload === undefined ? '{}' : JSON.stringify(test.payload),
          ),
        }),
      );
    } catch (error) {
      const described = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      return {
        name: test.name,
        passed: false,
        detail: `Invoke failed: ${described}`,
        durationMs: elapsed(),
      };
    }
    const durationMs = elapsed();
    const text = response.Payload ? new TextDecoder().decode(response.Payload) : '';
    const base = {
      name: test.name,
      durationMs,
      ...(response.StatusCode === undefined ? {} : { statusCode: response.StatusCode }),
    };
    if (response.FunctionError !== undefined) {
      return {
        ...base,
        passed: false,
        functionError: response.FunctionError,
        detail: `function error (${response.FunctionError}): ${truncate(text)}`,
      };
    }
    if (response.StatusCode !== 200) {
      return {
        ...base,
        passed: false,
        detail: `status ${response.StatusCode ?? 'missing'}, expected 200`,
      };
    }
    let body: unknown;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      return { ...base, passed: false, detail: `response is not JSON: ${truncate(text)}` };
    }
    const result = checkExpectations(body, test.expect);
    return { ...base, passed: result.passed, detail: result.detail };
  }
}

function lambdaTargetOf(service: ServiceConfig): LambdaAliasTargetConfig {
  if (service.target.kind !== 'lambda-alias') {
    throw new TypeError(
      `Service ${service.name} has a ${(service.target as { kind: string }).kind} target, not lambda-alias`,
    );
  }
  return service.target;
}

function isSameRoute(observed: AliasRoute, desired: AliasRoute): boolean {
  if (observed.version !== desired.version) return false;
  const observedKeys = Object.keys(observed.weights);
  if (observedKeys.length !== Object.keys(desired.weights).length) return false;
  return observedKeys.every((version) => {
    const want = desired.weights[version];
    const have = observed.weights[version];
    return want !== undefined && have !== undefined && Math.abs(want - have) < weightEpsilon;
  });
}

function routeOf(alias: AliasConfiguration): AliasRoute {
  return {
    version: alias.FunctionVersion ?? '(none)',
    weights: alias.RoutingConfig?.AdditionalVersionWeights ?? {},
  };
}

function isPreconditionFailed(error: unknown): error is Error {
  return error instanceof Error && error.name === 'PreconditionFailedException';
}

function conflictOr(error: unknown, message: string): unknown {
  if (isPreconditionFailed(error)) {
    return new TargetStateConflict(`${message}: ${error.message}`);
  }
  return error;
}

function truncate(text: string, max = 500): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
