import { describe, expect, it } from 'vitest';
import { ReleaseNotFound } from '../../../src/core/errors.ts';
import { OperatorCommandDetailType } from '../../../src/core/operator-command.ts';
import { ReleasePhase } from '../../../src/core/phases.ts';
import {
  type ApprovalRecord,
  ApprovalStage,
  IdleColourState,
  type ReleaseRecord,
} from '../../../src/core/records.ts';
import { deriveReleaseId } from '../../../src/core/release-id.ts';
import { OperatorEventSource, operatorCommandStep } from '../../../src/steps/operator-command.ts';
import {
  anIdleColour,
  aReleaseRecord,
  aService,
  aShiftingRelease,
} from '../../support/builders.ts';
import { aFakeWorld, type FakeWorld, failNext } from '../../support/fakes.ts';
import { aReadmeAlbService } from '../../support/registry-of-size.ts';

const shifting = aShiftingRelease();
const id = shifting.releaseId;

function command(eventId: string, detail: Record<string, unknown>) {
  return {
    id: eventId,
    'detail-type': OperatorCommandDetailType,
    detail: { schemaVersion: 1, actor: 'dana', reason: 'watching p99', ...detail },
  } as const;
}

/** Runs the command twice, as EventBridge may deliver it; both answers must be the same. */
async function twice(world: FakeWorld, event: ReturnType<typeof command>) {
  const first = await operatorCommandStep.run(event, world.deps);
  const second = await operatorCommandStep.run(event, world.deps);
  expect(second).toEqual(first);
  return first;
}

/** The before-shift approval of the release, waiting on its token. */
function aPendingApproval(): ApprovalRecord {
  return {
    approvalId: `${id}-${ApprovalStage.BeforeShift}`,
    releaseId: id,
    service: 'checkout',
    version: shifting.version,
    stage: ApprovalStage.BeforeShift,
    taskToken: 'approval-token',
    status: 'pending',
    requestedAt: '2026-11-21T10:00:00.000Z',
    expiresAt: '2026-11-21T11:00:00.000Z',
  };
}

function aBake(world: FakeWorld, taskToken = 'bake-token') {
  return world.bakes.begin({
    releaseId: id,
    service: 'checkout',
    stepIndex: 0,
    taskToken,
    alarms: ['checkout-errors'],
    startedAt: world.clock.now().toISOString(),
    endsAt: '2026-11-21T10:01:00.250Z',
    status: 'baking',
  });
}

describe('operatorCommandStep: pause and resume', () => {
  it('pauses a shifting release once, however often the event arrives', async () => {
    const world = aFakeWorld({ releases: [shifting] });

    const outcome = await twice(world, command('cmd-1', { command: 'pause', releaseId: id }));

    expect(outcome).toMatchObject({
      commandId: 'cmd-1',
      command: 'pause',
      outcome: 'applied',
      releaseId: id,
      actor: 'dana',
      message: 'Paused by dana at 10% on green: watching p99',
      at: '2026-11-21T10:00:00.250Z',
    });
    expect(world.ledger.release(id).control).toEqual({
      paused: true,
      promoted: false,
      aborted: false,
    });
    expect(world.ledger.updates).toHaveLength(1);
    expect(await world.ledger.timeline(id)).toEqual(['operator#cmd-1:succeeded']);
    expect(world.events.published).toEqual([]);
  });

  it('refuses a second pause with the reason, and changes nothing', async () => {
    const world = aFakeWorld({ releases: [shifting] });
    await operatorCommandStep.run(
      command('cmd-1', { command: 'pause', releaseId: id }),
      world.deps,
    );

    const refused = await twice(world, command('cmd-2', { command: 'pause', releaseId: id }));

    expect(refused.outcome).toBe('refused');
    expect(refused.message).toContain('it is paused already');
    expect(world.ledger.updates).toHaveLength(1);
    const steps = await world.ledger.listSteps(id);
    expect(steps.find((step) => step.key === 'operator#cmd-2')).toMatchObject({
      outcome: 'skipped',
      reason: expect.stringMatching(/^pause by dana \(watching p99\): refused: /),
    });
  });

  it('resumes a paused release, keeping the rest of its control', async () => {
    const world = aFakeWorld({
      releases: [{ ...shifting, control: { paused: true, promoted: false, aborted: false } }],
    });

    const outcome = await twice(world, command('cmd-3', { command: 'resume', releaseId: id }));

    expect(outcome.outcome).toBe('applied');
    expect(world.ledger.release(id).control?.paused).toBe(false);
  });
});

