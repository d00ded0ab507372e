import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  GetFunctionConfigurationCommand,
  LambdaClient,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { deriveReleaseId } from '../../src/core/release-id.ts';
import { checkConsistency, Invariant, type Violation } from '../../src/local/consistency.ts';
import { readConsistencySnapshot } from '../../src/local/consistency-snapshot.ts';
import { DemoArtifactBucket } from '../../src/local/demo-registry.ts';
import {
  type CaseSpec,
  type MatrixReport,
  matrixFixture,
  runFaultMatrix,
} from '../../src/local/fault-matrix.ts';
import { type GreenlightLocal, LocalNames } from '../../src/local/greenlight-local.ts';
import { eventually } from '../support/eventually.ts';

// A bounded subset of the fault matrix (the whole of it runs in `npm run bench`): a fault of
// each kind at a representative Task state, a callback state, the checks after an approver's
// click, the rollback, duplicate events, racing operator commands and an alarm mid-release.
// Each case ends consistent, and a fault the state retries leaves the release ending as it
// would have without it.
const subset: CaseSpec[] = [
  { kind: 'response-lost', state: 'ProvisionGreen' },
  // The migrate step's answer lost after the runner applied: the retry applies nothing again.
  { kind: 'response-lost', state: 'Migrate' },
  { kind: 'throttled', state: 'AcquireLock' },
  // Not retried once: the lock stayed held and the service blocked.
  { kind: 'client-timeout', state: 'AcquireLock' },
  { kind: 'timeout', state: 'SetWeight' },
  { kind: 'delivered-twice', state: 'WatchGates' },
  // The answer comes back failed after the 1 s bake ended: the retry's token was never answered.
  { kind: 'response-lost', state: 'WatchGates', delayMs: 1_500 },
  { kind: 'response-lost', state: 'RequestApproval' },
  // After an approver clicked Approve in Slack: the check of the ledger, at both stages.
  { kind: 'response-lost', state: 'VerifyApproval' },
  { kind: 'delivered-twice', state: 'VerifyFinalApproval' },
  { kind: 'throttled', state: 'Finalize' },
  // A held forward-only release's wait retried with a new token: the promote still reaches it.
  { kind: 'response-lost', state: 'Held' },
  { kind: 'service-fault', state: 'Rollback' },
  { kind: 'alarm', state: 'CheckGates' },
  { kind: 'duplicate-event' },
  { kind: 'concurrent-events' },
  { kind: 'promote+abort' },
];

describe('the fault matrix, a bounded subset', () => {
  it('ends every case consistent, and the reading of what a case left can fail', async () => {
    let broken: Violation[] = [];
    const report = await runFaultMatrix({
      cases: subset,
      parallel: 8,
      caseTimeoutMs: 40_000,
      inspect: async (local, done) => {
        broken = await breakWhatACaseLeft(local, done);
      },
    });

    const failing = report.results
      .filter((r) => !r.reached || r.violations.length > 0)
      .map((r) => ({ name: r.name, reached: r.reached, violations: r.violations }));
    expect(failing).toEqual([]);
    expect(report.results).toHaveLength(subset.length);
    // Every Task state of the workflow is reached by some scenario, so the whole matrix
    // (npm run bench) faults each of them: a state added without one fails here.
    expect(report.unreached).toEqual([]);
    expect(report.covered).toEqual(
      expect.arrayContaining(['VerifyApproval', 'VerifyFinalApproval']),
    );
    const changed = report.results
      .filter((r) => r.expected !== undefined && r.actual !== r.expected)
      .map((r) => `${r.name}: expected ${r.expected}, ended ${r.actual}`);
    expect(changed).toEqual([]);

    // Each target-side invariant, broken through the local AWS APIs after a clean case.
    expect([...new Set(broken.map((v) => v.invariant))].sort()).toEqual(
      [Invariant.EventOnce, Invariant.Lock, Invariant.OneGreen, Invariant.Traffic].sort(),
    );
  });
});

/**
 * Takes the service of a case that ended finalized and consistent, and breaks what the snapshot
 * reads from the local cloud: a split left on the alias, a second version published for the
 * release, the lock taken, a lifecycle event put twice. Returns what the check then finds.
 */
async function breakWhatACaseLeft(
  local: GreenlightLocal,
  report: MatrixReport,
): Promise<Violation[]> {
  const victim = report.results.find(
    (r) => r.name === 'ProvisionGreen × response-lost' && r.actual === 'Finalized',
  );
  if (!victim) return [];
  const fixture = matrixFixture(victim.service);
  const name = victim.service;
  const releaseId = deriveReleaseId(name, '1.1.0', 1);
  const lambda = new LambdaClient(local.clientConfig);
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(local.clientConfig));
  const events = new EventBridgeClient(local.clientConfig);
  try {
    expect(checkConsistency(await readConsistencySnapshot(local, [fixture.service]))).toEqual([]);

    await lambda.send(
      new UpdateAliasCommand({
        FunctionName: name,
        Name: 'live',
        RoutingConfig: { AdditionalVersionWeights: { '1': 0.25 } },
      }),
    );
    await lambda.send(
      new UpdateFunctionCodeCommand({
        FunctionName: name,
        S3Bucket: DemoArtifactBucket,
        S3Key: 'checkout/1.3.0-faulty.zip',
      }),
    );
    await eventually(
      async () => {
        const config = await lambda.send(
          new GetFunctionConfigurationCommand({ FunctionName: name }),
        );
        return config.LastUpdateStatus === 'Successful' ? true : undefined;
      },
      { what: `${name}'s code update to settle` },
    );
    await lambda.send(
      new PublishVersionCommand({ FunctionName: name, Description: `greenlight ${releaseId}` }),
    );
    await dynamo.send(
      new PutCommand({
        TableName: LocalNames.ledgerTable,
        Item: { pk: `lock#${name}`, sk: 'lock', service: name, holder: 'someone-else' },
      }),
    );
    const published = local.cloud.eventBridge
      .events(LocalNames.bus)
      .find((event) => event.source === 'greenlight' && event.detail.releaseId === releaseId);
    if (!published) throw new Error(`No lifecycle event of ${releaseId} on the bus`);
    await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: LocalNames.bus,
            Source: published.source,
            DetailType: published['detail-type'],
            Detail: JSON.stringify(published.detail),
          },
        ],
      }),
    );
    return checkConsistency(await readConsistencySnapshot(local, [fixture.service]));
  } finally {
    lambda.destroy();
    dynamo.destroy();
    events.destroy();
  }
}
