import { setTimeout as sleep } from 'node:timers/promises';
import { inertBeyondC0, inertText } from '../core/inert-text.ts';
import { OperatorCommandName } from '../core/operator-command.ts';
import { exitOnBrokenPipe } from './broken-pipe.ts';
import { type connect, connectPlan } from './connect.ts';
import { runDashboardCommand } from './dashboard/command.ts';
import { ExitCode, exitCodesHelp } from './exit-codes.ts';
import { runDecisionCommand, runOperatorCommand } from './operator-commands.ts';
import type { CommandContext } from './options.ts';
import { runPlanCommand } from './plan-command.ts';
import { runReleaseCommand } from './release-command.ts';
import { runStatusCommand } from './status-command.ts';

type Connect = typeof connect;
export type Command = (
  argv: readonly string[],
  ctx: CommandContext,
  c: Connect,
) => Promise<ExitCode>;

const operator =
  (name: OperatorCommandName): Command =>
  (argv, ctx, c) =>
    runOperatorCommand(name, argv, ctx, c);

/**
 * Every command but `config`, which the checkout and the npm package answer differently (see
 * package-main.ts): the two entry points share the rest, so their commands, flags, exit codes
 * and `--json` cannot drift apart.
 */
export const releaseCommands = {
  release: runReleaseCommand,
  status: runStatusCommand,
  approve: (argv, ctx, c) => runDecisionCommand('approve', argv, ctx, c),
  reject: (argv, ctx, c) => runDecisionCommand('reject', argv, ctx, c),
  pause: operator(OperatorCommandName.Pause),
  resume: operator(OperatorCommandName.Resume),
  promote: operator(OperatorCommandName.Promote),
  abort: operator(OperatorCommandName.Abort),
  rollback: operator(OperatorCommandName.Rollback),
  retry: operator(OperatorCommandName.Retry),
  plan: (argv, ctx) => runPlanCommand(argv, ctx, connectPlan),
  dashboard: (argv, ctx, c) => runDashboardCommand(argv, ctx, c),
} as const satisfies Record<string, Command>;

export function usage(configLine: string): string {
  return `Usage: greenlight <command> [options]

Commands:
  release   announce a release on the greenlight bus; --wait follows it to the end
  status    show a release (--release ID) or a service's recent releases (--service NAME)
  approve   approve a release waiting for a human decision (as the Slack button does)
  reject    reject a release waiting for a human decision
  pause     hold a release at its current weight; gates keep watching
  resume    let a paused release go on
  promote   skip the remaining steps and bakes; gates are checked once more first
  abort     roll a release back now
  rollback  put a service's last finalized release back on the build before it (one switch while blue is warm; re-provisioned once it is gone)
  retry     start a failed release again as its next attempt
  plan      check, read-only, what a service's release needs, and show what it would do
  dashboard serve a local web page of releases, with operator buttons (127.0.0.1, your credentials)
  config    ${configLine}

Run "greenlight <command> --help" for a command's options. AWS region, credentials and
endpoint come from the standard AWS configuration (AWS_REGION or AWS_DEFAULT_REGION,
AWS_PROFILE, AWS_ENDPOINT_URL, ...); --region and --endpoint-url override them. Operator
commands record who (--actor, else $GITHUB_ACTOR / $USER) and why (--reason) in the ledger.

${exitCodesHelp}`;
}

/**
 * The context of this process. Before the first write, so that no command can die of a closed
 * pipe with a stack trace.
 */
export function processContext(): CommandContext {
  exitOnBrokenPipe([process.stdout, process.stderr], (code) => process.exit(code));
  // The last guard on what reaches a terminal. Commands make text from outside inert before
  // they format it (format-timeline.ts); here stdout keeps C0 (greenlight's colours, line
  // breaks and pretty JSON) and stderr, which greenlight never colours, keeps only line breaks.
  return {
    out: (line) => process.stdout.write(`${inertBeyondC0(line)}\n`),
    err: (line) => process.stderr.write(`${line.split('\n').map(inertText).join('\n')}\n`),
    env: process.env,
    now: () => Date.now(),
    sleep: (ms) => sleep(ms),
    isTty: process.stdout.isTTY === true,
  };
}

/** Runs one command line; returns its exit code. Errors no command handled exit 1. */
export async function runProgram(
  args: readonly string[],
  program: { commands: Record<string, Command>; usage: string },
  context: CommandContext,
  connect: Connect,
): Promise<ExitCode> {
  const [name, ...rest] = args;
  const { commands } = program;
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      (name === undefined ? context.err : context.out)(program.usage);
      return name === undefined ? ExitCode.Usage : ExitCode.Finalized;
    }
    const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
    if (command === undefined) {
      context.err(
        `greenlight: unknown command "${name}". Commands: ${Object.keys(commands).join(', ')}.`,
      );
      context.err('Run "greenlight --help" for usage.');
      return ExitCode.Usage;
    }
    return await command(rest, context, connect);
  } catch (error) {
    const { name: errorName, message } =
      error instanceof Error ? error : { name: 'Error', message: String(error) };
    context.err(`greenlight: ${errorName}: ${message}`);
    return ExitCode.Failure;
  }
}
