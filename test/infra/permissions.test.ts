import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandRecord } from '../../src/core/operator-command.ts';
import type { Colours, WeightStep } from '../../src/core/records.ts';
import { deriveReleaseId } from '../../src/core/release-id.ts';
import type { AlbListenerTargetConfig } from '../../src/core/service-config.ts';
import { GreenlightFunction } from '../../src/infra/functions.ts';
import { calledActions, functionGrants, implicitActions } from '../../src/infra/permissions.ts';
import { functionUrlEvent, signedInteraction } from '../../src/local/slack-standin.ts';
import type { TeardownOutcome } from '../../src/steps/idle-teardown.ts';
import type { RegisteredRelease } from '../../src/steps/register.ts';
import type { SweepOutcome } from '../../src/steps/sweeper.ts';
import { aReleaseEvent } from '../support/builders.ts';
import { forwardOnly } from './alb-fakes.ts';
import {
  healthyMetrics,
  type StepRecorder,
  slackSigningSecret,
  startStepRecorder,
} from './step-actions.ts';

const F = GreenlightFunction;
type F = GreenlightFunction;
const execution = (name: string) =>
  `arn:aws:states:eu-west-1:123456789012:execution:greenlight-test-release:${name}`;

/**
 * The scenarios cover every branch that reaches AWS: a good canary release; a duplicate
 * event; an invalid event; a second release waiting for a busy lock; a publish whose response
 * was lost; a green that fails its test; an artifact Lambda refuses; someone else moving the
 * alias mid-release; a gate that fails during the bake; a metric gate that holds for want of
 * data and then rolls back, and one that finds green worse than blue; finalize
 * reconciling an alias that drifted; ALB releases through listeners (`web`) and through rules
 * (`api`), finalized after someone moved the forward back, and rolled back after a step; and,
 * after each, a retry of every step, which replays the stored answer (Powertools reads it back).
 * Then the idle colours: a teardown deferred while a release is in flight, an ALB slot whose
 * teardown is deferred while it may still serve sticky requests and then scaled to zero, a
 * finalize whose schedule exists already, a teardown that removes provisioned concurrency and
 * old versions (and its retry, which does nothing), and the sweeper finding idle colours left
 * warm (a Lambda version and an ALB slot). Between the two: approvals in Slack (approved with
 * a replayed click refused, timed out, rejected, aborted while asked) and operator commands
 * (pause, resume, promote mid-bake, a refused and a redelivered command, rollback after
 * finalize, retry), and alarm state changes as the default bus's rule delivers them: one for a
 * watched alarm entering ALARM mid-bake (and redelivered), one returning to OK, one for an
 * alarm no release watches.
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

  async function startAlbRelease(service: 'web' | 'api', version: string) {
    const event = aReleaseEvent({
      service,
      version,
      artifact: { imageUri: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/${service}:${version}` },
    });
    const executionId = execution(`${service}-${version}`);
    const release = await ok<RegisteredRelease>(
      recorder.invoke(F.Register, { event, executionId }),
    );
    expect(await ok(recorder.invoke(F.AcquireLock, { release }))).toMatchObject({ acquired: true });
    const provisioned = await retried(F.ProvisionGreen, { release });
    expect(provisioned.ok).toBe(true);
    return { release, colours: provisioned.value as Colours };
  }

  /** One weight step as the workflow runs it: set, bake (watch, then the timer's end), gate. */
  async function shiftStep(
    released: { release: RegisteredRelease; colours: Colours },
    step: WeightStep,
  ) {
    expect((await retried(F.SetWeight, { ...released, step })).ok).toBe(true);
    if (step.bakeSeconds > 0) {
      await ok(
        recorder.invoke(F.StartBake, { ...released, step, taskToken: `token-${step.index}` }),
      );
      await ok(recorder.invoke(F.EndBake, { ...released, step }));
    }
    expect((await retried(F.CheckGates, { ...released, step })).ok).toBe(true);
  }

  function albTarget(name: 'web' | 'api'): AlbListenerTargetConfig {
    const target = recorder.albServices.find((service) => service.name === name)?.target;
    if (target?.kind !== 'alb-listener') throw new Error(`no ALB service ${name}`);
    return target as AlbListenerTargetConfig;
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
    // Blue keeps provisioned concurrency, which finalize prices for the warm window.
    recorder.fake.alias = { version: good.colours.blue, weights: {}, revision: 99 };
    recorder.fake.provisioned = { [good.colours.blue]: 2 };
    expect((await retried(F.Finalize, good)).ok).toBe(true);
    expect(recorder.fake.alias.version).toBe(good.colours.green);
    // Its teardown comes while the queued release is in flight, without colours yet: deferred.
    const goodIdle = {
      service: 'checkout',
      releaseId: good.release.releaseId,
      colour: good.colours.blue,
    };
    expect(await ok(recorder.invoke(F.Teardown, goodIdle))).toMatchObject({ outcome: 'deferred' });

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

    // A metric gate without data holds the weight, is retried with the same answer, and
    // rolls back as inconclusive once its holds run out; then one with green worse than blue.
    const quiet = await startRelease('1.0.8');
    expect((await recorder.invoke(F.TestGreen, quiet)).ok).toBe(true);
    const quietStep = quiet.release.plan[0] as WeightStep;
    expect((await recorder.invoke(F.SetWeight, { ...quiet, step: quietStep })).ok).toBe(true);
    recorder.fake.metricData = {};
    const held = await ok<{ verdict: string; holdSeconds: number }>(
      retried(F.CheckGates, { ...quiet, step: quietStep }),
    );
    expect(held).toMatchObject({ verdict: 'hold', holds: 1 });
    const expired = await recorder.invoke(F.CheckGates, {
      ...quiet,
      step: quietStep,
      gate: { ...held, holdSeconds: 60 },
    });
    expect((expired.value as Error).name).toBe('GateInconclusive');
    await ok(
      recorder.invoke(F.Rollback, {
        release: quiet.release,
        failure: { Error: 'GateInconclusive', Cause: 'no data' },
      }),
    );
    const worse = await startRelease('1.0.9');
    expect((await recorder.invoke(F.TestGreen, worse)).ok).toBe(true);
    const worseStep = worse.release.plan[0] as WeightStep;
    expect((await recorder.invoke(F.SetWeight, { ...worse, step: worseStep })).ok).toBe(true);
    recorder.fake.metricData = { ...healthyMetrics(), green_failures: [50] };
    const failedGate = await recorder.invoke(F.CheckGates, { ...worse, step: worseStep });
    expect((failedGate.value as Error).name).toBe('MetricGateFailed');
    recorder.fake.metricData = healthyMetrics();
    await ok(
      recorder.invoke(F.Rollback, {
        release: worse.release,
        failure: { Error: 'MetricGateFailed', Cause: 'green worse than blue' },
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
    for (const step of approved.release.plan) {
      expect((await recorder.invoke(F.SetWeight, { ...approved, step })).ok).toBe(true);
      expect((await recorder.invoke(F.CheckGates, { ...approved, step })).ok).toBe(true);
    }
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

    // Alarm events from the default bus: a watched alarm enters ALARM during a bake (the bake
    // is cut short, its token failed; redelivered, nothing more), it returns to OK, and an
    // alarm no release watches fires.
    recorder.fake.alarmState = 'OK';
    const alarmed = await startRelease('1.0.11');
    expect((await recorder.invoke(F.TestGreen, alarmed)).ok).toBe(true);
    const alarmedStep = alarmed.release.plan[0] as WeightStep;
    await ok(recorder.invoke(F.SetWeight, { ...alarmed, step: alarmedStep }));
    await ok(recorder.invoke(F.StartBake, { ...alarmed, step: alarmedStep, taskToken: 'token-5' }));
    const stateChange = (alarmName: string, value: 'ALARM' | 'OK') => ({
      id: `${alarmName}-${value}`,
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
      detail: {
        alarmName,
        state: { value, reason: `Threshold crossed: ${value}`, timestamp: '2026-11-21T10:00:00Z' },
      },
    });
    const firing = stateChange('checkout-errors', 'ALARM');
    expect(await ok(recorder.invoke(F.AlarmEvent, firing))).toMatchObject({
      interrupted: [alarmed.release.releaseId],
    });
    expect(await ok(recorder.invoke(F.AlarmEvent, firing))).toMatchObject({
      interrupted: [],
      ignored: [{ releaseId: alarmed.release.releaseId }],
    });
    expect(
      await ok(recorder.invoke(F.AlarmEvent, stateChange('checkout-errors', 'OK'))),
    ).toMatchObject({ interrupted: [], ignored: [] });
    expect(
      await ok(recorder.invoke(F.AlarmEvent, stateChange('nobody-watches-this', 'ALARM'))),
    ).toMatchObject({ interrupted: [], ignored: [] });
    await ok(
      recorder.invoke(F.Rollback, {
        release: alarmed.release,
        failure: { Error: 'AlarmGateFailed', Cause: 'checkout-errors entered ALARM' },
      }),
    );
    expect(recorder.fake.alias).toMatchObject({ version: alarmed.colours.blue, weights: {} });

    recorder.fake.alarmState = 'OK';

    // ALB services. Each first release finds its test site on blue (provisioning points it at
    // green), finds it moved back before its smoke checks, and finds the production forward
    // moved back before finalize; each second release is rolled back after its first step.
    const shippedAlb: Record<string, { release: RegisteredRelease; colours: Colours }> = {};
    for (const name of ['web', 'api'] as const) {
      const target = albTarget(name);
      const testSite = target.testRuleArn ?? target.testListenerArn;
      const production = target.ruleArn ?? target.listenerArn;
      const { a, b } = { a: target.slots.a.targetGroupArn, b: target.slots.b.targetGroupArn };

      const shipped = await startAlbRelease(name, '2.0.0');
      shippedAlb[name] = shipped;
      expect(shipped.colours).toEqual({ blue: 'a', green: 'b' });
      expect(recorder.alb.forwards.get(testSite)).toEqual([{ targetGroupArn: b, weight: 1 }]);
      forwardOnly(recorder.alb, testSite, a);
      expect((await retried(F.TestGreen, shipped)).ok).toBe(true);
      for (const step of shipped.release.plan) await shiftStep(shipped, step);
      forwardOnly(recorder.alb, production, a);
      // The schedule exists already (a finalize retried after it was made): the teardown time
      // is that schedule's, long past, so the sweeper finds the idle slot whenever it runs.
      recorder.fake.scheduleExists = true;
      expect((await retried(F.Finalize, shipped)).ok).toBe(true);
      recorder.fake.scheduleExists = false;
      expect(recorder.alb.forwards.get(production)).toEqual([
        { targetGroupArn: a, weight: 0 },
        { targetGroupArn: b, weight: 100 },
      ]);

      const rolled = await startAlbRelease(name, '2.1.0');
      expect(rolled.colours).toEqual({ blue: 'b', green: 'a' });
      expect((await recorder.invoke(F.TestGreen, rolled)).ok).toBe(true);
      await ok(recorder.invoke(F.SetWeight, { ...rolled, step: rolled.release.plan[0] }));
      await retried(F.Rollback, {
        release: rolled.release,
        failure: { Error: 'AlarmGateFailed', Cause: 'checkout-errors in ALARM' },
      });
      expect(recorder.alb.forwards.get(production)).toEqual([
        { targetGroupArn: b, weight: 100 },
        { targetGroupArn: a, weight: 0 },
      ]);
    }
    // One revision per release, each registered once despite the retried provisioning.
    expect(recorder.alb.taskDefinitions.map((td) => `${td.family}:${td.revision}`)).toEqual([
      'web-web:1',
      'api-web:1',
      'web-web:2',
      'web-web:3',
      'api-web:2',
      'api-web:3',
    ]);
    const webShipped = shippedAlb.web;
    const apiShipped = shippedAlb.api;
    if (webShipped === undefined || apiShipped === undefined) throw new Error('no ALB releases');

    // Nothing in flight now: the first release's teardown removes its provisioned concurrency
    // and the versions beyond retention; retried, it finds it settled and does nothing.
    const tornDown = await ok<TeardownOutcome>(retried(F.Teardown, goodIdle));
    expect(tornDown.outcome).toBe('torn-down');
    expect(tornDown.actions).toContain(
      `Removed provisioned concurrency 2 from version ${good.colours.blue}`,
    );
    expect(await ok(recorder.invoke(F.Teardown, goodIdle))).toMatchObject({ outcome: 'settled' });

    // The ALB releases' idle slot a (their blue) was sized up again as the rolled-back green.
    // While sticky clients may come back (an hour), web's teardown is deferred, and so is each
    // slot the sweeper finds; once the slots drain at once, api's teardown scales its slot to
    // zero, and retried finds it settled.
    const webIdle = { service: 'web', releaseId: webShipped.release.releaseId, colour: 'a' };
    const apiIdle = { service: 'api', releaseId: apiShipped.release.releaseId, colour: 'a' };
    const draining = await retried(F.Teardown, webIdle);
    expect((draining.value as Error).name).toBe('TeardownDeferred');
    const stillDraining = await ok<SweepOutcome>(recorder.invoke(F.Sweeper, {}));
    expect(stillDraining.swept).toEqual([]);
    expect(stillDraining.failed.map((f) => [f.releaseId, f.error.split(':')[0]])).toEqual([
      [webIdle.releaseId, 'TeardownDeferred'],
      [apiIdle.releaseId, 'TeardownDeferred'],
    ]);
    recorder.alb.targetGroupAttributes = [
      { Key: 'deregistration_delay.timeout_seconds', Value: '0' },
    ];
    expect(await ok(retried(F.Teardown, apiIdle))).toMatchObject({ outcome: 'torn-down' });
    expect(recorder.alb.services.get('api-a')?.desiredCount).toBe(0);
    expect(await ok(recorder.invoke(F.Teardown, apiIdle))).toMatchObject({ outcome: 'settled' });

    // Another good release, whose finalize is retried after its schedule was made.
    recorder.fake.alarmState = 'OK';
    const later = await startRelease('1.0.10');
    expect((await recorder.invoke(F.TestGreen, later)).ok).toBe(true);
    for (const step of later.release.plan) {
      expect((await recorder.invoke(F.SetWeight, { ...later, step })).ok).toBe(true);
      if (step.bakeSeconds > 0) {
        await ok(recorder.invoke(F.StartBake, { ...later, step, taskToken: 'token-4' }));
        await ok(recorder.invoke(F.EndBake, { ...later, step }));
      }
      expect((await recorder.invoke(F.CheckGates, { ...later, step })).ok).toBe(true);
    }
    recorder.fake.scheduleExists = true;
    expect((await recorder.invoke(F.Finalize, later)).ok).toBe(true);

    // The later release's schedule was lost; its blue kept provisioned concurrency, and web's
    // idle slot was never torn down: the sweeper takes both down.
    recorder.fake.provisioned = { [later.colours.blue]: 1 };
    const sweep = await ok<SweepOutcome>(recorder.invoke(F.Sweeper, {}));
    expect(sweep.swept.map((s) => [s.releaseId, s.outcome])).toEqual([
      [later.release.releaseId, 'torn-down'],
      [webIdle.releaseId, 'torn-down'],
    ]);
    expect(sweep.failed).toEqual([]);
    expect(recorder.fake.provisioned).toEqual({});
    expect(recorder.alb.services.get('web-a')?.desiredCount).toBe(0);
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
