import '../src/local/quiet-logs.ts';
import { performance } from 'node:perf_hooks';
import { runFaultMatrix, summarizeMatrix } from '../src/local/fault-matrix.ts';
import { taskStatesOf } from '../src/local/faults.ts';
import { BakeMode, buildReleaseDefinition, functionArnsFor } from '../workflows/release.ts';

/**
 * The whole fault matrix (src/local/fault-matrix.ts): every Task state × every fault kind,
 * the races and an alarm in every phase, each run checked for consistency. Prints
 * `fault <kind>: <N>/<M> consistent` per kind, then each failing case by name. Its own
 * process (bench/run.ts forks it): a local cloud needs one.
 *
 * GREENLIGHT_FAULT_BAKE_MODE=poll runs the cases of the Task states only the poll-mode
 * definition has (BakeTick), in a poll-mode cloud.
 */
const bakeMode = process.env.GREENLIGHT_FAULT_BAKE_MODE === 'poll' ? BakeMode.Poll : BakeMode.Event;
const started = performance.now();
const eventModeStates = new Set(
  taskStatesOf(
    buildReleaseDefinition({ functionArns: functionArnsFor('us-east-1', '000000000000') }) as never,
  ).map((task) => task.state),
);
const raceRepeats = 5;
const report = await runFaultMatrix({
  bakeMode,
  raceRepeats,
  parallel: 10,
  ...(bakeMode === BakeMode.Poll
    ? { states: (tasks) => tasks.map((t) => t.state).filter((s) => !eventModeStates.has(s)) }
    : {}),
});
const races = bakeMode === BakeMode.Poll ? 'none here' : `each ${raceRepeats} times`;
console.log(
  `fault matrix (${bakeMode} bakes): ${report.results.length} cases over ${report.tasks.length} Task states (races: ${races}) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
for (const line of summarizeMatrix(report)) console.log(line);