describe('operatorCommandStep: promote and abort', () => {
  it('promotes and ends the bake under way, failing its token once with OperatorPromoted', async () => {
    const world = aFakeWorld({ releases: [shifting] });
    await aBake(world);

    const outcome = await twice(world, command('cmd-4', { command: 'promote', releaseId: id }));

    expect(outcome.message).toMatch(
      /^Promoted by dana at 10% on green: watching p99; .*; the bake of step 1 ended now$/,
    );
    expect(world.ledger.release(id).control?.promoted).toBe(true);
    expect((await world.bakes.get(id))?.status).toBe('ended');
    expect(world.callbacks.sent.map((s) => `${s.kind}:${s.taskToken}:${s.error}`)).toEqual([
      'fail:bake-token:OperatorPromoted',
    ]);
  });

  it('promotes without a bake to end, and says the bake is not what ended', async () => {
    const world = aFakeWorld({ releases: [shifting] });

    const outcome = await operatorCommandStep.run(
      command('cmd-5', { command: 'promote', releaseId: id }),
      world.deps,
    );

    expect(outcome.message).not.toContain('ended now');
    expect(world.callbacks.sent).toEqual([]);
  });

  it('aborts a bake: RollingBack, the bake interrupted, its token failed with OperatorAborted', async () => {
    const world = aFakeWorld({ releases: [shifting] });
    await aBake(world);

    const outcome = await twice(world, command('cmd-6', { command: 'abort', releaseId: id }));

    expect(outcome.message).toBe('Aborted by dana: watching p99; the bake of step 1 ended now');
    const release = world.ledger.release(id);
    expect(release.phase).toBe(ReleasePhase.RollingBack);
    expect(release.control?.aborted).toBe(true);
    expect((await world.bakes.get(id))?.status).toBe('interrupted');
    expect(world.callbacks.delivered()).toEqual(['fail:bake-token:OperatorAborted']);
    // Traffic is Rollback's to move, and the lock stays with the release until then.
    expect(world.target.calls).toEqual([]);
    expect(world.lock.releases).toEqual([]);
  });

  it('aborts a release waiting for approval: rejects the approval and fails its token', async () => {
    const awaiting = {
      ...shifting,
      phase: ReleasePhase.AwaitingApproval,
      stepIndex: -1,
      greenPercent: 0,
    };
    const world = aFakeWorld({ releases: [awaiting] });
    await world.approvals.create(aPendingApproval());

    const outcome = await twice(world, command('cmd-7', { command: 'abort', releaseId: id }));

    expect(outcome.message).toBe(
      'Aborted by dana: watching p99; the before-shift approval ended now',
    );
    expect(await world.approvals.get(`${id}-before-shift`)).toMatchObject({
      status: 'rejected',
      decidedBy: 'dana',
      decidedVia: 'abort',
    });
    expect(world.callbacks.sent.map((s) => `${s.taskToken}:${s.error}`)).toEqual([
      'approval-token:OperatorAborted',
    ]);
  });

  it('aborts between steps: the step under way finishes, then the release rolls back', async () => {
    const world = aFakeWorld({ releases: [shifting] });

    const outcome = await operatorCommandStep.run(
      command('cmd-8', { command: 'abort', releaseId: id }),
      world.deps,
    );

    expect(outcome.message).toBe(
      'Aborted by dana: watching p99; the step under way finishes, then the release rolls back',
    );
  });
});

describe('operatorCommandStep: the sender’s AWS principal', () => {
  const principalArn = 'arn:aws:sts::123456789012:assumed-role/release-managers/dana';

  it('keeps the principal the CLI sent with the outcome and beside the timeline entry', async () => {
    const world = aFakeWorld({ releases: [shifting] });

    const outcome = await twice(
      world,
      command('cmd-20', { command: 'pause', releaseId: id, principalArn }),
    );

    expect(outcome.principalArn).toBe(principalArn);
    const [entry] = await world.ledger.listSteps(id);
    expect(entry?.identity).toEqual({ source: 'aws-sts', actor: 'dana', principalArn });
  });

  it('records the principal on the approval an abort rejects', async () => {
    const world = aFakeWorld({
      releases: [{ ...shifting, phase: ReleasePhase.AwaitingApproval, stepIndex: -1 }],
    });
    await world.approvals.create(aPendingApproval());

    await operatorCommandStep.run(
      command('cmd-21', { command: 'abort', releaseId: id, principalArn }),
      world.deps,
    );

    expect(await world.approvals.get(`${id}-before-shift`)).toMatchObject({
      status: 'rejected',
      decidedVia: 'abort',
      principalArn,
    });
  });

  it('refuses a principal that is not an IAM or STS ARN', async () => {
    const world = aFakeWorld({ releases: [shifting] });

    const outcome = await operatorCommandStep.run(
      command('cmd-22', { command: 'pause', releaseId: id, principalArn: 'dana' }),
      world.deps,
    );

    expect(outcome.outcome).toBe('refused');
    expect(outcome.message).toContain('detail.principalArn');
    expect(world.ledger.release(id).control).toBeUndefined();
  });
});

