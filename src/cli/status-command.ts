import { lastFinalized, warmWindowOf } from '../core/idle-colour.ts';
import type { ReleaseLedger } from '../core/ports.ts';
import { ExitCode, exitCodesHelp } from './exit-codes.ts';
import {
  formatRelease,
  formatReleaseRow,
  formatWarmWindow,
  type RenderStyle,
  shouldUseColor,
  sortSteps,
} from './format-timeline.ts';
import {
  type CommandContext,
  type Env,
  parseFlags,
  resolveSharedOptions,
  type SharedOptions,
  sharedFlags,
  sharedFlagsHelp,
  UsageError,
  usageError,
} from './options.ts';

const DefaultLimit = 10;
const MaxLimit = 100;

export const statusUsage = `Usage: greenlight status (--release ID | --service NAME [--limit N]) [options]

Shows a release from the ledger: phase and reason, colours, traffic on green, the idle colour
(warm until when, what it costs while it runs, or when it was torn down), and its timeline
with evidence (alarm states, test results). With --service, lists the service's last releases,
newest first, whether the last finalized one can still be rolled back in one switch (its
warm window), then the timeline of the newest.

Options:
  --release ID          a release id, as printed by "greenlight release"
  --service NAME        a registered service name
  --limit N             how many releases of --service (default ${DefaultLimit}, at most ${MaxLimit})

With --json: {"release": ..., "steps": [...]} for --release, {"service": ..., "releases": [...],
"warmWindow": ...} for --service, records as stored in the ledger; "warmWindow" is the last
finalized release's ({"releaseId", "open", "colours", "state", "teardownAt", "reason"}) or null.

${sharedFlagsHelp}

Exits 0 when the release or service was found, 1 when not, 2 on a usage error.
(The release outcome codes below are what "greenlight release --wait" returns.)

${exitCodesHelp}`;

const statusFlags = {
  ...sharedFlags,
  release: { type: 'string' },
  service: { type: 'string' },
  limit: { type: 'string' },
} as const;

export interface StatusClients {
  ledger: ReleaseLedger;
}

export type StatusArgs = { shared: SharedOptions } & (
  | { releaseId: string }
  | { service: string; limit: number }
);

export async function runStatusCommand(
  argv: readonly string[],
  context: CommandContext,
  connect: (options: SharedOptions) => StatusClients,
): Promise<ExitCode> {
  let args: StatusArgs | 'help';
  try {
    args = parseStatusArgs(argv, context.env);
  } catch (error) {
    return usageError('status', error, context);
  }
  if (args === 'help') {
    context.out(statusUsage);
    return ExitCode.Finalized;
  }
  const { ledger } = connect(args.shared);
  const style: RenderStyle = {
    color: !args.shared.json && shouldUseColor(context.env, context.isTty),
  };
  return 'releaseId' in args
    ? showRelease(args.releaseId, ledger, context, args.shared, style)
    : showService(args.service, args.limit, ledger, context, args.shared, style);
}

export function parseStatusArgs(argv: readonly string[], env: Env): StatusArgs | 'help' {
  const values = parseFlags(argv, statusFlags);
  if (values.help) return 'help';
  const shared = resolveSharedOptions(values, env);
  if ((values.release === undefined) === (values.service === undefined)) {
    throw new UsageError('Give exactly one of --release ID or --service NAME.');
  }
  if (values.release !== undefined) {
    if (values.limit !== undefined) throw new UsageError('--limit only applies with --service.');
    return { shared, releaseId: values.release };
  }
  const limit = values.limit === undefined ? DefaultLimit : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MaxLimit) {
    throw new UsageError(
      `--limit must be a whole number from 1 to ${MaxLimit}, got "${values.limit}".`,
    );
  }
  return { shared, service: values.service ?? '', limit };
}

async function showRelease(
  releaseId: string,
  ledger: ReleaseLedger,
  context: CommandContext,
  shared: SharedOptions,
  style: RenderStyle,
): Promise<ExitCode> {
  const release = await ledger.getRelease(releaseId);
  if (release === undefined) {
    context.err(
      `greenlight status: no release ${releaseId} in ledger table ${shared.ledgerTable}. Check the id, --region and --ledger-table.`,
    );
    return ExitCode.Failure;
  }
  const steps = sortSteps(await ledger.listSteps(releaseId));
  if (shared.json) {
    context.out(JSON.stringify({ release, steps }, null, 2));
  } else {
    for (const line of formatRelease(release, steps, style)) context.out(line);
  }
  return ExitCode.Finalized;
}

async function showService(
  service: string,
  limit: number,
  ledger: ReleaseLedger,
  context: CommandContext,
  shared: SharedOptions,
  style: RenderStyle,
): Promise<ExitCode> {
  const releases = await ledger.listReleases(service, limit);
  const finalized = lastFinalized(releases);
  const window = finalized && warmWindowOf(finalized, new Date(context.now()));
  if (shared.json) {
    const warmWindow = finalized && window ? { releaseId: finalized.releaseId, ...window } : null;
    context.out(JSON.stringify({ service, releases, warmWindow }, null, 2));
  }
  const [newest] = releases;
  if (newest === undefined) {
    context.err(
      `greenlight status: no releases of ${service} in ledger table ${shared.ledgerTable}.`,
    );
    return ExitCode.Failure;
  }
  if (shared.json) return ExitCode.Finalized;
  context.out(`${service}: last ${releases.length} release(s), newest first`);
  for (const release of releases) context.out(formatReleaseRow(release, style));
  if (finalized && window) context.out(formatWarmWindow(finalized.version, window, style));
  context.out('');
  const steps = await ledger.listSteps(newest.releaseId);
  for (const line of formatRelease(newest, steps, style)) context.out(line);
  return ExitCode.Finalized;
}
