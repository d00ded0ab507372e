import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetAliasCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoApprovalStore } from '../../src/aws/dynamo-approvals.ts';
import { DynamoBakeStore } from '../../src/aws/dynamo-bakes.ts';
import type { ApprovalRecord } from '../../src/core/records.ts';
import { deriveReleaseId } from '../../src/core/release-id.ts';
import { type GreenlightLocal, LocalNames } from '../../src/local/greenlight-local.ts';
import { eventually } from '../support/eventually.ts';
import {
  aGatedLambdaService,
  aLambdaService,
  approvalChannel,
  approver,
  artifact,
  executionFor,
  requestRelease,
  useLocalCloud,
  waitForPhase,
  waitForStep,
} from './local-release.ts';

// A task token is readable from the ledger (and, in AWS, from the execution history). These
// tests play someone who holds one and is allowed Step Functions' SendTask* calls, and nothing
// else: no Slack click, no approver, no operator command, no ledger write. Whatever they send,
// only what the ledger records may take effect.
const channel = approvalChannel;
const gated = aGatedLambdaService;

const baked = aLambdaService('baked', 3);
const fixtures = [
  gated('shift-forged'),
  gated('final-forged', { stages: ['before-finalize'] }),
  gated('reject-forged'),
  baked,
];
let local: GreenlightLocal;
let lambda: LambdaClient;
let sfn: SFNClient;
let dynamo: DynamoDBClient;

useLocalCloud(fixtures, (cloud) => {
  ({ local, lambda, sfn, dynamo } = cloud);
});

const ledgerTable = () => ({
  client: DynamoDBDocumentClient.from(dynamo),
  tableName: LocalNames.ledgerTable,
});

/** Releases `service` 1.1.0 and reads the approval's token from the ledger once it is waiting. */
async function waitingApproval(service: string, stage = 'before-shift') {
  const releaseId = deriveReleaseId(service, '1.1.0', 1);
  const eventId = await requestRelease(local, {
    service,
    version: '1.1.0',
    artifact: artifact('1.1.0'),
    actor: 'ci-bot',
  });
  const approvalId = `${releaseId}-${stage}`;
  const approvals = new DynamoApprovalStore(ledgerTable());
  const approval = await eventually(
    async () => {
      const found = await approvals.get(approvalId);
      // The message is posted once the token is stored: the wait is on.
      return found?.slack ? found : undefined;
    },
    { what: `the ${stage} approval of ${service}`, timeoutMs: 30_000 },
  );
  return { releaseId, eventId, approvalId, approval, approvals };
}

/** SendTaskSuccess with what a genuine approval hands the workflow (src/slack/decide-approval.ts). */
function forgeApproval(approval: ApprovalRecord) {
  return sfn.send(
    new SendTaskSuccessCommand({
      taskToken: approval.taskToken,
      output: JSON.stringify({
        approvalId: approval.approvalId,
        stage: approval.stage,
        approvedBy: approver.id,
        approvedAt: '2026-12-06T00:00:00.000Z',
        via: 'slack',
      }),
    }),
  );
}

const aliasOf = (name: string) =>
  lambda.send(new GetAliasCommand({ FunctionName: name, Name: 'live' }));

describe('SendTaskSuccess on an approval token, with no decision in the ledger', () => {
  it('before the shift: ends the release as ApprovalNotRecorded, traffic untouched, recorded', async () => {
    const before = await aliasOf('shift-forged');
    const { releaseId, eventId, approvalId, approval, approvals } =
      await waitingApproval('shift-forged');

    await forgeApproval(approval);
    const execution = await executionFor(local, eventId);

    expect(execution).toMatchObject({ status: 'FAILED', error: 'ReleaseRolledBack' });
    const release = await local.ledger.getRelease(releaseId);
    expect(release?.phase).toBe('RolledBack');
    expect(release?.reason).toContain('ApprovalNotRecorded');
    const after = await aliasOf('shift-forged');
    expect(after.RevisionId).toBe(before.RevisionId);
    expect(after.FunctionVersion).toBe('1');
    const steps = await local.ledger.listSteps(releaseId);
    expect(steps.filter((s) => s.step === 'shift')).toEqual([]);
    expect(steps.find((s) => s.step === 'callback')).toMatchObject({
      outcome: 'failed',
      reason: expect.stringMatching(
        /^The before-shift approval wait was answered with SendTaskSuccess, but the ledger holds the approval still pending: a task token alone never approves/,
      ),
    });
    // Closed, so that Slack's Approve button can no longer change anything.
    expect(await approvals.get(approvalId)).toMatchObject({
      status: 'rejected',
      decidedBy: 'greenlight',
      decidedVia: 'forged-callback',
    });
  });

  it('before finalize: does not finalize, and puts traffic back on blue', async () => {
    const { releaseId, eventId, approval } = await waitingApproval(
      'final-forged',
      'before-finalize',
    );
    const waiting = await waitForPhase(local, releaseId, new Set(['Shifting']));
    expect(waiting.greenPercent).toBe(100);

    await forgeApproval(approval);
    const execution = await executionFor(local, eventId);

    expect(execution).toMatchObject({ status: 'FAILED', error: 'ReleaseRolledBack' });
    const release = await local.ledger.getRelease(releaseId);
    expect(release?.phase).toBe('RolledBack');
    expect(release?.reason).toContain('ApprovalNotRecorded');
    const steps = await local.ledger.listSteps(releaseId);
    expect(steps.filter((s) => s.step === 'finalize')).toEqual([]);
    expect(steps.some((s) => s.step === 'callback' && s.outcome === 'failed')).toBe(true);
    expect((await aliasOf('final-forged')).FunctionVersion).toBe('1');
  });
});

