import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BakeStore } from '../../../src/core/ports.ts';
import type { BakeRecord, ReleaseRecord, ReleaseSpec } from '../../../src/core/records.ts';
import { forgedCallbackFilter } from '../../../src/infra/monitoring.ts';
import { greenlightNames } from '../../../src/infra/names.ts';
import { MaxUnbackedCallbacks, verifyCallbackStep } from '../../../src/steps/verify-callback.ts';
import { aReleaseRecord, aReleaseSpec, aService } from '../../support/builders.ts';
import {
  aLambdaContext,
  approver,
  channel,
  type Harness,
  OutputCapture,
  startHarness,
} from '../slack/harness.ts';

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

/** The one bake item of a release, in memory: verify-callback only reads it. */
function bakesHolding(bake: BakeRecord | undefined): Pick<BakeStore, 'get'> {
  return { get: async () => bake };
}

function deps(bake?: BakeRecord) {
  return { ...harness.stepDeps(() => now), bakes: bakesHolding(bake) as BakeStore };
}

function specOf(release: ReleaseRecord): ReleaseSpec {
  const {
    phase: _p,
    reason: _r,
    executionId: _e,
    colours: _c,
    greenPercent: _g,
    stepIndex: _s,
    updatedAt: _u,
    control: _control,
    idle: _i,
    ...spec
  } = release;
  return spec;
}

/** A release waiting at its before-shift approval, with the approval pending in the ledger. */
async function waiting(version: string) {
  const release = await harness.addRelease(version);
  const approvalId = `${release.releaseId}-before-shift`;
  await harness.approvals.create({
    approvalId,
    releaseId: release.releaseId,
    service: release.service,
    version,
    stage: 'before-shift',
    taskToken: 'token-1',
    status: 'pending',
    requestedAt: '2026-11-21T09:00:00.000Z',
    expiresAt: '2026-11-21T10:10:00.000Z',
  });
  return { release, approvalId, spec: specOf(release) };
}

const success = { approvalId: 'x', approvedBy: approver.id, via: 'slack' };
const failure = (error: string) => ({ Error: error, Cause: 'said so' });

describe('verifyCallbackStep at an approval', () => {
  it('goes on when the ledger holds an approval by a listed approver through Slack', async () => {
    const { approvalId, spec } = await waiting('7.0.0');
    await harness.approvals.decide(approvalId, {
      status: 'approved',
      by: approver.id,
      at: now.toISOString(),
      via: 'slack',
    });

    const check = await verifyCallbackStep.run(
      { release: spec, stage: 'before-shift', callback: success, wait: { unbacked: 0 } },
      deps(),
    );

    expect(check).toMatchObject({ next: 'go', forged: false, unbacked: 0 });
  });

  it('ends the release as ApprovalNotRecorded on a success nobody decided, closes the approval and records it', async () => {
    const { release, approvalId, spec } = await waiting('7.0.1');

    const run = verifyCallbackStep.run(
      { release: spec, stage: 'before-shift', callback: success, wait: { unbacked: 0 } },
      deps(),
    );

    await expect(run).rejects.toMatchObject({ name: 'ApprovalNotRecorded' });
    expect(await harness.approvals.get(approvalId)).toMatchObject({
      status: 'rejected',
      decidedBy: 'greenlight',
      decidedVia: 'forged-callback',
    });
    const steps = await harness.ledger.listSteps(release.releaseId);
    expect(steps.find((s) => s.step === 'callback')).toMatchObject({
      key: 'callback#before-shift#1',
      outcome: 'failed',
      phase: 'AwaitingApproval',
      at: now.toISOString(),
    });
    // Run again (a retried task): the same verdict, not a go.
    await expect(
      verifyCallbackStep.run(
        { release: spec, stage: 'before-shift', callback: success, wait: { unbacked: 0 } },
        deps(),
      ),
    ).rejects.toMatchObject({ name: 'ApprovalNotRecorded' });
  });

  it('goes on when an approver’s click wins the race with the forged success', async () => {
    const { approvalId, spec } = await waiting('7.0.6');
    const seen = await harness.approvals.get(approvalId);
    // The click lands between the step's read (pending) and its closing write.
    await harness.approvals.decide(approvalId, {
      status: 'approved',
      by: approver.id,
      at: now.toISOString(),
      via: 'slack',
    });
    const racing = {
      ...deps(),
      approvals: {
        get: async () => seen,
        decide: harness.approvals.decide.bind(harness.approvals),
      },
    };

    const check = await verifyCallbackStep.run(
      { release: spec, stage: 'before-shift', callback: success, wait: { unbacked: 0 } },
      racing,
    );

    expect(check).toMatchObject({ next: 'go', forged: true });
    expect((await harness.approvals.get(approvalId))?.status).toBe('approved');
  });

  it('does not count an approval taken in Slack by someone who is not an approver', async () => {
    const { approvalId, spec } = await waiting('7.0.2');
    await harness.approvals.decide(approvalId, {
      status: 'approved',
      by: 'U0MALLORY',
      at: now.toISOString(),
      via: 'slack',
    });

    const run = verifyCallbackStep.run(
      { release: spec, stage: 'before-shift', callback: success, wait: { unbacked: 0 } },
      deps(),
    );

    await expect(run).rejects.toMatchObject({ name: 'ApprovalNotRecorded' });
  });

  it('waits again, for what is left of the wait, after a rejection nobody recorded', async () => {
    const { approvalId, spec } = await waiting('7.0.3');

    const check = await verifyCallbackStep.run(
      {
        release: spec,
        stage: 'before-shift',
        callback: failure('ApprovalRejected'),
        wait: { unbacked: 2 },
      },
      deps(),
    );

    expect(check).toMatchObject({ next: 'wait', forged: true, unbacked: 3, timeoutSeconds: 600 });
    expect((await harness.approvals.get(approvalId))?.status).toBe('pending');
  });

  it('throws the rejection the ledger records, whatever the callback said', async () => {
    const { approvalId, spec } = await waiting('7.0.4');
    await harness.approvals.decide(approvalId, {
      status: 'rejected',
      by: approver.id,
      at: now.toISOString(),
      via: 'slack',
    });

    const run = verifyCallbackStep.run(
      { release: spec, stage: 'before-shift', callback: success, wait: { unbacked: 0 } },
      deps(),
    );

    await expect(run).rejects.toMatchObject({ name: 'ApprovalRejected' });
  });

  it(`ends the release after ${MaxUnbackedCallbacks} unbacked failures, rather than wait for ever`, async () => {
    const { spec } = await waiting('7.0.5');

    const run = verifyCallbackStep.run(
      {
        release: spec,
        stage: 'before-shift',
        callback: failure('ApprovalRejected'),
        wait: { unbacked: MaxUnbackedCallbacks },
      },
      deps(),
    );

    await expect(run).rejects.toMatchObject({ name: 'ApprovalNotRecorded' });
  });
});

