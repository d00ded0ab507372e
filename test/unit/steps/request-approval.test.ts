import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidStepInput } from '../../../src/core/errors.ts';
import type { ReleaseRecord } from '../../../src/core/records.ts';
import { StaticServiceRegistry } from '../../../src/core/registry.ts';
import { SlackApiFailed } from '../../../src/slack/errors.ts';
import { approvalTimeoutStep } from '../../../src/steps/approval-timeout.ts';
import {
  type RequestApprovalInput,
  requestApprovalStep,
} from '../../../src/steps/request-approval.ts';
import { aService } from '../../support/builders.ts';
import { RecordingCallbacks } from '../../support/fakes.ts';
import { approver, channel, type Harness, startHarness } from '../slack/harness.ts';

const now = new Date('2026-11-21T10:00:00.000Z');
let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({
    registry: [aService({ approval: { type: 'slack', channel, approvers: [approver.id] } })],
    slackNow: () => now,
  });
});

afterAll(async () => {
  await harness.close();
});

function deps(callbacks = new RecordingCallbacks()) {
  return { ...harness.stepDeps(() => now), callbacks };
}

function inputFor(release: ReleaseRecord, taskToken: string): RequestApprovalInput {
  const {
    phase: _p,
    reason: _r,
    executionId: _e,
    colours: _c,
    greenPercent: _g,
    stepIndex: _s,
    updatedAt: _u,
    ...spec
  } = release;
  return { release: spec, colours: { blue: '7', green: '8' }, stage: 'before-shift', taskToken };
}

function messagesOf(release: ReleaseRecord) {
  return harness.slack
    .messages(channel)
    .filter((message) =>
      JSON.stringify(message.blocks[0]).includes(`"Release checkout ${release.version}"`),
    );
}

