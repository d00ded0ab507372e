import { describe, expect, it } from 'vitest';
import { type ApprovalRecord, ApprovalStage } from '../../../src/core/records.ts';
import { approvalTimeoutStep } from '../../../src/steps/approval-timeout.ts';
import { aService, aShiftingRelease, specOf } from '../../support/builders.ts';
import { aFakeWorld, failNext } from '../../support/fakes.ts';

// The before-finalize stage and the store's faults, with in-memory ports; the before-shift
// stage against the Slack stand-in is in request-approval.test.ts.

const service = aService({
  approval: { type: 'slack', channel: 'C0RELEASES', approvers: ['U0DANA'] },
});
const atFull = aShiftingRelease({
  stepIndex: 1,
  greenPercent: 100,
  approval: { beforeShift: false, beforeFinalize: true, timeoutSeconds: 3600 },
});
const id = atFull.releaseId;
const approvalId = `${id}-before-finalize`;
const input = { release: specOf(atFull), stage: ApprovalStage.BeforeFinalize };

async function aWorld() {
  const world = aFakeWorld({ releases: [atFull], services: [service] });
  const pending: ApprovalRecord = {
    approvalId,
    releaseId: id,
    service: 'checkout',
    version: atFull.version,
    stage: ApprovalStage.BeforeFinalize,
    taskToken: 'token-1',
    status: 'pending',
    requestedAt: '2026-11-21T09:00:00.000Z',
    expiresAt: '2026-11-21T10:00:00.000Z',
    slack: { channel: 'C0RELEASES', ts: '1700000000.000001' },
  };
  await world.approvals.create(pending);
  return world;
}

describe('approvalTimeoutStep before finalize', () => {
  it('rejects, leaving the release at 100% for Rollback, with one decision for two runs', async () => {
    const world = await aWorld();

    const first = await approvalTimeoutStep.run(input, world.deps);
    world.clock.advance(2);
    const second = await approvalTimeoutStep.run(input, world.deps);

    const reason = 'No decision by 2026-11-21T10:00:00.000Z; the release is rejected';
    expect(first).toEqual({ approvalId, action: 'reject', status: 'timed-out', reason });
    expect(second).toEqual(first);
    expect(await world.approvals.get(approvalId)).toMatchObject({
      status: 'timed-out',
      decidedAt: '2026-11-21T10:00:00.250Z',
      decidedVia: 'timeout',
    });
    expect(world.ledger.release(id)).toMatchObject({ phase: 'Shifting', greenPercent: 100 });
    expect(world.ledger.updates).toEqual([]);
    expect(await world.ledger.listSteps(id)).toEqual([
      expect.objectContaining({
        key: 'approval#before-finalize',
        outcome: 'failed',
        phase: 'Shifting',
        reason,
      }),
    ]);
    expect(world.slack.updated.map((u) => u.ref.ts)).toEqual([
      '1700000000.000001',
      '1700000000.000001',
    ]);
    expect(world.slack.updated[1]?.message).toEqual(world.slack.updated[0]?.message);
  });

  it('fails without deciding when the approval store is down, for Retry to try again', async () => {
    const world = await aWorld();
    failNext(world.approvals, 'decide', new Error('ProvisionedThroughputExceededException'));

    await expect(approvalTimeoutStep.run(input, world.deps)).rejects.toThrow(
      'ProvisionedThroughputExceededException',
    );
    expect((await world.approvals.get(approvalId))?.status).toBe('pending');
    expect(await world.ledger.listSteps(id)).toEqual([]);
  });
});
