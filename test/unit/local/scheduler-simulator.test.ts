import {
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Endpoint, startEndpoint } from '../../../src/local/endpoint.ts';
import { LocalScheduler } from '../../../src/local/scheduler/simulator.ts';

const targetArn = 'arn:aws:lambda:us-east-1:000000000000:function:greenlight-teardown';
const teardownTarget = {
  Arn: targetArn,
  RoleArn: 'arn:aws:iam::000000000000:role/greenlight-scheduler',
  Input: JSON.stringify({ service: 'checkout', releaseId: 'checkout-1-4-2-a1', colour: '3' }),
};

function aTeardownSchedule(
  overrides: Partial<CreateScheduleCommandInput> = {},
): CreateScheduleCommandInput {
  return {
    Name: 'teardown-checkout-1-4-2-a1-0123456789',
    GroupName: 'greenlight',
    ScheduleExpression: 'at(2026-11-21T10:15:00)',
    ScheduleExpressionTimezone: 'UTC',
    FlexibleTimeWindow: { Mode: 'OFF' },
    ActionAfterCompletion: 'DELETE',
    Target: teardownTarget,
    ...overrides,
  };
}

describe('LocalScheduler', () => {
  let clock: Date;
  let invoked: { arn: string; input: unknown }[];
  let failNext: number;
  let scheduler: LocalScheduler;
  let endpoint: Endpoint;
  let client: SchedulerClient;

  beforeEach(async () => {
    clock = new Date('2026-11-21T10:00:00.000Z');
    invoked = [];
    failNext = 0;
    scheduler = new LocalScheduler({
      now: () => clock,
      // The test moves the clock and calls fireDue itself; the timer never finds anything new.
      tickMs: 60_000,
      retryDelayMs: 0,
      invoke: async (arn, input) => {
        invoked.push({ arn, input: JSON.parse(input) });
        if (failNext > 0) {
          failNext -= 1;
          throw new Error('IdleColourStillDraining: not yet');
        }
      },
    });
    scheduler.createGroup('greenlight');
    endpoint = await startEndpoint([scheduler]);
    client = new SchedulerClient({
      endpoint: endpoint.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  });

  afterEach(async () => {
    client.destroy();
    await scheduler.close();
    await endpoint.close();
  });

  it('creates a schedule and answers Get and List as the SDK expects', async () => {
    const created = await client.send(new CreateScheduleCommand(aTeardownSchedule()));
    expect(created.ScheduleArn).toBe(
      'arn:aws:scheduler:us-east-1:000000000000:schedule/greenlight/teardown-checkout-1-4-2-a1-0123456789',
    );
    const got = await client.send(
      new GetScheduleCommand({
        Name: 'teardown-checkout-1-4-2-a1-0123456789',
        GroupName: 'greenlight',
      }),
    );
    expect(got).toMatchObject({
      ScheduleExpression: 'at(2026-11-21T10:15:00)',
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
      Target: { Arn: targetArn },
    });
    expect(got.CreationDate).toEqual(clock);
    const listed = await client.send(new ListSchedulesCommand({ GroupName: 'greenlight' }));
    expect(listed.Schedules?.map((s) => s.Name)).toEqual(['teardown-checkout-1-4-2-a1-0123456789']);
  });

  it('fires a one-time schedule only once its time has come, then deletes it', async () => {
    await client.send(new CreateScheduleCommand(aTeardownSchedule()));

    clock = new Date('2026-11-21T10:14:59.000Z');
    await scheduler.fireDue();
    expect(invoked).toEqual([]);

    clock = new Date('2026-11-21T10:15:00.000Z');
    await scheduler.fireDue();
    await scheduler.fireDue();
    expect(invoked).toEqual([
      {
        arn: targetArn,
        input: { service: 'checkout', releaseId: 'checkout-1-4-2-a1', colour: '3' },
      },
    ]);
    expect(scheduler.firings()).toEqual([
      expect.objectContaining({
        dueAt: new Date('2026-11-21T10:15:00.000Z'),
        attempt: 1,
        outcome: 'ok',
      }),
    ]);
    await expect(
      client.send(
        new GetScheduleCommand({
          Name: 'teardown-checkout-1-4-2-a1-0123456789',
          GroupName: 'greenlight',
        }),
      ),
    ).rejects.toThrow(ResourceNotFoundException);
  });

  it('retries a target that fails, under its retry policy', async () => {
    failNext = 1;
    await client.send(
      new CreateScheduleCommand(
        aTeardownSchedule({
          ActionAfterCompletion: 'NONE',
          Target: { ...teardownTarget, RetryPolicy: { MaximumRetryAttempts: 1 } },
        }),
      ),
    );
    clock = new Date('2026-11-21T10:15:00.000Z');
    await scheduler.fireDue();
    await scheduler.fireDue();
    await scheduler.fireDue();
    expect(scheduler.firings().map((f) => [f.attempt, f.outcome])).toEqual([
      [1, 'Error: IdleColourStillDraining: not yet'],
      [2, 'ok'],
    ]);
    // Kept (ActionAfterCompletion NONE) but done: it never fires again.
    expect(Object.keys(scheduler.schedules())).toEqual([
      'greenlight/teardown-checkout-1-4-2-a1-0123456789',
    ]);
  });

  it('deletes a schedule, and says so when there is none', async () => {
    await client.send(new CreateScheduleCommand(aTeardownSchedule()));
    const key = { Name: 'teardown-checkout-1-4-2-a1-0123456789', GroupName: 'greenlight' };
    await client.send(new DeleteScheduleCommand(key));
    await expect(client.send(new DeleteScheduleCommand(key))).rejects.toThrow(
      ResourceNotFoundException,
    );
    clock = new Date('2026-11-22T00:00:00.000Z');
    await scheduler.fireDue();
    expect(invoked).toEqual([]);
  });
});
