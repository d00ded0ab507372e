import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Colours, WeightStep } from '../../src/core/records.ts';
import { GreenlightFunction } from '../../src/infra/functions.ts';
import { calledActions, functionGrants, implicitActions } from '../../src/infra/permissions.ts';
import type { TeardownOutcome } from '../../src/steps/idle-teardown.ts';
import type { RegisteredRelease } from '../../src/steps/register.ts';
import type { SweepOutcome } from '../../src/steps/sweeper.ts';
import { aReleaseEvent } from '../support/builders.ts';
import { healthyMetrics, type StepRecorder, startStepRecorder } from './step-actions.ts';

const F = GreenlightFunction;
const execution = (name: string) =>
  `arn:aws:states:eu-west-1:123456789012:execution:greenlight-test-release:${name}`;

/**
 * The scenarios cover every branch that reaches AWS: a good canary release; a duplicate
 * event; an invalid event; a second release waiting for a busy lock; a publish whose response
 * was lost; a green that fails its test; an artifact Lambda refuses; someone else moving the
 * alias mid-release; a gate that fails during the bake; a metric gate that holds for want of
 * data and then rolls back, and one that finds green worse than blue; finalize
 * reconciling an alias that drifted; and, after each, a retry of every step, which replays
 * the stored answer (Powertools reads it back). Then the idle colours: a teardown deferred
 * while a release is in flight, a finalize whose schedule exists already, a teardown that
 * removes provisioned concurrency and old versions (and its retry, which does nothing), and
 * the sweeper finding an idle colour left warm.
 */
describe('each step function’s IAM actions', () => {
  let recorder: StepRecorder;

  const register = async (version: string, executionName = version) => {
    const event = aReleaseEvent({
      version,
      artifact: { s3: { bucket: 'acme-artifacts', key: `checkout/${version}.zip` } },
    });
    return recorder.invoke(F.Register, { event, executionId: execution(executionName) });
  };
  const ok = async <T>(running: Promise<{ ok: boolean; value: unknown }>): Promise<T> => {
    const outcome = await running;
    if (!outcome.ok) throw outcome.value;
    return outcome.value as T;
  };
  /** Step Functions retrying a step whose answer it lost: the same input again. */
  const retried = async (fn: GreenlightFunction, input: unknown) => {
    const first = await recorder.invoke(fn, input);
    const again = await recorder.invoke(fn, input);
    expect(again.ok).toBe(first.ok);
    return first;
  };

  async function startRelease(version: string) {
    const release = await ok<RegisteredRelease>(register(version));
    await retried(F.Register, {
      event: aReleaseEvent({
        version,
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

    // Nothing in flight now: the first release's teardown removes its provisioned concurrency
    // and the versions beyond retention; retried, it finds it settled and does nothing.
    const tornDown = await ok<TeardownOutcome>(retried(F.Teardown, goodIdle));
    expect(tornDown.outcome).toBe('torn-down');
    expect(tornDown.actions).toContain(
      `Removed provisioned concurrency 2 from version ${good.colours.blue}`,
    );
    expect(await ok(recorder.invoke(F.Teardown, goodIdle))).toMatchObject({ outcome: 'settled' });

    // The later release's schedule was lost; its blue kept provisioned concurrency: the sweeper.
    recorder.fake.provisioned = { [later.colours.blue]: 1 };
    const sweep = await ok<SweepOutcome>(recorder.invoke(F.Sweeper, {}));
    expect(sweep.swept.map((s) => [s.releaseId, s.outcome])).toEqual([
      [later.release.releaseId, 'torn-down'],
    ]);
    expect(recorder.fake.provisioned).toEqual({});
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
