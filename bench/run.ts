import '../src/local/quiet-logs.ts';
import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { DemoShop } from '../src/local/data-plane/local-alb.ts';
import {
  demoAlarms,
  demoFunctions,
  demoServices,
  demoShopService,
} from '../src/local/demo-registry.ts';
import { startGreenlightLocal } from '../src/local/greenlight-local.ts';
import { type LoadWindowRow, measureAlarmToBlue, measureShiftLoad } from './alb-load.ts';
import { bakeStates, extrapolatePolledBake } from './bake-transitions.ts';
import { measureBundleSizes } from './bundle-size.ts';
import { cliPackageSection, measureCliPackage } from './cli-package.ts';
import { coldStartSection, measureColdStart } from './cold-start.ts';
import { classificationSection, measureClassification } from './migrations.ts';
import type { PollModeResult } from './poll-mode.ts';
import { measureRegistryScale, registryScaleSection } from './registry-scale.ts';
import { ReleaseDriver, UnexpectedReleaseOutcomeError } from './release-driver.ts';
import { measureReleaseTiming } from './release-timing.ts';
import { alarmedService, measureRollbackLatency } from './rollback-latency.ts';
import { measureStateTransitions } from './state-transitions.ts';
import { type Summary, summarize } from './stats.ts';
import { formatBytes, formatMs, formatTable } from './table.ts';

const releases = 5;
const rollbacks = 5;
const alarmSamples = 3;
// A production bake and the poll interval greenlight's poll mode defaults to.
const productionBakeSeconds = 600;
const productionPollSeconds = 30;
// What the local poll-mode cloud polls at: as fast as the workflow allows.
const localPollSeconds = 1;
const strategies = ['canary', 'linear', 'all-at-once', 'steps'] as const;
// Versions must be new to the ledger on every release; a run-unique prefix keeps them so.
const runId = Date.now().toString(36);

const benchStarted = performance.now();
// Bundling first, while no local cloud shares the CPU with esbuild or with the timed releases.
const bundles = await measureBundleSizes();
// A 500-service stage's validation, quotas and registry reads, on a quiet CPU too.
const registryScale = await measureRegistryScale();
const coldStart = await measureColdStart();

// The demo shop (two tasks) for load during a shift, and one small shop per alarm-to-blue
// sample: each has its own 5xx alarm, so no release starts while the last one's still fires.
let shop: DemoShop | undefined;
const alarmShops: DemoShop[] = [];
// The four strategy releases run before the timed ones and so also warm the handlers up.
const local = await startGreenlightLocal({
  port: 0,
  retryIntervalMs: 0,
  services: [...demoServices, alarmedService.service],
  functions: [...demoFunctions, alarmedService.fn],
  alarms: [...demoAlarms, alarmedService.alarm],
  seedAlb: async (alb) => {
    shop = await alb.seedDemoShop();
    for (let i = 1; i <= alarmSamples; i++) {
      alarmShops.push(await alb.seedDemoShop({ name: `alarm-${i}`, desiredCount: 1 }));
    }
    return {
      services: [
        demoShopService(shop),
        // Bakes far longer than the bench: only the alarm ends them.
        ...alarmShops.map((faulty) => demoShopService(faulty, { bakeSeconds: 120 })),
      ],
      alarms: [shop, ...alarmShops].map((each) => each.targetErrorsAlarm),
      shop,
    };
  },
});
const driver = new ReleaseDriver(local);
let transitions: Awaited<ReturnType<typeof measureStateTransitions>>;
let timing: Awaited<ReturnType<typeof measureReleaseTiming>>;
let eventRollbackMs: number[];
let shift: LoadWindowRow[];
let alarmToBlue: Summary;
try {
  transitions = await measureStateTransitions({
    driver,
    strategies,
    versionPrefix: `9.0.0-${runId}`,
  });
  timing = await measureReleaseTiming({ driver, releases, versionPrefix: `9.1.0-${runId}` });
  eventRollbackMs = await measureRollbackLatency({
    local,
    runs: rollbacks,
    versionPrefix: `9.2.0-${runId}`,
    watching: 'TaskSubmitted',
    pollSeconds: localPollSeconds,
  });
  if (shop === undefined) throw new Error('the demo shop was not seeded');
  shift = await measureShiftLoad({ local, shop, version: `9.5.0-${runId}` });
  alarmToBlue = await measureAlarmToBlue({
    local,
    shops: alarmShops,
    versionPrefix: `9.6.0-${runId}`,
  });
} catch (error) {
  if (!(error instanceof UnexpectedReleaseOutcomeError)) throw error;
  console.error(`bench: ${error.message}`);
  // Exit at once: there is no table to print, and the process takes the local cloud down.
  process.exit(1);
} finally {
  driver.close();
  await local.close();
}
// Poll mode needs a second local cloud, and so a second process (handlers read their
// configuration from the process environment); it runs after this one has stopped, so the
// two never share the CPU.
const polled = await measurePollMode();
const eventBake = bakeStates(transitions.find((row) => row.strategy === 'canary')?.history ?? []);
const polledBake600 = extrapolatePolledBake(
  polled.bake,
  productionBakeSeconds,
  productionPollSeconds,
);