describe('operatorCommandStep: retry', () => {
  const rolledBack = { ...shifting, phase: ReleasePhase.RolledBack, greenPercent: 0 };
  const next = deriveReleaseId('checkout', shifting.version, 2);

  it('asks for the next attempt through the bus, once per command', async () => {
    const world = aFakeWorld({ releases: [rolledBack] });

    const outcome = await twice(world, command('cmd-9', { command: 'retry', releaseId: id }));

    expect(outcome).toMatchObject({ outcome: 'applied', releaseId: id, newReleaseId: next });
    expect(world.requests.requested).toEqual([
      {
        source: OperatorEventSource,
        detail: {
          schemaVersion: 1,
          service: 'checkout',
          version: shifting.version,
          artifact: shifting.artifact,
          strategy: shifting.strategy,
          attempt: 2,
          actor: 'dana',
          commit: shifting.commit,
          ci: shifting.ci,
        },
      },
    ]);
  });

  it('refuses to retry a release still in flight', async () => {
    const world = aFakeWorld({ releases: [shifting] });

    const outcome = await operatorCommandStep.run(
      command('cmd-10', { command: 'retry', releaseId: id }),
      world.deps,
    );

    expect(outcome).toMatchObject({ outcome: 'refused', releaseId: id });
    expect(outcome.message).toContain('is Shifting; only a release that ended without finalizing');
    expect(world.requests.requested).toEqual([]);
  });

  it('refuses when the next attempt exists already', async () => {
    const second = aReleaseRecord({ attempt: 2, phase: ReleasePhase.Shifting });
    const world = aFakeWorld({ releases: [rolledBack, second] });

    const outcome = await operatorCommandStep.run(
      command('cmd-11', { command: 'retry', releaseId: id }),
      world.deps,
    );

    expect(outcome.message).toBe(
      `Attempt 2 of checkout ${shifting.version} exists already (${next}, Shifting); retry that one instead`,
    );
    expect(world.requests.requested).toEqual([]);
  });
});

