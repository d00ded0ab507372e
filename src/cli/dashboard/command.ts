import type { OperatorCommandName } from '../../core/operator-command.ts';
import type { connect } from '../connect.ts';
import { ExitCode, exitCodesHelp } from '../exit-codes.ts';
import { runOperatorCommand } from '../operator-commands.ts';
import {
  type CommandContext,
  parseFlags,
  resolveRegistryTable,
  resolveSharedOptions,
  type SharedOptions,
  sharedFlags,
  sharedFlagsHelp,
  UsageError,
  usageError,
} from '../options.ts';
import { type Dashboard, type RunCli, startDashboard } from './server.ts';

export const DefaultDashboardPort = 7777;

export const dashboardUsage = `Usage: greenlight dashboard [--port N] [options]

Serves a page on 127.0.0.1 with your AWS credentials (nothing is deployed): services and their
releases, a live view of one release (green weight over time, each gate's evidence, approvals,
the idle colour with its teardown time and cost) and buttons for pause, resume, promote, abort
and rollback. The buttons run the same code as those commands, as you: same STS identity, same
IAM. Only pages this process served can press them (a per-process token and an Origin check).

Options:
  --port N              port on 127.0.0.1 (default ${DefaultDashboardPort}; 0 picks a free one)
  --registry-table NAME the registry table to list services from (env GREENLIGHT_REGISTRY_TABLE)

${sharedFlagsHelp}

${exitCodesHelp}`;

const dashboardFlags = {
  ...sharedFlags,
  port: { type: 'string' },
  'registry-table': { type: 'string' },
} as const;

type Connect = typeof connect;

/**
 * Starts the dashboard for `shared` (region, endpoint, tables) with `connect`'s clients; what
 * the local cloud and `greenlight dashboard` both call.
 */
export function serveDashboard(
  port: number,
  shared: SharedOptions & { registryTable?: string },
  context: CommandContext,
  connectWith: Connect,
): Promise<Dashboard> {
  const clients = connectWith(shared, context.env);
  const runCli: RunCli = async (name: OperatorCommandName, argv) => {
    const out: string[] = [];
    const err: string[] = [];
    const captured: CommandContext = {
      ...context,
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      isTty: false,
    };
    const exitCode = await runOperatorCommand(
      name,
      [...argv, ...sharedArgv(shared)],
      captured,
      () => connectWith(shared, context.env),
    );
    return { exitCode, out, err };
  };
  return startDashboard({ port, readers: clients, runCli, now: context.now });
}

/** `greenlight dashboard`: serves until the process is stopped. */
export async function runDashboardCommand(
  argv: readonly string[],
  context: CommandContext,
  connectWith: Connect,
  stopped: Promise<void> = new Promise(() => {}),
): Promise<ExitCode> {
  let args: { shared: SharedOptions & { registryTable?: string }; port: number } | 'help';
  try {
    const values = parseFlags(argv, dashboardFlags);
    if (values.help) {
      args = 'help';
    } else {
      const port = values.port === undefined ? DefaultDashboardPort : Number(values.port);
      if (!/^\d+$/.test(values.port ?? '0') || !Number.isInteger(port) || port > 65535) {
        throw new UsageError(
          `--port must be a whole number from 0 to 65535, got "${values.port}".`,
        );
      }
      const registryTable = resolveRegistryTable(values, context.env);
      args = {
        port,
        shared: {
          ...resolveSharedOptions(values, context.env),
          ...(registryTable ? { registryTable } : {}),
        },
      };
    }
  } catch (error) {
    return usageError('dashboard', error, context);
  }
  if (args === 'help') {
    context.out(dashboardUsage);
    return ExitCode.Finalized;
  }
  const dashboard = await serveDashboard(args.port, args.shared, context, connectWith);
  context.out(`greenlight dashboard on ${dashboard.url} (Ctrl-C stops it)`);
  await stopped;
  await dashboard.close();
  return ExitCode.Finalized;
}

/** The flags that make the buttons' commands talk to the same bus and tables as the page. */
function sharedArgv(shared: SharedOptions): string[] {
  return [
    '--bus',
    shared.bus,
    '--ledger-table',
    shared.ledgerTable,
    ...(shared.region === undefined ? [] : ['--region', shared.region]),
    ...(shared.endpointUrl === undefined ? [] : ['--endpoint-url', shared.endpointUrl]),
  ];
}
