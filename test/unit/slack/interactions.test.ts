import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { StaticServiceRegistry } from '../../../src/core/registry.ts';

// The leak checks search the handlers' logs, so they must be written: INFO, whatever the suite
// default is (set before the handler modules create their logger).
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
});

import type { ApprovalRecord, ReleaseRecord } from '../../../src/core/records.ts';
import {
  functionUrlEvent,
  type InteractionRequest,
  type StoredMessage,
} from '../../../src/local/slack-standin.ts';
import { createStepHandler } from '../../../src/runtime/step-handler.ts';
import { createInteractionDependencies } from '../../../src/slack/dependencies.ts';
import type {
  InteractionDependencies,
  InteractionResponse,
} from '../../../src/slack/interactions.ts';
import { approvalTimeoutStep } from '../../../src/steps/approval-timeout.ts';
import { requestApprovalStep } from '../../../src/steps/request-approval.ts';
import { eventually } from '../../support/eventually.ts';
import {
  aLambdaContext,
  approvalDefinition,
  approver,
  aSlackService,
  botToken,
  channel,
  groupMember,
  type Harness,
  ledgerTable,
  OutputCapture,
  recordingLog,
  registryTable,
  signingSecret,
  startHarness,
  stranger,
} from './harness.ts';

let harness: Harness;
let handler: typeof import('../../../functions/slack-interactions.ts')['handler'];
let createSlackInteractionsHandler: typeof import('../../../functions/slack-interactions.ts')['createSlackInteractionsHandler'];
const output = new OutputCapture();
const logLines: string[] = [];
/** Every task token handed out; none may show up in Slack or in any log. */
const tokens = new Set<string>();
const context = aLambdaContext('slack-interactions');

async function invoke(request: InteractionRequest, options: { base64?: boolean } = {}) {
  const result = (await handler(
    functionUrlEvent(request, options),
    context as never,
  )) as InteractionResponse;
  return { status: result.statusCode ?? 0, body: String(result.body ?? '') };
}

beforeAll(async () => {
  harness = await startHarness({ registry: [aSlackService()] });
  // The real function reads its environment on first use: point it at the local cloud.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: harness.awsEndpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_BOT_TOKEN: botToken,
    SLACK_API_URL: harness.slackApiUrl,
    GREENLIGHT_LEDGER_TABLE: ledgerTable,
    GREENLIGHT_REGISTRY_TABLE: registryTable,
  });
  const slackInteractions = await import('../../../functions/slack-interactions.ts');
  createSlackInteractionsHandler = slackInteractions.createSlackInteractionsHandler;
  // The function's own dependencies, read from its environment as in Lambda, but on the
  // harness's clock, which LocalSlack signs with: a request is exactly as old as a test makes it.
  let shared: InteractionDependencies | undefined;
  handler = createSlackInteractionsHandler(() => {
    shared ??= {
      ...createInteractionDependencies(slackInteractions.logger),
      now: () => harness.clock.now(),
    };
    return shared;
  });
  harness.deliver = (request) => invoke(request);
  harness.sfn.createStateMachine({
    name: 'approval',
    definition: approvalDefinition(),
    functions: {
      'request-approval': createStepHandler(requestApprovalStep, () => harness.stepDeps()),
      'approval-timeout': createStepHandler(approvalTimeoutStep, () => harness.stepDeps()),
    },
  });
  harness.sfn.createStateMachine({
    name: 'approval-short',
    definition: approvalDefinition(1),
    functions: {
      'request-approval': createStepHandler(requestApprovalStep, () => harness.stepDeps()),
      'approval-timeout': createStepHandler(approvalTimeoutStep, () => harness.stepDeps()),
    },
  });
  output.start();
});

afterAll(async () => {
  output.stop();
  await harness?.close();
});