describe('operatorCommandStep: rollback after finalize', () => {
  const finalized: ReleaseRecord = {
    ...shifting,
    phase: ReleasePhase.Finalized,
    stepIndex: 1,
    greenPercent: 100,
    idle: anIdleColour({ colour: '7', live: '8', teardownAt: '2026-11-21T10:15:00.000Z' }),
  };
  const rollback = command('cmd-12', { command: 'rollback', service: 'checkout' });

  function finalizedWorld() {
    const world = aFakeWorld({ releases: [finalized] });
    world.target.greenPercent = 100;
    world.target.live = '8';
    return world;
  }

  it('puts traffic back on blue in one switch, under the lock, and announces it once', async () => {
    const world = finalizedWorld();
    await world.bakes.watch(id, ['checkout-errors']);

    const outcome = await twice(world, rollback);

    expect(outcome).toMatchObject({
      outcome: 'applied',
      releaseId: id,
      message: 'Rolled back after finalize by dana: watching p99',
    });
    expect(world.target.changes).toEqual(['0% on 8']);
    expect(world.ledger.release(id)).toMatchObject({ phase: 'RolledBack', greenPercent: 0 });
    expect(world.events.types()).toEqual(['Release Rolled Back']);
    expect(world.events.published[0]?.detail.eventKey).toBe(`${id}#reverted`);
    expect(world.lock.holderOf('checkout')).toBeUndefined();
    expect(world.bakes.watchedBy(id)).toEqual([]);
    expect(await world.ledger.timeline(id)).toEqual([
      'operator#cmd-12:succeeded',
      'revert:succeeded',
    ]);
  });

  /** The release whose build blue ran: finalized before `finalized`, a version older. */
  const before = aReleaseRecord({
    version: '1.9.0',
    attempt: 1,
    phase: ReleasePhase.Finalized,
    requestedAt: '2026-11-20T09:00:00.000Z',
    artifact: { s3: { bucket: 'greenlight-artifacts', key: 'checkout/1.9.0.zip' } },
    strategy: 'canary',
  });
  const versionGone = Object.assign(new Error('Function not found: checkout:7'), {
    name: 'ResourceNotFoundException',
  });

  it("after the warm window, switches a Lambda service back in one step while blue's version exists", async () => {
    const world = finalizedWorld();
    world.clock.advance(3 * 3600);

    const outcome = await operatorCommandStep.run(rollback, world.deps);

    expect(outcome).toMatchObject({ outcome: 'applied', releaseId: id });
    expect(world.target.changes).toEqual(['0% on 8']);
    expect(world.requests.requested).toEqual([]);
    const steps = await world.ledger.listSteps(id);
    expect(steps.find((step) => step.step === 'revert')?.reason).toContain(
      'blue was kept warm until 2026-11-21T10:15:00.000Z and may be gone; its version 7 still exists, so one switch',
    );
  });

  it("re-provisions blue from its release's artifact when its version is gone: a new release, marked as the rollback", async () => {
    const world = aFakeWorld({ releases: [before, finalized] });
    world.clock.advance(3 * 3600);
    failNext(world.target, 'rollback', versionGone);

    const outcome = await operatorCommandStep.run(rollback, world.deps);

    const again = deriveReleaseId('checkout', '1.9.0', 2);
    expect(outcome).toMatchObject({ outcome: 'applied', releaseId: id, newReleaseId: again });
    expect(outcome.message).toContain(
      `re-provisioning checkout 1.9.0 (the build of ${before.releaseId}) as ${again}, through tests and gates, as the rollback of ${id}`,
    );
    expect(world.requests.requested).toEqual([
      {
        source: OperatorEventSource,
        detail: {
          schemaVersion: 1,
          service: 'checkout',
          version: '1.9.0',
          artifact: before.artifact,
          strategy: 'canary',
          attempt: 2,
          actor: 'dana',
          allowOlder: true,
          rollbackOf: id,
          commit: before.commit,
        },
      },
    ]);
    // Traffic stays where it is until the new release moves it, and the lock is free for it.
    expect(world.target.changes).toEqual([]);
    expect(world.lock.holderOf('checkout')).toBeUndefined();
    expect(world.ledger.release(id)).toMatchObject({ phase: 'Finalized' });
  });

  it('refuses to roll back a release whose contract ran: blue’s build may need what it removed', async () => {
    const contracted: ReleaseRecord = {
      ...finalized,
      migration: { id: '0008_drop_note', kind: 'contract', completes: '0007_add_gift' },
      migrationState: {
        id: '0008_drop_note',
        kind: 'contract',
        status: 'applied',
        at: '2026-11-21T10:15:01.000Z',
        reason: 'Contract 0008_drop_note applied',
      },
    };
    const world = aFakeWorld({ releases: [before, contracted] });
    world.clock.advance(3 * 3600);

    const outcome = await operatorCommandStep.run(rollback, world.deps);

    expect(outcome).toMatchObject({ outcome: 'refused', releaseId: id });
    expect(outcome.message).toBe(
      `${id} applied contract 0008_drop_note at 2026-11-21T10:15:01.000Z, after its blue was torn down: the build before it may need what the contract removed. Release a fix forward instead`,
    );
    expect(world.target.changes).toEqual([]);
    expect(world.requests.requested).toEqual([]);
  });

  it("re-provisions an ALB service once blue's slot is torn down, as the next free attempt", async () => {
    const shop = aService({ ...aReadmeAlbService('checkout'), name: 'checkout' });
    const tornDown: ReleaseRecord = {
      ...finalized,
      colours: { blue: 'a', green: 'b' },
      idle: anIdleColour({
        colour: 'a',
        live: 'b',
        state: IdleColourState.TornDown,
        reason: 'torn down at 10:15 by its schedule',
      }),
    };
    const image = { imageUri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout-web:1.9.0' };
    const second = aReleaseRecord({
      ...before,
      releaseId: deriveReleaseId('checkout', '1.9.0', 2),
      attempt: 2,
      artifact: image,
      phase: ReleasePhase.RolledBack,
    });
    const world = aFakeWorld({
      services: [shop],
      releases: [{ ...before, artifact: image }, second, tornDown],
    });

    const outcome = await operatorCommandStep.run(rollback, world.deps);

    expect(outcome.newReleaseId).toBe(deriveReleaseId('checkout', '1.9.0', 3));
    expect(outcome.message).toContain('blue (a) is torn-down: torn down at 10:15 by its schedule');
    expect(world.requests.requested[0]?.detail).toMatchObject({ attempt: 3, artifact: image });
    expect(world.target.calls).toEqual([]);
  });

  it('refuses when blue is gone and no earlier finalized release is recorded', async () => {
    const world = finalizedWorld();
    world.clock.advance(3 * 3600);
    failNext(world.target, 'rollback', versionGone);

    const outcome = await operatorCommandStep.run(rollback, world.deps);

    expect(outcome.outcome).toBe('refused');
    expect(outcome.message).toContain(`no finalized release before ${id} is recorded`);
    expect(world.requests.requested).toEqual([]);
  });

  it('refuses while another release of the service holds the lock', async () => {
    const world = finalizedWorld();
    world.lock.hold('checkout', 'checkout-2-0-0-a1-x');

    const outcome = await operatorCommandStep.run(rollback, world.deps);

    expect(outcome.message).toBe(
      'Release checkout-2-0-0-a1-x of checkout is under way or waiting; abort it first',
    );
    expect(world.lock.holderOf('checkout')).toBe('checkout-2-0-0-a1-x');
    expect(world.target.calls).toEqual([]);
  });

  it('refuses a release in flight, and names the command to use', async () => {
    const world = aFakeWorld({ releases: [shifting] });

    const outcome = await operatorCommandStep.run(rollback, world.deps);

    expect(outcome.message).toContain(
      'is Shifting, not Finalized; roll back a release in flight with "greenlight abort"',
    );
  });

  it('frees the lock and stores nothing when the switch fails, so the redelivery applies it', async () => {
    const world = finalizedWorld();
    failNext(
      world.target,
      'rollback',
      Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }),
    );

    await expect(operatorCommandStep.run(rollback, world.deps)).rejects.toThrow('Rate exceeded');
    expect(world.lock.holderOf('checkout')).toBeUndefined();
    expect(await world.commands.get('cmd-12')).toBeUndefined();
    expect(world.ledger.release(id).phase).toBe(ReleasePhase.Finalized);

    const retried = await operatorCommandStep.run(rollback, world.deps);

    expect(retried.outcome).toBe('applied');
    expect(world.target.changes).toEqual(['0% on 8']);
  });
});

