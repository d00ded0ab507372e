import {
  CloudWatchLogsClient,
  GetLogEventsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  ClientException,
  ClusterNotFoundException,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  RunTaskCommand,
  type RunTaskCommandInput,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  clientTokenOf,
  EcsTaskMigrationRunner,
} from '../../../src/aws/ecs-task-migration-runner.ts';
import { MigrationRunnerFailed, MigrationRunnerReplyInvalid } from '../../../src/core/errors.ts';
import type { MigrationRunnerRequest } from '../../../src/core/migration.ts';
import type { MigrationsConfig } from '../../../src/core/service-config.ts';
import { testClockStart } from '../../support/clock.ts';

const runnerConfig = {
  type: 'ecs-task' as const,
  cluster: 'shop',
  taskDefinition: 'shop-migrations',
  containerName: 'migrate',
  network: { subnets: ['subnet-0a1b2c3d'], securityGroups: ['sg-0a1b2c3d'], assignPublicIp: false },
  logGroup: '/ecs/shop-migrations',
  passRoles: [],
};
const migrations: MigrationsConfig = { runner: runnerConfig, timeoutSeconds: 60 };
const request: MigrationRunnerRequest = {
  greenlight: 1,
  action: 'apply',
  migrationId: '0007_add_note',
  kind: 'expand',
  service: 'shop',
  releaseId: 'shop-1-1-0-1',
};
const taskArn = 'arn:aws:ecs:eu-west-1:123456789012:task/shop/0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const stream = 'migrations/migrate/0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const reply = { migrationId: '0007_add_note', status: 'applied', ran: true };
const replyLine = `GREENLIGHT_MIGRATION_REPLY ${JSON.stringify(reply)}`;

const stoppedTask = (exitCode: number | undefined, extra: Partial<Task> = {}): Task => ({
  taskArn,
  lastStatus: 'STOPPED',
  stopCode: 'EssentialContainerExited',
  stoppedReason: 'Essential container in task exited',
  containers: [{ name: 'migrate', ...(exitCode === undefined ? {} : { exitCode }) }],
  ...extra,
});

