import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { requireFromSstPlatform } from '../test/infra/sst-platform.ts';
import { formatHunt, type RunEnd, type RunOutcome, readRun } from './flake-report.ts';

const usage = `Usage: npm run bench:flakes -- [--rounds N] [--concurrency C] [test paths...]

Runs vitest on the infra and end-to-end tests C processes at once (so they load each other),
N rounds in a row, and prints "flake hunt: F/R runs failed (...)" and every failing test with
the number of runs it failed in. Exits 1 when any run failed.

  --rounds N        rounds (env GREENLIGHT_BENCH_FLAKE_ROUNDS, default ${defaults().rounds}; 0 skips the hunt)
  --concurrency C   vitest processes per round (env GREENLIGHT_BENCH_FLAKE_CONCURRENCY, default ${defaults().concurrency})
  test paths        what each run runs (default ${defaults().paths.join(' ')})`;

const root = fileURLToPath(new URL('../', import.meta.url));
const vitest = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));
// vitest's own timeouts (60 s a test or hook) end almost every hang; this ends the rest, such
// as a worker that never exits, at four times the longest run measured (4.6 min, loaded).
const runGuardMs = 20 * 60_000;

interface HuntOptions {
  rounds: number;
  concurrency: number;
  paths: readonly string[];
}

function defaults(): HuntOptions {
  return {
    // Measured on 2 cores with other work running: one run of the 91 infra and end-to-end
    // tests takes 2.7 min alone and 3.0 min two at once (vitest keeps one worker per run on
    // 2 cores, so two runs fill both). Three rounds of two make six runs in ~9 min; two whole
    // hunts took 11.6 and 12.0 min at a load average of 8-11 from other work.
    rounds: 3,
    concurrency: 2,
    paths: ['test/infra', 'test/e2e'],
  };
}

const options = readOptions(process.argv.slice(2), process.env);
if (options.rounds === 0) {
  console.log('flake hunt: skipped (0 rounds)');
  process.exit(0);
}
// The infra tests install SST's platform on first use, into one shared .sst/ directory; two
// runs that both find it missing would install over each other. Installed once here, first.
requireFromSstPlatform();

const logDir = await mkdtemp(join(tmpdir(), 'greenlight-flakes-'));
const started = performance.now();
const outcomes: RunOutcome[] = [];
for (let round = 1; round <= options.rounds; round++) {
  const runs = Array.from({ length: options.concurrency }, (_, i) =>
    runVitest(round, (round - 1) * options.concurrency + i + 1),
  );
  for (const end of await Promise.all(runs)) {
    const outcome = readRun(end, root);
    outcomes.push(outcome);
    process.stderr.write(
      `flake hunt · round ${round} run ${outcome.run}: ${outcome.passed} passed, ${outcome.failed} failed, ${outcome.skipped} skipped in ${(outcome.ms / 1000).toFixed(0)} s${outcome.failures.length > 0 ? ` · FAILED, log ${logPath(outcome.run)}` : ''}\n`,
    );
  }
}
const lines = formatHunt(outcomes, {
  rounds: options.rounds,
  concurrency: options.concurrency,
  ms: performance.now() - started,
});
console.log(lines.join('\n'));
if (outcomes.some((outcome) => outcome.failures.length > 0)) {
  console.log(`  logs and JSON reports of every run: ${logDir}`);
  process.exitCode = 1;
} else {
  await rm(logDir, { recursive: true, force: true });
}

/**
 * One `vitest run` in a child process of this Node, as `npm test` would run it but with the
 * JSON reporter; its output goes to a log file, which is kept when any run failed.
 */
async function runVitest(round: number, run: number): Promise<RunEnd> {
  const reportPath = join(logDir, `run-${run}.json`);
  const log = createWriteStream(logPath(run));
  await new Promise((resolve) => log.once('open', resolve));
  const runStarted = performance.now();
  const child = spawn(
    process.execPath,
    // The JSON report counts; the default reporter's text in the log says why a hook failed,
    // which the JSON report leaves out (its file message is empty then).
    [
      vitest,
      'run',
      ...options.paths,
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${reportPath}`,
    ],
    { cwd: root, stdio: ['ignore', log, log] },
  );
  // SIGTERM lets vitest stop its workers; SIGKILL is for a vitest that no longer listens.
  const guard = setTimeout(() => {
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  }, runGuardMs);
  const exitCode = await new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(null));
    child.once('close', (code) => resolve(code));
  });
  clearTimeout(guard);
  const ms = performance.now() - runStarted;
  log.end();
  const reportText = await readFile(reportPath, 'utf8').catch(() => undefined);
  return { round, run, ms, exitCode, reportText };
}

function logPath(run: number): string {
  return join(logDir, `run-${run}.log`);
}

/** Flag over environment over default; anything but a whole number is an error, not a default. */
function readOptions(args: readonly string[], env: NodeJS.ProcessEnv): HuntOptions {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(args);
  } catch (error) {
    exitWithUsage(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const fallback = defaults();
  return {
    rounds: readCount(
      '--rounds',
      values.rounds ?? env.GREENLIGHT_BENCH_FLAKE_ROUNDS,
      fallback.rounds,
      0,
    ),
    concurrency: readCount(
      '--concurrency',
      values.concurrency ?? env.GREENLIGHT_BENCH_FLAKE_CONCURRENCY,
      fallback.concurrency,
      1,
    ),
    paths: positionals.length > 0 ? positionals : fallback.paths,
  };
}

function parseFlags(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    options: {
      rounds: { type: 'string' },
      concurrency: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: true,
  });
}

function readCount(flag: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined || raw === '') return fallback;
  const count = Number(raw);
  if (!Number.isInteger(count) || count < min) {
    exitWithUsage(`${flag} must be a whole number of at least ${min}, got "${raw}".`);
  }
  return count;
}

function exitWithUsage(message: string): never {
  console.error(`flake hunt: ${message}\n\n${usage}`);
  process.exit(2);
}