afterEach(async () => {
  // Tokens the approvals hold now (renewed ones included).
  for (const task of harness.sfn.pendingTasks()) tokens.add(task.taskToken);
  expect(tokens.size).toBeGreaterThan(0);
  const sources: [string, string[]][] = [
    ['Slack API request bodies', harness.slack.calls.map((call) => call.rawBody)],
    ['Slack messages', harness.slack.messages().map((message) => JSON.stringify(message))],
    ['ephemeral messages', harness.slack.ephemerals.map((message) => JSON.stringify(message))],
    ['interaction requests', harness.slack.interactions.map((entry) => JSON.stringify(entry))],
    ['stdout and stderr', output.lines],
    ['interaction logs', logLines],
  ];
  const leaks = sources.flatMap(([source, texts]) =>
    texts.flatMap((text, index) =>
      [...tokens].some((token) => text.includes(token)) ? [`${source} #${index}`] : [],
    ),
  );
  expect(leaks).toEqual([]);
});

interface Waiting {
  release: ReleaseRecord;
  executionArn: string;
  approval: ApprovalRecord;
  message: StoredMessage;
}

/** Starts a release's approval and waits until its Slack message is posted and attached. */
async function awaitingApproval(version: string, machine = 'approval'): Promise<Waiting> {
  const release = await harness.addRelease(version);
  const {
    releaseId: _id,
    phase: _p,
    reason: _r,
    executionId: _e,
    colours,
    greenPercent: _g,
    stepIndex: _s,
    updatedAt: _u,
    ...rest
  } = release;
  const spec = { releaseId: release.releaseId, ...rest };
  const { executionArn } = harness.sfn.startExecution(
    machine,
    { release: spec, colours },
    release.releaseId,
  );
  const approval = await eventually(
    async () => {
      const stored = await harness.approvals.get(`${release.releaseId}-before-shift`);
      const steps = await harness.ledger.listSteps(release.releaseId);
      return stored?.slack && steps.some((step) => step.step === 'approval-request')
        ? stored
        : undefined;
    },
    { what: `the approval message of ${version}`, intervalMs: 10 },
  );
  tokens.add(approval.taskToken);
  const slack = approval.slack as { channel: string; ts: string };
  const message = harness.slack.message(slack.channel, slack.ts) as StoredMessage;
  return { release, executionArn, approval, message };
}

function click(
  waiting: Waiting,
  actionId: 'approve' | 'reject',
  user = approver,
  timestamp?: number,
) {
  return harness.slack.click({
    channel: waiting.message.channel,
    ts: waiting.message.ts,
    actionId,
    user,
    ...(timestamp === undefined ? {} : { timestamp }),
  });
}

/** Asserts that the approval is untouched: still pending, task waiting, message as posted, no entry. */
async function expectNothingChanged(waiting: Waiting) {
  expect(await harness.approvals.get(waiting.approval.approvalId)).toEqual(waiting.approval);
  expect(harness.sfn.pendingTasks(waiting.executionArn)).toHaveLength(1);
  expect(harness.sfn.getExecution(waiting.executionArn).status).toBe('RUNNING');
  expect(harness.slack.message(waiting.message.channel, waiting.message.ts)?.history).toEqual([]);
  const steps = await harness.ledger.listSteps(waiting.release.releaseId);
  expect(steps.filter((step) => step.step === 'approval')).toEqual([]);
  expect((await harness.ledger.getRelease(waiting.release.releaseId))?.phase).toBe(
    'AwaitingApproval',
  );
}

describe('the approval message', () => {
  it('is posted with the release facts and buttons carrying only the approval id', async () => {
    const waiting = await awaitingApproval('2.0.0');
    const shown = JSON.stringify(waiting.message);

    expect(waiting.message.channel).toBe(channel);
    expect(waiting.message.text).toBe('Approval needed: checkout 2.0.0 (before any traffic moves)');
    expect(shown).toContain('1 of 1 test passed: health (12 ms)');
    expect(shown).toContain('<https://github.com/acme/checkout/actions/runs/42|github-actions>');
    const buttons = waiting.message.blocks.flatMap((block) =>
      block.type === 'actions' ? (block.elements as { action_id: string; value: string }[]) : [],
    );
    const approvalId = `${waiting.release.releaseId}-before-shift`;
    expect(waiting.approval.approvalId).toBe(approvalId);
    expect(buttons.map((b) => [b.action_id, b.value])).toEqual([
      ['approve', approvalId],
      ['reject', approvalId],
    ]);
    await harness.sfn.stopExecution(waiting.executionArn);
  });
});

