import { performance } from 'node:perf_hooks';
import { startGreenlightLocal } from '../src/local/greenlight-local.ts';
import { measureBundleSizes } from './bundle-size.ts';
import { ReleaseDriver, UnexpectedReleaseOutcomeError } from './release-driver.ts';
import { measureReleaseTiming } from './release-timing.ts';
import { measureStateTransitions } from './state-transitions.ts';
import { formatBytes, formatMs, formatTable } from './table.ts';

const releases = 5;
const strategies = ['canary', 'linear', 'all-at-once', 'steps'] as const;
// Versions must be new to the ledger on every release; a run-unique prefix keeps them so.
const runId = Date.now().toString(36);

const benchStarted = performance.now();
// Bundling first, while no local cloud shares the CPU with esbuild or with the timed releases.
const bundles = await measureBundleSizes();

// The four strategy releases run before the timed ones and so also warm the handlers up.
const local = await startGreenlightLocal({ port: 0, lockPollMs: 0, retryIntervalMs: 0 });
const driver = new ReleaseDriver(local);
let transitions: Awaited<ReturnType<typeof measureStateTransitions>>;
let timing: Awaited<ReturnType<typeof measureReleaseTiming>>;
try {
  transitions = await measureStateTransitions({
    driver,
    strategies,
    versionPrefix: `9.0.0-${runId}`,
  });
  timing = await measureReleaseTiming({ driver, releases, versionPrefix: `9.1.0-${runId}` });
} catch (error) {
  if (!(error instanceof UnexpectedReleaseOutcomeError)) throw error;
  console.error(`bench: ${error.message}`);
  // Exit at once: there is no table to print, and the process takes the local cloud down.
  process.exit(1);
} finally {
  driver.close();
  await local.close();
}

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
      title: '3. Handler bundles (esbuild minify esm node24, no @aws-sdk)',
      header: ['handler', 'raw bytes', 'gzip bytes'],
      rows: bundles.map((row) => [
        row.handler,
        formatBytes(row.rawBytes),
        formatBytes(row.gzipBytes),
      ]),
    },
  ]),
);
console.log(`total ${((performance.now() - benchStarted) / 1000).toFixed(1)} s`);