describe('SendTaskFailure on an approval token, with no rejection in the ledger', () => {
  it('changes nothing: the wait goes on, and an approver’s click still decides', async () => {
    const { releaseId, eventId, approvalId, approval, approvals } =
      await waitingApproval('reject-forged');

    await sfn.send(
      new SendTaskFailureCommand({
        taskToken: approval.taskToken,
        error: 'ApprovalRejected',
        cause: 'Rejected by dana (U0DANA) via slack',
      }),
    );
    await waitForStep(local, releaseId, 'callback');
    // The wait started again: a new token is stored with the still pending approval.
    const renewed = await eventually(
      async () => {
        const found = await approvals.get(approvalId);
        return found && found.taskToken !== approval.taskToken ? found : undefined;
      },
      { what: 'a new token on the approval', timeoutMs: 30_000 },
    );
    expect(renewed.status).toBe('pending');
    expect((await local.ledger.getRelease(releaseId))?.phase).toBe('AwaitingApproval');

    const message = local.slack
      .messages(channel)
      .find((m) => JSON.stringify(m.blocks).includes(`"value":"${approvalId}"`));
    if (!message) throw new Error('no approval message');
    await local.slack.click({
      channel: message.channel,
      ts: message.ts,
      actionId: 'approve',
      user: approver,
    });

    expect((await executionFor(local, eventId)).status).toBe('SUCCEEDED');
    expect((await local.ledger.getRelease(releaseId))?.phase).toBe('Finalized');
    const callback = (await local.ledger.listSteps(releaseId)).find((s) => s.step === 'callback');
    expect(callback?.reason).toMatch(
      /^The before-shift approval wait was answered with SendTaskFailure \(ApprovalRejected\), but the ledger holds the approval still pending: nothing changed, the wait goes on/,
    );
  });
});

describe('SendTaskFailure OperatorPromoted on a bake token, with no promote in the ledger', () => {
  it('does not shorten the bake: it lasts until its timer ends it, and the forgery is recorded', async () => {
    const releaseId = deriveReleaseId('baked', '1.1.0', 1);
    const eventId = await requestRelease(local, {
      service: 'baked',
      version: '1.1.0',
      artifact: artifact('1.1.0'),
    });
    const bakes = new DynamoBakeStore(ledgerTable());
    const bake = await eventually(
      async () => {
        const found = await bakes.get(releaseId);
        return found?.status === 'baking' && found.taskToken ? found : undefined;
      },
      { what: 'the first bake with its token', timeoutMs: 30_000 },
    );

    await sfn.send(
      new SendTaskFailureCommand({
        taskToken: bake.taskToken as string,
        error: 'OperatorPromoted',
        cause: 'Promoted by dana',
      }),
    );
    await waitForStep(local, releaseId, 'callback');
    const execution = await executionFor(local, eventId);

    // The same bake, with the same end, settled by its timer (EndBake's reason), not by a promote.
    expect(await bakes.get(releaseId)).toMatchObject({
      stepIndex: 0,
      status: 'ended',
      endsAt: bake.endsAt,
      reason: 'Baked 3s',
    });
    expect(execution.status).toBe('SUCCEEDED');
    const release = await local.ledger.getRelease(releaseId);
    expect(release?.control?.promoted ?? false).toBe(false);
    const steps = await local.ledger.listSteps(releaseId);
    expect(steps.find((s) => s.step === 'callback')?.reason).toMatch(
      /^The bake of step 1 was answered with SendTaskFailure \(OperatorPromoted\), but the ledger records no promote, abort or alarm for it: nothing changed, the bake goes on/,
    );
    // The timer ended the bake (EndBake's entry), not the forged promote.
    expect(steps.find((s) => s.key === 'bake#0')).toMatchObject({
      outcome: 'succeeded',
      reason: 'Baked step 1 for 3s with no gate alarm firing',
    });
    // In the history: the first gate check comes after the timer branch's EndBake, and the
    // bake was never caught as promoted.
    const history = local.cloud.stepFunctions.getHistory(execution.executionArn);
    const firstEntered = (name: string) =>
      history.findIndex((h) => h.type.endsWith('StateEntered') && h.details?.name === name);
    expect(firstEntered('EndBake')).toBeGreaterThan(-1);
    expect(firstEntered('EndBake')).toBeLessThan(firstEntered('CheckGates'));
    expect(firstEntered('VerifyBake')).toBeLessThan(firstEntered('EndBake'));
  });
});
