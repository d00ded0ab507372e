import { GetAliasCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveReleaseId } from '../../src/core/release-id.ts';
import { PutEventsMaxBytes as putEventsMaxBytes } from '../../src/local/event-bus.ts';
import { type GreenlightLocal, startGreenlightLocal } from '../../src/local/greenlight-local.ts';
import {
  aLambdaService,
  artifact,
  executionFor,
  lifecycleEvents,
  requestRelease,
  waitForHistory,
  waitForPhase,
  waitForStep,
} from './local-release.ts';

// End to end through the local cloud over real HTTP: the built workflow, the real handlers,
// dynalite, and the Lambda and CloudWatch simulators. Each test releases its own service.
const names = ['good', 'broken', 'faulty', 'dupe', 'busy', 'retry'] as const;
// `faulty` bakes for a minute: its alarm must cut the bake short, long before that.
const fixtures = names.map((name) => aLambdaService(name, name === 'faulty' ? 60 : 1));
let local: GreenlightLocal;
let lambda: LambdaClient;

beforeAll(async () => {
  local = await startGreenlightLocal({
    retryIntervalMs: 10,
    services: fixtures.map((f) => f.service),
    functions: fixtures.map((f) => f.fn),
    alarms: fixtures.map((f) => f.alarm),
  });
  lambda = new LambdaClient(local.clientConfig);
});

afterAll(async () => {
  lambda?.destroy();
  await local?.close();
});

async function getAlias(functionName: string) {
  return lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: 'live' }));
}

