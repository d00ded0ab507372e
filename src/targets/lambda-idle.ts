import {
  type AliasConfiguration,
  DeleteFunctionCommand,
  DeleteProvisionedConcurrencyConfigCommand,
  GetFunctionConfigurationCommand,
  type LambdaClient,
  ListAliasesCommand,
  ListProvisionedConcurrencyConfigsCommand,
  ListVersionsByFunctionCommand,
  type ProvisionedConcurrencyConfigListItem,
} from '@aws-sdk/client-lambda';
import { planVersionRetention } from '../core/idle-colour.ts';
import { estimateProvisionedConcurrencyCost } from '../core/idle-cost.ts';
import type { IdleColours } from '../core/ports.ts';
import type { IdleCost } from '../core/records.ts';
import type { LambdaAliasTargetConfig, ServiceConfig } from '../core/service-config.ts';

/**
 * The idle colour of a Lambda alias service is a published version. It costs money only
 * through provisioned concurrency configured on that version; tearing it down removes that,
 * then deletes the versions beyond the service's retention. A version an alias routes to (any
 * alias, any weight) or a release in flight uses is never deleted, and Lambda itself refuses
 * to delete a version an alias references, which guards the race with someone moving one.
 */
export class LambdaIdleColours implements IdleColours {
  readonly #client: LambdaClient;

  constructor(options: { client: LambdaClient }) {
    this.#client = options.client;
  }

  async takesTraffic(service: ServiceConfig, version: string): Promise<boolean> {
    const target = lambdaTargetOf(service);
    const alias = (await this.#aliases(target.functionName)).find((a) => a.Name === target.alias);
    return alias !== undefined && routedVersions([alias]).has(version);
  }

  async cost(service: ServiceConfig, version: string): Promise<IdleCost> {
    const { functionName } = lambdaTargetOf(service);
    const config = provisionedOn(await this.#provisionedConcurrency(functionName), version);
    if (config === undefined)
      return estimateProvisionedConcurrencyCost({ concurrency: 0, memoryMb: 0 });
    const described = await this.#client.send(
      new GetFunctionConfigurationCommand({ FunctionName: functionName, Qualifier: version }),
    );
    return estimateProvisionedConcurrencyCost({
      concurrency: concurrencyOf(config),
      memoryMb: described.MemorySize ?? 128,
      architecture: described.Architectures?.[0],
    });
  }

  async tearDown(
    service: ServiceConfig,
    version: string,
    options: { idleSince: Date; now: Date; protectedColours: ReadonlySet<string> },
  ): Promise<string[]> {
    const target = lambdaTargetOf(service);
    const { functionName } = target;
    const routed = routedVersions(await this.#aliases(functionName));
    const provisioned = await this.#provisionedConcurrency(functionName);
    const done: string[] = [];

    const idleConfig = provisionedOn(provisioned, version);
    if (idleConfig !== undefined && !routed.has(version)) {
      await this.#removeProvisionedConcurrency(functionName, version);
      done.push(
        `Removed provisioned concurrency ${concurrencyOf(idleConfig)} from version ${version}`,
      );
    }

    const { remove } = planVersionRetention({
      versions: await this.#versions(functionName),
      keep: target.keepVersions,
      protectedVersions: new Set([...routed, ...options.protectedColours]),
    });
    for (const old of remove) {
      // Provisioned concurrency first: it belongs to the version and is billed while it exists.
      if (old !== version && provisionedOn(provisioned, old) !== undefined) {
        await this.#removeProvisionedConcurrency(functionName, old);
      }
      try {
        await this.#client.send(
          new DeleteFunctionCommand({ FunctionName: functionName, Qualifier: old }),
        );
        done.push(`Deleted version ${old} (beyond the newest ${target.keepVersions})`);
      } catch (error) {
        // Gone already (a retried teardown), or an alias took it meanwhile: either way it stays as it is.
        if (errorName(error) === 'ResourceNotFoundException') continue;
        if (errorName(error) === 'ResourceConflictException') {
          done.push(`Kept version ${old}: ${(error as Error).message}`);
          continue;
        }
        throw error;
      }
    }
    return done;
  }

  async #removeProvisionedConcurrency(functionName: string, version: string): Promise<void> {
    try {
      await this.#client.send(
        new DeleteProvisionedConcurrencyConfigCommand({
          FunctionName: functionName,
          Qualifier: version,
        }),
      );
    } catch (error) {
      // Gone already: removed by a retried teardown, or by someone else meanwhile.
      const gone = ['ProvisionedConcurrencyConfigNotFoundException', 'ResourceNotFoundException'];
      if (!gone.includes(errorName(error) ?? '')) throw error;
    }
  }

  async #aliases(functionName: string): Promise<AliasConfiguration[]> {
    const aliases: AliasConfiguration[] = [];
    let marker: string | undefined;
    do {
      const page = await this.#client.send(
        new ListAliasesCommand({
          FunctionName: functionName,
          ...(marker === undefined ? {} : { Marker: marker }),
        }),
      );
      aliases.push(...(page.Aliases ?? []));
      marker = page.NextMarker;
    } while (marker);
    return aliases;
  }

  async #versions(functionName: string): Promise<string[]> {
    const versions: string[] = [];
    let marker: string | undefined;
    do {
      const page = await this.#client.send(
        new ListVersionsByFunctionCommand({
          FunctionName: functionName,
          ...(marker === undefined ? {} : { Marker: marker }),
        }),
      );
      for (const version of page.Versions ?? []) {
        if (version.Version !== undefined) versions.push(version.Version);
      }
      marker = page.NextMarker;
    } while (marker);
    return versions;
  }

  async #provisionedConcurrency(
    functionName: string,
  ): Promise<ProvisionedConcurrencyConfigListItem[]> {
    const configs: ProvisionedConcurrencyConfigListItem[] = [];
    let marker: string | undefined;
    do {
      const page = await this.#client.send(
        new ListProvisionedConcurrencyConfigsCommand({
          FunctionName: functionName,
          ...(marker === undefined ? {} : { Marker: marker }),
        }),
      );
      configs.push(...(page.ProvisionedConcurrencyConfigs ?? []));
      marker = page.NextMarker;
    } while (marker);
    return configs;
  }
}