describe('requestApprovalStep', () => {
  it('creates the approval with the token, posts the message, attaches it and records a step', async () => {
    const release = await harness.addRelease('5.0.0');

    const outcome = await requestApprovalStep.run(inputFor(release, 'token-1'), deps());

    const approvalId = `${release.releaseId}-before-shift`;
    const [message] = messagesOf(release);
    expect(outcome).toEqual({
      approvalId,
      status: 'pending',
      message: 'posted',
      channel,
      ts: message?.ts,
    });
    expect(await harness.approvals.get(approvalId)).toEqual({
      approvalId,
      releaseId: release.releaseId,
      service: 'checkout',
      version: '5.0.0',
      stage: 'before-shift',
      taskToken: 'token-1',
      status: 'pending',
      requestedAt: '2026-11-21T10:00:00.000Z',
      expiresAt: '2026-11-22T10:00:00.000Z',
      slack: { channel, ts: message?.ts },
    });
    expect(JSON.stringify(outcome)).not.toContain('token-1');
    expect(JSON.stringify(message)).not.toContain('token-1');
    const steps = await harness.ledger.listSteps(release.releaseId);
    expect(steps.find((step) => step.step === 'approval-request')).toEqual({
      key: 'approval-request#before-shift',
      step: 'approval-request',
      at: '2026-11-21T10:00:00.000Z',
      outcome: 'started',
      phase: 'AwaitingApproval',
      reason: `Approval ${approvalId} requested in Slack channel ${channel} from U0DANA; waiting until 2026-11-22T10:00:00.000Z`,
    });
  });

  it('posts nothing new when run again with the same token', async () => {
    const release = await harness.addRelease('5.1.0');
    const first = await requestApprovalStep.run(inputFor(release, 'token-1'), deps());

    const again = await requestApprovalStep.run(inputFor(release, 'token-1'), deps());

    expect(again).toEqual({ ...first, message: 'existing' });
    expect(messagesOf(release)).toHaveLength(1);
  });

  it('moves a pending approval to the new token of a retried wait, without a second message', async () => {
    const release = await harness.addRelease('5.2.0');
    await requestApprovalStep.run(inputFor(release, 'token-1'), deps());

    await requestApprovalStep.run(inputFor(release, 'token-2'), deps());

    expect((await harness.approvals.get(`${release.releaseId}-before-shift`))?.taskToken).toBe(
      'token-2',
    );
    expect(messagesOf(release)).toHaveLength(1);
  });

  it('hands a decision taken between attempts to the new token at once', async () => {
    const release = await harness.addRelease('5.3.0');
    await requestApprovalStep.run(inputFor(release, 'token-1'), deps());
    const approvalId = `${release.releaseId}-before-shift`;
    await harness.approvals.decide(approvalId, {
      status: 'approved',
      by: 'U0DANA',
      at: '2026-11-21T10:01:00.000Z',
      via: 'slack',
    });
    const callbacks = new RecordingCallbacks();

    const outcome = await requestApprovalStep.run(inputFor(release, 'token-2'), deps(callbacks));

    expect(outcome).toEqual({ approvalId, status: 'approved', message: 'none' });
    expect(callbacks.sent).toEqual([
      {
        kind: 'succeed',
        taskToken: 'token-2',
        output: {
          approvalId,
          stage: 'before-shift',
          approvedBy: 'U0DANA',
          approvedAt: '2026-11-21T10:01:00.000Z',
          via: 'slack',
        },
      },
    ]);
    expect(messagesOf(release)).toHaveLength(1);
  });

  it('fails with SlackApiFailed when Slack refuses, and posts on the retry', async () => {
    const release = await harness.addRelease('5.4.0');
    const broken = {
      ...deps(),
      slack: {
        ...harness.messenger,
        postMessage: async () => {
          throw new SlackApiFailed('chat.postMessage', 'channel_not_found');
        },
      },
    };

    await expect(
      requestApprovalStep.run(inputFor(release, 'token-1'), broken as never),
    ).rejects.toThrow(new SlackApiFailed('chat.postMessage', 'channel_not_found'));
    const retried = await requestApprovalStep.run(inputFor(release, 'token-2'), deps());

    expect(retried.message).toBe('posted');
    expect(messagesOf(release)).toHaveLength(1);
  });

  it('fails its own wait at once when an operator aborted the release before it started', async () => {
    const release = await harness.addRelease('5.6.0');
    await harness.ledger.updateRelease(
      release.releaseId,
      {
        phase: 'RollingBack',
        reason: 'Aborted by dana: wrong build',
        control: { paused: false, promoted: false, aborted: true },
      },
      ['AwaitingApproval'],
    );
    const callbacks = new RecordingCallbacks();

    const outcome = await requestApprovalStep.run(inputFor(release, 'token-1'), deps(callbacks));

    expect(outcome).toMatchObject({ status: 'rejected', message: 'none' });
    expect(callbacks.sent).toEqual([
      {
        kind: 'fail',
        taskToken: 'token-1',
        error: 'OperatorAborted',
        cause: 'Aborted by dana: wrong build',
      },
    ]);
    expect(messagesOf(release)).toHaveLength(0);
  });

  it('refuses a service without Slack approval as a workflow bug', async () => {
    const release = await harness.addRelease('5.5.0');
    const noApproval = deps();
    noApproval.registry = new StaticServiceRegistry([aService()]);

    await expect(
      requestApprovalStep.run(inputFor(release, 'token-1'), noApproval),
    ).rejects.toBeInstanceOf(InvalidStepInput);
  });

  it('validates its input: a missing token is refused', () => {
    const parsed = requestApprovalStep.input.safeParse({ stage: 'before-shift' });
    expect(parsed.success).toBe(false);
  });
});

