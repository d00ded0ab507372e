import type { ResolvedArtifact } from '../artifact-store.ts';
import { AwsFault } from '../aws-protocol/fault.ts';
import { notFound } from './faults.ts';
import {
  type AliasRecord,
  type CodeRecord,
  defaultTimeoutSeconds,
  type FunctionRecord,
  type FunctionSnapshot,
  type LambdaArtifactRef,
  latestVersion,
  type ProvisionedConfig,
} from './types.ts';

// Integer weights make the round-robin exact: float accumulation would drift over long runs.
const weightScale = 1_000_000;

export interface LambdaStateOptions {
  region: string;
  accountId: string;
  now: () => Date;
  random: () => number;
  updateSettleMs: number;
}

/**
 * Lambda's model: functions, their published versions, aliases and provisioned concurrency,
 * and the transitions the API makes on them. Lookups answer Lambda's not-found faults; the
 * API's other rules live in rules.ts.
 */
export class LambdaState {
  readonly region: string;
  readonly accountId: string;
  readonly now: () => Date;
  readonly #random: () => number;
  readonly #updateSettleMs: number;
  readonly functions = new Map<string, FunctionRecord>();

  constructor(options: LambdaStateOptions) {
    this.region = options.region;
    this.accountId = options.accountId;
    this.now = options.now;
    this.#random = options.random;
    this.#updateSettleMs = options.updateSettleMs;
  }

  readonly arn = (name: string, qualifier?: string): string => {
    const base = `arn:aws:lambda:${this.region}:${this.accountId}:function:${name}`;
    return qualifier === undefined ? base : `${base}:${qualifier}`;
  };

  createFunction(
    name: string,
    artifact: ResolvedArtifact,
    source: LambdaArtifactRef,
    settings: { timeoutSeconds?: number; environment?: Record<string, string> } = {},
  ) {
    const fn: FunctionRecord = {
      name,
      timeoutSeconds: settings.timeoutSeconds ?? defaultTimeoutSeconds,
      environment: { ...settings.environment },
      latest: {
        version: latestVersion,
        artifact,
        source,
        description: '',
        revisionId: this.newId(),
        lastModified: this.now(),
        lastUpdateStatus: 'Successful',
      },
      versions: new Map(),
      aliases: new Map(),
      nextVersion: 1,
      publishCount: 0,
      provisioned: new Map(),
    };
    this.functions.set(name, fn);
    return fn;
  }

  requireFunction(name: string): FunctionRecord {
    const fn = this.functions.get(name);
    if (!fn) throw notFound(`Function not found: ${this.arn(name)}`);
    return fn;
  }

  requireAlias(fn: FunctionRecord, aliasName: string): AliasRecord {
    const alias = fn.aliases.get(aliasName);
    if (!alias) throw notFound(`Alias not found: ${this.arn(fn.name, aliasName)}`);
    return alias;
  }

  requireProvisioned(fn: FunctionRecord, qualifier: string): ProvisionedConfig {
    const config = fn.provisioned.get(qualifier);
    if (!config) {
      throw new AwsFault(
        404,
        'ProvisionedConcurrencyConfigNotFoundException',
        'No Provisioned Concurrency Config found for this function',
      );
    }
    return config;
  }

  resolveQualifier(
    fn: FunctionRecord,
    qualifier: string | undefined,
  ): { record: CodeRecord; alias?: AliasRecord } {
    if (qualifier === undefined || qualifier === latestVersion) return { record: fn.latest };
    const version = fn.versions.get(qualifier);
    if (version) return { record: version };
    const alias = fn.aliases.get(qualifier);
    if (alias) return { record: this.recordOf(fn, alias.functionVersion), alias };
    throw notFound(`Function not found: ${this.arn(fn.name, qualifier)}`);
  }

  recordOf(fn: FunctionRecord, version: string): CodeRecord {
    const record = version === latestVersion ? fn.latest : fn.versions.get(version);
    if (!record) throw notFound(`Function not found: ${this.arn(fn.name, version)}`);
    return record;
  }

  /** New code in $LATEST: a new revision, InProgress until settled. */
  updateCode(fn: FunctionRecord, artifact: ResolvedArtifact, source: LambdaArtifactRef): void {
    const now = this.now();
    fn.latest = {
      ...fn.latest,
      artifact,
      source,
      revisionId: this.newId(),
      lastModified: now,
      lastUpdateStatus: 'InProgress',
      updateStartedAt: now,
    };
  }

  publish(fn: FunctionRecord, description: string): CodeRecord {
    const newest = [...fn.versions.values()].at(-1);
    // Lambda publishes nothing for unchanged code: it answers with the version that has it.
    if (newest && newest.artifact.sha256 === fn.latest.artifact.sha256) return newest;
    const version: CodeRecord = {
      version: String(fn.nextVersion),
      artifact: fn.latest.artifact,
      source: fn.latest.source,
      description,
      revisionId: this.newId(),
      lastModified: this.now(),
    };
    fn.nextVersion += 1;
    fn.publishCount += 1;
    fn.versions.set(version.version, version);
    return version;
  }

  /** An update finishes at the first poll after it, or once `updateSettleMs` has passed. */
  settleUpdate(fn: FunctionRecord, polled: boolean): void {
    const { latest } = fn;
    if (latest.lastUpdateStatus !== 'InProgress') return;
    const started = latest.updateStartedAt?.getTime() ?? 0;
    if (polled || this.now().getTime() - started >= this.#updateSettleMs) {
      latest.lastUpdateStatus = 'Successful';
    }
  }

  newAlias(
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
      revisionId: this.newId(),
      rotation: new Map(),
    };
  }

  /**
   * Chooses the version an aliased invoke runs with a smooth weighted round-robin (the nginx
   * algorithm) rather than a random draw: over any run of requests each version's share is
   * within one request of its weight, so tests and demos are reproducible and exact.
   */
  pickAliasVersion(fn: FunctionRecord, alias: AliasRecord): CodeRecord {
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
    return this.recordOf(fn, chosen);
  }

  snapshot(functionName: string): FunctionSnapshot {
    const fn = this.functions.get(functionName);
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

  /** A version-4 UUID from the injected randomness (revision and request ids). */
  newId(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.#random() * 16).toString(16));
    hex[12] = '4';
    hex[16] = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
    const s = hex.join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }
}