describe('EcsTaskMigrationRunner', () => {
  const ecs = mockClient(ECSClient);
  const logs = mockClient(CloudWatchLogsClient);
  let ms = 0;
  let slept: number[] = [];
  const runner = () =>
    new EcsTaskMigrationRunner({
      ecs: new ECSClient({ region: 'eu-west-1' }),
      logs: new CloudWatchLogsClient({ region: 'eu-west-1' }),
      monotonicMs: () => ms,
      now: () => new Date(Date.parse(testClockStart) + ms),
      sleep: async (wait) => {
        slept.push(wait);
        ms += wait;
      },
    });

  beforeEach(() => {
    ecs.reset();
    logs.reset();
    ms = 0;
    slept = [];
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: {
        containerDefinitions: [
          {
            name: 'migrate',
            logConfiguration: {
              logDriver: 'awslogs',
              options: {
                'awslogs-group': '/ecs/shop-migrations',
                'awslogs-stream-prefix': 'migrations',
              },
            },
          },
        ],
      },
    });
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn, lastStatus: 'PROVISIONING' }] });
  });
  afterEach(() => {
    ecs.restore();
    logs.restore();
  });

  const runTaskInput = () =>
    ecs.commandCalls(RunTaskCommand)[0]?.args[0].input as RunTaskCommandInput;

  it('runs one Fargate task with the request in its environment, waits for it, reads the reply line', async () => {
    ecs
      .on(DescribeTasksCommand)
      .resolvesOnce({ tasks: [{ taskArn, lastStatus: 'RUNNING' }] })
      .resolvesOnce({ tasks: [{ taskArn, lastStatus: 'DEPROVISIONING' }] })
      .resolves({ tasks: [stoppedTask(0)] });
    logs.on(GetLogEventsCommand).resolves({
      events: [{ message: 'connecting' }, { message: `${replyLine}\n` }],
      nextForwardToken: 'f/1',
    });

    expect(await runner().call(migrations, request)).toEqual(reply);

    const input = runTaskInput();
    expect(input).toMatchObject({
      cluster: 'shop',
      taskDefinition: 'shop-migrations',
      launchType: 'FARGATE',
      count: 1,
      networkConfiguration: {
        awsvpcConfiguration: {
          subnets: ['subnet-0a1b2c3d'],
          securityGroups: ['sg-0a1b2c3d'],
          assignPublicIp: 'DISABLED',
        },
      },
      startedBy: 'greenlight/apply/0007_add_note',
    });
    const override = input.overrides?.containerOverrides?.[0];
    expect(override?.name).toBe('migrate');
    expect(override?.environment).toEqual([
      { name: 'GREENLIGHT_MIGRATION_REQUEST', value: JSON.stringify(request) },
    ]);
    expect(logs.commandCalls(GetLogEventsCommand)[0]?.args[0].input).toMatchObject({
      logGroupName: '/ecs/shop-migrations',
      logStreamName: stream,
      startFromHead: true,
    });
    // Backing off while it runs: 1 s, then 2 s.
    expect(slept).toEqual([1000, 2000]);
  });

  it('sends apply and revert with a token of the release, migration and action, so a retry gets the same task', async () => {
    ecs.on(DescribeTasksCommand).resolves({ tasks: [stoppedTask(0)] });
    logs.on(GetLogEventsCommand).resolves({ events: [{ message: replyLine }] });

    await runner().call(migrations, request);
    await runner().call(migrations, request);
    await runner().call(migrations, { ...request, action: 'revert' });
    await runner().call(migrations, { ...request, releaseId: 'shop-1-2-0-1' });
    const tokens = ecs.commandCalls(RunTaskCommand).map((call) => call.args[0].input.clientToken);
    expect(tokens[0]).toBe(tokens[1]);
    expect(new Set(tokens).size).toBe(3);
    // RunTask's clientToken: up to 64 ASCII characters 33-126.
    expect(tokens[0]).toMatch(/^[!-~]{1,64}$/);
    expect(tokens[0]).toBe(clientTokenOf(runnerConfig, request));
  });

  it('waits for the task an earlier attempt started when the token gives it back still running', async () => {
    const earlier = new Date(Date.parse(testClockStart) - 60_000);
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn, createdAt: earlier }] });
    ecs
      .on(DescribeTasksCommand)
      .resolvesOnce({ tasks: [{ taskArn, lastStatus: 'RUNNING' }] })
      .resolves({ tasks: [stoppedTask(0)] });
    logs.on(GetLogEventsCommand).resolves({ events: [{ message: replyLine }] });

    expect(await runner().call(migrations, request)).toEqual(reply);
    expect(ecs.commandCalls(RunTaskCommand)).toHaveLength(1);
  });

  it('asks again in a new task when the token gives back an earlier attempt’s task that has stopped: its answer may be stale', async () => {
    const earlier = new Date(Date.parse(testClockStart) - 60_000);
    const freshArn = taskArn.replace(/[0-9a-f]{32}$/, 'f'.repeat(32));
    ecs
      .on(RunTaskCommand)
      .resolvesOnce({ tasks: [{ taskArn, createdAt: earlier }] })
      .resolves({ tasks: [{ taskArn: freshArn }] });
    ecs.on(DescribeTasksCommand).callsFake(({ tasks }: { tasks: string[] }) => ({
      tasks: [{ ...stoppedTask(0), taskArn: tasks[0] }],
    }));
    const fresh = { migrationId: '0007_add_note', status: 'applied', ran: false };
    logs.on(GetLogEventsCommand).callsFake(({ logStreamName }: { logStreamName: string }) => ({
      events: [
        {
          message: `GREENLIGHT_MIGRATION_REPLY ${JSON.stringify(logStreamName.endsWith('f'.repeat(32)) ? fresh : reply)}`,
        },
      ],
    }));

    expect(await runner().call(migrations, request)).toEqual(fresh);
    const tokens = ecs.commandCalls(RunTaskCommand).map((c) => c.args[0].input.clientToken);
    expect(tokens).toEqual([clientTokenOf(runnerConfig, request), undefined]);
  });

  it('leaves plan and status to the SDK’s own token: an earlier task’s answer would be stale', async () => {
    ecs.on(DescribeTasksCommand).resolves({ tasks: [stoppedTask(0)] });
    logs.on(GetLogEventsCommand).resolves({ events: [{ message: replyLine }] });

    await runner().call(migrations, { ...request, action: 'status' });
    expect(runTaskInput().clientToken).not.toBe(
      clientTokenOf(runnerConfig, { ...request, action: 'status' }),
    );
  });

  it('fails with the exit code, ECS’s reasons and the runner’s last lines when the container exits non-zero', async () => {
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        stoppedTask(1, {
          containers: [{ name: 'migrate', exitCode: 1, reason: 'migration 0007 failed' }],
        }),
      ],
    });
    logs.on(GetLogEventsCommand).resolves({
      events: [{ message: 'applying 0007' }, { message: 'ERROR: deadlock detected\n' }],
    });

    const error = await runner()
      .call(migrations, request)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationRunnerFailed);
    expect((error as Error).message).toMatch(
      /exited 1; migration 0007 failed; EssentialContainerExited; .*; its last output: applying 0007 \| ERROR: deadlock detected$/,
    );
    // The tail only: one read from the end of the stream, no waiting for a reply.
    expect(logs.commandCalls(GetLogEventsCommand).map((c) => c.args[0].input)).toEqual([
      {
        logGroupName: '/ecs/shop-migrations',
        logStreamName: stream,
        startFromHead: false,
        limit: 3,
      },
    ]);
  });

  it('still fails with ECS’s reasons when the logs cannot be read', async () => {
    ecs.on(DescribeTasksCommand).resolves({ tasks: [stoppedTask(2)] });
    logs
      .on(GetLogEventsCommand)
      .rejects(new ResourceNotFoundException({ message: 'no', $metadata: {} }));

    await expect(runner().call(migrations, request)).rejects.toThrow(
      /failed: the container exited 2; EssentialContainerExited; Essential container in task exited$/,
    );
  });

  it('fails with the stopped reason when the task stopped before its container ran', async () => {
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        stoppedTask(undefined, {
          stopCode: 'TaskFailedToStart',
          stoppedReason: 'CannotPullContainerError: pull image manifest has been retried 5 time(s)',
        }),
      ],
    });

    await expect(runner().call(migrations, request)).rejects.toThrow(
      /did not exit; TaskFailedToStart; CannotPullContainerError/,
    );
  });

  it('fails with RunTask’s failures when it started no task', async () => {
    ecs.on(RunTaskCommand).resolves({
      tasks: [],
      failures: [{ reason: 'RESOURCE:ENI', detail: 'no free IP in subnet-0a1b2c3d' }],
    });

    await expect(runner().call(migrations, request)).rejects.toThrow(
      /RunTask started no task: RESOURCE:ENI: no free IP/,
    );
  });

  it('stops a task that has not stopped within timeoutSeconds, and fails saying so', async () => {
    ecs.on(DescribeTasksCommand).resolves({ tasks: [{ taskArn, lastStatus: 'RUNNING' }] });
    ecs.on(StopTaskCommand).resolves({});

    const error = await runner()
      .call(migrations, request)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationRunnerFailed);
    expect((error as Error).message).toMatch(/did not answer within 60s/);
    expect(ecs.commandCalls(StopTaskCommand)[0]?.args[0].input).toMatchObject({
      cluster: 'shop',
      task: taskArn,
    });
    // Never waited past the deadline.
    expect(ms).toBe(60_000);
  });

  it('looks again while the logs lag behind the stopped task', async () => {
    ecs.on(DescribeTasksCommand).resolves({ tasks: [stoppedTask(0)] });
    logs
      .on(GetLogEventsCommand)
      .rejectsOnce(new ResourceNotFoundException({ message: 'stream', $metadata: {} }))
      .resolvesOnce({ events: [{ message: 'connecting' }], nextForwardToken: 'f/1' })
      .resolvesOnce({ events: [], nextForwardToken: 'f/1' })
      .resolves({ events: [{ message: 'connecting' }, { message: replyLine }] });

    expect(await runner().call(migrations, request)).toEqual(reply);
    expect(logs.commandCalls(GetLogEventsCommand)).toHaveLength(4);
    // The second look read the stream to its end (the token came back unchanged).
    expect(logs.commandCalls(GetLogEventsCommand)[2]?.args[0].input.nextToken).toBe('f/1');
  });

  it('answers MigrationRunnerReplyInvalid when the task exited 0 and no reply line came', async () => {
    ecs.on(DescribeTasksCommand).resolves({ tasks: [stoppedTask(0)] });
    logs.on(GetLogEventsCommand).resolves({ events: [{ message: 'done' }] });

    const error = await runner()
      .call(migrations, request)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationRunnerReplyInvalid);
    expect((error as Error).message).toMatch(
      /without printing "GREENLIGHT_MIGRATION_REPLY <json>"/,
    );
    // Looked for it 30 s (the log lag allowance), not the whole timeout.
    expect(ms).toBe(30_000);
  });

  it('answers MigrationRunnerReplyInvalid for a reply line that is not a reply', async () => {
    ecs.on(DescribeTasksCommand).resolves({ tasks: [stoppedTask(0)] });
    logs
      .on(GetLogEventsCommand)
      .resolves({ events: [{ message: 'GREENLIGHT_MIGRATION_REPLY {"status":"done"}' }] });

    await expect(runner().call(migrations, request)).rejects.toBeInstanceOf(
      MigrationRunnerReplyInvalid,
    );
  });

  it('fails, not to be retried, when ECS refuses the family', async () => {
    ecs
      .on(DescribeTaskDefinitionCommand)
      .rejectsOnce(
        new ClientException({ message: 'Unable to describe task definition.', $metadata: {} }),
      );
    const unknownFamily = await runner()
      .call(migrations, request)
      .catch((e: unknown) => e);
    expect(unknownFamily).toBeInstanceOf(MigrationRunnerFailed);
    expect((unknownFamily as Error).message).toMatch(
      /ECS refused it: ClientException: Unable to describe task definition/,
    );
  });

  it('fails, not to be retried, when ECS refuses to run the task', async () => {
    ecs
      .on(RunTaskCommand)
      .rejects(new ClusterNotFoundException({ message: 'Cluster not found.', $metadata: {} }));
    await expect(runner().call(migrations, request)).rejects.toThrow(
      /ECS refused it: ClusterNotFoundException: Cluster not found/,
    );
  });

  it('refuses a task definition that logs outside the registered log group, before running it', async () => {
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: {
        containerDefinitions: [
          {
            name: 'migrate',
            logConfiguration: {
              logDriver: 'awslogs',
              options: { 'awslogs-group': '/ecs/other', 'awslogs-stream-prefix': 'm' },
            },
          },
        ],
      },
    });

    await expect(runner().call(migrations, request)).rejects.toThrow(
      /logs to \/ecs\/other, not to the registered logGroup \/ecs\/shop-migrations/,
    );
    expect(ecs.commandCalls(RunTaskCommand)).toHaveLength(0);
  });
});
