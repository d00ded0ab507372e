import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  checkDeployConfig,
  type DeployConfigCheck,
  type GreenlightDeployConfig,
} from '../infra/deploy-config.ts';
import { greenlightNames } from '../infra/names.ts';
import { QuotaKind, type QuotaUse } from '../infra/quotas.ts';
import { ExitCode } from './exit-codes.ts';
import { type CommandContext, parseFlags, UsageError, usageError } from './options.ts';

export const configUsage = `Usage: greenlight config check [--config FILE] [--stage NAME] [--json]

Checks greenlight.config.ts offline, as "sst deploy" does: the same parser the handlers use,
then what the stage would use of AWS's quotas: each function's environment (Lambda: 4 KB),
each role's inline policy characters (IAM: 10,240), managed policies per role (10) and trust
policy characters (2,048). No AWS account or credentials are needed.

Options:
  --config FILE   the config module (default greenlight.config.ts); its export "greenlight"
  --stage NAME    the stage whose resource names are measured (default "prod")
  --json          one object: {"ok", "services", "quotas": [{"resource", "kind", "used",
                  "limit"}], "problems": [...]}
  -h, --help      this help

Exits 0 when AWS would take the stage as it is, 1 when not (each problem is printed), 2 on a
usage error.`;

const configFlags = {
  config: { type: 'string' },
  stage: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Reads the config module's `greenlight` export. */
export type ConfigLoader = (file: string) => Promise<GreenlightDeployConfig>;

export async function runConfigCommand(
  argv: readonly string[],
  context: CommandContext,
  load: ConfigLoader = importConfig,
): Promise<ExitCode> {
  const [subcommand, ...rest] = argv;
  if (subcommand === undefined || subcommand === '--help' || subcommand === '-h') {
    (subcommand === undefined ? context.err : context.out)(configUsage);
    return subcommand === undefined ? ExitCode.Usage : ExitCode.Finalized;
  }
  try {
    if (subcommand !== 'check') {
      throw new UsageError(`Unknown subcommand "${subcommand}". Subcommands: check.`);
    }
    const values = parseFlags(rest, configFlags);
    if (values.help) {
      context.out(configUsage);
      return ExitCode.Finalized;
    }
    let names: ReturnType<typeof greenlightNames>;
    try {
      names = greenlightNames(values.stage ?? 'prod');
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const file = values.config ?? 'greenlight.config.ts';
    const config = await load(resolve(file));
    const checked = checkDeployConfig(config, names);
    const report = reportOf(config, checked);
    if (values.json === true) context.out(JSON.stringify(report, null, 2));
    else printReport(report, file, context);
    return report.ok ? ExitCode.Finalized : ExitCode.Failure;
  } catch (error) {
    return usageError('config', error, context);
  }
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
  for (const kind of Object.values(QuotaKind)) {
    const worst = report.quotas
      .filter((use) => use.kind === kind)
      .reduce<QuotaUse | undefined>(
        (most, use) =>
          most === undefined || use.used / use.limit > most.used / most.limit ? use : most,
        undefined,
      );
    if (worst === undefined) continue;
    const share = Math.round((worst.used / worst.limit) * 100);
    context.out(
      `  ${kind}: ${worst.used} of ${worst.limit} (${share}%), most in ${worst.resource}`,
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