describe('the Slack interactivity endpoint', () => {
  it('approves: SendTaskSuccess with the stored token, ledger entry, message updated', async () => {
    const waiting = await awaitingApproval('2.1.0');

    const reply = await click(waiting, 'approve');
    const execution = await harness.sfn.waitForExecution(waiting.executionArn);

    expect(reply.status).toBe(200);
    expect(execution.status).toBe('SUCCEEDED');
    const approvalOutput = JSON.parse(execution.output as string).approval;
    expect(approvalOutput).toEqual({
      approvalId: waiting.approval.approvalId,
      stage: 'before-shift',
      approvedBy: approver.id,
      approvedByName: approver.username,
      approvedAt: expect.any(String),
      via: 'slack',
    });
    const stored = await harness.approvals.get(waiting.approval.approvalId);
    expect(stored).toMatchObject({
      status: 'approved',
      decidedBy: approver.id,
      decidedVia: 'slack',
      decidedAt: approvalOutput.approvedAt,
    });
    const steps = await harness.ledger.listSteps(waiting.release.releaseId);
    expect(steps.find((step) => step.step === 'approval')).toMatchObject({
      key: 'approval#before-shift',
      outcome: 'succeeded',
      at: approvalOutput.approvedAt,
      reason: `Approved by dana (U0DANA) via slack at ${approvalOutput.approvedAt}`,
      // A click's identity is the Slack user its verified signature vouches for: no AWS principal.
      identity: { source: 'slack-signature', actor: 'dana', slackUserId: 'U0DANA' },
    });
    expect(stored?.principalArn).toBeUndefined();
    // The release left AwaitingApproval before the workflow heard: its first weight step may run.
    expect(await harness.ledger.getRelease(waiting.release.releaseId)).toMatchObject({
      phase: 'Shifting',
      stepIndex: -1,
      reason: 'Approved by dana (U0DANA); shifting traffic',
    });
    const message = harness.slack.message(waiting.message.channel, waiting.message.ts);
    expect(message?.history).toHaveLength(1);
    expect(message?.blocks.some((block) => block.type === 'actions')).toBe(false);
    expect(JSON.stringify(message?.blocks)).toContain(':white_check_mark: *Approved* by <@U0DANA>');
    // The logs the leak check searches are really captured.
    expect(output.lines.join('')).toContain('"message":"Approval decided in Slack"');
    expect(output.lines.join('')).toContain('"message":"request-approval done"');
  });

  it('rejects: SendTaskFailure ApprovalRejected with who and when, message updated', async () => {
    const waiting = await awaitingApproval('2.2.0');

    const reply = await click(waiting, 'reject');
    const execution = await harness.sfn.waitForExecution(waiting.executionArn);

    expect(reply.status).toBe(200);
    const stored = await harness.approvals.get(waiting.approval.approvalId);
    expect(JSON.parse(execution.output as string).failure).toEqual({
      Error: 'ApprovalRejected',
      Cause: `Rejected by dana (U0DANA) via slack at ${stored?.decidedAt}`,
    });
    expect(stored?.status).toBe('rejected');
    expect(await harness.ledger.getRelease(waiting.release.releaseId)).toMatchObject({
      phase: 'RollingBack',
      reason: 'Denied by dana (U0DANA): no reason given',
    });
    const steps = await harness.ledger.listSteps(waiting.release.releaseId);
    expect(steps.find((step) => step.step === 'approval')).toMatchObject({ outcome: 'failed' });
    expect(
      JSON.stringify(harness.slack.message(waiting.message.channel, waiting.message.ts)?.blocks),
    ).toContain(':no_entry: *Rejected* by <@U0DANA>');
  });

  it('refuses a forged signature with 401 and changes nothing', async () => {
    const waiting = await awaitingApproval('2.3.0');
    const ephemerals = harness.slack.ephemerals.length;
    const genuine = await signedClick(waiting, 'approve');

    const forged = await invoke({
      ...genuine,
      headers: { ...genuine.headers, 'x-slack-signature': `v0=${'0'.repeat(64)}` },
    });
    const tampered = await invoke({ ...genuine, body: genuine.body.replace('dana', 'mallory') });

    expect([forged.status, tampered.status]).toEqual([401, 401]);
    await expectNothingChanged(waiting);
    expect(harness.slack.ephemerals).toHaveLength(ephemerals);
    await harness.sfn.stopExecution(waiting.executionArn);
  });

  it('refuses a timestamp more than five minutes old with 401 and changes nothing', async () => {
    const waiting = await awaitingApproval('2.4.0');

    const reply = await click(waiting, 'approve', approver, harness.clock.epochSeconds() - 301);

    expect(reply).toMatchObject({
      status: 401,
      body: 'Request timestamp is more than 300 s from now',
    });
    await expectNothingChanged(waiting);
    await harness.sfn.stopExecution(waiting.executionArn);
  });

  it('refuses a replayed request with 401, even when the first copy was refused as a non-approver', async () => {
    const waiting = await awaitingApproval('2.5.0');
    const request = await signedClick(waiting, 'approve', stranger);
    expect((await invoke(request)).status).toBe(403);
    const ephemerals = harness.slack.ephemerals.length;

    const [again, concurrent] = await Promise.all([invoke(request), invoke(request)]);

    expect([again.status, concurrent.status]).toEqual([401, 401]);
    expect(again.body).toBe('Request was already received');
    expect(harness.slack.ephemerals).toHaveLength(ephemerals);
    await expectNothingChanged(waiting);
    await harness.sfn.stopExecution(waiting.executionArn);
  });

  it('accepts exactly one of two concurrent copies of a valid request', async () => {
    const waiting = await awaitingApproval('2.5.1');
    const request = await signedClick(waiting, 'approve');

    const replies = await Promise.all([invoke(request), invoke(request)]);

    expect(replies.map((reply) => reply.status).sort()).toEqual([200, 401]);
    expect((await harness.sfn.waitForExecution(waiting.executionArn)).status).toBe('SUCCEEDED');
    expect(
      harness.slack.message(waiting.message.channel, waiting.message.ts)?.history,
    ).toHaveLength(1);
  });

  it('refuses a non-approver with 403, tells them privately, and changes nothing', async () => {
    const waiting = await awaitingApproval('2.6.0');

    const reply = await click(waiting, 'approve', stranger);

    expect(reply.status).toBe(403);
    await expectNothingChanged(waiting);
    expect(harness.slack.ephemerals.at(-1)).toEqual({
      channel,
      user: stranger.id,
      text: 'You are not an approver for checkout; nothing changed. Approvers: <@U0DANA>.',
    });
    await harness.sfn.stopExecution(waiting.executionArn);
  });

  it('answers a second click on the same button "already approved" and changes nothing', async () => {
    const waiting = await awaitingApproval('2.7.0');
    await click(waiting, 'approve');
    const execution = await harness.sfn.waitForExecution(waiting.executionArn);
    const afterFirst = await snapshot(waiting);

    const second = await click(waiting, 'approve');

    expect(second.status).toBe(200);
    const decidedAt = (await harness.approvals.get(waiting.approval.approvalId))
      ?.decidedAt as string;
    expect(harness.slack.ephemerals.at(-1)).toEqual({
      channel,
      user: approver.id,
      text: `Already approved by <@U0DANA> at <!date^${Math.floor(Date.parse(decidedAt) / 1000)}^{date_short_pretty} {time}|${decidedAt}>; nothing changed.`,
    });
    expect(await snapshot(waiting)).toEqual(afterFirst);
    expect(harness.sfn.getExecution(waiting.executionArn)).toEqual(execution);
  });

  it('answers a click on the other button after a decision "already approved" and changes nothing', async () => {
    const waiting = await awaitingApproval('2.8.0');
    await click(waiting, 'approve');
    await harness.sfn.waitForExecution(waiting.executionArn);
    const afterFirst = await snapshot(waiting);

    const other = await click(waiting, 'reject');

    expect(other.status).toBe(200);
    expect(harness.slack.ephemerals.at(-1)?.text).toMatch(/^Already approved by <@U0DANA> at /);
    expect(await snapshot(waiting)).toEqual(afterFirst);
    expect(harness.sfn.getExecution(waiting.executionArn).status).toBe('SUCCEEDED');
  });

  it('reads a base64-encoded body, as function URLs deliver some', async () => {
    const waiting = await awaitingApproval('2.9.0');

    const reply = await invoke(await signedClick(waiting, 'approve'), { base64: true });

    expect(reply.status).toBe(200);
    expect((await harness.sfn.waitForExecution(waiting.executionArn)).status).toBe('SUCCEEDED');
  });

  it('records a decision that came after the workflow stopped waiting, and says so', async () => {
    const waiting = await awaitingApproval('2.10.0');
    await harness.sfn.stopExecution(waiting.executionArn);

    const reply = await click(waiting, 'approve');

    expect(reply.status).toBe(200);
    const steps = await harness.ledger.listSteps(waiting.release.releaseId);
    expect(steps.find((step) => step.step === 'approval')).toMatchObject({
      outcome: 'failed',
      reason: expect.stringMatching(
        /but the release had stopped waiting \(TaskDoesNotExist\); nothing changed$/,
      ),
    });
    expect(
      JSON.stringify(harness.slack.message(waiting.message.channel, waiting.message.ts)?.blocks),
    ).toContain('The release had stopped waiting; this decision changed nothing.');
  });

  it('accepts a member of an approver user group (usergroups.users.list)', async () => {
    const lines: string[] = [];
    const withGroups = createSlackInteractionsHandler(() => ({
      ...harness.interactionDeps(recordingLog(lines)),
      registry: new StaticServiceRegistry([aSlackService({ groups: true })]),
    }));
    const waiting = await awaitingApproval('2.11.0');
    const request = await signedClick(waiting, 'approve', groupMember);

    const reply = (await withGroups(
      functionUrlEvent(request),
      context as never,
    )) as InteractionResponse;
    logLines.push(...lines);

    expect(reply.statusCode).toBe(200);
    expect(harness.slack.calls.some((call) => call.method === 'usergroups.users.list')).toBe(true);
    const execution = await harness.sfn.waitForExecution(waiting.executionArn);
    expect(JSON.parse(execution.output as string).approval.approvedBy).toBe(groupMember.id);
    expect(lines.map((line) => JSON.parse(line).message)).toEqual(['Approval decided in Slack']);
  });
});