/** Every version an alias sends any traffic to: its main version and its weighted ones. */
function routedVersions(aliases: readonly AliasConfiguration[]): Set<string> {
  const routed = new Set<string>();
  for (const alias of aliases) {
    if (alias.FunctionVersion !== undefined) routed.add(alias.FunctionVersion);
    for (const [version, weight] of Object.entries(
      alias.RoutingConfig?.AdditionalVersionWeights ?? {},
    )) {
      if (weight > 0) routed.add(version);
    }
  }
  return routed;
}

/** The provisioned concurrency configured on `version` itself (its qualified ARN ends `:version`). */
function provisionedOn(
  configs: readonly ProvisionedConcurrencyConfigListItem[],
  version: string,
): ProvisionedConcurrencyConfigListItem | undefined {
  return configs.find((config) => config.FunctionArn?.split(':').at(-1) === version);
}

/** What is billed: the configured amount, even while Lambda is still allocating it. */
function concurrencyOf(config: ProvisionedConcurrencyConfigListItem): number {
  return (
    config.RequestedProvisionedConcurrentExecutions ??
    config.AllocatedProvisionedConcurrentExecutions ??
    0
  );
}

function lambdaTargetOf(service: ServiceConfig): LambdaAliasTargetConfig {
  if (service.target.kind !== 'lambda-alias') {
    throw new TypeError(
      `Service ${service.name} has a ${service.target.kind} target, not lambda-alias`,
    );
  }
  return service.target;
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}
