import { relative } from 'node:path';

/** The part of vitest's JSON reporter output (`--reporter=json`) the flake hunt reads. */
export interface VitestJsonReport {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  success: boolean;
  testResults: readonly {
    name: string;
    status: string;
    message?: string;
    assertionResults: readonly { fullName: string; status: string }[];
  }[];
}

/** One vitest process of the hunt, as it ended. */
export interface RunOutcome {
  round: number;
  run: number;
  ms: number;
  total: number;
  passed: number;
  failed: number;
  skipped: number;
  /**
   * `file › full test name` of every failed test; a file that failed outside any test (a hook,
   * an import) or a run with no report gets a line of its own, so a failed run is never empty.
   */
  failures: string[];
}

export interface RunEnd {
  round: number;
  run: number;
  ms: number;
  /** null when vitest was killed by a signal. */
  exitCode: number | null;
  /** The JSON report's text; undefined when vitest wrote none. */
  reportText: string | undefined;
}

/**
 * What one run counted. Failure is any failed test or a non-zero exit: vitest also exits 1 for
 * an unhandled error after every test passed, and that is a flake too.
 */
export function readRun(end: RunEnd, root: string): RunOutcome {
  const base = { round: end.round, run: end.run, ms: end.ms };
  const report = parseReport(end.reportText);
  if (report === undefined) {
    return {
      ...base,
      total: 0,
      passed: 0,
      failed: 0,
      skipped: 0,
      failures: [`(no JSON report: vitest ${describeExit(end.exitCode)})`],
    };
  }
  const failures: string[] = [];
  for (const file of report.testResults) {
    const path = relative(root, file.name);
    const failedTests = file.assertionResults.filter((test) => test.status === 'failed');
    for (const test of failedTests) failures.push(`${path} › ${test.fullName}`);
    if (file.status === 'failed' && failedTests.length === 0) {
      // The JSON reporter carries only the file's own error; a failed beforeAll in a describe
      // leaves the message empty and every test of the file skipped.
      const why = firstLine(file.message ?? '') || 'a hook failed; see the run log';
      failures.push(`${path} (outside any test: ${why})`);
    }
  }
  if (failures.length === 0 && (end.exitCode !== 0 || !report.success)) {
    failures.push(`(no test failed but vitest ${describeExit(end.exitCode)})`);
  }
  return {
    ...base,
    total: report.numTotalTests,
    passed: report.numPassedTests,
    failed: report.numFailedTests,
    skipped: report.numPendingTests + report.numTodoTests,
    failures,
  };
}

export interface HuntShape {
  rounds: number;
  concurrency: number;
  ms: number;
}

/**
 * The hunt's result: first the one summary line, fixed so a closing note can quote it and a
 * script can grep it (`flake hunt: F/N runs failed`), then one line per failing test with the
 * number of runs it failed in, most often first.
 */
export function formatHunt(outcomes: readonly RunOutcome[], shape: HuntShape): string[] {
  const failedRuns = outcomes.filter((outcome) => outcome.failures.length > 0).length;
  const totals = [...new Set(outcomes.map((outcome) => outcome.total))].sort((a, b) => a - b);
  const tests =
    totals.length <= 1 ? `${totals[0] ?? 0}` : `${totals[0]}–${totals[totals.length - 1]}`;
  const skipped = Math.max(0, ...outcomes.map((outcome) => outcome.skipped));
  const runMinutes = outcomes.map((outcome) => outcome.ms / 60_000);
  const runRange =
    runMinutes.length === 0
      ? 'no runs'
      : `runs ${Math.min(...runMinutes).toFixed(1)}–${Math.max(...runMinutes).toFixed(1)} min`;
  const lines = [
    `flake hunt: ${failedRuns}/${outcomes.length} runs failed (${shape.concurrency} at once × ${shape.rounds} rounds; ${tests} tests per run${skipped > 0 ? `, up to ${skipped} skipped` : ''}; ${runRange}, hunt ${(shape.ms / 60_000).toFixed(1)} min)`,
  ];
  const counts = new Map<string, number>();
  for (const outcome of outcomes) {
    for (const failure of new Set(outcome.failures)) {
      counts.set(failure, (counts.get(failure) ?? 0) + 1);
    }
  }
  const ranked = [...counts].sort(([a, m], [b, n]) => n - m || a.localeCompare(b));
  for (const [failure, runs] of ranked) {
    lines.push(`  failed in ${runs}/${outcomes.length} runs: ${failure}`);
  }
  return lines;
}

function parseReport(text: string | undefined): VitestJsonReport | undefined {
  if (text === undefined) return undefined;
  try {
    const report = JSON.parse(text) as Partial<VitestJsonReport>;
    return Array.isArray(report.testResults) ? (report as VitestJsonReport) : undefined;
  } catch {
    // Half a report (vitest killed mid-write) says no more than none.
    return undefined;
  }
}

function describeExit(exitCode: number | null): string {
  return exitCode === null ? 'was killed' : `exited with ${exitCode}`;
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.slice(0, 160) ?? '';
}
