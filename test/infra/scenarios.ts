/**
 * Every branch of greenlight's functions that reaches AWS, as scenarios run through the step
 * recorder (step-actions.ts). permissions.test.ts checks the actions they send against the
 * permissions table; iam-policies.test.ts evaluates each request against the deployed policies.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { expect } from 'vitest';
import { DynamoReleaseQueue } from '../../src/aws/dynamo-release-queue.ts';
import { atExpression, teardownScheduleName, teardownTime } from '../../src/core/idle-colour.ts';
import type { CommandRecord } from '../../src/core/operator-command.ts';
import type { Colours, WeightStep } from '../../src/core/records.ts';
import { deriveReleaseId } from '../../src/core/release-id.ts';
import type { AlbListenerTargetConfig } from '../../src/core/service-config.ts';
import { GreenlightFunction } from '../../src/infra/functions.ts';
import { functionUrlEvent, signedInteraction } from '../../src/local/slack-standin.ts';
import { type TeardownOutcome, teardownLeaseMs } from '../../src/steps/idle-teardown.ts';
import type { RegisteredRelease } from '../../src/steps/register.ts';
import type { SweepOutcome } from '../../src/steps/sweeper.ts';
import { aReleaseEvent } from '../support/builders.ts';
import { forwardOnly } from './alb-fakes.ts';
import {
  healthyMetrics,
  type IamRequest,
  recordedNames,
  recordedWarmWindowSeconds,
  type StepRecorder,
  slackSigningSecret,
  startStepRecorder,
} from './step-actions.ts';

const F = GreenlightFunction;
type F = GreenlightFunction;
const execution = (name: string) =>
  `arn:aws:states:eu-west-1:123456789012:execution:greenlight-test-release:${name}`;
type Released = { release: RegisteredRelease; colours: Colours };

/**
 * What a scenario does, step by step, through the recorder. `at` names the step under way, so
 * that a scenario that breaks says where.
 */
