import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoServiceRegistry } from '../aws/dynamo-registry.ts';
import type { ServiceRegistryReader, ServiceRegistryWriter } from '../core/registry.ts';
import {
  checkDeployConfig,
  type DeployConfigCheck,
  type GreenlightDeployConfig,
} from '../infra/deploy-config.ts';
import { type GreenlightNames, greenlightNames } from '../infra/names.ts';
import { closestToLimits, type QuotaUse } from '../infra/quotas.ts';
import { ExitCode } from './exit-codes.ts';
import {
  type CommandContext,
  nonEmpty,
  parseFlags,
  resolveRegistryTable,
  resolveSharedOptions,
  UsageError,
  usageError,
} from './options.ts';

export const configUsage = `Usage: greenlight config check [--config FILE] [--stage NAME] [--json]
       greenlight config apply [--config FILE] [--service NAME]... [--prune] [options]

check: validates greenlight.config.ts offline, as "sst deploy" does (the same parser the
handlers use), then measures what the stage would use of AWS's quotas: each function's
environment (Lambda: 4 KB), each role's inline policy characters (IAM: 10,240), managed
policies per role (10), trust policy characters (2,048) and the bus's resource policy
characters (EventBridge: 10,240; each CI team adds to it). No AWS account is needed.

apply: validates the config the same way, then writes its services to the stage's registry
table, where the next release reads them: no deploy, no rebuilt function. --service applies
only the named ones; --prune also takes registered services the file no longer lists out of
the registry (greenlight then refuses to act on them).

Options:
  --config FILE          the config module (default greenlight.config.ts); export "greenlight"
  --stage NAME           the stage (default "prod"): its resource names are measured, and its
                         registry table is greenlight-STAGE-registry
  --service NAME         apply: only this service (repeatable)
  --prune                apply: remove registered services the config does not list
  --registry-table NAME  apply: the registry table (env GREENLIGHT_REGISTRY_TABLE)
  --actor WHO            apply: recorded with each registration (default $GITHUB_ACTOR /
                         $GITLAB_USER_LOGIN / $USER)
  --region, --endpoint-url   as for every command (apply only)
  --json                 check: {"ok", "services", "quotas": [{"resource", "kind", "used",
                         "limit"}], "problems": [...]}; apply: {"applied": [...], "removed": [...]}
  -h, --help             this help

Exits 0 when the config is valid (check: and within every quota; apply: and written), 1 when
not (each problem is printed), 2 on a usage error.`;

