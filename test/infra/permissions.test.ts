import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandRecord } from '../../src/core/operator-command.ts';
import type { Colours, WeightStep } from '../../src/core/records.ts';
import { deriveReleaseId } from '../../src/core/release-id.ts';
import { GreenlightFunction } from '../../src/infra/functions.ts';
import { calledActions, functionGrants, implicitActions } from '../../src/infra/permissions.ts';
import { functionUrlEvent, signedInteraction } from '../../src/local/slack-standin.ts';
import type { RegisteredRelease } from '../../src/steps/register.ts';
import { aReleaseEvent } from '../support/builders.ts';
import { type StepRecorder, slackSigningSecret, startStepRecorder } from './step-actions.ts';

const F = GreenlightFunction;
type F = GreenlightFunction;
const execution = (name: string) =>
  `arn:aws:states:eu-west-1:123456789012:execution:greenlight-test-release:${name}`;

/**
 * The scenarios cover every branch that reaches AWS: a good canary release; a duplicate
 * event; an invalid event; a second release waiting for a busy lock; a publish whose response
 * was lost; a green that fails its test; an artifact Lambda refuses; someone else moving the
 * alias mid-release; a gate that fails during the bake; finalize
 * reconciling an alias that drifted; and, after each, a retry of every step, which replays
 * the stored answer (Powertools reads it back).
 */