describe('operatorCommandStep: what it cannot act on', () => {
  it('refuses a command that does not parse, naming the fields', async () => {
    const world = aFakeWorld({ releases: [shifting] });

    const outcome = await twice(world, command('cmd-13', { command: 'explode', releaseId: id }));

    expect(outcome).toMatchObject({ outcome: 'refused', command: 'explode', actor: 'dana' });
    expect(outcome.message).toMatch(/^Not a valid command: detail\.command: /);
    expect(await world.ledger.timeline(id)).toEqual([]);
  });

  it('refuses a release the ledger does not hold, with ReleaseNotFound’s message', async () => {
    const world = aFakeWorld();

    const outcome = await operatorCommandStep.run(
      command('cmd-14', { command: 'pause', releaseId: 'checkout-9-9-9-a1-missing' }),
      world.deps,
    );

    expect(outcome).toMatchObject({
      outcome: 'refused',
      releaseId: 'checkout-9-9-9-a1-missing',
      message: new ReleaseNotFound('Release checkout-9-9-9-a1-missing is not in the ledger')
        .message,
    });
  });

  it('throws a fault for EventBridge to retry, storing no outcome', async () => {
    const world = aFakeWorld({ releases: [shifting] });
    failNext(world.ledger, 'updateRelease', new Error('ProvisionedThroughputExceeded'));

    await expect(
      operatorCommandStep.run(command('cmd-15', { command: 'pause', releaseId: id }), world.deps),
    ).rejects.toThrow('ProvisionedThroughputExceeded');
    expect(await world.commands.get('cmd-15')).toBeUndefined();

    const retried = await operatorCommandStep.run(
      command('cmd-15', { command: 'pause', releaseId: id }),
      world.deps,
    );
    expect(retried.outcome).toBe('applied');
  });
});
