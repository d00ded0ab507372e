import { describe, expect, it } from 'vitest';
import { ReleasePhase } from '../../../src/core/phases.ts';
import { testGreenStep } from '../../../src/steps/test-green.ts';
import { anAborted, aReleaseRecord, aService, specOf } from '../../support/builders.ts';
import { aFakeWorld, anAlarm, failNext } from '../../support/fakes.ts';

// The test-green preflight against alarms of every shape is in gate-steps.test.ts (dynalite);
// here, the step's own course with in-memory ports.

const colours = { blue: '7', green: '8' };
const testing = aReleaseRecord({ phase: ReleasePhase.Testing, colours });
const id = testing.releaseId;
// A service-wide alarm: preflight does not ask it to watch green.
const service = aService({ alarms: [{ name: 'checkout-errors', scope: 'service' }] });

function aWorld(release = testing) {
  const world = aFakeWorld({ releases: [release], services: [service] });
  world.alarms.allOk('checkout-errors');
  return world;
}

describe('testGreenStep', () => {
  it('tests green only, and starts shifting once for two runs', async () => {
    const world = aWorld();
    const input = { release: specOf(testing), colours };

    const first = await testGreenStep.run(input, world.deps);
    const second = await testGreenStep.run(input, world.deps);

    expect(first).toEqual({ passed: true, tests: 1, alarms: 1 });
    expect(second).toEqual(first);
    expect(world.target.calls).toEqual(['test 8', 'test 8']);
    expect(world.target.greenPercent).toBe(0);
    expect(world.ledger.release(id)).toMatchObject({
      phase: 'Shifting',
      stepIndex: -1,
      greenPercent: 0,
      reason: 'Green passed its tests; shifting traffic',
    });
    expect(world.ledger.updates).toHaveLength(1);
    expect(await world.ledger.timeline(id)).toEqual(['preflight:succeeded', 'test:succeeded']);
  });

  it('waits for approval when the release asks for one before traffic moves', async () => {
    const awaiting = {
      ...testing,
      approval: { beforeShift: true, beforeFinalize: false, timeoutSeconds: 3600 },
    };
    const world = aWorld(awaiting);

    await testGreenStep.run({ release: specOf(awaiting), colours }, world.deps);

    expect(world.ledger.release(id).phase).toBe('AwaitingApproval');
    expect(world.events.types()).toEqual(['Approval Requested']);
  });

  it('fails with GreenTestFailed, naming the failed tests, and rolls back before traffic moves', async () => {
    const world = aWorld();
    world.target.testResults = [
      {
        name: 'health',
        passed: false,
        statusCode: 500,
        detail: 'statusCode 500, expected 200',
        durationMs: 4,
      },
      { name: 'checkout', passed: true, statusCode: 200, detail: 'ok', durationMs: 5 },
    ];

    await expect(
      testGreenStep.run({ release: specOf(testing), colours }, world.deps),
    ).rejects.toMatchObject({
      name: 'GreenTestFailed',
      message: 'Green failed 1 of 2 tests: health: statusCode 500, expected 200',
      details: { failed: ['health'] },
    });
    expect(world.ledger.release(id).phase).toBe('RollingBack');
    expect(await world.ledger.timeline(id)).toEqual(['preflight:succeeded', 'test:failed']);
    expect(world.target.greenPercent).toBe(0);
  });

  it('stops at preflight with AlarmGateFailed when a gate alarm already fires, testing nothing', async () => {
    const world = aWorld();
    world.alarms.alarms = [anAlarm('checkout-errors', 'ALARM')];

    await expect(
      testGreenStep.run({ release: specOf(testing), colours }, world.deps),
    ).rejects.toMatchObject({
      name: 'AlarmGateFailed',
      message: expect.stringMatching(/^Before any traffic moved: .*checkout-errors in ALARM/),
    });
    expect(world.target.calls).toEqual([]);
    expect(await world.ledger.timeline(id)).toEqual(['preflight:failed']);
  });

  it('records the tests but moves nothing on when the release was aborted meanwhile', async () => {
    const world = aWorld(anAborted(testing));

    await expect(
      testGreenStep.run({ release: specOf(testing), colours }, world.deps),
    ).rejects.toMatchObject({ name: 'OperatorAborted' });
    expect(world.ledger.release(id).phase).toBe('RollingBack');
  });

  it('fails without a verdict when CloudWatch is down, for Retry to try again', async () => {
    const world = aWorld();
    failNext(world.alarms, 'describe', new Error('Throttling'));

    await expect(
      testGreenStep.run({ release: specOf(testing), colours }, world.deps),
    ).rejects.toThrow('Throttling');
    expect(await world.ledger.timeline(id)).toEqual([]);
  });
});
