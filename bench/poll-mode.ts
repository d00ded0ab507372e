import '../src/local/quiet-logs.ts';
import { demoAlarms, demoFunctions, demoServices } from '../src/local/demo-registry.ts';
import { startGreenlightLocal } from '../src/local/greenlight-local.ts';
import { BakeMode } from '../workflows/release.ts';
import { type BakeStates, bakeStates } from './bake-transitions.ts';
import { ReleaseDriver } from './release-driver.ts';
import { alarmedService, measureRollbackLatency } from './rollback-latency.ts';

/** What the poll-mode child sends its parent (bench/run.ts) over IPC. */
export interface PollModeResult {
  pollSeconds: number;
  rollbackMs: number[];
  bake: BakeStates;
}

/**
 * The poll-mode half of the gate benchmarks, in a process of its own: a second local cloud
 * needs one, because the handlers read their configuration from the process environment.
 * Started by bench/run.ts with an IPC channel; answers with one PollModeResult.
 */
const pollSeconds = Number(process.env.GREENLIGHT_BENCH_POLL_SECONDS ?? 1);
const runs = Number(process.env.GREENLIGHT_BENCH_RUNS ?? 5);
const runId = process.env.GREENLIGHT_BENCH_RUN_ID ?? Date.now().toString(36);

const local = await startGreenlightLocal({
  port: 0,
  retryIntervalMs: 0,
  bakeMode: BakeMode.Poll,
  pollSeconds,
  services: [...demoServices, alarmedService.service],
  functions: [...demoFunctions, alarmedService.fn],
  alarms: [...demoAlarms, alarmedService.alarm],
});
const driver = new ReleaseDriver(local);
try {
  const canary = await driver.release(`9.3.0-${runId}`, 'canary');
  const rollbackMs = await measureRollbackLatency({
    local,
    runs,
    versionPrefix: `9.4.0-${runId}`,
    watching: 'LambdaFunctionSucceeded',
    pollSeconds,
  });
  const result: PollModeResult = { pollSeconds, rollbackMs, bake: bakeStates(canary.history) };
  process.send?.(result);
} finally {
  driver.close();
  await local.close();
}
