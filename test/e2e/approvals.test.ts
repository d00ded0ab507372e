import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetAliasCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoApprovalStore } from '../../src/aws/dynamo-approvals.ts';
import { connect } from '../../src/cli/connect.ts';
import { runDecisionCommand, runOperatorCommand } from '../../src/cli/operator-commands.ts';
import type { SharedOptions } from '../../src/cli/options.ts';
import type { ApprovalRecord } from '../../src/core/records.ts';
import { deriveReleaseId } from '../../src/core/release-id.ts';
import { type GreenlightLocal, LocalNames } from '../../src/local/greenlight-local.ts';
import { type StoredMessage, signedInteraction } from '../../src/local/slack-standin.ts';
import { eventually } from '../support/eventually.ts';
import { aContext } from '../unit/cli/fixtures.ts';
import {
  aGatedLambdaService,
  approvalChannel,
  approver,
  artifact,
  executionFor,
  requestRelease,
  useLocalCloud,
  waitForPhase,
} from './local-release.ts';

// Approvals end to end: the workflow waits on its callback token, the request-approval
// function posts to the local Slack stand-in through the production Web API client (fetch), and clicks are
// real signed HTTP requests to the interactivity function's URL on the local endpoint.
const channel = approvalChannel;
const gated = aGatedLambdaService;
const stranger = { id: 'U0MALLORY', username: 'mallory' };

const fixtures = [
  gated('approved'),
  gated('denied'),
  gated('clicked-twice'),
  gated('guarded'),
  gated('expired', { timeoutSeconds: 1 }),
  gated('lenient', { timeoutSeconds: 1, onTimeout: 'approve' }),
  gated('final', { stages: ['before-finalize'] }),
  gated('by-cli'),
  gated('aborted'),
];
let local: GreenlightLocal;
let lambda: LambdaClient;

useLocalCloud(fixtures, (cloud) => {
  ({ local, lambda } = cloud);
});

/** Releases `service` 1.1.0 and waits until its approval message is in Slack. */
async function releaseAwaitingApproval(service: string, stage = 'before-shift') {
  const releaseId = deriveReleaseId(service, '1.1.0', 1);
  const eventId = await requestRelease(local, {
    service,
    version: '1.1.0',
    artifact: artifact('1.1.0'),
    actor: 'ci-bot',
  });
  const approvalId = `${releaseId}-${stage}`;
  const message = await eventually(
    () =>
      local.slack
        .messages(channel)
        .find((m) => JSON.stringify(m.blocks).includes(`"value":"${approvalId}"`)),
    { what: `the approval message of ${service}`, timeoutMs: 30_000 },
  );
  return { releaseId, eventId, approvalId, message };
}

function click(message: StoredMessage, actionId: 'approve' | 'reject', user = approver) {
  return local.slack.click({ channel: message.channel, ts: message.ts, actionId, user });
}

/** The approval as the ledger holds it, read as greenlight's functions read it. */
async function approvalOf(approvalId: string): Promise<ApprovalRecord | undefined> {
  const client = new DynamoDBClient(local.clientConfig);
  try {
    const store = new DynamoApprovalStore({
      client: DynamoDBDocumentClient.from(client),
      tableName: LocalNames.ledgerTable,
    });
    return await store.get(approvalId);
  } finally {
    client.destroy();
  }
}

async function aliasOf(name: string) {
  return lambda.send(new GetAliasCommand({ FunctionName: name, Name: 'live' }));
}

