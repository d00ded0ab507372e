import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { DynamoCommandLog } from '../../src/aws/dynamo-commands.ts';
import { connect } from '../../src/cli/connect.ts';
import type { SharedOptions } from '../../src/cli/options.ts';
import { runStatusCommand } from '../../src/cli/status-command.ts';
import type { CommandRecord } from '../../src/core/operator-command.ts';
import { TerminalPhases } from '../../src/core/phases.ts';
import { deriveReleaseId } from '../../src/core/release-id.ts';
import { DemoArtifactBucket } from '../../src/local/demo-registry.ts';
import { FaultInjector, FaultKind } from '../../src/local/faults.ts';
import { type GreenlightLocal, LocalNames } from '../../src/local/greenlight-local.ts';
import type { StoredMessage } from '../../src/local/slack-standin.ts';
import { buildReleaseDefinition, functionArnsFor } from '../../workflows/release.ts';
import { eventually } from '../support/eventually.ts';
import {
  callsAbout,
  migrationArtifactsRoot,
  standInRunner,
  standInRunnerKey,
} from '../support/stand-in-runner.ts';
import { aContext } from '../unit/cli/fixtures.ts';
import {
  aGatedLambdaService,
  approvalChannel,
  approver,
  artifact,
  executionFor,
  type LambdaFixture,
  lifecycleEvents,
  requestRelease,
  useLocalCloud,
  waitForPhase,
} from './local-release.ts';

// Irreversible migrations end to end: the approval that names the migration (Slack stand-in,
// real signed clicks), the migrate function invoking the stand-in runner (test/support), the
// forward-only hold after a failure, and the operator's ways out, as Operator Command events.
const artifacts = migrationArtifactsRoot([]);
const runner = 'shop-migrations';

function anIrreversibleService(name: string): LambdaFixture {
  const fixture = aGatedLambdaService(name);
  fixture.service.migrations = { runner: { type: 'lambda', functionName: runner } };
  fixture.service.warmWindowSeconds = 60;
  // Release updates in Slack (functions/release-updates.ts): the hold is one of them.
  fixture.service.updates = { channel: approvalChannel };
  return fixture;
}
const names = ['rejected', 'promoted', 'knowing', 'reverted', 'refinalized'];
const runnerFixture: LambdaFixture = {
  service: { ...aGatedLambdaService('unused').service, name: 'unused' },
  fn: {
    functionName: runner,
    alias: 'live',
    artifact: { s3: { bucket: DemoArtifactBucket, key: standInRunnerKey } },
  },
};

// The Finalize of refinalized's first promote fails past its retries (Lambda unavailable on
// every attempt its Retry allows), at the seam the fault matrix uses; its next one runs.
const definition = buildReleaseDefinition({
  functionArns: functionArnsFor(LocalNames.region, LocalNames.accountId),
});
const finalizeRetry = (
  definition.States.Finalize as unknown as { Retry: { MaxAttempts: number }[] }
).Retry[0];
const finalizeAttempts = (finalizeRetry?.MaxAttempts ?? 0) + 1;
const injector = new FaultInjector().useDefinition(definition);
for (let occurrence = 1; occurrence <= finalizeAttempts; occurrence++) {
  injector.add({
    service: 'refinalized',
    state: 'Finalize',
    kind: FaultKind.ServiceFault,
    occurrence,
  });
}

let local: GreenlightLocal;
let events: EventBridgeClient;
let commands: DynamoCommandLog;
useLocalCloud(
  [...names.map(anIrreversibleService), runnerFixture],
  (cloud) => {
    ({ local, events } = cloud);
    commands = new DynamoCommandLog({
      client: DynamoDBDocumentClient.from(cloud.dynamo),
      tableName: LocalNames.ledgerTable,
    });
  },
  { artifactsRoot: artifacts.root, faults: injector.wrap },
);
afterAll(() => artifacts.remove());

/** Releases `service` with an irreversible migration; waits for the message naming it. */
async function releaseAwaitingMigrationApproval(service: string, build: string, id: string) {
  standInRunner().migrations[id] = { up: [`ALTER TABLE orders DROP COLUMN note_${service}`] };
  const version = build.replace(/-.*$/, '');
  const releaseId = deriveReleaseId(service, version, 1);
  const eventId = await requestRelease(local, {
    service,
    version,
    artifact: artifact(build),
    migration: { id, kind: 'irreversible' },
  });
  const approvalId = `${releaseId}-before-migration`;
  const message = await eventually(
    () =>
      local.slack
        .messages(approvalChannel)
        .find((m) => JSON.stringify(m.blocks).includes(`"value":"${approvalId}"`)),
    { what: `the migration approval of ${service}`, timeoutMs: 30_000 },
  );
  return { releaseId, eventId, message };
}