function scenarioKit(recorder: StepRecorder, at: (step: string) => void) {
  let commands = 0;
  const ok = async <T>(running: Promise<{ ok: boolean; value: unknown }>): Promise<T> => {
    const outcome = await running;
    if (!outcome.ok) throw outcome.value;
    return outcome.value as T;
  };
  const kit = {
    recorder,
    fake: recorder.fake,
    clock: recorder.clock,
    at,
    ok,
    invoke: (fn: F, input: unknown) => recorder.invoke(fn, input),
    register: (version: string, executionName = version, strategy = 'canary') =>
      recorder.invoke(F.Register, {
        event: aReleaseEvent({
          version,
          strategy,
          artifact: { s3: { bucket: 'acme-artifacts', key: `checkout/${version}.zip` } },
        }),
        executionId: execution(executionName),
      }),
    /** Step Functions retrying a step whose answer it lost: the same input again. */
    retried: async (fn: F, input: unknown) => {
      const first = await recorder.invoke(fn, input);
      const again = await recorder.invoke(fn, input);
      expect(again.ok).toBe(first.ok);
      return first;
    },
    /** An Operator Command event, as the bus rule hands it to the operator function. */
    command: (detail: Record<string, string>, id = ++commands) =>
      ok<CommandRecord>(
        recorder.invoke(F.Operator, {
          id: `command-${id}`,
          'detail-type': 'Operator Command',
          source: 'greenlight.cli',
          detail: { schemaVersion: 1, ...detail },
        }),
      ),
    /** A click on a Slack button, signed as Slack signs it (at the test's time), through the URL. */
    click: (action: 'approve' | 'reject', approvalId: string) =>
      functionUrlEvent(
        signedInteraction(
          slackSigningSecret,
          {
            type: 'block_actions',
            user: { id: 'U0DANA', username: 'dana' },
            channel: { id: 'C0RELEASES' },
            actions: [{ action_id: action, value: approvalId }],
          },
          recorder.clock.epochSeconds(),
        ),
      ),
    async startRelease(version: string, strategy = 'canary'): Promise<Released> {
      at(`register ${version}`);
      const release = await ok<RegisteredRelease>(kit.register(version, version, strategy));
      await kit.retried(F.Register, {
        event: aReleaseEvent({
          version,
          strategy,
          artifact: { s3: { bucket: 'acme-artifacts', key: `checkout/${version}.zip` } },
        }),
        executionId: execution(version),
      });
      at(`lock and provision ${version}`);
      const lock = await ok<{ acquired: boolean }>(recorder.invoke(F.AcquireLock, { release }));
      expect(lock.acquired).toBe(true);
      const provisioned = await kit.retried(F.ProvisionGreen, { release });
      expect(provisioned.ok).toBe(true);
      return { release, colours: provisioned.value as Colours };
    },
    async startAlbRelease(service: 'web' | 'api', version: string): Promise<Released> {
      at(`register, lock and provision ${service} ${version}`);
      const event = aReleaseEvent({
        service,
        version,
        artifact: {
          imageUri: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/${service}:${version}`,
        },
      });
      const executionId = execution(`${service}-${version}`);
      const release = await ok<RegisteredRelease>(
        recorder.invoke(F.Register, { event, executionId }),
      );
      expect(await ok(recorder.invoke(F.AcquireLock, { release }))).toMatchObject({
        acquired: true,
      });
      const provisioned = await kit.retried(F.ProvisionGreen, { release });
      expect(provisioned.ok).toBe(true);
      return { release, colours: provisioned.value as Colours };
    },
    /** Green passes its test and takes the first weight; returns that step. */
    async atFirstStep(released: Released): Promise<WeightStep> {
      at(`test green and set the first weight of ${released.release.releaseId}`);
      expect((await recorder.invoke(F.TestGreen, released)).ok).toBe(true);
      const step = released.release.plan[0] as WeightStep;
      expect((await recorder.invoke(F.SetWeight, { ...released, step })).ok).toBe(true);
      return step;
    },
    /** One weight step as the workflow runs it: set, bake (watch, then the timer's end), gate. */
    async shiftStep(released: Released, step: WeightStep) {
      at(`shift ${released.release.releaseId} to step ${step.index}`);
      expect((await kit.retried(F.SetWeight, { ...released, step })).ok).toBe(true);
      if (step.bakeSeconds > 0) {
        await ok(
          recorder.invoke(F.StartBake, { ...released, step, taskToken: `token-${step.index}` }),
        );
        recorder.clock.advance(step.bakeSeconds);
        await ok(recorder.invoke(F.EndBake, { ...released, step }));
      }
      expect((await kit.retried(F.CheckGates, { ...released, step })).ok).toBe(true);
    },
    /** Rolls a release back as the workflow's Catch would, after the named failure. */
    rollback: (release: RegisteredRelease, error: string, cause: string) =>
      ok(recorder.invoke(F.Rollback, { release, failure: { Error: error, Cause: cause } })),
    /** The schedule an earlier attempt of this finalize made before its answer was lost. */
    scheduleMadeEarlier(releaseId: string): Date {
      const at = teardownTime(recorder.clock.now(), recordedWarmWindowSeconds);
      recorder.fake.schedules.set(teardownScheduleName(releaseId), atExpression(at));
      return at;
    },
    /** The function has published `count` versions already, the alias on the newest. */
    givenPublishedVersions(count: number) {
      recorder.fake.versions = Array.from({ length: count }, (_, i) => ({
        Version: String(i + 1),
        CodeSha256: `sha-${i + 1}`,
        Description: `release ${i + 1}`,
      }));
      recorder.fake.alias = { version: String(count), weights: {}, revision: 1 };
    },
    albTarget(name: 'web' | 'api'): AlbListenerTargetConfig {
      const target = recorder.albServices.find((service) => service.name === name)?.target;
      if (target?.kind !== 'alb-listener') throw new Error(`no ALB service ${name}`);
      return target as AlbListenerTargetConfig;
    },
  };
  return kit;
}
type Kit = ReturnType<typeof scenarioKit>;

/**
 * Every branch that reaches AWS, as scenarios that each start from a clean account (their own
 * recorder, tables and clock), so that one that breaks hides none of the others. After each
 * step that Step Functions may retry, the retry replays the stored answer (Powertools reads it
 * back), and both are recorded.
 */
export const scenarios: { name: string; run(kit: Kit): Promise<void> }[] = [
  {
    name: 'a canary release with a duplicate and a queued release, then its teardown',
    async run(s) {
      // Older versions than the service keeps: the teardown deletes them.
      s.givenPublishedVersions(4);
      const good = await s.startRelease('1.0.1');
      s.at('a duplicate event');
      expect((await s.register('1.0.1', 'duplicate')).value).toMatchObject({ duplicate: true });
      s.at('a second release waits for the lock');
      const queued = await s.ok<RegisteredRelease>(s.register('1.0.2'));
      expect(await s.ok(s.invoke(F.AcquireLock, { release: queued }))).toMatchObject({
        acquired: false,
      });
      // Not parked yet when finalize hands it the lock: finalize asks whether it still runs.
      s.at('test green');
      expect((await s.retried(F.TestGreen, good)).ok).toBe(true);
      s.at('a bake timer that fires before its watch stored the token');
      const early = await s.invoke(F.EndBake, { ...good, step: good.release.plan[0] });
      expect((early.value as Error).name).toBe('BakeNotStarted');
      for (const step of good.release.plan) {
        s.at(`set weight, bake and gate at step ${step.index}`);
        expect((await s.retried(F.SetWeight, { ...good, step })).ok).toBe(true);
        if (step.bakeSeconds > 0) {
          // The watch, retried by Step Functions with a new token, then the timer's end.
          expect((await s.invoke(F.StartBake, { ...good, step, taskToken: 'token-1' })).ok).toBe(
            true,
          );
          expect((await s.invoke(F.StartBake, { ...good, step, taskToken: 'token-2' })).ok).toBe(
            true,
          );
          s.clock.advance(step.bakeSeconds);
          expect(await s.ok(s.retried(F.EndBake, { ...good, step }))).toEqual({ ended: true });
        }
        expect((await s.retried(F.CheckGates, { ...good, step })).ok).toBe(true);
      }
      s.at('finalize puts back an alias someone moved, and prices warm blue');
      s.fake.alias = { version: good.colours.blue, weights: {}, revision: 99 };
      s.fake.provisioned = { [good.colours.blue]: 2 };
      expect((await s.retried(F.Finalize, good)).ok).toBe(true);
      expect(s.fake.alias.version).toBe(good.colours.green);
      s.at('the teardown, due while the queued release has no colours yet, is deferred');
      s.clock.advance(recordedWarmWindowSeconds);
      const goodIdle = {
        service: 'checkout',
        releaseId: good.release.releaseId,
        colour: good.colours.blue,
      };
      expect(await s.ok(s.invoke(F.Teardown, goodIdle))).toMatchObject({ outcome: 'deferred' });

      s.at('the queued release: its publish response is lost');
      expect(await s.ok(s.invoke(F.AcquireLock, { release: queued }))).toMatchObject({
        acquired: true,
      });
      s.fake.loseNextPublishResponse = true;
      const queuedColours = await s.ok<Colours>(s.invoke(F.ProvisionGreen, { release: queued }));
      s.at('the queued release: green fails its test and rolls back');
      s.fake.greenAnswers = 500;
      const failedTest = await s.invoke(F.TestGreen, { release: queued, colours: queuedColours });
      expect((failedTest.value as Error).name).toBe('GreenTestFailed');
      await s.retried(F.Rollback, {
        release: queued,
        failure: { Error: 'GreenTestFailed', Cause: 'health failed' },
      });

      s.at('nothing in flight: the teardown removes provisioned concurrency and old versions');
      const tornDown = await s.ok<TeardownOutcome>(s.retried(F.Teardown, goodIdle));
      expect(tornDown.outcome).toBe('torn-down');
      expect(tornDown.actions).toContain(
        `Removed provisioned concurrency 2 from version ${good.colours.blue}`,
      );
      expect(s.fake.versions.map((each) => each.Version)).toEqual(['4', '5', '6']);
      s.at('the teardown run again does nothing');
      expect(await s.ok(s.invoke(F.Teardown, goodIdle))).toMatchObject({ outcome: 'settled' });
    },
  },
  {
    name: 'an event the registry refuses',
    async run(s) {
      s.at('register an unregistered service');
      const invalid = await s.invoke(F.Register, {
        event: aReleaseEvent({ service: 'not-registered' }),
        executionId: execution('invalid'),
      });
      expect((invalid.value as Error).name).toBe('InvalidReleaseEvent');
    },
  },
  {
    name: 'someone else moves the alias mid-release',
    async run(s) {
      const conflicted = await s.startRelease('1.0.4');
      s.at('test green');
      expect((await s.invoke(F.TestGreen, conflicted)).ok).toBe(true);
      s.at('set weight refuses to overwrite their change');
      const theirs = s.fake.alias;
      s.fake.alias = { version: '77', weights: {}, revision: 77 };
      const conflict = await s.invoke(F.SetWeight, {
        ...conflicted,
        step: conflicted.release.plan[0],
      });
      expect((conflict.value as Error).name).toBe('TargetStateConflict');
      s.at('roll back once they put it back');
      s.fake.alias = theirs;
      await s.rollback(conflicted.release, 'TargetStateConflict', 'alias changed');
    },
  },
  {
    name: 'Lambda refuses the artifact',
    async run(s) {
      s.at('register and lock');
      const refused = await s.ok<RegisteredRelease>(s.register('1.0.5'));
      await s.ok(s.invoke(F.AcquireLock, { release: refused }));
      s.at('provisioning fails before anything moved');
      s.fake.refuseNextArtifact = true;
      const provision = await s.invoke(F.ProvisionGreen, { release: refused });
      expect((provision.value as Error).name).toBe('GreenProvisionFailed');
      s.at('roll back');
      await s.rollback(refused, 'GreenProvisionFailed', 'not a zip file');
    },
  },
  {
    name: 'a gate alarm fires during a polled bake',
    async run(s) {
      const polled = await s.startRelease('1.0.6');
      const step = await s.atFirstStep(polled);
      s.at('a poll with the alarm OK, then one with it in ALARM');
      const tick = { ...polled, step, pollSeconds: 30 };
      expect(await s.ok(s.invoke(F.BakeTick, tick))).toMatchObject({ done: false });
      s.fake.alarmState = 'ALARM';
      s.clock.advance(30);
      expect(((await s.invoke(F.BakeTick, tick)).value as Error).name).toBe('AlarmGateFailed');
      s.at('roll back');
      await s.rollback(polled.release, 'AlarmGateFailed', 'checkout-errors in ALARM');
    },
  },
  {
    name: 'the gate check after a bake is the backstop for a lost alarm event',
    async run(s) {
      const backstop = await s.startRelease('1.0.7');
      const step = await s.atFirstStep(backstop);
      s.at('the gate check finds the alarm in ALARM');
      s.fake.alarmState = 'ALARM';
      const late = await s.invoke(F.CheckGates, { ...backstop, step });
      expect((late.value as Error).name).toBe('AlarmGateFailed');
      s.at('roll back');
      await s.rollback(backstop.release, 'AlarmGateFailed', 'checkout-errors in ALARM');
    },
  },
  {
    name: 'metric gates: too little data holds, then rolls back; green worse than blue',
    async run(s) {
      const quiet = await s.startRelease('1.0.8');
      const quietStep = await s.atFirstStep(quiet);
      s.at('no data: the gate holds, and retried gives the same answer');
      s.fake.metricData = {};
      const held = await s.ok<{ verdict: string; holdSeconds: number }>(
        s.retried(F.CheckGates, { ...quiet, step: quietStep }),
      );
      expect(held).toMatchObject({ verdict: 'hold', holds: 1 });
      s.at('the holds run out: inconclusive');
      s.clock.advance(60);
      const expired = await s.invoke(F.CheckGates, {
        ...quiet,
        step: quietStep,
        gate: { ...held, holdSeconds: 60 },
      });
      expect((expired.value as Error).name).toBe('GateInconclusive');
      await s.rollback(quiet.release, 'GateInconclusive', 'no data');

      const worse = await s.startRelease('1.0.9');
      const worseStep = await s.atFirstStep(worse);
      s.at('green’s error rate well above blue’s');
      s.fake.metricData = { ...healthyMetrics(), green_failures: [50] };
      const failedGate = await s.invoke(F.CheckGates, { ...worse, step: worseStep });
      expect((failedGate.value as Error).name).toBe('MetricGateFailed');
      await s.rollback(worse.release, 'MetricGateFailed', 'green worse than blue');
    },
  },
  {
    name: 'a gate alarm already firing when the first bake starts',
    async run(s) {
      const gated = await s.startRelease('1.0.3');
      const first = await s.atFirstStep(gated);
      s.at('the watch starts with the alarm in ALARM and cuts the bake short');
      s.fake.alarmState = 'ALARM';
      expect(
        (await s.invoke(F.StartBake, { ...gated, step: first, taskToken: 'token-3' })).ok,
      ).toBe(true);
      const gate = await s.invoke(F.CheckGates, { ...gated, step: first });
      expect((gate.value as Error).name).toBe('AlarmGateFailed');
      s.at('roll back, retried');
      await s.retried(F.Rollback, {
        release: gated.release,
        failure: { Error: 'AlarmGateFailed', Cause: 'checkout-errors in ALARM' },
      });
      expect(s.fake.alias).toMatchObject({ version: gated.colours.blue, weights: {} });
    },
  },
  {
    name: 'approved in Slack before traffic moves, the final approval times out',
    async run(s) {
      const approved = await s.startRelease('2.0.0', 'approved');
      expect((await s.invoke(F.TestGreen, approved)).ok).toBe(true);
      const waitFor = (stage: string, taskToken: string) => ({ ...approved, stage, taskToken });
      s.at('ask before the shift; the wait is retried with a new token');
      await s.ok(s.invoke(F.RequestApproval, waitFor('before-shift', 'approval-1')));
      await s.ok(s.invoke(F.RequestApproval, waitFor('before-shift', 'approval-2')));
      s.at('the approver clicks Approve; the same request replayed is refused');
      const approveClick = s.click('approve', `${approved.release.releaseId}-before-shift`);
      expect(await s.ok(s.invoke(F.SlackInteractions, approveClick))).toMatchObject({
        statusCode: 200,
      });
      expect(await s.ok(s.invoke(F.SlackInteractions, approveClick))).toMatchObject({
        statusCode: 401,
      });
      s.at('a wait started after the decision finds it');
      await s.ok(s.invoke(F.RequestApproval, waitFor('before-shift', 'approval-3')));
      s.at('the wait returns: the ledger holds the approver’s decision');
      const verifyApproval = (stage: string, callback: unknown) => ({
        release: approved.release,
        stage,
        callback,
        wait: { unbacked: 0 },
      });
      expect(
        await s.ok(s.retried(F.VerifyCallback, verifyApproval('before-shift', { via: 'slack' }))),
      ).toMatchObject({ next: 'go', forged: false });
      for (const step of approved.release.plan) {
        s.at(`set weight and gate at step ${step.index}`);
        expect((await s.invoke(F.SetWeight, { ...approved, step })).ok).toBe(true);
        expect((await s.invoke(F.CheckGates, { ...approved, step })).ok).toBe(true);
      }
      s.at('ask before finalize; nobody decides in time');
      await s.ok(s.invoke(F.RequestApproval, waitFor('before-finalize', 'final-1')));
      s.at('a failure nobody recorded comes back on the token: recorded, the wait goes on');
      expect(
        await s.ok(
          s.retried(
            F.VerifyCallback,
            verifyApproval('before-finalize', { Error: 'ApprovalRejected', Cause: 'forged' }),
          ),
        ),
      ).toMatchObject({ next: 'wait', forged: true });
      expect(
        await s.ok(
          s.retried(F.ApprovalTimeout, { release: approved.release, stage: 'before-finalize' }),
        ),
      ).toMatchObject({ action: 'reject' });
      await s.rollback(approved.release, 'ApprovalTimedOut', 'no decision in time');
    },
  },
  {
    name: 'operators pause, resume, promote mid-bake, roll back after finalize and retry',
    async run(s) {
      const steered = await s.startRelease('3.0.0');
      expect((await s.invoke(F.TestGreen, steered)).ok).toBe(true);
      const [canary, full] = steered.release.plan as WeightStep[];
      const releaseId = steered.release.releaseId;
      const who = { actor: 'dana', reason: 'testing the controls' };
      s.at('set the canary weight and start its bake');
      expect((await s.invoke(F.SetWeight, { ...steered, step: canary })).ok).toBe(true);
      await s.ok(s.invoke(F.StartBake, { ...steered, step: canary, taskToken: 'bake-9' }));
      s.at('a forged OperatorPromoted mid-bake: recorded, the bake goes on');
      const bakeAnswered = (callback: unknown) => ({ ...steered, step: canary, callback });
      expect(
        await s.ok(
          s.retried(F.VerifyCallback, bakeAnswered({ Error: 'OperatorPromoted', Cause: 'x' })),
        ),
      ).toMatchObject({ next: 'wait', forged: true });
      s.at('pause: the gate check holds');
      expect(await s.command({ command: 'pause', releaseId, ...who })).toMatchObject({
        outcome: 'applied',
      });
      expect(await s.ok(s.invoke(F.CheckGates, { ...steered, step: canary }))).toMatchObject({
        verdict: 'hold',
      });
      s.at('pause again is refused');
      expect(await s.command({ command: 'pause', releaseId, ...who })).toMatchObject({
        outcome: 'refused',
      });
      s.at('resume, then promote (redelivered)');
      await s.command({ command: 'resume', releaseId, ...who });
      await s.command({ command: 'promote', releaseId, ...who }, 100);
      expect(await s.command({ command: 'promote', releaseId, ...who }, 100)).toMatchObject({
        outcome: 'applied',
      });
      s.at('the promote’s own failure on the token: the ledger backs it');
      expect(
        await s.retried(F.VerifyCallback, bakeAnswered({ Error: 'OperatorPromoted', Cause: 'y' })),
      ).toMatchObject({ ok: false, value: { name: 'OperatorPromoted' } });
      expect(await s.ok(s.invoke(F.CheckGates, { ...steered, step: canary }))).toMatchObject({
        verdict: 'pass',
      });
      s.at('the promoted 100 % step and finalize');
      await s.ok(s.invoke(F.SetWeight, { ...steered, step: full }));
      await s.ok(s.invoke(F.BakeTick, { ...steered, step: full, pollSeconds: 5 }));
      await s.ok(s.invoke(F.CheckGates, { ...steered, step: full }));
      await s.ok(s.invoke(F.Finalize, steered));
      s.at('roll back after finalize, while blue is warm; a release queues meanwhile');
      s.clock.advance(recordedWarmWindowSeconds - 1);
      // Not parked yet when the revert hands it the lock: the revert asks whether it runs.
      s.fake.duringAliasUpdate = () => queueElsewhere(s, '3.0.1');
      expect(await s.command({ command: 'rollback', service: 'checkout', ...who })).toMatchObject({
        outcome: 'applied',
        releaseId,
      });
      expect(s.fake.alias).toMatchObject({ version: steered.colours.blue, weights: {} });
      s.at('retry the reverted release as attempt 2');
      expect(await s.command({ command: 'retry', releaseId, ...who })).toMatchObject({
        outcome: 'applied',
        newReleaseId: deriveReleaseId('checkout', '3.0.0', 2),
      });
    },
  },
  {
    name: 'an approver rejects in Slack',
    async run(s) {
      const rejected = await s.startRelease('5.0.0', 'approved');
      expect((await s.invoke(F.TestGreen, rejected)).ok).toBe(true);
      s.at('ask before the shift');
      await s.ok(
        s.invoke(F.RequestApproval, { ...rejected, stage: 'before-shift', taskToken: 'rj-1' }),
      );
      s.at('the approver clicks Reject');
      const rejectClick = s.click('reject', `${rejected.release.releaseId}-before-shift`);
      expect(await s.ok(s.invoke(F.SlackInteractions, rejectClick))).toMatchObject({
        statusCode: 200,
      });
      await s.rollback(rejected.release, 'ApprovalRejected', 'Rejected by dana');
    },
  },
  {
    name: 'a task token answered with success and no decision in the ledger',
    async run(s) {
      const forged = await s.startRelease('5.1.0', 'approved');
      expect((await s.invoke(F.TestGreen, forged)).ok).toBe(true);
      s.at('ask before the shift');
      await s.ok(
        s.invoke(F.RequestApproval, { ...forged, stage: 'before-shift', taskToken: 'fg-1' }),
      );
      s.at('SendTaskSuccess by a token holder: the approval is closed, the release ends');
      const verified = await s.retried(F.VerifyCallback, {
        release: forged.release,
        stage: 'before-shift',
        callback: { approvedBy: 'U0DANA' },
        wait: { unbacked: 0 },
      });
      expect(verified).toMatchObject({ ok: false, value: { name: 'ApprovalNotRecorded' } });
      await s.rollback(forged.release, 'ApprovalNotRecorded', 'a task token alone never approves');
    },
  },
  {
    name: 'an abort while a human is asked',
    async run(s) {
      const aborted = await s.startRelease('4.0.0', 'approved');
      expect((await s.invoke(F.TestGreen, aborted)).ok).toBe(true);
      const releaseId = aborted.release.releaseId;
      s.at('ask before the shift');
      await s.ok(
        s.invoke(F.RequestApproval, { ...aborted, stage: 'before-shift', taskToken: 'ab-1' }),
      );
      s.at('abort: the approval’s wait fails at once');
      expect(
        await s.command({ command: 'abort', releaseId, actor: 'dana', reason: 'stop' }),
      ).toMatchObject({ outcome: 'applied' });
      s.at('the wait retried after the abort fails its own new token');
      await s.ok(
        s.invoke(F.RequestApproval, { ...aborted, stage: 'before-shift', taskToken: 'ab-2' }),
      );
      await s.rollback(aborted.release, 'OperatorAborted', 'Aborted by dana');
    },
  },
  {
    name: 'alarm state changes from the default bus',
    async run(s) {
      const alarmed = await s.startRelease('1.0.11');
      expect((await s.invoke(F.TestGreen, alarmed)).ok).toBe(true);
      const step = alarmed.release.plan[0] as WeightStep;
      s.at('set weight and start the bake');
      await s.ok(s.invoke(F.SetWeight, { ...alarmed, step }));
      await s.ok(s.invoke(F.StartBake, { ...alarmed, step, taskToken: 'token-5' }));
      const stateChange = (alarmName: string, value: 'ALARM' | 'OK') => ({
        id: `${alarmName}-${value}`,
        source: 'aws.cloudwatch',
        'detail-type': 'CloudWatch Alarm State Change',
        detail: {
          alarmName,
          state: {
            value,
            reason: `Threshold crossed: ${value}`,
            timestamp: s.clock.now().toISOString(),
          },
        },
      });
      s.at('the watched alarm enters ALARM: the bake is cut short');
      const firing = stateChange('checkout-errors', 'ALARM');
      expect(await s.ok(s.invoke(F.AlarmEvent, firing))).toMatchObject({
        interrupted: [alarmed.release.releaseId],
      });
      s.at('the same event redelivered does nothing more');
      expect(await s.ok(s.invoke(F.AlarmEvent, firing))).toMatchObject({
        interrupted: [],
        ignored: [{ releaseId: alarmed.release.releaseId }],
      });
      s.at('back to OK, and an alarm no release watches');
      expect(
        await s.ok(s.invoke(F.AlarmEvent, stateChange('checkout-errors', 'OK'))),
      ).toMatchObject({ interrupted: [], ignored: [] });
      expect(
        await s.ok(s.invoke(F.AlarmEvent, stateChange('nobody-watches-this', 'ALARM'))),
      ).toMatchObject({ interrupted: [], ignored: [] });
      s.at('roll back');
      await s.rollback(alarmed.release, 'AlarmGateFailed', 'checkout-errors entered ALARM');
      expect(s.fake.alias).toMatchObject({ version: alarmed.colours.blue, weights: {} });
    },
  },
  {
    name: 'release updates in Slack from lifecycle events',
    async run(s) {
      const { release } = await s.startRelease('1.0.12');
      const lifecycle = (detailType: string, phase: string, greenPercent?: number) => ({
        id: `${detailType}-${greenPercent ?? ''}`,
        source: 'greenlight',
        'detail-type': detailType,
        time: s.clock
          .now()
          .toISOString()
          .replace(/\.\d{3}Z$/, 'Z'),
        detail: {
          eventKey: `${release.releaseId}#${detailType}#${greenPercent ?? ''}`,
          releaseId: release.releaseId,
          service: release.service,
          version: release.version,
          phase,
          reason: `${detailType} at ${greenPercent ?? 0}%`,
          ...(greenPercent === undefined ? {} : { greenPercent }),
        },
      });
      s.at('the first event posts the parent and its first reply');
      const started = lifecycle('Release Started', 'Provisioning');
      expect(await s.ok(s.invoke(F.ReleaseUpdates, started))).toMatchObject({
        outcome: 'updated',
        replied: true,
      });
      s.at('the same event redelivered only refreshes the parent');
      expect(await s.ok(s.invoke(F.ReleaseUpdates, started))).toMatchObject({ replied: false });
      s.at('a shift moves the parent on');
      expect(
        await s.ok(s.invoke(F.ReleaseUpdates, lifecycle('Traffic Shifted', 'Shifting', 10))),
      ).toMatchObject({ replied: true, shown: true });
    },
  },
  {
    name: 'ALB releases through listeners and rules, their teardowns and the sweeper',
    async run(s) {
      // Each first release finds its test site on blue (provisioning points it at green), finds
      // it moved back before its smoke checks, and finds the production forward moved back
      // before finalize; each second release is rolled back after its first step.
      const shipped: Partial<Record<'web' | 'api', Released>> = {};
      const teardownsDue: number[] = [];
      for (const name of ['web', 'api'] as const) {
        const target = s.albTarget(name);
        const testSite = target.testRuleArn ?? target.testListenerArn;
        const production = target.ruleArn ?? target.listenerArn;
        const { a, b } = { a: target.slots.a.targetGroupArn, b: target.slots.b.targetGroupArn };

        const first = await s.startAlbRelease(name, '2.0.0');
        shipped[name] = first;
        expect(first.colours).toEqual({ blue: 'a', green: 'b' });
        expect(s.recorder.alb.forwards.get(testSite)).toEqual([{ targetGroupArn: b, weight: 1 }]);
        s.at(`${name}: an expand, and blue's smoke checks through the test site`);
        const migration = { id: `0001_${name}_note`, kind: 'expand' };
        const migrating = { ...first, release: { ...first.release, migration } };
        expect((await s.invoke(F.Migrate, migrating)).ok).toBe(true);
        expect(s.recorder.alb.forwards.get(testSite)).toEqual([{ targetGroupArn: a, weight: 1 }]);
        s.at(`${name}: smoke checks after someone moved the test site back`);
        forwardOnly(s.recorder.alb, testSite, a);
        expect((await s.retried(F.TestGreen, first)).ok).toBe(true);
        for (const step of first.release.plan) await s.shiftStep(first, step);
        s.at(`${name}: finalize, retried after its schedule was made`);
        forwardOnly(s.recorder.alb, production, a);
        teardownsDue.push(s.scheduleMadeEarlier(first.release.releaseId).getTime());
        expect((await s.retried(F.Finalize, first)).ok).toBe(true);
        expect(s.recorder.alb.forwards.get(production)).toEqual([
          { targetGroupArn: a, weight: 0 },
          { targetGroupArn: b, weight: 100 },
        ]);

        const rolled = await s.startAlbRelease(name, '2.1.0');
        expect(rolled.colours).toEqual({ blue: 'b', green: 'a' });
        s.at(`${name}: a second release rolled back after its first step`);
        expect((await s.invoke(F.TestGreen, rolled)).ok).toBe(true);
        await s.ok(s.invoke(F.SetWeight, { ...rolled, step: rolled.release.plan[0] }));
        await s.retried(F.Rollback, {
          release: rolled.release,
          failure: { Error: 'AlarmGateFailed', Cause: 'checkout-errors in ALARM' },
        });
        expect(s.recorder.alb.forwards.get(production)).toEqual([
          { targetGroupArn: b, weight: 100 },
          { targetGroupArn: a, weight: 0 },
        ]);
      }
      s.at('one task definition revision per release despite retried provisioning');
      expect(s.recorder.alb.taskDefinitions.map((td) => `${td.family}:${td.revision}`)).toEqual([
        'web-web:1',
        'api-web:1',
        'web-web:2',
        'web-web:3',
        'api-web:2',
        'api-web:3',
      ]);
      if (shipped.web === undefined || shipped.api === undefined) throw new Error('no releases');

      // The idle slot a (their blue) was sized up again as the rolled-back green. Both warm
      // windows are over, but sticky clients may come back for an hour: web's teardown is
      // deferred, and so is each slot the sweeper finds.
      s.clock.advance((Math.max(...teardownsDue) - s.clock.now().getTime()) / 1_000);
      const webIdle = { service: 'web', releaseId: shipped.web.release.releaseId, colour: 'a' };
      const apiIdle = { service: 'api', releaseId: shipped.api.release.releaseId, colour: 'a' };
      s.at('web’s teardown while sticky clients may come back');
      const draining = await s.retried(F.Teardown, webIdle);
      expect((draining.value as Error).name).toBe('TeardownDeferred');
      s.at('the sweeper finds both slots still draining');
      const stillDraining = await s.ok<SweepOutcome>(s.invoke(F.Sweeper, {}));
      expect(stillDraining.swept).toEqual([]);
      // The sweeper goes through the registry in name order.
      expect(stillDraining.failed.map((f) => [f.releaseId, f.error.split(':')[0]])).toEqual([
        [apiIdle.releaseId, 'TeardownDeferred'],
        [webIdle.releaseId, 'TeardownDeferred'],
      ]);
      s.at('an hour on, api’s teardown scales its slot to zero; again, it is settled');
      s.clock.advance(3_600);
      expect(await s.ok(s.retried(F.Teardown, apiIdle))).toMatchObject({ outcome: 'torn-down' });
      expect(s.recorder.alb.services.get('api-a')?.desiredCount).toBe(0);
      expect(await s.ok(s.invoke(F.Teardown, apiIdle))).toMatchObject({ outcome: 'settled' });
      s.at('the sweeper tears down web’s slot, left behind');
      const sweep = await s.ok<SweepOutcome>(s.invoke(F.Sweeper, {}));
      expect(sweep.swept.map((each) => [each.releaseId, each.outcome])).toEqual([
        [webIdle.releaseId, 'torn-down'],
      ]);
      expect(sweep.failed).toEqual([]);
      expect(s.recorder.alb.services.get('web-a')?.desiredCount).toBe(0);
    },
  },
  {
    name: 'operators steer ALB releases: pause, resume, promote, abort, roll back after finalize, retry',
    async run(s) {
      const who = { actor: 'dana', reason: 'steering an ALB release' };
      // web forwards through its listeners, api through rules: a rollback after finalize
      // writes to each kind of production forward.
      for (const name of ['web', 'api'] as const) {
        const target = s.albTarget(name);
        const production = target.ruleArn ?? target.listenerArn;
        const steered = await s.startAlbRelease(name, '3.0.0');
        const releaseId = steered.release.releaseId;
        expect((await s.invoke(F.TestGreen, steered)).ok).toBe(true);
        const [canary, ...rest] = steered.release.plan as WeightStep[];
        if (canary === undefined) throw new Error('no canary step');
        s.at(`${name}: pause, resume and promote mid-bake`);
        await s.ok(s.invoke(F.SetWeight, { ...steered, step: canary }));
        await s.ok(s.invoke(F.StartBake, { ...steered, step: canary, taskToken: `${name}-bake` }));
        expect(await s.command({ command: 'pause', releaseId, ...who })).toMatchObject({
          outcome: 'applied',
        });
        expect(await s.ok(s.invoke(F.CheckGates, { ...steered, step: canary }))).toMatchObject({
          verdict: 'hold',
        });
        expect(await s.command({ command: 'resume', releaseId, ...who })).toMatchObject({
          outcome: 'applied',
        });
        expect(await s.command({ command: 'promote', releaseId, ...who })).toMatchObject({
          outcome: 'applied',
        });
        expect(await s.ok(s.invoke(F.CheckGates, { ...steered, step: canary }))).toMatchObject({
          verdict: 'pass',
        });
        for (const step of rest) {
          await s.ok(s.invoke(F.SetWeight, { ...steered, step }));
          await s.ok(s.invoke(F.CheckGates, { ...steered, step }));
        }
        s.at(`${name}: finalize, then roll back while blue is warm`);
        await s.ok(s.invoke(F.Finalize, steered));
        expect(await s.command({ command: 'rollback', service: name, ...who })).toMatchObject({
          outcome: 'applied',
          releaseId,
        });
        expect(s.recorder.alb.forwards.get(production)).toEqual([
          { targetGroupArn: target.slots.a.targetGroupArn, weight: 100 },
          { targetGroupArn: target.slots.b.targetGroupArn, weight: 0 },
        ]);
        s.at(`${name}: retry the reverted release`);
        expect(await s.command({ command: 'retry', releaseId, ...who })).toMatchObject({
          outcome: 'applied',
        });
      }
      s.at('web: abort a release mid-bake');
      const aborted = await s.startAlbRelease('web', '3.1.0');
      expect((await s.invoke(F.TestGreen, aborted)).ok).toBe(true);
      const step = aborted.release.plan[0] as WeightStep;
      await s.ok(s.invoke(F.SetWeight, { ...aborted, step }));
      await s.ok(s.invoke(F.StartBake, { ...aborted, step, taskToken: 'web-abort' }));
      expect(
        await s.command({ command: 'abort', releaseId: aborted.release.releaseId, ...who }),
      ).toMatchObject({ outcome: 'applied' });
      await s.rollback(aborted.release, 'OperatorAborted', 'Aborted by dana');
    },
  },
  {
    name: 'the lock queue: a freed lock wakes the next in line, a dead holder is skipped',
    async run(s) {
      const first = await s.startRelease('4.0.0');
      const queue = async (version: string, time?: string) => {
        s.at(`${version} queues and parks`);
        const event = aReleaseEvent(
          {
            version,
            strategy: 'canary',
            artifact: { s3: { bucket: 'acme-artifacts', key: `checkout/${version}.zip` } },
          },
          time === undefined ? {} : { time },
        );
        const release = await s.ok<RegisteredRelease>(
          s.invoke(F.Register, { event, executionId: execution(version) }),
        );
        expect(await s.ok(s.invoke(F.AcquireLock, { release }))).toMatchObject({
          acquired: false,
        });
        await s.ok(s.invoke(F.AcquireLock, { release, taskToken: `lock-${version}` }));
        return release;
      };
      const second = await queue('4.0.1');
      s.at('the first rolls back and wakes the second, which takes the lock');
      await s.rollback(first.release, 'GreenTestFailed', 'health failed');
      expect(await s.ok(s.invoke(F.AcquireLock, { release: second }))).toMatchObject({
        acquired: true,
      });
      const third = await queue('4.0.2');
      s.at("the second's execution dies; a new arrival frees its lock for the third");
      s.fake.endedExecutions.add(execution('4.0.1'));
      const fourth = await s.ok<RegisteredRelease>(s.register('4.0.3'));
      expect(await s.ok(s.invoke(F.AcquireLock, { release: fourth }))).toEqual({
        acquired: false,
        holder: third.releaseId,
      });
      s.at('the third, woken, takes the lock and rolls back; the fourth has not parked yet');
      expect(await s.ok(s.invoke(F.AcquireLock, { release: third }))).toMatchObject({
        acquired: true,
      });
      await s.ok<Colours>(s.invoke(F.ProvisionGreen, { release: third }));
      await s.rollback(third, 'GreenTestFailed', 'health failed');
      s.at('the fourth, handed the lock, goes all the way to finalize');
      expect(await s.ok(s.invoke(F.AcquireLock, { release: fourth }))).toMatchObject({
        acquired: true,
      });
      const released = {
        release: fourth,
        colours: await s.ok<Colours>(s.invoke(F.ProvisionGreen, { release: fourth })),
      };
      // Requested before the fourth (an older build), it waits behind it.
      const older = await queue('4.0.5', '2020-01-01T00:00:00Z');
      expect((await s.invoke(F.TestGreen, released)).ok).toBe(true);
      for (const step of fourth.plan) await s.shiftStep(released, step);
      expect((await s.invoke(F.Finalize, released)).ok).toBe(true);
      s.at('the older build, woken by that finalize, is refused and hands the lock on');
      const refused = await s.invoke(F.AcquireLock, { release: older });
      expect((refused.value as Error).name).toBe('OlderThanLive');
      s.at('a release queues while an operator reverts the fourth: the revert wakes it');
      s.fake.duringAliasUpdate = () => queueElsewhere(s, '4.0.6', 'lock-4.0.6');
      const who = { actor: 'dana', reason: 'wrong build' };
      expect(await s.command({ command: 'rollback', service: 'checkout', ...who })).toMatchObject({
        outcome: 'applied',
        releaseId: fourth.releaseId,
      });
      const woken = s.recorder.sfn
        .calls()
        .map((call) => (call.args[0] as { input: { taskToken?: string } }).input.taskToken);
      expect(woken).toEqual(
        expect.arrayContaining(['lock-4.0.1', 'lock-4.0.2', 'lock-4.0.5', 'lock-4.0.6']),
      );
    },
  },
  {
    name: 'an expand migrated before green’s tests, then its contract applied at teardowns',
    async run(s) {
      s.givenPublishedVersions(4);
      const withMigration = (version: string, migration: Record<string, string>) =>
        s.ok<RegisteredRelease>(
          s.invoke(F.Register, {
            event: aReleaseEvent({
              version,
              artifact: { s3: { bucket: 'acme-artifacts', key: `checkout/${version}.zip` } },
              migration,
            }),
            executionId: execution(version),
          }),
        );
      const ship = async (release: RegisteredRelease, migrate: boolean) => {
        expect(await s.ok(s.invoke(F.AcquireLock, { release }))).toMatchObject({ acquired: true });
        const released = {
          release,
          colours: await s.ok<Colours>(s.invoke(F.ProvisionGreen, { release })),
        };
        if (migrate) {
          s.at(`migrate ${release.releaseId}: the runner, then blue's tests`);
          expect((await s.retried(F.Migrate, released)).ok).toBe(true);
        }
        expect((await s.invoke(F.TestGreen, released)).ok).toBe(true);
        for (const step of release.plan) await s.shiftStep(released, step);
        expect((await s.invoke(F.Finalize, released)).ok).toBe(true);
        s.clock.advance(recordedWarmWindowSeconds + 1);
        return { service: 'checkout', releaseId: release.releaseId, colour: released.colours.blue };
      };
      s.at('the expand');
      const expand = await withMigration('5.0.0', { id: '0007_add_note', kind: 'expand' });
      const expandIdle = await ship(expand, true);
      expect(s.fake.runner.applied).toEqual(new Set(['0007_add_note']));
      expect(await s.ok(s.invoke(F.Teardown, expandIdle))).toMatchObject({
        outcome: 'torn-down',
      });
      s.at('the contract: its teardown meets a runner failure, the sweeper applies it');
      const contract = await withMigration('5.1.0', {
        id: '0008_drop_old_note',
        kind: 'contract',
        completes: '0007_add_note',
      });
      const contractIdle = await ship(contract, false);
      s.fake.runner.failNext = { errorType: 'PgError', errorMessage: 'lock timeout' };
      s.at('the contract release’s teardown, the runner failing');
      // Its claim on the colour outlives the failure: the sweeper takes over once it ends.
      const failed = await s.invoke(F.Teardown, contractIdle);
      expect((failed.value as Error).name).toBe('MigrationRunnerFailed');
      s.clock.advance(teardownLeaseMs / 1000 + 1);
      s.at('the sweeper finds the colour torn down and the contract not applied');
      const sweep = await s.ok<SweepOutcome>(s.invoke(F.Sweeper, {}));
      expect(sweep.swept.map((each) => [each.releaseId, each.outcome, each.reason])).toEqual([
        [
          contract.releaseId,
          'torn-down',
          expect.stringContaining('Contract 0008_drop_old_note applied'),
        ],
      ]);
      expect(s.fake.runner.applied).toEqual(new Set(['0007_add_note', '0008_drop_old_note']));
    },
  },
  {
    name: 'an irreversible migration approved, green failing after it: held, then promoted',
    async run(s) {
      s.givenPublishedVersions(4);
      s.at('register an irreversible migration, with approvers');
      const event = aReleaseEvent({
        version: '6.0.0',
        strategy: 'approved',
        artifact: { s3: { bucket: 'acme-artifacts', key: 'checkout/6.0.0.zip' } },
        migration: { id: '0009_drop_note', kind: 'irreversible' },
      });
      const release = await s.ok<RegisteredRelease>(
        s.invoke(F.Register, { event, executionId: execution('6.0.0') }),
      );
      expect(await s.ok(s.invoke(F.AcquireLock, { release }))).toMatchObject({ acquired: true });
      const held = {
        release,
        colours: await s.ok<Colours>(s.invoke(F.ProvisionGreen, { release })),
      };
      s.at('plan it for the approvers, then ask them, naming it');
      expect((await s.retried(F.Migrate, { ...held, only: 'plan' })).ok).toBe(true);
      const ask = { ...held, stage: 'before-migration', taskToken: 'migration-1' };
      await s.ok(s.invoke(F.RequestApproval, ask));
      const click = s.click('approve', `${release.releaseId}-before-migration`);
      expect(await s.ok(s.invoke(F.SlackInteractions, click))).toMatchObject({ statusCode: 200 });
      expect(
        await s.ok(
          s.retried(F.VerifyCallback, {
            release,
            stage: 'before-migration',
            callback: { via: 'slack' },
            wait: { unbacked: 0 },
          }),
        ),
      ).toMatchObject({ next: 'go' });
      s.at('migrate: applied, forward-only');
      expect(await s.ok(s.retried(F.Migrate, held))).toMatchObject({ forwardOnly: true });
      expect(s.fake.runner.applied).toEqual(new Set(['0009_drop_note']));
      s.at('green fails its tests: held, traffic untouched');
      s.fake.greenAnswers = 500;
      const tested = await s.invoke(F.TestGreen, held);
      const failure = { Error: 'GreenTestFailed', Cause: String((tested.value as Error).message) };
      expect(await s.ok(s.retried(F.Rollback, { release, failure }))).toMatchObject({
        phase: 'Held',
        held: true,
      });
      expect(s.fake.alias.weights).toEqual({});
      await s.ok(
        s.invoke(F.RequestApproval, { ...held, stage: 'forward-only-hold', taskToken: 'hold-1' }),
      );
      s.at('an abort that is not knowing is refused; a promote answers the hold');
      expect(
        await s.command({
          command: 'abort',
          releaseId: release.releaseId,
          actor: 'dana',
          reason: 'undo',
        }),
      ).toMatchObject({ outcome: 'refused' });
      expect(
        await s.command({
          command: 'promote',
          releaseId: release.releaseId,
          actor: 'dana',
          reason: 'fix forward',
        }),
      ).toMatchObject({ outcome: 'applied' });
      expect(
        await s.ok(
          s.retried(F.VerifyCallback, {
            release,
            stage: 'forward-only-hold',
            callback: { promoted: true },
            wait: { unbacked: 0 },
          }),
        ),
      ).toMatchObject({ next: 'go' });
      expect((await s.retried(F.Finalize, held)).ok).toBe(true);
      s.at('the rollback over the irreversible migration is refused');
      expect(
        await s.command({
          command: 'rollback',
          service: 'checkout',
          actor: 'dana',
          reason: 'undo',
        }),
      ).toMatchObject({ outcome: 'refused' });
    },
  },
  {
    name: 'an ECS task runner: a stalled task stopped, an expand, its contract at teardown and by the sweeper',
    async run(s) {
      const ship = async (version: string, migration: Record<string, string>, migrate: boolean) => {
        s.at(`register, lock and provision api ${version}`);
        const release = await s.ok<RegisteredRelease>(
          s.invoke(F.Register, {
            event: aReleaseEvent({
              service: 'api',
              version,
              artifact: { imageUri: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:${version}` },
              migration,
            }),
            executionId: execution(`api-${version}`),
          }),
        );
        expect(await s.ok(s.invoke(F.AcquireLock, { release }))).toMatchObject({ acquired: true });
        const released = {
          release,
          colours: await s.ok<Colours>(s.invoke(F.ProvisionGreen, { release })),
        };
        if (migrate) {
          s.at(`migrate api ${version}: the apply task never stops, then a retry`);
          s.fake.taskRunner.stallNext = 'apply';
          const stalled = await s.invoke(F.Migrate, released);
          expect(stalled.value).toMatchObject({
            name: 'MigrationRunnerFailed',
            message: expect.stringContaining('did not answer within 1s'),
          });
          expect((await s.invoke(F.Migrate, released)).ok).toBe(true);
        }
        expect((await s.invoke(F.TestGreen, released)).ok).toBe(true);
        for (const step of release.plan) await s.shiftStep(released, step);
        const due = s.scheduleMadeEarlier(release.releaseId).getTime();
        expect((await s.invoke(F.Finalize, released)).ok).toBe(true);
        // Past the teardown's time and an hour of sticky clients.
        s.clock.advance((due - s.clock.now().getTime()) / 1_000 + 3_601);
        return { service: 'api', releaseId: release.releaseId, colour: released.colours.blue };
      };
      const expandIdle = await ship('2.0.0', { id: '0001_api_note', kind: 'expand' }, true);
      expect(s.fake.taskRunner.applied).toEqual(new Set(['0001_api_note']));
      s.at('the expand release’s idle slot torn down');
      expect(await s.ok(s.invoke(F.Teardown, expandIdle))).toMatchObject({
        outcome: 'torn-down',
      });
      const contractIdle = await ship(
        '2.1.0',
        { id: '0002_api_drop_note', kind: 'contract', completes: '0001_api_note' },
        false,
      );
      s.at('the contract release’s teardown: its apply task never stops');
      s.fake.taskRunner.stallNext = 'apply';
      const failed = await s.invoke(F.Teardown, contractIdle);
      expect((failed.value as Error).name).toBe('MigrationRunnerFailed');
      s.clock.advance(teardownLeaseMs / 1000 + 1);
      s.at('the sweeper meets a stalled task too, then applies the contract');
      s.fake.taskRunner.stallNext = 'apply';
      const stalledSweep = await s.ok<SweepOutcome>(s.invoke(F.Sweeper, {}));
      expect(stalledSweep.swept).toEqual([]);
      expect(stalledSweep.failed.map((each) => each.error)).toEqual([
        expect.stringMatching(/^MigrationRunnerFailed: .*greenlight stopped task/),
      ]);
      s.clock.advance(teardownLeaseMs / 1000 + 1);
      const sweep = await s.ok<SweepOutcome>(s.invoke(F.Sweeper, {}));
      expect(sweep.swept.map((each) => [each.releaseId, each.reason])).toEqual([
        [contractIdle.releaseId, expect.stringContaining('Contract 0002_api_drop_note applied')],
      ]);
      expect(s.fake.taskRunner.applied).toEqual(new Set(['0001_api_note', '0002_api_drop_note']));
    },
  },
  {
    name: 'a finalize retried after its schedule was made, whose schedule is then lost',
    async run(s) {
      s.givenPublishedVersions(4);
      const later = await s.startRelease('1.0.10');
      expect((await s.invoke(F.TestGreen, later)).ok).toBe(true);
      for (const step of later.release.plan) await s.shiftStep(later, step);
      s.at('finalize finds its schedule made already');
      s.scheduleMadeEarlier(later.release.releaseId);
      expect((await s.invoke(F.Finalize, later)).ok).toBe(true);
      s.at('the schedule never fires: the sweeper tears blue down after the window');
      s.fake.provisioned = { [later.colours.blue]: 1 };
      expect((await s.ok<SweepOutcome>(s.invoke(F.Sweeper, {}))).swept).toEqual([]);
      // The window ends on the whole second after it (schedules fire at second precision).
      s.clock.advance(recordedWarmWindowSeconds + 1);
      const sweep = await s.ok<SweepOutcome>(s.invoke(F.Sweeper, {}));
      expect(sweep.swept.map((each) => [each.releaseId, each.outcome])).toEqual([
        [later.release.releaseId, 'torn-down'],
      ]);
      expect(sweep.failed).toEqual([]);
      expect(s.fake.provisioned).toEqual({});
      expect(s.fake.versions.map((each) => each.Version)).toEqual(['3', '4', '5']);
    },
  },
];

/**
 * A release queued for the lock by another function while the one under way works (here: during
 * an UpdateAlias), through the real adapter on a client the recorder does not record; parked
 * on `taskToken` when one is given.
 */
async function queueElsewhere(s: Kit, version: string, taskToken?: string): Promise<void> {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  try {
    const elsewhere = new DynamoReleaseQueue({
      client,
      tableName: recordedNames.ledgerTable,
      callbacks: {
        succeed: async () => ({ delivered: true }),
        fail: async () => ({ delivered: true }),
      },
      executions: { isRunning: async () => true },
    });
    const releaseId = deriveReleaseId('checkout', version, 1);
    const request = {
      service: 'checkout',
      releaseId,
      executionId: execution(version),
      requestedAt: s.clock.now().toISOString(),
      at: s.clock.now().toISOString(),
      policy: 'queue' as const,
    };
    expect(await elsewhere.acquire(request)).toMatchObject({ kind: 'waiting' });
    if (taskToken !== undefined) await elsewhere.park('checkout', releaseId, taskToken);
  } finally {
    client.destroy();
  }
}

/** Where a scenario broke: the step under way and what went wrong. */
export interface Broken {
  scenario: string;
  step: string;
  error: unknown;
}

/** What every scenario's functions sent, merged over the scenarios. */
export interface ScenarioRecording {
  /** The IAM actions of the SDK requests each function sent. */
  actions: Record<F, Set<string>>;
  /** Each request as IAM authorizes it, implicit checks included, without repeats. */
  requests: Record<F, IamRequest[]>;
  broken: Map<string, Broken>;
}

/**
 * Runs every scenario on its own recorder (its own tables and clock), one after another: the
 * recorders stub the SDK clients' prototypes.
 */
export async function recordScenarios(): Promise<ScenarioRecording> {
  const functions = Object.values(GreenlightFunction);
  const actions = Object.fromEntries(functions.map((fn) => [fn, new Set<string>()])) as Record<
    F,
    Set<string>
  >;
  const requests = Object.fromEntries(
    functions.map((fn) => [fn, new Map<string, IamRequest>()]),
  ) as Record<F, Map<string, IamRequest>>;
  const broken = new Map<string, Broken>();
  for (const scenario of scenarios) {
    const recorder = await startStepRecorder();
    let step = 'start';
    try {
      await scenario.run(scenarioKit(recorder, (next) => (step = next)));
    } catch (error) {
      broken.set(scenario.name, { scenario: scenario.name, step, error });
    } finally {
      for (const fn of functions) {
        for (const action of recorder.actions[fn]) actions[fn].add(action);
        for (const request of await recorder.requests(fn)) {
          requests[fn].set(JSON.stringify(request), request);
        }
      }
      await recorder.close();
    }
  }
  return {
    actions,
    requests: Object.fromEntries(functions.map((fn) => [fn, [...requests[fn].values()]])) as Record<
      F,
      IamRequest[]
    >,
    broken,
  };
}

export function explain(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