describe('the approval timeout', () => {
  it('rejects by default, updates the message, and a late click changes nothing', async () => {
    const waiting = await awaitingApproval('3.0.0', 'approval-short');

    const execution = await harness.sfn.waitForExecution(waiting.executionArn);

    expect(execution.status).toBe('SUCCEEDED');
    const state = JSON.parse(execution.output as string);
    expect(state.failure.Error).toBe('States.Timeout');
    expect(state.timeout.outcome).toEqual({
      approvalId: waiting.approval.approvalId,
      action: 'reject',
      status: 'timed-out',
      reason: `No decision by ${waiting.approval.expiresAt}; the release is rejected before any traffic moved`,
    });
    expect(await harness.approvals.get(waiting.approval.approvalId)).toMatchObject({
      status: 'timed-out',
      decidedBy: 'greenlight',
      decidedVia: 'timeout',
    });
    expect(
      JSON.stringify(harness.slack.message(waiting.message.channel, waiting.message.ts)?.blocks),
    ).toContain(':hourglass: *No decision*');
    const afterTimeout = await snapshot(waiting);

    const late = await click(waiting, 'approve');

    expect(late.status).toBe(200);
    expect(harness.slack.ephemerals.at(-1)?.text).toMatch(
      /^This approval timed out at .*; nothing changed\.$/,
    );
    expect(await snapshot(waiting)).toEqual(afterTimeout);
  });
});

/** A genuine signed click on the message, not yet delivered. */
async function signedClick(waiting: Waiting, actionId: 'approve' | 'reject', user = approver) {
  const captured: InteractionRequest[] = [];
  const deliver = harness.deliver;
  harness.deliver = async (request) => {
    captured.push(request);
    return { status: 0, body: '' };
  };
  try {
    await click(waiting, actionId, user);
  } finally {
    harness.deliver = deliver;
  }
  return captured[0] as InteractionRequest;
}

async function snapshot(waiting: Waiting) {
  return {
    approval: await harness.approvals.get(waiting.approval.approvalId),
    steps: await harness.ledger.listSteps(waiting.release.releaseId),
    message: structuredClone(harness.slack.message(waiting.message.channel, waiting.message.ts)),
  };
}
