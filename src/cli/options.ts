import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { ExitCode } from './exit-codes.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/** What a command needs from the process; tests pass fakes, main.ts the real ones. */
export interface CommandContext {
  out: (line: string) => void;
  err: (line: string) => void;
  env: Env;
  /** Epoch milliseconds. */
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Whether stdout is a terminal: colour is only ever written to one. */
  isTty: boolean;
}

/** Flags every command takes. */
export const sharedFlags = {
  bus: { type: 'string' },
  'ledger-table': { type: 'string' },
  region: { type: 'string' },
  'endpoint-url': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig;

export const sharedDefaults = {
  bus: 'greenlight',
  ledgerTable: 'greenlight-ledger',
} as const;

export const sharedFlagsHelp = `Shared options:
  --bus NAME            EventBridge bus (env GREENLIGHT_BUS, default "${sharedDefaults.bus}")
  --ledger-table NAME   ledger DynamoDB table (env GREENLIGHT_LEDGER_TABLE, default "${sharedDefaults.ledgerTable}")
  --region REGION       AWS region (default: AWS_REGION, else AWS_DEFAULT_REGION, else the profile)
  --endpoint-url URL    one endpoint for EventBridge, DynamoDB and Step Functions, e.g. the local cloud
                        http://127.0.0.1:4010 (default: AWS_ENDPOINT_URL or AWS itself)
  --json                machine-readable output
  -h, --help            this help`;

export interface SharedOptions {
  bus: string;
  ledgerTable: string;
  region?: string;
  endpointUrl?: string;
  json: boolean;
}

interface SharedValues {
  bus?: string | undefined;
  'ledger-table'?: string | undefined;
  region?: string | undefined;
  'endpoint-url'?: string | undefined;
  json?: boolean | undefined;
}

/**
 * Flag over environment over default, so a CI job can set the bus once for every call. Without a
 * region from flag or environment, the SDK's own chain (the profile's region) decides.
 */
export function resolveSharedOptions(values: SharedValues, env: Env): SharedOptions {
  const options: SharedOptions = {
    bus: values.bus ?? nonEmpty(env.GREENLIGHT_BUS) ?? sharedDefaults.bus,
    ledgerTable:
      values['ledger-table'] ?? nonEmpty(env.GREENLIGHT_LEDGER_TABLE) ?? sharedDefaults.ledgerTable,
    json: values.json ?? false,
  };
  // The JavaScript SDK reads only AWS_REGION; AWS CLI v1 reads only AWS_DEFAULT_REGION. Reading
  // both, in the AWS CLI v2's order, lets one shell set-up serve greenlight and either `aws`.
  const region = values.region ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION);
  if (region !== undefined) options.region = region;
  if (values['endpoint-url'] !== undefined) {
    if (!URL.canParse(values['endpoint-url'])) {
      throw new UsageError(
        `--endpoint-url must be a URL like http://127.0.0.1:4010, got "${values['endpoint-url']}".`,
      );
    }
    options.endpointUrl = values['endpoint-url'];
  }
  return options;
}

/** A command line that cannot be run as written. Exit code 2; nothing has been sent. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Says what is wrong with `greenlight <command>`'s line and where help is; rethrows other errors. */
export function usageError(command: string, error: unknown, context: CommandContext): ExitCode {
  if (!(error instanceof UsageError)) throw error;
  context.err(`greenlight ${command}: ${error.message}`);
  context.err(`Run "greenlight ${command} --help" for usage.`);
  return ExitCode.Usage;
}

/**
 * `parseArgs` in strict mode, with errors rewritten for people: Node's own message for an unknown
 * flag talks about positionals, ours names the closest known flag.
 */
export function parseFlags<const T extends ParseArgsOptionsConfig>(
  args: readonly string[],
  options: T,
) {
  try {
    return parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw toUsageError(error, Object.keys(options));
  }
}

/**
 * Like parseFlags, with at most one positional argument (`greenlight rollback checkout`), which
 * `what` names in the error when there are more.
 */
export function parseFlagsAndTarget<const T extends ParseArgsOptionsConfig>(
  args: readonly string[],
  options: T,
  what: string,
) {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: true }>
  >;
  try {
    parsed = parseArgs({ args: [...args], options, strict: true, allowPositionals: true });
  } catch (error) {
    throw toUsageError(error, Object.keys(options));
  }
  if (parsed.positionals.length > 1) {
    throw new UsageError(
      `Give one ${what}, not ${parsed.positionals.length}: ${parsed.positionals.join(' ')}.`,
    );
  }
  return { values: parsed.values, target: parsed.positionals[0] };
}

function toUsageError(error: unknown, known: readonly string[]): UsageError {
  const message = error instanceof Error ? error.message : String(error);
  const unknown = /Unknown option '(-{1,2}[^']+)'/.exec(message)?.[1];
  if (unknown !== undefined) {
    const guess = suggestFlag(unknown.replace(/^-+/, ''), known);
    return new UsageError(
      `Unknown option ${unknown}.${guess === undefined ? '' : ` Did you mean --${guess}?`}`,
    );
  }
  const positional = /Unexpected argument '([^']+)'/.exec(message)?.[1];
  if (positional !== undefined) {
    return new UsageError(`Unexpected argument "${positional}": every value follows its flag.`);
  }
  // Node says e.g. "Option '--service <value>' argument missing".
  return new UsageError(message.split('. ')[0] ?? message);
}

/** The known flag within two edits of `typed`, if exactly one is closest. */
export function suggestFlag(typed: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = measureEditDistance(typed, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function measureEditDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** The registry table a command reads: `--registry-table`, else GREENLIGHT_REGISTRY_TABLE. */
export function resolveRegistryTable(
  values: { 'registry-table'?: string | undefined },
  env: Env,
): string | undefined {
  return values['registry-table'] ?? nonEmpty(env.GREENLIGHT_REGISTRY_TABLE);
}

/** Whole seconds from a flag, or a usage error that names the flag. */
export function parseSeconds(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const seconds = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(`--${flag} must be a positive number of seconds, got "${value}".`);
  }
  return seconds;
}