describe('verifyCallbackStep at a bake', () => {
  const step = { index: 0, percent: 10, bakeSeconds: 60 };
  async function baking(version: string, patch: Partial<ReleaseRecord> = {}) {
    const release = aReleaseRecord({
      ...aReleaseSpec({ version }),
      phase: 'Shifting',
      stepIndex: 0,
      greenPercent: 10,
      ...patch,
    });
    await harness.ledger.createRelease(release);
    const bake = (status: BakeRecord['status'], reason?: string): BakeRecord => ({
      releaseId: release.releaseId,
      service: release.service,
      stepIndex: 0,
      taskToken: 'bake-token',
      alarms: ['checkout-errors'],
      startedAt: '2026-11-21T09:59:30.000Z',
      endsAt: '2026-11-21T10:00:30.000Z',
      status,
      ...(reason === undefined ? {} : { reason }),
    });
    return { release, spec: specOf(release), bake };
  }

  it('ends the watch when the timer ended the bake', async () => {
    const { spec, bake } = await baking('8.0.0');

    const check = await verifyCallbackStep.run(
      { release: spec, step, callback: { bakedSeconds: 60 } },
      deps(bake('ended')),
    );

    expect(check).toMatchObject({ next: 'go', forged: false });
  });

  it('watches again after an OperatorPromoted the ledger does not record, and records it', async () => {
    const { release, spec, bake } = await baking('8.0.1');

    const check = await verifyCallbackStep.run(
      { release: spec, step, callback: failure('OperatorPromoted') },
      deps(bake('baking')),
    );

    expect(check).toMatchObject({ next: 'wait', forged: true, unbacked: 1 });
    const steps = await harness.ledger.listSteps(release.releaseId);
    expect(steps.find((s) => s.step === 'callback')).toMatchObject({
      key: 'callback#bake#0#1',
      outcome: 'failed',
      phase: 'Shifting',
      greenPercent: 10,
      reason:
        'The bake of step 1 was answered with SendTaskFailure (OperatorPromoted), but the ledger records no promote, abort or alarm for it: nothing changed, the bake goes on until 2026-11-21T10:00:30.000Z',
    });
  });

  it('watches again after a success while the ledger says the bake goes on', async () => {
    const { spec, bake } = await baking('8.0.2');

    const check = await verifyCallbackStep.run(
      { release: spec, step, callback: { bakedSeconds: 60 } },
      deps(bake('baking')),
    );

    expect(check).toMatchObject({ next: 'wait', forged: true });
  });

  it('throws OperatorPromoted when the ledger records the promote', async () => {
    const { spec, bake } = await baking('8.0.3', {
      control: { paused: false, promoted: true, aborted: false },
    });

    const run = verifyCallbackStep.run(
      { release: spec, step, callback: failure('OperatorPromoted') },
      deps(bake('ended', 'Promoted by dana')),
    );

    await expect(run).rejects.toMatchObject({ name: 'OperatorPromoted' });
  });

  it('throws AlarmGateFailed when an alarm interrupted the bake, whatever the callback said', async () => {
    const { spec, bake } = await baking('8.0.4');

    const run = verifyCallbackStep.run(
      { release: spec, step, callback: { bakedSeconds: 60 } },
      deps(bake('interrupted', 'Alarm checkout-errors entered ALARM')),
    );

    await expect(run).rejects.toMatchObject({
      name: 'AlarmGateFailed',
      message: 'Alarm checkout-errors entered ALARM',
    });
  });

  it('stops watching for alarm events after too many unbacked answers; the bake goes on', async () => {
    const { spec, bake } = await baking('8.0.5');

    const check = await verifyCallbackStep.run(
      {
        release: spec,
        step,
        callback: failure('OperatorAborted'),
        bakeWatch: { unbacked: MaxUnbackedCallbacks },
      },
      deps(bake('baking')),
    );

    expect(check).toMatchObject({ next: 'stop-watching', forged: true });
  });
});

