import {
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { startEndpoint } from '../../../../src/local/endpoint.ts';
import { LocalScheduler } from '../../../../src/local/scheduler/simulator.ts';
import { clientConfig, describeRules, outcomeOf, type RuleCase } from '../../../support/moto.ts';

/**
 * EventBridge Scheduler's API rules, as one table run against the local Scheduler and against
 * moto_server. Each case has a schedule group of its own (`rule-N`).
 */
interface SchedulerBackend {
  client: SchedulerClient;
  createGroup(name: string): Promise<void> | void;
}

const api = 'https://docs.aws.amazon.com/scheduler/latest/APIReference';

function aSchedule(
  group: string,
  overrides: Partial<CreateScheduleCommandInput> = {},
): CreateScheduleCommandInput {
  return {
    Name: 'teardown',
    GroupName: group,
    ScheduleExpression: 'at(2030-01-01T10:15:00)',
    ScheduleExpressionTimezone: 'UTC',
    FlexibleTimeWindow: { Mode: 'OFF' },
    ActionAfterCompletion: 'DELETE',
    Target: {
      Arn: 'arn:aws:lambda:us-east-1:123456789012:function:greenlight-teardown',
      RoleArn: 'arn:aws:iam::123456789012:role/greenlight-scheduler',
      Input: '{}',
    },
    ...overrides,
  };
}

function create(
  { client }: SchedulerBackend,
  group: string,
  overrides: Partial<CreateScheduleCommandInput> = {},
) {
  return outcomeOf(client.send(new CreateScheduleCommand(aSchedule(group, overrides))));
}

const cases: RuleCase<SchedulerBackend>[] = [
  {
    name: 'CreateSchedule of a one-time schedule',
    doc: `${api}/API_CreateSchedule.html`,
    run: (backend, group) =>
      outcomeOf(backend.client.send(new CreateScheduleCommand(aSchedule(group))), (r) =>
        r.ScheduleArn?.endsWith(`:schedule/${group}/teardown`),
      ),
    aws: { ok: true },
  },
  {
    name: 'CreateSchedule with a name that exists in the group',
    doc: `${api}/API_CreateSchedule.html (Errors: ConflictException)`,
    async run(backend, group) {
      await create(backend, group);
      return create(backend, group);
    },
    aws: { error: 'ConflictException' },
  },
  {
    name: 'CreateSchedule in a group that does not exist',
    doc: `${api}/API_CreateSchedule.html (Errors: ResourceNotFoundException)`,
    run: (backend, group) => create(backend, `${group}-missing`),
    aws: { error: 'ResourceNotFoundException' },
    motoIsWrong: {
      outcome: { error: 'SyntaxError' },
      because: 'moto fails on a group it does not have with an HTML 500 page the SDK cannot parse',
    },
  },
  {
    name: 'CreateSchedule with a name outside [0-9a-zA-Z-_.]+',
    doc: `${api}/API_CreateSchedule.html (Name: pattern ^[0-9a-zA-Z-_.]+$, 1 to 64)`,
    run: (backend, group) => create(backend, group, { Name: 'has spaces' }),
    aws: { error: 'ValidationException' },
    motoIsWrong: {
      outcome: { ok: true },
      because: 'moto does not validate CreateSchedule members against the model',
    },
  },
  {
    name: 'CreateSchedule with a name of 65 characters',
    doc: `${api}/API_CreateSchedule.html (Name: length 1 to 64)`,
    run: (backend, group) => create(backend, group, { Name: 'n'.repeat(65) }),
    aws: { error: 'ValidationException' },
    motoIsWrong: {
      outcome: { ok: true },
      because: 'moto does not validate CreateSchedule members against the model',
    },
  },
  {
    name: 'CreateSchedule with an at() expression that is not a time',
    doc: `${api}/API_CreateSchedule.html (ScheduleExpression: at(yyyy-mm-ddThh:mm:ss))`,
    run: (backend, group) => create(backend, group, { ScheduleExpression: 'at(tomorrow)' }),
    aws: { error: 'ValidationException' },
    motoIsWrong: {
      outcome: { ok: true },
      because: 'moto stores any ScheduleExpression without parsing it',
    },
  },
  {
    name: 'CreateSchedule with an expression that is neither at, rate nor cron',
    doc: `${api}/API_CreateSchedule.html (ScheduleExpression)`,
    run: (backend, group) => create(backend, group, { ScheduleExpression: 'every 5 minutes' }),
    aws: { error: 'ValidationException' },
    motoIsWrong: {
      outcome: { ok: true },
      because: 'moto stores any ScheduleExpression without parsing it',
    },
  },
  {
    name: 'CreateSchedule with a FLEXIBLE window and no MaximumWindowInMinutes',
    doc: `${api}/API_FlexibleTimeWindow.html (MaximumWindowInMinutes: 1 to 1440, required when FLEXIBLE)`,
    run: (backend, group) => create(backend, group, { FlexibleTimeWindow: { Mode: 'FLEXIBLE' } }),
    aws: { error: 'ValidationException' },
    motoIsWrong: {
      outcome: { ok: true },
      because: 'moto does not validate CreateSchedule members against the model',
    },
  },
  {
    name: 'CreateSchedule with ActionAfterCompletion other than NONE or DELETE',
    doc: `${api}/API_CreateSchedule.html (ActionAfterCompletion: NONE | DELETE)`,
    run: (backend, group) => create(backend, group, { ActionAfterCompletion: 'KEEP' as 'NONE' }),
    aws: { error: 'ValidationException' },
    motoIsWrong: {
      outcome: { ok: true },
      because: 'moto does not validate CreateSchedule members against the model',
    },
  },
  {
    name: 'CreateSchedule with State other than ENABLED or DISABLED',
    doc: `${api}/API_CreateSchedule.html (State: ENABLED | DISABLED)`,
    run: (backend, group) => create(backend, group, { State: 'PAUSED' as 'ENABLED' }),
    aws: { error: 'ValidationException' },
    motoIsWrong: {
      outcome: { ok: true },
      because: 'moto does not validate CreateSchedule members against the model',
    },
  },
  {
    name: 'GetSchedule of a schedule that does not exist',
    doc: `${api}/API_GetSchedule.html (Errors: ResourceNotFoundException)`,
    run: ({ client }, group) =>
      outcomeOf(client.send(new GetScheduleCommand({ Name: 'nope', GroupName: group }))),
    aws: { error: 'ResourceNotFoundException' },
  },
  {
    name: 'DeleteSchedule twice',
    doc: `${api}/API_DeleteSchedule.html (Errors: ResourceNotFoundException)`,
    async run(backend, group) {
      await create(backend, group);
      const key = { Name: 'teardown', GroupName: group };
      const first = await outcomeOf(backend.client.send(new DeleteScheduleCommand(key)));
      const second = await outcomeOf(backend.client.send(new DeleteScheduleCommand(key)));
      return { ok: [first, second] };
    },
    aws: { ok: [{ ok: true }, { error: 'ResourceNotFoundException' }] },
  },
  {
    name: 'ListSchedules one a page, following NextToken',
    doc: `${api}/API_ListSchedules.html (MaxResults, NextToken)`,
    async run(backend, group) {
      for (const name of ['a', 'b', 'c']) await create(backend, group, { Name: name });
      const pages: (string | undefined)[][] = [];
      let token: string | undefined;
      do {
        const page = await backend.client.send(
          new ListSchedulesCommand({ GroupName: group, MaxResults: 1, NextToken: token }),
        );
        pages.push((page.Schedules ?? []).map((s) => s.Name));
        token = page.NextToken;
      } while (token !== undefined && pages.length < 5);
      return { ok: pages.flat().sort() };
    },
    aws: { ok: ['a', 'b', 'c'] },
  },
  {
    name: 'ListSchedules with a NextToken it did not issue',
    doc: `${api}/API_ListSchedules.html (Errors: ValidationException)`,
    run: ({ client }, group) =>
      outcomeOf(
        client.send(new ListSchedulesCommand({ GroupName: group, NextToken: 'not-a-token' })),
      ),
    aws: { error: 'ValidationException' },
    motoIsWrong: {
      outcome: { error: 'InvalidToken' },
      because: 'moto answers InvalidToken, an error ListSchedules does not have',
    },
  },
];

describeRules<SchedulerBackend>({
  service: 'Scheduler',
  cases,
  async local() {
    const scheduler = new LocalScheduler({
      now: () => new Date('2025-03-01T00:00:00.000Z'),
      invoke: async () => {},
      // Nothing in these cases is due; the timer only has to stay out of the way.
      tickMs: 60_000,
    });
    const endpoint = await startEndpoint([scheduler]);
    const client = schedulerClient(endpoint.url);
    return {
      backend: { client, createGroup: (name: string) => scheduler.createGroup(name) },
      async close() {
        client.destroy();
        await scheduler.close();
        await endpoint.close();
      },
    };
  },
  async moto(endpoint) {
    const client = schedulerClient(endpoint);
    return {
      backend: {
        client,
        createGroup: async (name: string) => {
          await client.send(new CreateScheduleGroupCommand({ Name: name }));
        },
      },
      async close() {
        client.destroy();
      },
    };
  },
  setUp: async (backend, group) => {
    await backend.createGroup(group);
  },
});

function schedulerClient(endpoint: string): SchedulerClient {
  return new SchedulerClient(clientConfig(endpoint));
}
