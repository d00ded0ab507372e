import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoCommandLog } from '../../src/aws/dynamo-commands.ts';
import { connect } from '../../src/cli/connect.ts';
import { runOperatorCommand } from '../../src/cli/operator-commands.ts';
import type { SharedOptions } from '../../src/cli/options.ts';
import type { CommandRecord } from '../../src/core/operator-command.ts';
import type { ReleaseRecord } from '../../src/core/records.ts';
import { deriveReleaseId } from '../../src/core/release-id.ts';
import { type GreenlightLocal, LocalNames } from '../../src/local/greenlight-local.ts';
import type { LocalRequest } from '../../src/local/http.ts';
import { eventually } from '../support/eventually.ts';
import { aContext } from '../unit/cli/fixtures.ts';
import {
  aLambdaService,
  artifact,
  executionFor,
  lifecycleEvents,
  requestRelease,
  useLocalCloud,
  waitForPhase,
  waitForStep,
} from './local-release.ts';

// Operator controls end to end: commands go on the local bus as "Operator Command" events (as
// `greenlight pause` sends them), the rule hands them to the operator function, and the
// running workflow reacts. Each test steers its own service.
const promoted = aLambdaService('promoted', 60);
promoted.service.strategies = {
  canary: {
    type: 'steps',
    steps: [
      { percent: 10, bakeSeconds: 60 },
      { percent: 50, bakeSeconds: 60 },
    ],
  },
};
const fixtures = [
  aLambdaService('paused', 2),
  aLambdaService('resumed', 2),
  promoted,
  aLambdaService('aborted', 60),
  aLambdaService('reverted', 1),
];
let local: GreenlightLocal;
let lambda: LambdaClient;
let events: EventBridgeClient;
let commands: DynamoCommandLog;
let dynamo: DynamoDBClient;

useLocalCloud(
  fixtures,
  (cloud) => {
    ({ local, lambda, events, dynamo } = cloud);
    commands = new DynamoCommandLog({
      client: DynamoDBDocumentClient.from(dynamo),
      tableName: LocalNames.ledgerTable,
    });
  },
  {
    // A paused release looks at its gates again every 100 ms here (10 s in AWS).
    holdPollMs: 100,
  },
);

const who = { actor: 'dana', reason: 'testing the controls' };

/** Puts an Operator Command on the bus, as the CLI does, and reads its outcome from the ledger. */
async function command(detail: Record<string, string>): Promise<CommandRecord> {
  const result = await events.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: LocalNames.bus,
          Source: 'greenlight.cli',
          DetailType: 'Operator Command',
          Detail: JSON.stringify({ schemaVersion: 1, ...who, ...detail }),
        },
      ],
    }),
  );
  const eventId = result.Entries?.[0]?.EventId as string;
  // The local bus delivers before PutEvents answers; in AWS the CLI polls for this.
  const outcome = await commands.get(eventId);
  if (!outcome) throw new Error(`No outcome recorded for command ${eventId}`);
  return outcome;
}

async function release(service: string, version = '1.1.0', build = version) {
  const releaseId = deriveReleaseId(service, version, 1);
  const eventId = await requestRelease(local, {
    service,
    version,
    artifact: artifact(build),
  });
  return { releaseId, eventId };
}

async function untilRelease(
  releaseId: string,
  check: (release: ReleaseRecord) => boolean,
): Promise<ReleaseRecord> {
  let found: ReleaseRecord | undefined;
  return eventually(
    async () => {
      found = await local.ledger.getRelease(releaseId);
      return found && check(found) ? found : undefined;
    },
    { what: () => `${releaseId}; last read: ${JSON.stringify(found)}`, timeoutMs: 30_000 },
  );
}

/** How many times the execution entered `stateName` so far. */
function entered(eventId: string, stateName: string): number {
  const execution = local.cloud.stepFunctions
    .listExecutions()
    .find((e) => (JSON.parse(e.input) as { id?: string }).id === eventId);
  if (!execution) return 0;
  return local.cloud.stepFunctions
    .getHistory(execution.executionArn)
    .filter((h) => h.type.endsWith('StateEntered') && h.details?.name === stateName).length;
}

