import type { HistoryEvent } from '../src/local/step-functions.ts';
import type { ReleaseDriver } from './release-driver.ts';
import { type Summary, summarize } from './stats.ts';

export interface TimingRow extends Summary {
  /** Release rows are performance.now() timings; handler rows come from whole-ms Date stamps. */
  kind: 'release' | 'handler';
  /** `canary release` for the end-to-end row, else the Task state whose handler ran. */
  subject: string;
}

export interface ReleaseTimingOptions {
  driver: ReleaseDriver;
  /** @default 5 */
  releases?: number;
  /** Distinguishes this run's versions from other releases the same driver made. */
  versionPrefix: string;
}

/**
 * Wall time of full canary releases, PutEvents to execution end, run one after another, then
 * each handler's p50 latency from the history (TaskStarted to its outcome; Date resolution, so
 * whole milliseconds).
 */
export async function measureReleaseTiming(options: ReleaseTimingOptions): Promise<TimingRow[]> {
  const wallMs: number[] = [];
  const handlerMs = new Map<string, number[]>();
  for (let i = 1; i <= (options.releases ?? 5); i++) {
    const release = await options.driver.release(`${options.versionPrefix}.${i}`, 'canary');
    wallMs.push(release.wallMs);
    for (const [handler, ms] of handlerLatencies(release.history)) {
      handlerMs.set(handler, [...(handlerMs.get(handler) ?? []), ...ms]);
    }
  }
  return [
    { kind: 'release', subject: 'canary release', ...summarize(wallMs) },
    ...[...handlerMs].map(([subject, ms]) => ({
      kind: 'handler' as const,
      subject,
      ...summarize(ms),
    })),
  ];
}

// As Step Functions records them: `Task*` for service integrations (lambda:invoke,
// .waitForTaskToken), `LambdaFunction*` for tasks whose Resource is a function ARN.
const taskStarts = new Set(['TaskStarted', 'LambdaFunctionStarted']);
const taskOutcomes = new Set([
  'TaskSucceeded',
  'TaskFailed',
  'TaskTimedOut',
  'LambdaFunctionSucceeded',
  'LambdaFunctionFailed',
  'LambdaFunctionTimedOut',
]);

// Task events in the history name no state; the task they belong to is the Task state entered last, because nothing here runs two states at
// once (the weight-step Map has MaxConcurrency 1, and there is no Parallel state). A retry
// starts again without a new TaskStateEntered, so each attempt counts as one sample.
function handlerLatencies(history: readonly HistoryEvent[]): Map<string, number[]> {
  const latencies = new Map<string, number[]>();
  let state: string | undefined;
  let startedAt: number | undefined;
  for (const event of history) {
    if (event.type === 'TaskStateEntered') {
      state = String(event.details?.name);
    } else if (taskStarts.has(event.type)) {
      startedAt = event.timestamp.getTime();
    } else if (taskOutcomes.has(event.type) && state !== undefined && startedAt !== undefined) {
      latencies.set(state, [
        ...(latencies.get(state) ?? []),
        event.timestamp.getTime() - startedAt,
      ]);
      startedAt = undefined;
    }
  }
  return latencies;
}
