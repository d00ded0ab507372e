import { connect } from '../cli/connect.ts';
import { processContext } from '../cli/program.ts';
import { runAction } from './github-action.ts';

// The GitHub Action's entry (action.yml `runs.main`, bundled by scripts/build-cli.ts).
process.exitCode = await runAction(processContext(), connect);