function click(message: StoredMessage, actionId: 'approve' | 'reject') {
  return local.slack.click({ channel: message.channel, ts: message.ts, actionId, user: approver });
}

async function command(detail: Record<string, unknown>): Promise<CommandRecord> {
  const result = await events.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: LocalNames.bus,
          Source: 'greenlight.cli',
          DetailType: 'Operator Command',
          Detail: JSON.stringify({ schemaVersion: 1, actor: 'dana', ...detail }),
        },
      ],
    }),
  );
  const eventId = result.Entries?.[0]?.EventId as string;
  // The local bus delivers before PutEvents answers; in AWS the CLI polls for this.
  return eventually(() => commands.get(eventId), { what: `the outcome of command ${eventId}` });
}

const held = new Set(['Held']);

/** Approves the migration; green (the broken build) fails its tests after it ran: held. */
async function heldRelease(service: string, id: string) {
  const started = await releaseAwaitingMigrationApproval(service, '1.2.0-broken', id);
  await click(started.message, 'approve');
  const record = await waitForPhase(local, started.releaseId, held);
  return { ...started, record };
}

describe('an irreversible migration', () => {
  it('asks approvers naming it, and rolls back with nothing run when they reject', async () => {
    const { releaseId, eventId, message } = await releaseAwaitingMigrationApproval(
      'rejected',
      '1.1.0',
      '0101_drop_rejected',
    );
    const blocks = JSON.stringify(message.blocks);
    expect(message.text).toMatch(/\(before the irreversible migration runs\)$/);
    expect(blocks).toContain('`0101_drop_rejected` (irreversible)');
    expect(blocks).toContain('ALTER TABLE orders DROP COLUMN note_rejected');
    expect(blocks).toContain('After it runs this release is forward-only');

    await click(message, 'reject');

    expect(await executionFor(local, eventId)).toMatchObject({ error: 'ReleaseRolledBack' });
    expect(callsAbout('0101_drop_rejected')).toEqual(['plan']);
    expect((await local.ledger.getRelease(releaseId))?.forwardOnly).toBeUndefined();
  });

  it('once run, holds traffic on a failure, alerts, and finalizes on promote', async () => {
    const { releaseId, eventId, record } = await heldRelease('promoted', '0102_drop_promoted');

    expect(callsAbout('0102_drop_promoted')).toEqual(['plan', 'status', 'plan', 'apply']);
    expect(record.forwardOnly?.migrationId).toBe('0102_drop_promoted');
    expect(record.reason).toMatch(/^Held with 0% on green, forward-only: GreenTestFailed/);
    expect(local.lambda.describe('promoted').alias).toMatchObject({ version: '1', weights: {} });
    expect(lifecycleEvents(local, releaseId).map((e) => e['detail-type'])).toContain(
      'Release Held',
    );
    const update = await eventually(
      () =>
        local.slack
          .messages(approvalChannel)
          .find((m) => m.text.startsWith('promoted 1.2.0: :octagonal_sign: Held, forward-only')),
      { what: 'the release update saying it is held' },
    );
    expect(update).toBeDefined();
    const status = aContext({});
    await runStatusCommand(['--release', releaseId], status.context, (options: SharedOptions) =>
      connect({ ...options, endpointUrl: local.url, region: LocalNames.region }),
    );
    expect(status.out.join('\n')).toMatch(
      /forward +forward-only since irreversible 0102_drop_promoted ran at .*; HELD/,
    );
    // Nothing polls: the execution waits on the hold's token, entered once.
    const entered = () => {
      const execution = local.cloud.stepFunctions
        .listExecutions()
        .find((e) => e.input.includes('"service":"promoted"'));
      return local.cloud.stepFunctions
        .getHistory(execution?.executionArn ?? '')
        .filter((h) => h.type.endsWith('StateEntered'))
        .map((h) => String(h.details?.name));
    };
    await eventually(() => (entered().includes('Held') ? true : undefined), {
      what: 'the workflow to wait in Held',
    });
    expect(entered().filter((name) => ['Held', 'VerifyHold'].includes(name))).toEqual(['Held']);

    const promoted = await command({ command: 'promote', releaseId, reason: 'fix forward' });

    expect(promoted.outcome).toBe('applied');
    expect((await executionFor(local, eventId)).status).toBe('SUCCEEDED');
    expect(await local.ledger.getRelease(releaseId)).toMatchObject({
      phase: 'Finalized',
      greenPercent: 100,
    });
    expect(local.lambda.describe('promoted').alias).toMatchObject({ version: '2', weights: {} });
    const heldEvents = lifecycleEvents(local, releaseId).filter(
      (e) => e['detail-type'] === 'Release Held',
    );
    expect(heldEvents).toHaveLength(1);
  });

  it('refuses an abort that is not knowing; a knowing one rolls back, recorded as such', async () => {
    const { releaseId, eventId } = await heldRelease('knowing', '0103_drop_knowing');

    const refused = await command({ command: 'abort', releaseId, reason: 'undo it' });
    expect(refused.outcome).toBe('refused');
    expect(refused.message).toMatch(
      /is forward-only: irreversible migration 0103_drop_knowing ran/,
    );
    expect((await local.ledger.getRelease(releaseId))?.phase).toBe('Held');

    const knowing = await command({
      command: 'abort',
      releaseId,
      reason: 'blue reads no note',
      knowingly: true,
    });

    expect(knowing.outcome).toBe('applied');
    expect(await executionFor(local, eventId)).toMatchObject({ error: 'ReleaseRolledBack' });
    const final = await waitForPhase(local, releaseId, TerminalPhases);
    expect(final.phase).toBe('RolledBack');
    expect(final.forwardOnly?.rolledBackKnowingly).toMatchObject({
      by: 'dana',
      reason: 'blue reads no note',
    });
    expect(final.reason).toContain(
      'irreversible 0103_drop_knowing stays applied: rolled back knowingly',
    );
  });

  it('holds again as a new round when the promote’s Finalize fails past its retries, and a second promote finalizes', async () => {
    const { releaseId, eventId } = await heldRelease('refinalized', '0105_drop_refinalized');
    const steps = async () =>
      (await local.ledger.listSteps(releaseId)).map((step) => step.key as string);
    await eventually(async () => ((await steps()).includes('hold-wait') ? true : undefined), {
      what: 'the first round of the hold to wait',
    });

    const first = await command({ command: 'promote', releaseId, reason: 'fix forward' });
    expect(first.outcome).toBe('applied');

    // Round 2 waits on its own token; the first promote no longer counts.
    await eventually(async () => ((await steps()).includes('hold-wait#2') ? true : undefined), {
      what: 'the second round of the hold to wait',
    });
    expect(injector.fired('refinalized')).toHaveLength(finalizeAttempts);
    const again = await local.ledger.getRelease(releaseId);
    expect(again).toMatchObject({
      phase: 'Held',
      control: { promoted: false },
      forwardOnly: { holdRound: 2 },
    });
    expect(again?.reason).toMatch(
      /^Held again with \d+% on green, forward-only: the promote's Finalize failed: Lambda\.ServiceException/,
    );
    const heldKeys = () =>
      lifecycleEvents(local, releaseId)
        .filter((e) => e['detail-type'] === 'Release Held')
        .map((e) => (e.detail as { eventKey: string }).eventKey);
    expect(heldKeys()).toEqual([`${releaseId}#held`, `${releaseId}#held#2`]);

    const second = await command({ command: 'promote', releaseId, reason: 'Lambda is back' });

    expect(second.outcome).toBe('applied');
    expect((await executionFor(local, eventId)).status).toBe('SUCCEEDED');
    expect(await local.ledger.getRelease(releaseId)).toMatchObject({
      phase: 'Finalized',
      greenPercent: 100,
    });
    expect(local.lambda.describe('refinalized').alias).toMatchObject({ version: '2', weights: {} });
    expect(heldKeys()).toEqual([`${releaseId}#held`, `${releaseId}#held#2`]);
  });

  it('makes greenlight rollback refuse, unless knowingly, once a release that ran one finalized', async () => {
    const { releaseId } = await heldRelease('reverted', '0104_drop_reverted');
    await command({ command: 'promote', releaseId, reason: 'fix forward' });
    await waitForPhase(local, releaseId, TerminalPhases);

    const refused = await command({ command: 'rollback', service: 'reverted', reason: 'errors' });
    expect(refused.outcome).toBe('refused');
    expect(refused.message).toMatch(/^irreversible migration 0104_drop_reverted ran in /);
    expect(local.lambda.describe('reverted').alias).toMatchObject({ version: '2' });

    const knowing = await command({
      command: 'rollback',
      service: 'reverted',
      reason: 'errors',
      knowingly: true,
    });
    expect(knowing.outcome).toBe('applied');
    expect(local.lambda.describe('reverted').alias).toMatchObject({ version: '1', weights: {} });
  });
});
