import { performance } from 'node:perf_hooks';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { buildReleaseRequestEntry } from '../src/core/release-request-entry.ts';
import { DemoArtifactBucket } from '../src/local/demo-registry.ts';
import type { GreenlightLocal } from '../src/local/greenlight-local.ts';
import type { ExecutionRecord, HistoryEvent } from '../src/local/step-functions.ts';

/** The two demo artifacts that pass tests and gates; releases alternate so green never equals blue. */
const goodArtifactKeys = ['checkout/1.1.0.zip', 'checkout/1.0.0.zip'] as const;

export interface DrivenRelease {
  version: string;
  strategy: string;
  /** From just before PutEvents to the moment the execution is seen ending. */
  wallMs: number;
  record: ExecutionRecord;
  history: HistoryEvent[];
}

/** Thrown when a release the bench drives does not end released on green. */
export class UnexpectedReleaseOutcomeError extends Error {
  override readonly name = 'UnexpectedReleaseOutcomeError';
}

/**
 * Drives releases of the demo `checkout` service one at a time through the local cloud's event
 * bus, exactly as CI would. Blue starts on 1.0.0, so the first release ships 1.1.0 and each
 * later one ships the other artifact: the alias ends on green, which is the next release's blue.
 */
export class ReleaseDriver {
  private readonly local: GreenlightLocal;
  private readonly events: EventBridgeClient;
  private released = 0;

  constructor(local: GreenlightLocal) {
    this.local = local;
    this.events = new EventBridgeClient(local.clientConfig);
  }

  async release(version: string, strategy: string): Promise<DrivenRelease> {
    const key = goodArtifactKeys[this.released % goodArtifactKeys.length] as string;
    const { stepFunctions } = this.local.cloud;
    const known = new Set(stepFunctions.listExecutions().map((e) => e.executionArn));
    const blueVersion = this.local.lambda.describe('checkout').alias?.version;

    const started = performance.now();
    const put = await this.events.send(
      new PutEventsCommand({
        Entries: [
          buildReleaseRequestEntry({
            bus: 'greenlight',
            source: 'greenlight.bench',
            detail: {
              service: 'checkout',
              version,
              artifact: { s3: { bucket: DemoArtifactBucket, key } },
              strategy,
            },
          }),
        ],
      }),
    );
    if (put.FailedEntryCount) {
      throw new UnexpectedReleaseOutcomeError(
        `PutEvents rejected release ${version}: ${JSON.stringify(put.Entries)}`,
      );
    }
    const executionArn = await this.newExecution(known);
    const record = await stepFunctions.waitForExecution(executionArn);
    const wallMs = performance.now() - started;
    this.released++;

    const history = stepFunctions.getHistory(executionArn);
    const alias = this.local.lambda.describe('checkout').alias;
    const released = history.some(
      (e) => e.type === 'SucceedStateEntered' && e.details?.name === 'Released',
    );
    const onGreen =
      alias !== undefined &&
      alias.version !== blueVersion &&
      Object.keys(alias.weights).length === 0;
    if (record.status !== 'SUCCEEDED' || !released || !onGreen) {
      throw new UnexpectedReleaseOutcomeError(
        `Release ${version} (${strategy}) ended ${record.status}${released ? '' : ', not Released'}; ` +
          `alias ${JSON.stringify(alias)} (blue was ${blueVersion}); ${record.error ?? ''} ${record.cause?.slice(0, 300) ?? ''}`,
      );
    }
    return { version, strategy, wallMs, record, history };
  }

  close(): void {
    this.events.destroy();
  }

  // The release rule starts the execution from the bus's delivery, which may land just after
  // PutEvents answers; a macrotask-paced poll costs well under a millisecond of the measurement.
  private async newExecution(known: Set<string>): Promise<string> {
    const deadline = performance.now() + 5_000;
    while (performance.now() < deadline) {
      const fresh = this.local.cloud.stepFunctions
        .listExecutions()
        .find((e) => !known.has(e.executionArn));
      if (fresh) return fresh.executionArn;
      await new Promise((resolve) => setImmediate(resolve));
    }
    throw new UnexpectedReleaseOutcomeError('No execution started within 5 s of PutEvents.');
  }
}