describe('greenlight pause', () => {
  it('holds the weight while gates keep watching, and an alarm still rolls the release back', async () => {
    // A build that passes its test and throws on real traffic; no traffic until paused.
    const { releaseId, eventId } = await release('paused', '1.3.0', '1.3.0-faulty');
    await untilRelease(releaseId, (r) => r.phase === 'Shifting' && r.stepIndex === 0);

    expect(await command({ command: 'pause', releaseId })).toMatchObject({
      outcome: 'applied',
      message: 'Paused by dana at 10% on green: testing the controls',
    });
    await waitForStep(local, releaseId, 'hold');
    const holding = entered(eventId, 'CheckGates');
    await eventually(() => (entered(eventId, 'CheckGates') >= holding + 3 ? true : undefined), {
      what: () =>
        `three more gate checks while paused; ${entered(eventId, 'CheckGates') - holding} so far`,
      timeoutMs: 30_000,
    });
    expect(local.lambda.describe('paused').alias?.weights).toEqual({ '2': 0.1 });

    // Real traffic now: a tenth reaches the faulty green, the alarm fires, the next look rolls back.
    await Promise.all(
      Array.from({ length: 20 }, () =>
        lambda.send(
          new InvokeCommand({ FunctionName: 'paused', Qualifier: 'live', Payload: '{}' }),
        ),
      ),
    );
    const execution = await executionFor(local, eventId);

    expect(execution).toMatchObject({ status: 'FAILED', error: 'ReleaseRolledBack' });
    const steps = await local.ledger.listSteps(releaseId);
    expect(steps.filter((s) => s.step === 'shift').map((s) => s.greenPercent)).toEqual([10]);
    expect(steps.find((s) => s.step === 'hold')?.reason).toContain(
      'Holding at 10% on green, gates checked every 10s: Paused by dana',
    );
    expect(steps.find((s) => s.step === 'operator')?.reason).toBe(
      'pause by dana (testing the controls): Paused by dana at 10% on green: testing the controls',
    );
    const gate = steps.find((s) => s.step === 'gate' && s.outcome === 'failed');
    expect(gate?.evidence?.alarms?.[0]).toMatchObject({ name: 'paused-errors', state: 'ALARM' });
    expect((await local.ledger.getRelease(releaseId))?.reason).toContain('AlarmGateFailed');
    expect(local.lambda.describe('paused').alias).toMatchObject({ version: '1', weights: {} });
  });

  it('lets the release go on when resumed, and refuses what does not fit its state', async () => {
    const { releaseId, eventId } = await release('resumed');
    await untilRelease(releaseId, (r) => r.phase === 'Shifting' && r.stepIndex === 0);
    await command({ command: 'pause', releaseId });

    const again = await command({ command: 'pause', releaseId });
    await waitForStep(local, releaseId, 'hold');
    const resumed = await command({ command: 'resume', releaseId });
    const execution = await executionFor(local, eventId);

    expect(again).toMatchObject({ outcome: 'refused' });
    expect(again.message).toMatch(/it is paused already$/);
    expect(resumed).toMatchObject({ outcome: 'applied' });
    expect(execution.status).toBe('SUCCEEDED');
    expect((await local.ledger.getRelease(releaseId))?.phase).toBe('Finalized');
    expect(await command({ command: 'resume', releaseId })).toMatchObject({
      outcome: 'refused',
      message: expect.stringContaining('operators steer a release only while its traffic shifts'),
    });
  });
});