console.log(
  `greenlight bench · Node ${process.version} · ${new Date().toISOString()} · ${process.platform}/${process.arch}`,
);
console.log(
  formatTable([
    {
      title: `1. Canary release, PutEvents to end (local cloud, waits 0); then per Task state`,
      header: ['what', 'n', 'p50 ms', 'min ms', 'max ms'],
      rows: timing.map((row) => {
        const digits = row.kind === 'release' ? 1 : 0;
        return [
          row.subject,
          String(row.n),
          ...[row.p50, row.min, row.max].map((ms) => formatMs(ms, digits)),
        ];
      }),
    },
    {
      title: '2. States entered per release (incl. Map iterations; billed)',
      header: ['strategy', 'weight steps %', 'states entered'],
      rows: transitions.map((row) => [
        row.strategy,
        row.weightSteps.join(','),
        String(row.statesEntered),
      ]),
    },
    {
      title: `3. Rollback: gate alarm enters ALARM -> 100% on blue (local cloud, alarm mid-bake); polling waits up to pollSeconds more (${productionPollSeconds} s in production)`,
      header: ['bake mode', 'n', 'p50 ms', 'min ms', 'max ms'],
      rows: [
        ['event (alarm event fails the bake)', summarize(eventRollbackMs)] as const,
        [
          `poll every ${polled.pollSeconds} s (bake-tick loop)`,
          summarize(polled.rollbackMs),
        ] as const,
      ].map(([mode, row]) => [
        mode,
        String(row.n),
        ...[row.p50, row.min, row.max].map((ms) => formatMs(ms, 0)),
      ]),
    },
    {
      title: `4. States entered by a bake: measured on the demo canary's ${demoBakeSeconds()} s bake, extrapolated to ${productionBakeSeconds} s (poll every ${productionPollSeconds} s)`,
      header: ['bake mode', 'measured bake', `${productionBakeSeconds} s bake`, 'canary release'],
      rows: [
        [
          'event (timer + callback watch)',
          String(eventBake.states),
          String(eventBake.states),
          String(eventBake.releaseStates),
        ],
        [
          `poll (${polled.bake.ticks} ticks at ${polled.pollSeconds} s measured)`,
          String(polled.bake.states),
          String(polledBake600),
          String(polled.bake.releaseStates - polled.bake.states + polledBake600),
        ],
      ],
    },
    {
      title:
        '5. ALB canary under load: 8 keep-alive clients, no think time, through the local router',
      header: ['window', 'requests', 'failed', 'req/s', 'p50 ms', 'p99 ms'],
      rows: shift.map((row) => [
        row.phase,
        String(row.requests),
        String(row.failed),
        row.requestsPerSecond.toFixed(0),
        formatMs(row.p50, 2),
        formatMs(row.p99, 2),
      ]),
    },
    {
      title: '6. ALB rollback: 5xx alarm enters ALARM -> 100% of traffic on blue (event-driven)',
      header: ['what', 'n', 'p50 ms', 'min ms', 'max ms'],
      rows: [
        [
          'alarm to blue',
          String(alarmToBlue.n),
          ...[alarmToBlue.p50, alarmToBlue.min, alarmToBlue.max].map((ms) => formatMs(ms, 0)),
        ],
      ],
    },
    {
      title:
        '7. Handler bundles as shipped (SST 4.17.1: ESM, minified, @aws-sdk/* from the Lambda runtime; target <= 250,000 bytes)',
      header: ['handler', 'raw bytes', 'gzip bytes'],
      rows: bundles.map((row) => [
        row.handler,
        formatBytes(row.rawBytes),
        formatBytes(row.gzipBytes),
      ]),
    },
  ]),
);
// Its own table: its columns are not the other sections' columns.
console.log(formatTable([coldStartSection(coldStart)]));
console.log(formatTable([registryScaleSection(registryScale)]));
console.log(formatTable([cliPackageSection(await measureCliPackage({ runs: 5 }))]));
console.log(formatTable([classificationSection(await measureClassification())]));
// The fault matrix last, each bake mode in a process of its own (a local cloud needs one); it
// prints its own `fault <kind>: <N>/<M> consistent` lines.
await runFaultMatrix('event');
await runFaultMatrix('poll');
console.log(`total ${((performance.now() - benchStarted) / 1000).toFixed(1)} s`);

/** The poll-mode measurements, from bench/poll-mode.ts in a child process. */
function measurePollMode(): Promise<PollModeResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./poll-mode.ts', import.meta.url)), [], {
      execPath: process.execPath,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: {
        ...process.env,
        GREENLIGHT_BENCH_POLL_SECONDS: String(localPollSeconds),
        GREENLIGHT_BENCH_RUNS: String(rollbacks),
        GREENLIGHT_BENCH_RUN_ID: runId,
      },
    });
    let result: PollModeResult | undefined;
    child.on('message', (message) => {
      result = message as PollModeResult;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (result && code === 0) resolve(result);
      else reject(new Error(`bench: the poll-mode process exited with ${code} and no result`));
    });
  });
}

/** bench/fault-matrix.ts in a child process, its output printed as it comes. */
function runFaultMatrix(bakeMode: 'event' | 'poll'): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./fault-matrix.ts', import.meta.url)), [], {
      execPath: process.execPath,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, GREENLIGHT_FAULT_BAKE_MODE: bakeMode },
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`bench: the fault matrix (${bakeMode}) exited with ${code}`));
    });
  });
}

function demoBakeSeconds(): number {
  const canary = demoServices[0]?.strategies.canary;
  return canary?.type === 'canary' ? canary.bakeSeconds : 0;
}