describe('the log lines the ForgedCallbacks metric filter counts', () => {
  // The filter's two terms, read as CloudWatch Logs reads a JSON filter pattern; a line is
  // counted when either holds. Kept next to the pattern they mirror, which is checked too.
  const counted = (line: Record<string, unknown>) =>
    (line.output as { forged?: unknown } | undefined)?.forged === true ||
    (line.error as { name?: unknown } | undefined)?.name === 'ApprovalNotRecorded';

  async function linesOf(run: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
    const output = new OutputCapture();
    output.start();
    try {
      await run().catch(() => undefined);
    } finally {
      output.stop();
    }
    return output.lines
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  it('matches the pattern the stack deploys', () => {
    expect(forgedCallbackFilter(greenlightNames('test')).pattern).toBe(
      '{ ($.output.forged IS TRUE) || ($.error.name = "ApprovalNotRecorded") }',
    );
  });

  it('counts an unbacked answer on a bake and a success nobody decided, not a genuine one', async () => {
    const { spec: approvalSpec } = await waiting('9.0.0');
    const release = aReleaseRecord({ ...aReleaseSpec({ version: '9.0.1' }), phase: 'Shifting' });
    await harness.ledger.createRelease(release);
    const bake: BakeRecord = {
      releaseId: release.releaseId,
      service: release.service,
      stepIndex: 0,
      taskToken: 'bake-token',
      alarms: [],
      startedAt: '2026-11-21T09:59:30.000Z',
      endsAt: '2026-11-21T10:00:30.000Z',
      status: 'baking',
    };
    // The level the deployed functions log at (tests default to ERROR); Powertools reads it
    // when the logger is made, so the handler module is loaded afresh.
    const level = process.env.POWERTOOLS_LOG_LEVEL;
    process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
    vi.resetModules();
    const { createStepHandler } = await import('../../../src/runtime/step-handler.ts');
    // From the same fresh modules, so the handler knows the step's errors as greenlight's.
    const fresh = await import('../../../src/steps/verify-callback.ts');
    process.env.POWERTOOLS_LOG_LEVEL = level;
    const handlerOver = (held: BakeRecord) =>
      createStepHandler(fresh.verifyCallbackStep, () => deps(held));
    const context = aLambdaContext('greenlight-verify-callback');
    const step = { index: 0, percent: 10, bakeSeconds: 60 };

    const forgedBake = await linesOf(() =>
      handlerOver(bake)(
        { release: specOf(release), step, callback: failure('OperatorPromoted') } as never,
        context,
      ),
    );
    const forgedApproval = await linesOf(() =>
      handlerOver(bake)(
        { release: approvalSpec, stage: 'before-shift', callback: success } as never,
        context,
      ),
    );
    const genuine = await linesOf(() =>
      handlerOver({ ...bake, status: 'ended' })(
        { release: specOf(release), step, callback: { answered: 'success' } } as never,
        context,
      ),
    );

    expect(forgedBake.filter(counted)).toHaveLength(1);
    expect(forgedApproval.filter(counted)).toMatchObject([{ level: 'WARN' }]);
    expect(genuine.filter(counted)).toEqual([]);
    expect(genuine.length).toBeGreaterThan(0);
  });
});