describe('greenlight promote', () => {
  it('ends the bake under way, checks the gates once more and puts all traffic on green', async () => {
    const { releaseId, eventId } = await release('promoted');
    await waitForStep(local, releaseId, 'bake');

    const promoted = await command({ command: 'promote', releaseId });
    const execution = await executionFor(local, eventId);

    expect(promoted.outcome).toBe('applied');
    expect(promoted.message).toContain('the bake of step 1 ended now');
    // Two bakes of a minute each were planned; both were skipped.
    expect(execution.status).toBe('SUCCEEDED');
    const steps = await local.ledger.listSteps(releaseId);
    expect(steps.filter((s) => s.step === 'shift').map((s) => s.greenPercent)).toEqual([10, 100]);
    expect(steps.filter((s) => s.step === 'gate').every((s) => s.outcome === 'succeeded')).toBe(
      true,
    );
    expect(await local.ledger.getRelease(releaseId)).toMatchObject({
      phase: 'Finalized',
      control: { promoted: true },
    });
    expect(local.lambda.describe('promoted').alias).toMatchObject({ version: '2', weights: {} });
  });
});

describe('greenlight abort', () => {
  it('rolls back at once, mid-bake (sent by the greenlight command)', async () => {
    const { releaseId, eventId } = await release('aborted');
    await waitForStep(local, releaseId, 'bake');
    const { context, out } = aContext({ USER: 'dana' });

    const code = await runOperatorCommand(
      'abort',
      ['--service', 'aborted', '--reason', 'wrong build'],
      context,
      (options: SharedOptions) =>
        connect({ ...options, endpointUrl: local.url, region: LocalNames.region }),
    );
    const execution = await executionFor(local, eventId);

    expect(code).toBe(0);
    expect(out[0]).toBe('Abort: Aborted by dana: wrong build; the bake of step 1 ended now');
    expect(execution).toMatchObject({ status: 'FAILED', error: 'ReleaseRolledBack' });
    const final = await local.ledger.getRelease(releaseId);
    expect(final?.phase).toBe('RolledBack');
    expect(final?.reason).toContain('OperatorAborted: Aborted by dana: wrong build');
    expect(local.lambda.describe('aborted').alias).toMatchObject({ version: '1', weights: {} });
  });
});

describe('greenlight rollback and retry', () => {
  it('puts a finalized release back on blue in one alias switch, then retries it as attempt 2', async () => {
    const { releaseId, eventId } = await release('reverted');
    expect((await executionFor(local, eventId)).status).toBe('SUCCEEDED');
    const aliasWrites: string[] = [];
    const stop = watchRequests((request) => {
      if (request.method === 'PUT' && request.url.includes('/functions/reverted/aliases/live')) {
        aliasWrites.push(request.url);
      }
    });

    const reverted = await command({ command: 'rollback', service: 'reverted' });
    stop();

    expect(reverted).toMatchObject({ outcome: 'applied', releaseId });
    expect(aliasWrites).toHaveLength(1);
    expect(local.lambda.describe('reverted').alias).toMatchObject({ version: '1', weights: {} });
    expect(await local.ledger.getRelease(releaseId)).toMatchObject({
      phase: 'RolledBack',
      greenPercent: 0,
      reason: 'Rolled back after finalize by dana: testing the controls',
    });
    expect(lifecycleEvents(local, releaseId).at(-1)?.['detail-type']).toBe('Release Rolled Back');
    // Nothing is left to roll back.
    expect(await command({ command: 'rollback', service: 'reverted' })).toMatchObject({
      outcome: 'refused',
    });

    const retried = await command({ command: 'retry', releaseId });
    const attempt2 = deriveReleaseId('reverted', '1.1.0', 2);
    expect(retried).toMatchObject({ outcome: 'applied', newReleaseId: attempt2 });
    const second = await waitForPhase(local, attempt2);
    expect(second).toMatchObject({ phase: 'Finalized', attempt: 2, actor: 'dana' });
    expect(local.lambda.describe('reverted').alias).toMatchObject({ weights: {} });
  });
});

/** Calls `listener` with every request the local Lambda receives; returns a stop function. */
function watchRequests(listener: (request: LocalRequest) => void): () => void {
  const lambdaService = local.lambda;
  const handle = lambdaService.handle.bind(lambdaService);
  lambdaService.handle = async (request) => {
    listener(request);
    return handle(request);
  };
  return () => {
    lambdaService.handle = handle;
  };
}