describe('each step function’s IAM actions', () => {
  let recorder: StepRecorder;

  const register = async (version: string, executionName = version, strategy = 'canary') => {
    const event = aReleaseEvent({
      version,
      strategy,
      artifact: { s3: { bucket: 'acme-artifacts', key: `checkout/${version}.zip` } },
    });
    return recorder.invoke(F.Register, { event, executionId: execution(executionName) });
  };
  let commands = 0;
  /** An Operator Command event, as the bus rule hands it to the operator function. */
  const command = async (detail: Record<string, string>, id = ++commands) => {
    const event = {
      id: `command-${id}`,
      'detail-type': 'Operator Command',
      source: 'greenlight.cli',
      detail: { schemaVersion: 1, ...detail },
    };
    return ok<CommandRecord>(recorder.invoke(F.Operator, event));
  };
  /** A click on a Slack button, signed as Slack signs it, through the function URL. */
  const click = (action: 'approve' | 'reject', approvalId: string) =>
    functionUrlEvent(
      signedInteraction(
        slackSigningSecret,
        {
          type: 'block_actions',
          user: { id: 'U0DANA', username: 'dana' },
          channel: { id: 'C0RELEASES' },
          actions: [{ action_id: action, value: approvalId }],
        },
        Math.floor(Date.now() / 1000),
      ),
    );
  const ok = async <T>(running: Promise<{ ok: boolean; value: unknown }>): Promise<T> => {
    const outcome = await running;
    if (!outcome.ok) throw outcome.value;
    return outcome.value as T;
  };
  /** Step Functions retrying a step whose answer it lost: the same input again. */
  const retried = async (fn: F, input: unknown) => {
    const first = await recorder.invoke(fn, input);
    const again = await recorder.invoke(fn, input);
    expect(again.ok).toBe(first.ok);
    return first;
  };

  async function startRelease(version: string, strategy = 'canary') {
    const release = await ok<RegisteredRelease>(register(version, version, strategy));
    await retried(F.Register, {
      event: aReleaseEvent({
        version,
        strategy,
        artifact: { s3: { bucket: 'acme-artifacts', key: `checkout/${version}.zip` } },
      }),
      executionId: execution(version),
    });
    const lock = await ok<{ acquired: boolean }>(recorder.invoke(F.AcquireLock, { release }));
    expect(lock.acquired).toBe(true);
    const provisioned = await retried(F.ProvisionGreen, { release });
    expect(provisioned.ok).toBe(true);
    return { release, colours: provisioned.value as Colours };
  }

  beforeAll(async () => {
    recorder = await startStepRecorder();

    // A good canary release, with a second release and a duplicate event meanwhile.
    const good = await startRelease('1.0.1');
    expect((await register('1.0.1', 'duplicate')).value).toMatchObject({ duplicate: true });
    const queued = await ok<RegisteredRelease>(register('1.0.2'));
    expect(await ok(recorder.invoke(F.AcquireLock, { release: queued }))).toMatchObject({
      acquired: false,
    });
    expect((await retried(F.TestGreen, good)).ok).toBe(true);
    // A bake timer that fires before its watch stored the token asks to be retried.
    const early = await recorder.invoke(F.EndBake, { ...good, step: good.release.plan[0] });
    expect((early.value as Error).name).toBe('BakeNotStarted');
    for (const step of good.release.plan) {
      expect((await retried(F.SetWeight, { ...good, step })).ok).toBe(true);
      if (step.bakeSeconds > 0) {
        // The watch, retried by Step Functions with a new token, then the timer's end.
        expect(
          (await recorder.invoke(F.StartBake, { ...good, step, taskToken: 'token-1' })).ok,
        ).toBe(true);
        expect(
          (await recorder.invoke(F.StartBake, { ...good, step, taskToken: 'token-2' })).ok,
        ).toBe(true);
        expect(await ok(retried(F.EndBake, { ...good, step }))).toEqual({ ended: true });
      }
      expect((await retried(F.CheckGates, { ...good, step })).ok).toBe(true);
    }
    // Someone put the alias back on blue after the last step: finalize puts it on green.
    recorder.fake.alias = { version: good.colours.blue, weights: {}, revision: 99 };
    expect((await retried(F.Finalize, good)).ok).toBe(true);
    expect(recorder.fake.alias.version).toBe(good.colours.green);

    // An event the registry refuses.
    const invalid = await recorder.invoke(F.Register, {
      event: aReleaseEvent({ service: 'not-registered' }),
      executionId: execution('invalid'),
    });
    expect(invalid.ok).toBe(false);

    // The queued release: its publish response is lost, then green fails its test.
    expect(await ok(recorder.invoke(F.AcquireLock, { release: queued }))).toMatchObject({
      acquired: true,
    });
    recorder.fake.loseNextPublishResponse = true;
    const queuedColours = await ok<Colours>(recorder.invoke(F.ProvisionGreen, { release: queued }));
    recorder.fake.greenAnswers = 500;
    const failedTest = await recorder.invoke(F.TestGreen, {
      release: queued,
      colours: queuedColours,
    });
    expect((failedTest.value as Error).name).toBe('GreenTestFailed');
    await retried(F.Rollback, {
      release: queued,
      failure: { Error: 'GreenTestFailed', Cause: 'health failed' },
    });
    recorder.fake.greenAnswers = 200;

    // Someone else moved the alias: setting a weight refuses to overwrite their change.
    const conflicted = await startRelease('1.0.4');
    expect((await recorder.invoke(F.TestGreen, conflicted)).ok).toBe(true);
    const saved = recorder.fake.alias;
    recorder.fake.alias = { version: '77', weights: {}, revision: 77 };
    const conflict = await recorder.invoke(F.SetWeight, {
      ...conflicted,
      step: conflicted.release.plan[0],
    });
    expect((conflict.value as Error).name).toBe('TargetStateConflict');
    recorder.fake.alias = saved;
    await ok(
      recorder.invoke(F.Rollback, {
        release: conflicted.release,
        failure: { Error: 'TargetStateConflict', Cause: 'alias changed' },
      }),
    );

    // Lambda refuses the artifact: provisioning fails before anything moved.
    const refused = await ok<RegisteredRelease>(register('1.0.5'));
    await ok(recorder.invoke(F.AcquireLock, { release: refused }));
    recorder.fake.refuseNextArtifact = true;
    const provision = await recorder.invoke(F.ProvisionGreen, { release: refused });
    expect((provision.value as Error).name).toBe('GreenProvisionFailed');
    await ok(
      recorder.invoke(F.Rollback, {
        release: refused,
        failure: { Error: 'GreenProvisionFailed', Cause: 'not a zip file' },
      }),
    );

    // A gate alarm fires during a polled bake.
    const polled = await startRelease('1.0.6');
    expect((await recorder.invoke(F.TestGreen, polled)).ok).toBe(true);
    const polledStep = polled.release.plan[0] as WeightStep;
    expect((await recorder.invoke(F.SetWeight, { ...polled, step: polledStep })).ok).toBe(true);
    const tick = { ...polled, step: polledStep, pollSeconds: 30 };
    expect(await ok(recorder.invoke(F.BakeTick, tick))).toMatchObject({ done: false });
    recorder.fake.alarmState = 'ALARM';
    expect(((await recorder.invoke(F.BakeTick, tick)).value as Error).name).toBe('AlarmGateFailed');
    recorder.fake.alarmState = 'OK';
    await ok(
      recorder.invoke(F.Rollback, {
        release: polled.release,
        failure: { Error: 'AlarmGateFailed', Cause: 'checkout-errors in ALARM' },
      }),
    );

    // A bake ends without the alarm's event (lost): the gate check after it is the backstop.
    const backstop = await startRelease('1.0.7');
    expect((await recorder.invoke(F.TestGreen, backstop)).ok).toBe(true);
    const backstopStep = backstop.release.plan[0] as WeightStep;
    expect((await recorder.invoke(F.SetWeight, { ...backstop, step: backstopStep })).ok).toBe(true);
    recorder.fake.alarmState = 'ALARM';
    const late = await recorder.invoke(F.CheckGates, { ...backstop, step: backstopStep });
    expect((late.value as Error).name).toBe('AlarmGateFailed');
    recorder.fake.alarmState = 'OK';
    await ok(
      recorder.invoke(F.Rollback, {
        release: backstop.release,
        failure: { Error: 'AlarmGateFailed', Cause: 'checkout-errors in ALARM' },
      }),
    );

    // A gate alarm is already firing when the first bake starts: the watch cuts it short.
    const gated = await startRelease('1.0.3');
    expect((await recorder.invoke(F.TestGreen, gated)).ok).toBe(true);
    const first = gated.release.plan[0] as WeightStep;
    expect((await recorder.invoke(F.SetWeight, { ...gated, step: first })).ok).toBe(true);
    recorder.fake.alarmState = 'ALARM';
    expect(
      (await recorder.invoke(F.StartBake, { ...gated, step: first, taskToken: 'token-3' })).ok,
    ).toBe(true);
    const gate = await recorder.invoke(F.CheckGates, { ...gated, step: first });
    expect((gate.value as Error).name).toBe('AlarmGateFailed');
    await retried(F.Rollback, {
      release: gated.release,
      failure: { Error: 'AlarmGateFailed', Cause: 'checkout-errors in ALARM' },
    });
    expect(recorder.fake.alias).toMatchObject({ version: gated.colours.blue, weights: {} });

    // Approvals: a human says go in Slack before traffic moves; the wait is retried with a new
    // token; a replayed click is refused; the decision reaches a wait started after it; the
    // final approval times out and the release rolls back.
    recorder.fake.alarmState = 'OK';
    const approved = await startRelease('2.0.0', 'approved');
    expect((await recorder.invoke(F.TestGreen, approved)).ok).toBe(true);
    const waitFor = (stage: string, taskToken: string) => ({ ...approved, stage, taskToken });
    await ok(recorder.invoke(F.RequestApproval, waitFor('before-shift', 'approval-1')));
    await ok(recorder.invoke(F.RequestApproval, waitFor('before-shift', 'approval-2')));
    const approvalId = `${approved.release.releaseId}-before-shift`;
    const approveClick = click('approve', approvalId);
    expect(await ok(recorder.invoke(F.SlackInteractions, approveClick))).toMatchObject({
      statusCode: 200,
    });
    expect(await ok(recorder.invoke(F.SlackInteractions, approveClick))).toMatchObject({
      statusCode: 401,
    });
    await ok(recorder.invoke(F.RequestApproval, waitFor('before-shift', 'approval-3')));
    const [allAtOnce] = approved.release.plan as WeightStep[];
    expect((await recorder.invoke(F.SetWeight, { ...approved, step: allAtOnce })).ok).toBe(true);
    expect((await recorder.invoke(F.CheckGates, { ...approved, step: allAtOnce })).ok).toBe(true);
    await ok(recorder.invoke(F.RequestApproval, waitFor('before-finalize', 'final-1')));
    expect(
      await ok(retried(F.ApprovalTimeout, { release: approved.release, stage: 'before-finalize' })),
    ).toMatchObject({ action: 'reject' });
    await ok(
      recorder.invoke(F.Rollback, {
        release: approved.release,
        failure: { Error: 'ApprovalTimedOut', Cause: 'no decision in time' },
      }),
    );

    // Operators: pause (the gate check holds), resume, promote mid-bake (the bake's token is
    // failed), the promoted 100% step; a refused command and a redelivered one; roll back
    // after finalize in one switch; retry the reverted release as attempt 2.
    const steered = await startRelease('3.0.0');
    expect((await recorder.invoke(F.TestGreen, steered)).ok).toBe(true);
    const [canary, full] = steered.release.plan as WeightStep[];
    const releaseId = steered.release.releaseId;
    const who = { actor: 'dana', reason: 'testing the controls' };
    expect((await recorder.invoke(F.SetWeight, { ...steered, step: canary })).ok).toBe(true);
    await ok(recorder.invoke(F.StartBake, { ...steered, step: canary, taskToken: 'bake-9' }));
    expect(await command({ command: 'pause', releaseId, ...who })).toMatchObject({
      outcome: 'applied',
    });
    expect(await ok(recorder.invoke(F.CheckGates, { ...steered, step: canary }))).toMatchObject({
      verdict: 'hold',
    });
    expect(await command({ command: 'pause', releaseId, ...who })).toMatchObject({
      outcome: 'refused',
    });
    await command({ command: 'resume', releaseId, ...who });
    await command({ command: 'promote', releaseId, ...who }, 100);
    expect(await command({ command: 'promote', releaseId, ...who }, 100)).toMatchObject({
      outcome: 'applied',
    });
    expect(await ok(recorder.invoke(F.CheckGates, { ...steered, step: canary }))).toMatchObject({
      verdict: 'pass',
    });
    await ok(recorder.invoke(F.SetWeight, { ...steered, step: full }));
    await ok(recorder.invoke(F.BakeTick, { ...steered, step: full, pollSeconds: 5 }));
    await ok(recorder.invoke(F.CheckGates, { ...steered, step: full }));
    await ok(recorder.invoke(F.Finalize, steered));
    expect(await command({ command: 'rollback', service: 'checkout', ...who })).toMatchObject({
      outcome: 'applied',
      releaseId,
    });
    expect(recorder.fake.alias).toMatchObject({ version: steered.colours.blue, weights: {} });
    expect(await command({ command: 'retry', releaseId, ...who })).toMatchObject({
      outcome: 'applied',
      newReleaseId: deriveReleaseId('checkout', '3.0.0', 2),
    });

    // An approver rejects: the wait fails with ApprovalRejected and nothing moved.
    const rejected = await startRelease('5.0.0', 'approved');
    expect((await recorder.invoke(F.TestGreen, rejected)).ok).toBe(true);
    await ok(
      recorder.invoke(F.RequestApproval, { ...rejected, stage: 'before-shift', taskToken: 'rj-1' }),
    );
    const rejectClick = click('reject', `${rejected.release.releaseId}-before-shift`);
    expect(await ok(recorder.invoke(F.SlackInteractions, rejectClick))).toMatchObject({
      statusCode: 200,
    });
    await ok(
      recorder.invoke(F.Rollback, {
        release: rejected.release,
        failure: { Error: 'ApprovalRejected', Cause: 'Rejected by dana' },
      }),
    );

    // An abort while a human is asked: the approval's wait fails at once.
    const aborted = await startRelease('4.0.0', 'approved');
    expect((await recorder.invoke(F.TestGreen, aborted)).ok).toBe(true);
    await ok(
      recorder.invoke(F.RequestApproval, { ...aborted, stage: 'before-shift', taskToken: 'ab-1' }),
    );
    expect(
      await command({ command: 'abort', releaseId: aborted.release.releaseId, ...who }),
    ).toMatchObject({ outcome: 'applied' });
    // The wait retried after the abort fails its own new token.
    await ok(
      recorder.invoke(F.RequestApproval, { ...aborted, stage: 'before-shift', taskToken: 'ab-2' }),
    );
    await ok(
      recorder.invoke(F.Rollback, {
        release: aborted.release,
        failure: { Error: 'OperatorAborted', Cause: 'Aborted by dana' },
      }),
    );
  }, 60_000);

  afterAll(async () => {
    await recorder?.close();
  });

  for (const fn of Object.values(GreenlightFunction)) {
    it(`${fn}: the table grants exactly the actions its code sends`, () => {
      expect([...recorder.actions[fn]].sort()).toEqual([...calledActions(fn)].sort());
    });
  }

  it('gives every implicit grant a documented reason and no SDK call that explains it', () => {
    for (const fn of Object.values(GreenlightFunction)) {
      for (const action of implicitActions(fn)) {
        expect(recorder.actions[fn].has(action), `${fn} sends ${action}`).toBe(false);
      }
      for (const grant of functionGrants[fn]) {
        if (grant.implicit !== undefined) expect(grant.implicit.length).toBeGreaterThan(40);
      }
    }
  });

  it('has no wildcard action in the table', () => {
    const actions = Object.values(functionGrants).flatMap((grants) =>
      grants.flatMap((grant) => grant.actions),
    );
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
    for (const action of actions) expect(action).toMatch(/^[a-z0-9-]+:[A-Za-z]+$/);
  });
});