describe('a release that asks for approval in Slack', () => {
  it('waits with traffic untouched, then proceeds to finalize when an approver clicks Approve', async () => {
    const before = await aliasOf('approved');
    const { releaseId, eventId, message } = await releaseAwaitingApproval('approved');
    expect((await local.ledger.getRelease(releaseId))?.phase).toBe('AwaitingApproval');
    expect((await aliasOf('approved')).RevisionId).toBe(before.RevisionId);

    const reply = await click(message, 'approve');
    const execution = await executionFor(local, eventId);

    expect(reply.status).toBe(200);
    expect(execution.status).toBe('SUCCEEDED');
    expect(await local.ledger.getRelease(releaseId)).toMatchObject({
      phase: 'Finalized',
      greenPercent: 100,
    });
    const steps = await local.ledger.listSteps(releaseId);
    expect(steps.map((s) => s.step)).toEqual(
      expect.arrayContaining(['approval-request', 'approval', 'shift', 'finalize']),
    );
    expect(steps.find((s) => s.step === 'approval')?.reason).toMatch(
      /^Approved by dana \(U0DANA\) via slack at /,
    );
    expect(JSON.stringify(local.slack.message(channel, message.ts)?.blocks)).toContain(
      ':white_check_mark: *Approved* by <@U0DANA>',
    );
    expect((await aliasOf('approved')).FunctionVersion).toBe('2');
  });

  it('ends with traffic untouched when an approver clicks Reject', async () => {
    const before = await aliasOf('denied');
    const { releaseId, eventId, message } = await releaseAwaitingApproval('denied');

    await click(message, 'reject');
    const execution = await executionFor(local, eventId);

    expect(execution).toMatchObject({ status: 'FAILED', error: 'ReleaseRolledBack' });
    const release = await local.ledger.getRelease(releaseId);
    expect(release?.phase).toBe('RolledBack');
    expect(release?.reason).toContain('ApprovalRejected: Rejected by dana (U0DANA) via slack');
    const after = await aliasOf('denied');
    expect(after.RevisionId).toBe(before.RevisionId);
    expect(after.FunctionVersion).toBe('1');
    const steps = await local.ledger.listSteps(releaseId);
    expect(steps.filter((s) => s.step === 'shift')).toEqual([]);
    expect(steps.find((s) => s.step === 'rollback')?.reason).toMatch(
      /^Green never took traffic; blue \(1\) kept all of it after: ApprovalRejected: Rejected by dana/,
    );
  });

  it('changes nothing on a second click, on either button, and says it was decided', async () => {
    const { releaseId, eventId, approvalId, message } =
      await releaseAwaitingApproval('clicked-twice');

    await click(message, 'approve');
    const again = await click(message, 'reject');
    const execution = await executionFor(local, eventId);

    expect(again.status).toBe(200);
    expect(execution.status).toBe('SUCCEEDED');
    expect((await approvalOf(approvalId))?.status).toBe('approved');
    expect((await local.ledger.getRelease(releaseId))?.phase).toBe('Finalized');
    expect(local.slack.ephemerals.at(-1)).toMatchObject({
      user: approver.id,
      text: expect.stringMatching(/^Already approved by <@U0DANA>/),
    });
  });

  it('refuses forged, stale, replayed and non-approver requests at the endpoint and changes nothing', async () => {
    const { releaseId, eventId, approvalId, message } = await releaseAwaitingApproval('guarded');
    const post = (request: { headers: Record<string, string>; body: string }) =>
      fetch(local.slackInteractionsUrl, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
      });
    const genuine = (await click(message, 'approve', stranger)).request;
    const payload = JSON.parse(new URLSearchParams(genuine.body).get('payload') ?? '{}') as {
      user: unknown;
    };
    const asApprover = { ...payload, user: { id: approver.id, username: approver.username } };
    // The deployed function checks a request's age on the machine's clock: sign by it too.
    const now = Math.floor(Date.now() / 1000);

    const forged = signedInteraction('not-the-signing-secret', asApprover, now);
    const stale = signedInteraction(LocalNames.slackSigningSecret, asApprover, now - 600);
    const statuses = [
      (await post(forged)).status,
      (await post(stale)).status,
      // The stranger's own click was refused (403); sent again, it is a replay.
      (await post(genuine)).status,
    ];

    expect(local.slack.interactions.at(-1)?.reply.status).toBe(403);
    expect(statuses).toEqual([401, 401, 401]);
    expect((await approvalOf(approvalId))?.status).toBe('pending');
    expect((await local.ledger.getRelease(releaseId))?.phase).toBe('AwaitingApproval');
    expect(local.slack.message(channel, message.ts)?.history).toEqual([]);
    const execution = local.cloud.stepFunctions
      .listExecutions()
      .find((e) => (JSON.parse(e.input) as { id?: string }).id === eventId);
    expect(execution?.status).toBe('RUNNING');

    await click(message, 'approve');
    expect((await executionFor(local, eventId)).status).toBe('SUCCEEDED');
  });

  it('rejects a release nobody decided in time, before any traffic moved, and says so in Slack', async () => {
    const before = await aliasOf('expired');
    const { releaseId, eventId, approvalId, message } = await releaseAwaitingApproval('expired');

    const execution = await executionFor(local, eventId);

    expect(execution).toMatchObject({ status: 'FAILED', error: 'ReleaseRolledBack' });
    expect((await approvalOf(approvalId))?.status).toBe('timed-out');
    const release = await local.ledger.getRelease(releaseId);
    expect(release?.phase).toBe('RolledBack');
    expect(release?.reason).toContain('ApprovalTimedOut');
    expect((await aliasOf('expired')).RevisionId).toBe(before.RevisionId);
    expect(JSON.stringify(local.slack.message(channel, message.ts)?.blocks)).toContain(
      ':hourglass: *No decision*',
    );
    // A click after the timeout changes nothing.
    await click(message, 'approve');
    expect((await approvalOf(approvalId))?.status).toBe('timed-out');
  });

  it('goes on when nobody decided in time and the service says approve on timeout', async () => {
    const { releaseId, eventId } = await releaseAwaitingApproval('lenient');

    const execution = await executionFor(local, eventId);

    expect(execution.status).toBe('SUCCEEDED');
    expect((await local.ledger.getRelease(releaseId))?.phase).toBe('Finalized');
  });

  it('asks again before finalize when the service says so, with all traffic on green meanwhile', async () => {
    const { releaseId, eventId, message } = await releaseAwaitingApproval(
      'final',
      'before-finalize',
    );
    const waiting = await waitForPhase(local, releaseId, new Set(['Shifting']));
    expect(waiting.greenPercent).toBe(100);

    await click(message, 'approve');

    expect((await executionFor(local, eventId)).status).toBe('SUCCEEDED');
    expect((await local.ledger.getRelease(releaseId))?.phase).toBe('Finalized');
  });
});

