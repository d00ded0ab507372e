import { connect } from './connect.ts';
import { ExitCode } from './exit-codes.ts';
import type { CommandContext } from './options.ts';
import { processContext, releaseCommands, runProgram, usage } from './program.ts';

/**
 * `config check` and `config apply` stay in the greenlight checkout. They import
 * greenlight.config.ts, a TypeScript module beside the stacks it configures, which Node 20
 * cannot load at all (type stripping arrived in Node 22.6), and they measure the stage the
 * stacks would deploy, which pulls src/infra into the bundle. The people who run them are the
 * ones who deploy greenlight, from that checkout; CI that releases needs neither.
 */
export const configElsewhere =
  'run from your greenlight checkout: bin/greenlight config check|apply';

async function runConfigElsewhere(
  _argv: readonly string[],
  context: CommandContext,
): Promise<ExitCode> {
  context.err(
    `greenlight config: not in the npm package; ${configElsewhere} (it reads greenlight.config.ts there).`,
  );
  return ExitCode.Usage;
}

// The CLI as the npm package ships it (packages/cli, built by scripts/build-cli.ts).
const program = {
  commands: { ...releaseCommands, config: runConfigElsewhere },
  usage: usage(configElsewhere),
};

process.exitCode = await runProgram(process.argv.slice(2), program, processContext(), connect);
