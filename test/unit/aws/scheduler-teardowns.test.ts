import {
  ConflictException,
  CreateScheduleCommand,
  GetScheduleCommand,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SchedulerTeardowns } from '../../../src/aws/scheduler-teardowns.ts';

const scheduler = mockClient(SchedulerClient);
const target = { service: 'checkout', releaseId: 'checkout-1-4-2-a1-0123456789', colour: '3' };
const request = {
  name: 'teardown-checkout-1-4-2-a1-0123456789',
  at: new Date('2026-11-21T10:15:00.000Z'),
  target,
};

function teardowns() {
  return new SchedulerTeardowns({
    client: new SchedulerClient({ region: 'eu-west-1' }),
    groupName: 'greenlight-prod',
    roleArn: 'arn:aws:iam::123456789012:role/greenlight-prod-scheduler',
    targetArn: 'arn:aws:lambda:eu-west-1:123456789012:function:greenlight-prod-teardown',
  });
}

describe('SchedulerTeardowns', () => {
  beforeEach(() => scheduler.reset());

  it('creates a one-time UTC schedule that deletes itself and invokes the teardown', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });

    expect(await teardowns().schedule(request)).toEqual({
      name: request.name,
      at: request.at,
      created: true,
    });
    expect(scheduler.calls().map((call) => call.args[0].input)).toEqual([
      {
        Name: 'teardown-checkout-1-4-2-a1-0123456789',
        GroupName: 'greenlight-prod',
        ScheduleExpression: 'at(2026-11-21T10:15:00)',
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        State: 'ENABLED',
        Description:
          "greenlight: tear down checkout's idle colour 3 after release checkout-1-4-2-a1-0123456789",
        Target: {
          Arn: 'arn:aws:lambda:eu-west-1:123456789012:function:greenlight-prod-teardown',
          RoleArn: 'arn:aws:iam::123456789012:role/greenlight-prod-scheduler',
          Input: JSON.stringify(target),
          RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
        },
      },
    ]);
  });

  it('takes a ConflictException for its own earlier create and answers with that schedule’s time', async () => {
    scheduler
      .on(CreateScheduleCommand)
      .rejects(new ConflictException({ Message: 'exists', message: 'exists', $metadata: {} }));
    scheduler
      .on(GetScheduleCommand)
      .resolves({ Name: request.name, ScheduleExpression: 'at(2026-11-21T10:14:58)' });

    expect(await teardowns().schedule(request)).toEqual({
      name: request.name,
      at: new Date('2026-11-21T10:14:58.000Z'),
      created: false,
    });
    expect(scheduler.commandCalls(GetScheduleCommand)[0]?.args[0].input).toEqual({
      Name: request.name,
      GroupName: 'greenlight-prod',
    });
  });

  it('lets any other error through', async () => {
    scheduler.on(CreateScheduleCommand).rejects(new Error('AccessDeniedException'));
    await expect(teardowns().schedule(request)).rejects.toThrow('AccessDeniedException');
    expect(scheduler.commandCalls(GetScheduleCommand)).toHaveLength(0);
  });
});