describe('an operator’s abort while a release waits for approval', () => {
  it('ends the wait at once, rolls back with nothing moved, and a later click changes nothing', async () => {
    const { releaseId, eventId, approvalId, message } = await releaseAwaitingApproval('aborted');
    const { context } = aContext({ USER: 'dana' });

    const code = await runOperatorCommand(
      'abort',
      [releaseId, '--reason', 'freeze'],
      context,
      (options: SharedOptions) =>
        connect({ ...options, endpointUrl: local.url, region: LocalNames.region }),
    );
    const execution = await executionFor(local, eventId);
    await click(message, 'approve');

    expect(code).toBe(0);
    expect(execution).toMatchObject({ status: 'FAILED', error: 'ReleaseRolledBack' });
    expect((await local.ledger.getRelease(releaseId))?.reason).toContain(
      'OperatorAborted: Aborted by dana: freeze',
    );
    expect(await approvalOf(approvalId)).toMatchObject({
      status: 'rejected',
      decidedBy: 'dana',
      decidedVia: 'abort',
    });
    expect(local.lambda.describe('aborted').alias).toMatchObject({ version: '1', weights: {} });
  });
});

describe('greenlight approve', () => {
  it('has the same effect as the button, for teams without Slack, and shows on the message', async () => {
    const { releaseId, eventId, message } = await releaseAwaitingApproval('by-cli');
    const { context, out } = aContext({ USER: 'dana' });
    const connectLocal = (options: SharedOptions) =>
      connect(
        { ...options, endpointUrl: local.url, region: LocalNames.region },
        { SLACK_BOT_TOKEN: LocalNames.slackBotToken, SLACK_API_URL: `${local.url}/api/` },
      );

    const code = await runDecisionCommand(
      'approve',
      ['--service', 'by-cli', '--reason', 'change ticket 42'],
      context,
      connectLocal,
    );
    const again = await runDecisionCommand(
      'reject',
      [releaseId, '--reason', 'no'],
      context,
      connectLocal,
    );

    expect(code).toBe(0);
    expect(out[0]).toBe(`Approved ${releaseId} (before-shift) as dana: change ticket 42`);
    expect(again).toBe(7);
    expect((await executionFor(local, eventId)).status).toBe('SUCCEEDED');
    const steps = await local.ledger.listSteps(releaseId);
    expect(steps.find((s) => s.step === 'approval')?.reason).toMatch(
      /^Approved by dana via cli at .*: change ticket 42$/,
    );
    expect(JSON.stringify(local.slack.message(channel, message.ts)?.blocks)).toContain(
      ':white_check_mark: *Approved* by dana (via cli)',
    );
  });
});
