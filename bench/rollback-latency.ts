import { performance } from 'node:perf_hooks';
import type { PutMetricAlarmCommandInput } from '@aws-sdk/client-cloudwatch';
import { CloudWatchClient, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { buildReleaseRequestEntry } from '../src/core/release-request-entry.ts';
import type { ServiceConfigInput } from '../src/core/service-config.ts';
import { DemoArtifactBucket } from '../src/local/demo-registry.ts';
import type { GreenlightLocal } from '../src/local/greenlight-local.ts';
import type { SeedFunctionInput } from '../src/local/lambda/types.ts';
import { UnexpectedReleaseOutcomeError } from './release-driver.ts';

/**
 * A bench-only service whose canary bakes for a minute: the alarm always fires mid-bake, and
 * the measured time is the gate's reaction, never the bake running out.
 */
export const alarmedService = {
  service: {
    name: 'alarmed',
    target: { kind: 'lambda-alias', functionName: 'alarmed', alias: 'live' },
    strategies: { canary: { type: 'canary', percent: 10, bakeSeconds: 60 } },
    defaultStrategy: 'canary',
    artifacts: { s3Buckets: [DemoArtifactBucket] },
    alarms: [{ name: 'alarmed-errors', scope: 'service' }],
  } satisfies ServiceConfigInput,
  fn: {
    functionName: 'alarmed',
    alias: 'live',
    artifact: { s3: { bucket: DemoArtifactBucket, key: 'checkout/1.0.0.zip' } },
  } satisfies SeedFunctionInput,
  alarm: {
    AlarmName: 'alarmed-errors',
    Namespace: 'AWS/Lambda',
    MetricName: 'Errors',
    Dimensions: [
      { Name: 'FunctionName', Value: 'alarmed' },
      { Name: 'Resource', Value: 'alarmed:live' },
    ],
    Statistic: 'Sum',
    Period: 10,
    EvaluationPeriods: 1,
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
  } satisfies PutMetricAlarmCommandInput,
};

// Green alternates between two builds so that every release publishes a new version.
const greenKeys = ['checkout/1.1.0.zip', 'checkout/1.3.0-faulty.zip'] as const;

export interface RollbackLatencyOptions {
  local: GreenlightLocal;
  runs: number;
  versionPrefix: string;
  /**
   * The history event that says the bake is watching: `TaskSubmitted` (event mode: the
   * watch stored its token) or `LambdaFunctionSucceeded` (poll mode: the first tick, a task
   * whose Resource is a function ARN, is done).
   */
  watching: 'TaskSubmitted' | 'LambdaFunctionSucceeded';
  /** Seconds between two looks in poll mode; the alarm is raised at spread phases of it. */
  pollSeconds: number;
}

/**
 * Milliseconds from the gate alarm entering ALARM (SetAlarmState, as CloudWatch's own
 * evaluation would) to all traffic back on blue (the alias on blue's version, no weights),
 * once per run. Run i raises the alarm i/runs of a poll interval after the bake started
 * watching, so polling is sampled across its whole cycle rather than at one phase of it.
 */
export async function measureRollbackLatency(options: RollbackLatencyOptions): Promise<number[]> {
  const { local } = options;
  const name = alarmedService.service.name;
  const events = new EventBridgeClient(local.clientConfig);
  const cloudwatch = new CloudWatchClient(local.clientConfig);
  const samples: number[] = [];
  try {
    for (let run = 0; run < options.runs; run++) {
      const blue = local.lambda.describe(name).alias?.version;
      const known = new Set(local.cloud.stepFunctions.listExecutions().map((e) => e.executionArn));
      await events.send(
        new PutEventsCommand({
          Entries: [
            buildReleaseRequestEntry({
              bus: 'greenlight',
              source: 'greenlight.bench',
              detail: {
                service: name,
                version: `${options.versionPrefix}.${run + 1}`,
                artifact: {
                  s3: {
                    bucket: DemoArtifactBucket,
                    key: greenKeys[run % greenKeys.length] as string,
                  },
                },
              },
            }),
          ],
        }),
      );
      const executionArn = await until(
        () =>
          local.cloud.stepFunctions.listExecutions().find((e) => !known.has(e.executionArn))
            ?.executionArn,
      );
      await until(() => watching(local, executionArn, options.watching));
      await sleep((run / options.runs) * options.pollSeconds * 1000);

      const raised = performance.now();
      await cloudwatch.send(
        new SetAlarmStateCommand({
          AlarmName: alarmedService.alarm.AlarmName,
          StateValue: 'ALARM',
          StateReason: 'bench: errors on green',
        }),
      );
      await until(() => {
        const alias = local.lambda.describe(name).alias;
        return (
          alias !== undefined && alias.version === blue && Object.keys(alias.weights).length === 0
        );
      }, 1);
      samples.push(performance.now() - raised);

      const record = await local.cloud.stepFunctions.waitForExecution(executionArn);
      if (record.error !== 'ReleaseRolledBack') {
        throw new UnexpectedReleaseOutcomeError(
          `The alarmed release ${run + 1} ended ${record.status} ${record.error ?? ''}, not rolled back`,
        );
      }
      // Clear the alarm for the next run's preflight (a forced state holds for one period).
      await cloudwatch.send(
        new SetAlarmStateCommand({
          AlarmName: alarmedService.alarm.AlarmName,
          StateValue: 'OK',
          StateReason: 'bench: cleared',
        }),
      );
    }
  } finally {
    events.destroy();
    cloudwatch.destroy();
  }
  return samples;
}

/** Whether the release's first bake is watching its gates yet (see `watching`). */
function watching(local: GreenlightLocal, executionArn: string, type: string): boolean {
  const history = local.cloud.stepFunctions.getHistory(executionArn);
  const bake = history.findIndex(
    (e) =>
      e.type === 'TaskStateEntered' &&
      (e.details?.name === 'WatchGates' || e.details?.name === 'BakeTick'),
  );
  return bake >= 0 && history.slice(bake).some((e) => e.type === type);
}

/** Polls `probe` every `everyMs` until it answers; at most 30 s. */
async function until<T>(probe: () => T | undefined | false, everyMs = 5): Promise<T> {
  const deadline = performance.now() + 30_000;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (performance.now() > deadline) {
      throw new UnexpectedReleaseOutcomeError('The alarmed release did not get there within 30 s');
    }
    await sleep(everyMs);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
