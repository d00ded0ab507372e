import { runConfigCommand } from './config-command.ts';
import { connect } from './connect.ts';
import type { CommandContext } from './options.ts';
import { processContext, releaseCommands, runProgram, usage } from './program.ts';

// The CLI of a greenlight checkout (bin/greenlight): every command, `config` included.
const program = {
  commands: {
    ...releaseCommands,
    config: (argv: readonly string[], ctx: CommandContext) => runConfigCommand(argv, ctx),
  },
  usage: usage("check greenlight.config.ts offline against AWS's quotas (config check)"),
};

process.exitCode = await runProgram(process.argv.slice(2), program, processContext(), connect);