describe('a Lambda alias release', () => {
  it('finalizes a good release: canary weights, then all traffic on green', async () => {
    const weightsSeen: Record<string, number>[] = [];
    const stop = local.cloud.eventBridge.onEvent(({ event }) => {
      if (event['detail-type'] === 'Traffic Shifted' && event.detail.service === 'good') {
        weightsSeen.push(local.lambda.describe('good').alias?.weights ?? {});
      }
    });
    const eventId = await requestRelease(local, {
      service: 'good',
      version: '1.1.0',
      artifact: artifact('1.1.0'),
      actor: 'dana',
    });
    const execution = await executionFor(local, eventId);
    stop();

    expect(execution.status).toBe('SUCCEEDED');
    const releaseId = deriveReleaseId('good', '1.1.0', 1);
    const release = await local.ledger.getRelease(releaseId);
    expect(release).toMatchObject({
      phase: 'Finalized',
      greenPercent: 100,
      colours: { blue: '1', green: '2' },
    });
    expect(weightsSeen).toEqual([{ '2': 0.1 }, {}]);
    const alias = await getAlias('good');
    expect(alias.FunctionVersion).toBe('2');
    expect(alias.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
    expect(
      lifecycleEvents(local, releaseId).map((e) => [e['detail-type'], e.detail.greenPercent]),
    ).toEqual([
      ['Release Started', 0],
      ['Green Provisioned', 0],
      ['Traffic Shifted', 10],
      ['Traffic Shifted', 100],
      ['Release Finalized', 100],
    ]);
    const steps = (await local.ledger.listSteps(releaseId)).map((s) => `${s.step}:${s.outcome}`);
    expect(steps).toEqual([
      'register:succeeded',
      'lock:succeeded',
      'provision:succeeded',
      'preflight:succeeded',
      'test:succeeded',
      'shift:succeeded',
      'bake:succeeded',
      'gate:succeeded',
      'shift:succeeded',
      'gate:succeeded',
      'finalize:succeeded',
    ]);

    // Visible through the Step Functions API as any SDK or the AWS CLI sees it.
    const sfn = new SFNClient(local.clientConfig);
    const described = await sfn.send(
      new DescribeExecutionCommand({ executionArn: execution.executionArn }),
    );
    sfn.destroy();
    expect(described.status).toBe('SUCCEEDED');
  });

  it('rolls back a green that fails its test before any traffic moves, leaving the alias untouched', async () => {
    const before = await getAlias('broken');
    const eventId = await requestRelease(local, {
      service: 'broken',
      version: '1.2.0',
      artifact: artifact('1.2.0-broken'),
    });
    const execution = await executionFor(local, eventId);

    expect(execution).toMatchObject({ status: 'FAILED', error: 'ReleaseRolledBack' });
    const releaseId = deriveReleaseId('broken', '1.2.0', 1);
    const release = await local.ledger.getRelease(releaseId);
    expect(release?.phase).toBe('RolledBack');
    expect(release?.reason).toContain('GreenTestFailed');
    const after = await getAlias('broken');
    expect(after.RevisionId).toBe(before.RevisionId);
    expect(after.FunctionVersion).toBe('1');
    const test = (await local.ledger.listSteps(releaseId)).find((s) => s.step === 'test');
    expect(test?.outcome).toBe('failed');
    expect(test?.evidence?.tests?.[0]).toMatchObject({
      name: 'health',
      passed: false,
      statusCode: 200,
    });
    expect(lifecycleEvents(local, releaseId).map((e) => e['detail-type'])).not.toContain(
      'Traffic Shifted',
    );
    expect(lifecycleEvents(local, releaseId).at(-1)?.['detail-type']).toBe('Release Rolled Back');
  });

  it('rolls back within seconds when the errors alarm fires mid-bake, with the alarm as evidence', async () => {
    const releaseId = deriveReleaseId('faulty', '1.3.0', 1);
    const eventId = await requestRelease(local, {
      service: 'faulty',
      version: '1.3.0',
      artifact: artifact('1.3.0-faulty'),
    });
    // Once the bake is under way (its watch has stored the token and made its first check),
    // real traffic through the alias: 10% of it reaches the faulty green, its errors raise
    // the alarm, and the alarm's event must end the bake.
    await waitForStep(local, releaseId, 'bake');
    await waitForHistory(local, eventId, 'TaskSubmitted');
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        lambda.send(
          new InvokeCommand({
            FunctionName: 'faulty',
            Qualifier: 'live',
            Payload: JSON.stringify({ path: '/pay' }),
          }),
        ),
      ),
    );
    const execution = await executionFor(local, eventId);

    expect(execution).toMatchObject({ status: 'FAILED', error: 'ReleaseRolledBack' });
    expect(results.filter((r) => r.FunctionError).length).toBeGreaterThanOrEqual(1);
    const steps = await local.ledger.listSteps(releaseId);
    // The failed gate stops the plan: the 100% step never runs, even though the local engine
    // (unlike AWS) goes on to start the Map's next iteration after one has failed.
    expect(steps.filter((s) => s.step === 'shift').map((s) => s.greenPercent)).toEqual([10]);
    const gate = steps.find((s) => s.step === 'gate');
    expect(gate?.outcome).toBe('failed');
    expect(gate?.evidence?.alarms?.[0]).toMatchObject({ name: 'faulty-errors', state: 'ALARM' });
    // The bake is 60 s (longer than this test may run): the alarm event cut it short.
    expect(gate?.reason).toMatch(/^Bake of step 1 cut short: Alarm faulty-errors entered ALARM/);
    expect(lifecycleEvents(local, releaseId).map((e) => e['detail-type'])).toEqual([
      'Release Started',
      'Green Provisioned',
      'Traffic Shifted',
      'Gate Failed',
      'Release Rolled Back',
    ]);
    const alias = await getAlias('faulty');
    expect(alias.FunctionVersion).toBe('1');
    expect(alias.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
    expect((await local.ledger.getRelease(releaseId))?.phase).toBe('RolledBack');
  });

  it('starts one release for a duplicate event', async () => {
    const detail = { service: 'dupe', version: '1.1.0', artifact: artifact('1.1.0') };
    const first = await requestRelease(local, detail);
    const second = await requestRelease(local, detail);
    const executions = await Promise.all([executionFor(local, first), executionFor(local, second)]);

    expect(executions.map((e) => e.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const provisioned = executions.filter((e) =>
      local.cloud.stepFunctions
        .getHistory(e.executionArn)
        .some((h) => h.details?.name === 'ProvisionGreen'),
    );
    expect(provisioned).toHaveLength(1);
    expect(local.lambda.describe('dupe').versions).toEqual(['1', '2']);
    const steps = await local.ledger.listSteps(deriveReleaseId('dupe', '1.1.0', 1));
    expect(steps.filter((s) => s.step === 'duplicate')).toHaveLength(1);
    expect(steps.filter((s) => s.step === 'provision')).toHaveLength(1);
  });

  it('makes a second release for a busy service wait for the first, then run', async () => {
    const firstId = deriveReleaseId('busy', '1.1.0', 1);
    const secondId = deriveReleaseId('busy', '2.0.0', 1);
    const first = await requestRelease(local, {
      service: 'busy',
      version: '1.1.0',
      artifact: artifact('1.1.0'),
    });
    await waitForPhase(local, firstId, new Set(['Provisioning', 'Testing', 'Shifting']));
    const second = await requestRelease(local, {
      service: 'busy',
      version: '2.0.0',
      artifact: artifact('1.0.0'),
    });
    const [a, b] = await Promise.all([executionFor(local, first), executionFor(local, second)]);

    expect([a.status, b.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const firstSteps = await local.ledger.listSteps(firstId);
    const secondSteps = await local.ledger.listSteps(secondId);
    const wait = secondSteps.find((s) => s.step === 'lock' && s.outcome === 'started');
    expect(wait?.reason).toBe(`Waiting for busy's lock, held by ${firstId}`);
    const firstFinalized = firstSteps.find((s) => s.step === 'finalize')?.at ?? '';
    const secondProvisioned = secondSteps.find((s) => s.step === 'provision')?.at ?? '';
    expect(secondProvisioned > firstFinalized).toBe(true);
    expect((await local.ledger.getRelease(secondId))?.colours).toEqual({ blue: '2', green: '3' });
    expect((await getAlias('busy')).FunctionVersion).toBe('3');
  });

  it('leaves no double effect when a step fails after its side effect and is retried', async () => {
    // Lose more responses than the SDK retries on its own, so that the step itself fails
    // after AWS did the work, and Step Functions runs it again.
    local.lambda.failNextResponse('PublishVersion', 3);
    local.lambda.failNextResponse('UpdateAlias', 3);
    const eventId = await requestRelease(local, {
      service: 'retry',
      version: '1.1.0',
      artifact: artifact('1.1.0'),
    });
    const execution = await executionFor(local, eventId);

    expect(execution.status).toBe('SUCCEEDED');
    const history = local.cloud.stepFunctions.getHistory(execution.executionArn);
    // ProvisionGreen failed once (all three SDK attempts lost their response) and Step Functions
    // ran it again; the lost UpdateAlias answers were absorbed by the adapter, which found its
    // own write in place when the SDK's retry was refused for a stale revision.
    // A task whose Resource is a function ARN: Step Functions records LambdaFunctionFailed.
    const failedTasks = history.filter((h) => h.type === 'LambdaFunctionFailed').length;
    expect(failedTasks).toBe(1);
    const snapshot = local.lambda.describe('retry');
    expect(snapshot.versions).toEqual(['1', '2']);
    expect(snapshot.alias).toMatchObject({ version: '2', weights: {} });
    const shifts = (await local.ledger.listSteps(deriveReleaseId('retry', '1.1.0', 1))).filter(
      (s) => s.step === 'shift',
    );
    expect(shifts.map((s) => s.greenPercent)).toEqual([10, 100]);
  });
});

describe('an invalid release event', () => {
  it('is rejected with field-level reasons and changes nothing', async () => {
    const versionsBefore = names.map((n) => local.lambda.describe(n).versions);
    const eventId = await requestRelease(local, {
      service: 'good',
      artifact: { s3: { bucket: 'Not A Bucket' } },
    });
    const execution = await executionFor(local, eventId);

    expect(execution).toMatchObject({ status: 'FAILED', error: 'InvalidReleaseEvent' });
    const rejection = await local.ledger.getRejection(eventId);
    expect(rejection?.evidence?.issues?.map((i) => i.path)).toEqual(
      expect.arrayContaining([
        'detail.version',
        'detail.artifact.s3.bucket',
        'detail.artifact.s3.key',
      ]),
    );
    const events = lifecycleEvents(local, eventId);
    expect(events.map((e) => e['detail-type'])).toEqual(['Release Rejected']);
    expect(names.map((n) => local.lambda.describe(n).versions)).toEqual(versionsBefore);
  });

  it('is rejected when the service is not registered', async () => {
    const eventId = await requestRelease(local, {
      service: 'payments',
      version: '1.0.0',
      artifact: artifact('1.1.0'),
    });
    const execution = await executionFor(local, eventId);

    expect(execution).toMatchObject({ status: 'FAILED', error: 'InvalidReleaseEvent' });
    const rejection = await local.ledger.getRejection(eventId);
    expect(rejection?.evidence?.issues).toEqual([
      { path: 'detail.service', message: expect.stringContaining('"payments" is not registered') },
    ]);
    expect(await local.ledger.listReleases('payments', 5)).toEqual([]);
  });

  describe('of a hostile size', () => {
    /** The rejection and its one Release Rejected event, both checked against AWS's limits. */
    async function expectRecorded(eventId: string) {
      const execution = await executionFor(local, eventId);
      expect(execution).toMatchObject({ status: 'FAILED', error: 'InvalidReleaseEvent' });
      const rejection = await local.ledger.getRejection(eventId);
      expect(rejection).toMatchObject({ step: 'register', outcome: 'failed' });
      const events = lifecycleEvents(local, eventId);
      expect(events.map((e) => e['detail-type'])).toEqual(['Release Rejected']);
      const detailBytes = Buffer.byteLength(JSON.stringify(events[0]?.detail));
      expect(detailBytes).toBeLessThan(putEventsMaxBytes / 4);
      return { rejection, detail: events[0]?.detail ?? {} };
    }

    it('is recorded with its first issues and a count of the rest: 4,000 unknown fields', async () => {
      const unknown = Object.fromEntries(Array.from({ length: 4000 }, (_, i) => [`f${i}`, 1]));
      const eventId = await requestRelease(local, {
        service: 'good',
        version: '2.0.0',
        artifact: artifact('1.1.0'),
        ...unknown,
      });

      const { rejection, detail } = await expectRecorded(eventId);

      expect(rejection?.evidence?.issues).toHaveLength(20);
      expect(rejection?.evidence?.issuesOmitted).toBe(3980);
      expect(detail).toMatchObject({ service: 'good', version: '2.0.0', issuesOmitted: 3980 });
    });

    it('is recorded when it is the largest event EventBridge takes', async () => {
      const detail = {
        schemaVersion: 1,
        service: 'good',
        version: '2.0.1',
        artifact: artifact('1.1.0'),
        actor: `\u001b[2J${'a'.repeat(1000)}`,
        padding: '',
      };
      const source = 'greenlight.test'.length + 'Release Requested'.length;
      detail.padding = 'p'.repeat(putEventsMaxBytes - source - JSON.stringify(detail).length);

      const { rejection } = await expectRecorded(await requestRelease(local, detail));

      expect(rejection?.evidence?.issues?.map((i) => i.path)).toEqual([
        'detail.actor',
        'detail.actor',
        'detail.padding',
      ]);
    });

    it('never reaches the workflow when it is larger than EventBridge takes', async () => {
      const padding = 'p'.repeat(putEventsMaxBytes);
      await expect(requestRelease(local, { service: 'good', padding })).rejects.toMatchObject({
        name: 'ValidationException',
      });
    });
  });
});