const checkFlags = {
  config: { type: 'string' },
  stage: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const applyFlags = {
  ...checkFlags,
  service: { type: 'string', multiple: true },
  prune: { type: 'boolean' },
  'registry-table': { type: 'string' },
  actor: { type: 'string' },
  region: { type: 'string' },
  'endpoint-url': { type: 'string' },
} as const;

/** Reads the config module's `greenlight` export. */
export type ConfigLoader = (file: string) => Promise<GreenlightDeployConfig>;

/** The registry `apply` writes to; the real one is the stage's DynamoDB table. */
export type RegistryOpener = (options: {
  tableName: string;
  region?: string;
  endpointUrl?: string;
}) => ServiceRegistryReader & ServiceRegistryWriter;

export async function runConfigCommand(
  argv: readonly string[],
  context: CommandContext,
  load: ConfigLoader = importConfig,
  openRegistry: RegistryOpener = openDynamoRegistry,
): Promise<ExitCode> {
  const [subcommand, ...rest] = argv;
  if (subcommand === undefined || subcommand === '--help' || subcommand === '-h') {
    (subcommand === undefined ? context.err : context.out)(configUsage);
    return subcommand === undefined ? ExitCode.Usage : ExitCode.Finalized;
  }
  try {
    switch (subcommand) {
      case 'check':
        return await runCheck(parseFlags(rest, checkFlags), context, load);
      case 'apply':
        return await runApply(parseFlags(rest, applyFlags), context, load, openRegistry);
      default:
        throw new UsageError(`Unknown subcommand "${subcommand}". Subcommands: check, apply.`);
    }
  } catch (error) {
    return usageError('config', error, context);
  }
}

type CheckValues = ReturnType<typeof parseFlags<typeof checkFlags>>;
type ApplyValues = ReturnType<typeof parseFlags<typeof applyFlags>>;

async function runCheck(
  values: CheckValues,
  context: CommandContext,
  load: ConfigLoader,
): Promise<ExitCode> {
  if (values.help) {
    context.out(configUsage);
    return ExitCode.Finalized;
  }
  const names = stageNames(values.stage);
  const file = values.config ?? 'greenlight.config.ts';
  const config = await load(resolve(file));
  const checked = checkDeployConfig(config, names);
  const report = reportOf(config, checked);
  if (values.json === true) context.out(JSON.stringify(report, null, 2));
  else printReport(report, file, context);
  return report.ok ? ExitCode.Finalized : ExitCode.Failure;
}

async function runApply(
  values: ApplyValues,
  context: CommandContext,
  load: ConfigLoader,
  openRegistry: RegistryOpener,
): Promise<ExitCode> {
  if (values.help) {
    context.out(configUsage);
    return ExitCode.Finalized;
  }
  const names = stageNames(values.stage);
  const actor =
    values.actor ??
    nonEmpty(context.env.GITHUB_ACTOR) ??
    nonEmpty(context.env.GITLAB_USER_LOGIN) ??
    nonEmpty(context.env.USER);
  if (actor === undefined) throw new UsageError('Say who applies: --actor WHO (or set $USER).');
  const file = values.config ?? 'greenlight.config.ts';
  const config = await load(resolve(file));
  const checked = checkDeployConfig(config, names);
  if (checked.config === undefined || checked.problems.length > 0) {
    for (const problem of checked.problems) context.err(`problem: ${problem}`);
    context.err(`${file}: nothing applied`);
    return ExitCode.Failure;
  }
  const listed = config.services.map((service) => String(service.name));
  const wanted = values.service ?? listed;
  const unknown = wanted.filter((name) => !listed.includes(name));
  if (unknown.length > 0) {
    throw new UsageError(
      `${file} registers no service ${unknown.map((n) => `"${n}"`).join(', ')}.`,
    );
  }
  const shared = resolveSharedOptions(values, context.env);
  const registry = openRegistry({
    tableName: resolveRegistryTable(values, context.env) ?? names.registryTable,
    ...(shared.region === undefined ? {} : { region: shared.region }),
    ...(shared.endpointUrl === undefined ? {} : { endpointUrl: shared.endpointUrl }),
  });
  await registry.put(
    config.services.filter((service) => wanted.includes(String(service.name))),
    actor,
  );
  const removed =
    values.prune === true
      ? (await registry.list())
          .map((service) => service.name)
          .filter((name) => !listed.includes(name))
      : [];
  if (removed.length > 0) await registry.remove(removed);
  if (values.json === true) {
    context.out(JSON.stringify({ applied: wanted, removed }, null, 2));
  } else {
    context.out(
      `Applied ${wanted.length} service${wanted.length === 1 ? '' : 's'}: ${wanted.join(', ')}`,
    );
    if (removed.length > 0) context.out(`Removed from the registry: ${removed.join(', ')}`);
  }
  return ExitCode.Finalized;
}

function stageNames(stage: string | undefined): GreenlightNames {
  try {
    return greenlightNames(stage ?? 'prod');
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function openDynamoRegistry(options: Parameters<RegistryOpener>[0]) {
  const client = new DynamoDBClient({
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.endpointUrl === undefined ? {} : { endpoint: options.endpointUrl }),
  });
  return new DynamoServiceRegistry({
    client: DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    }),
    tableName: options.tableName,
  });
}

interface ConfigReport {
  ok: boolean;
  services: number;
  quotas: QuotaUse[];
  problems: string[];
}

function reportOf(config: GreenlightDeployConfig, checked: DeployConfigCheck): ConfigReport {
  return {
    ok: checked.problems.length === 0 && checked.config !== undefined,
    services: Array.isArray(config.services) ? config.services.length : 0,
    quotas: checked.quotas,
    problems: checked.problems,
  };
}

/** One line per quota kind: the resource closest to its limit; then every problem. */
function printReport(report: ConfigReport, file: string, context: CommandContext): void {
  context.out(`${file}: ${report.services} services`);
  for (const worst of closestToLimits(report.quotas)) {
    const share = Math.round((worst.used / worst.limit) * 100);
    context.out(
      `  ${worst.kind}: ${worst.used} of ${worst.limit} (${share}%), most in ${worst.resource}`,
    );
  }
  if (report.ok) {
    context.out('ok: AWS would take this stage as it is');
    return;
  }
  for (const problem of report.problems) context.err(`problem: ${problem}`);
}

async function importConfig(file: string): Promise<GreenlightDeployConfig> {
  let module: { greenlight?: GreenlightDeployConfig };
  try {
    module = (await import(pathToFileURL(file).href)) as typeof module;
  } catch (error) {
    throw new UsageError(`Cannot load ${file}: ${(error as Error).message}`);
  }
  if (module.greenlight === undefined) {
    throw new UsageError(`${file} has no export "greenlight" (export const greenlight = { ... }).`);
  }
  return module.greenlight;
}