describe('approvalTimeoutStep', () => {
  it('marks a pending approval timed out, updates the message, records it and answers reject', async () => {
    const release = await harness.addRelease('6.0.0');
    await requestApprovalStep.run(inputFor(release, 'token-1'), deps());
    const approvalId = `${release.releaseId}-before-shift`;
    const later = new Date('2026-11-22T10:00:01.000Z');
    const timeoutDeps = { ...deps(), now: () => later };

    const outcome = await approvalTimeoutStep.run(
      { release: inputFor(release, '').release, stage: 'before-shift' },
      timeoutDeps,
    );
    const again = await approvalTimeoutStep.run(
      { release: inputFor(release, '').release, stage: 'before-shift' },
      timeoutDeps,
    );

    const reason =
      'No decision by 2026-11-22T10:00:00.000Z; the release is rejected before any traffic moved';
    expect(outcome).toEqual({ approvalId, action: 'reject', status: 'timed-out', reason });
    expect(again).toEqual(outcome);
    expect(await harness.approvals.get(approvalId)).toMatchObject({
      status: 'timed-out',
      decidedBy: 'greenlight',
      decidedAt: '2026-11-22T10:00:01.000Z',
      decidedVia: 'timeout',
    });
    const [message] = messagesOf(release);
    expect(JSON.stringify(message?.blocks)).toContain(':hourglass: *No decision*');
    expect(message?.blocks.some((block) => block.type === 'actions')).toBe(false);
    const steps = await harness.ledger.listSteps(release.releaseId);
    expect(steps.filter((step) => step.step === 'approval')).toEqual([
      {
        key: 'approval#before-shift',
        step: 'approval',
        at: '2026-11-22T10:00:01.000Z',
        outcome: 'failed',
        phase: 'RollingBack',
        reason,
      },
    ]);
    expect(await harness.ledger.getRelease(release.releaseId)).toMatchObject({
      phase: 'RollingBack',
      reason: 'Denied by greenlight: no decision in time',
    });
  });

  it('lets the release go on when the service says approve on timeout', async () => {
    const lenient = aService({
      approval: { type: 'slack', channel, approvers: [approver.id], onTimeout: 'approve' },
    });
    const release = await harness.addRelease('6.3.0');
    const lenientDeps = { ...deps(), registry: new StaticServiceRegistry([lenient]) };
    await requestApprovalStep.run(inputFor(release, 'token-1'), lenientDeps);

    const outcome = await approvalTimeoutStep.run(
      { release: inputFor(release, '').release, stage: 'before-shift' },
      lenientDeps,
    );

    expect(outcome).toMatchObject({ action: 'approve', status: 'timed-out' });
    expect(await harness.ledger.getRelease(release.releaseId)).toMatchObject({
      phase: 'Shifting',
      stepIndex: -1,
      reason: 'Approved by greenlight (no decision in time); shifting traffic',
    });
    expect(JSON.stringify(messagesOf(release)[0]?.blocks)).toContain(
      'the release was approved, as its service asks on timeout',
    );
  });

  it('leaves a human decision that won the race in place, and still answers reject', async () => {
    const release = await harness.addRelease('6.1.0');
    await requestApprovalStep.run(inputFor(release, 'token-1'), deps());
    const approvalId = `${release.releaseId}-before-shift`;
    await harness.approvals.decide(approvalId, {
      status: 'approved',
      by: 'U0DANA',
      at: '2026-11-22T09:59:59.000Z',
      via: 'slack',
    });
    const before = messagesOf(release)[0]?.history.length;

    const outcome = await approvalTimeoutStep.run(
      { release: inputFor(release, '').release, stage: 'before-shift' },
      deps(),
    );

    expect(outcome).toMatchObject({ action: 'reject', status: 'approved' });
    expect(outcome.reason).toContain('although the approval was approved by U0DANA');
    expect((await harness.approvals.get(approvalId))?.status).toBe('approved');
    expect(messagesOf(release)[0]?.history.length).toBe(before);
  });

  it('answers reject when no approval was ever requested', async () => {
    const release = await harness.addRelease('6.2.0');

    const outcome = await approvalTimeoutStep.run(
      { release: inputFor(release, '').release, stage: 'before-shift' },
      deps(),
    );

    expect(outcome).toMatchObject({ action: 'reject', status: 'timed-out' });
    expect(outcome.reason).toMatch(/^No approval was ever requested/);
  });
});
