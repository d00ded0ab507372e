import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudWatchLogsClient,
  GetLogEventsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeTasksCommand,
  ECSClient,
  InvalidParameterException,
  RunTaskCommand,
  type RunTaskCommandInput,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalArtifactStore } from '../../../src/local/artifact-store.ts';
import { LocalCloudWatch } from '../../../src/local/cloudwatch/simulator.ts';
import { type LocalAlb, startLocalAlb } from '../../../src/local/data-plane/local-alb.ts';
import { type Endpoint, startEndpoint } from '../../../src/local/endpoint.ts';
import {
  ecsStandInRunner,
  ecsStandInState,
  putEcsStandInImage,
  seedEcsStandInRunner,
} from '../../support/ecs-stand-in-runner.ts';
import { eventually } from '../../support/eventually.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const request = (action: string, migrationId: string) =>
  JSON.stringify({
    greenlight: 1,
    action,
    migrationId,
    kind: 'expand',
    service: 'orders',
    releaseId: 'orders-1-1-0-1',
  });

describe('LocalEcs RunTask and the local CloudWatch Logs', () => {
  const root = mkdtempSync(join(tmpdir(), 'greenlight-run-task-'));
  const statePath = join(root, 'state.json');
  let alb: LocalAlb;
  let endpoint: Endpoint;
  let ecs: ECSClient;
  let logs: CloudWatchLogsClient;

  beforeAll(async () => {
    putEcsStandInImage(root);
    alb = await startLocalAlb({
      cloudwatch: new LocalCloudWatch(),
      artifacts: new LocalArtifactStore({ root }),
      stopTimeoutMs: 1_000,
    });
    await seedEcsStandInRunner(statePath)(alb);
    endpoint = await startEndpoint(alb.services);
    const config = { endpoint: endpoint.url, region: 'us-east-1', credentials, maxAttempts: 1 };
    ecs = new ECSClient(config);
    logs = new CloudWatchLogsClient(config);
  });

  afterAll(async () => {
    ecs?.destroy();
    logs?.destroy();
    await endpoint?.close();
    await alb?.close();
    rmSync(root, { recursive: true, force: true });
  });

  const run = (body: string, extra: Partial<RunTaskCommandInput> = {}) =>
    ecs.send(
      new RunTaskCommand({
        cluster: ecsStandInRunner.cluster,
        taskDefinition: ecsStandInRunner.taskDefinition,
        launchType: 'FARGATE',
        networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-0a1b2c3d'] } },
        overrides: {
          containerOverrides: [
            {
              name: ecsStandInRunner.containerName,
              environment: [{ name: 'GREENLIGHT_MIGRATION_REQUEST', value: body }],
            },
          ],
        },
        ...extra,
      }),
    );
  const stopped = (taskArn: string) =>
    eventually(
      async () => {
        const { tasks } = await ecs.send(
          new DescribeTasksCommand({ cluster: ecsStandInRunner.cluster, tasks: [taskArn] }),
        );
        const task = tasks?.[0] as Task;
        return task.lastStatus === 'STOPPED' ? task : undefined;
      },
      { what: `task ${taskArn} to stop` },
    );

  it('runs the image as a one-off task whose stdout lands in its awslogs stream', async () => {
    const { tasks } = await run(request('plan', '0001_note'), { startedBy: 'greenlight/plan' });
    const taskArn = tasks?.[0]?.taskArn ?? '';
    expect(tasks?.[0]).toMatchObject({
      lastStatus: 'PROVISIONING',
      group: 'family:orders-migrations',
    });

    const task = await stopped(taskArn);
    expect(task).toMatchObject({
      stopCode: 'EssentialContainerExited',
      startedBy: 'greenlight/plan',
      containers: [{ name: 'migrate', exitCode: 0 }],
    });
    const taskId = taskArn.split('/').at(-1);
    const page = await logs.send(
      new GetLogEventsCommand({
        logGroupName: ecsStandInRunner.logGroup,
        logStreamName: `migrations/migrate/${taskId}`,
        startFromHead: true,
      }),
    );
    expect(page.events?.map((e) => e.message)).toEqual([
      'stand-in runner: plan 0001_note for orders-1-1-0-1',
      'GREENLIGHT_MIGRATION_REPLY {"migrationId":"0001_note","status":"pending","statements":["ALTER TABLE orders ADD COLUMN note text"]}',
    ]);
    // The end of the stream: the same token back.
    const end = await logs.send(
      new GetLogEventsCommand({
        logGroupName: ecsStandInRunner.logGroup,
        logStreamName: `migrations/migrate/${taskId}`,
        nextToken: page.nextForwardToken,
      }),
    );
    expect([end.events, end.nextForwardToken]).toEqual([[], page.nextForwardToken]);
  });

  it('answers a clientToken seen before with the task it started, starting no second one', async () => {
    const first = await run(request('apply', '0002_once'), { clientToken: 'token-0002' });
    const again = await run(request('apply', '0002_once'), { clientToken: 'token-0002' });

    expect(again.tasks?.[0]?.taskArn).toBe(first.tasks?.[0]?.taskArn);
    await stopped(first.tasks?.[0]?.taskArn ?? '');
    expect(ecsStandInState(statePath).calls.filter((c) => c === 'apply 0002_once')).toHaveLength(1);
  });

  it('stops a running task on StopTask, with the reason given', async () => {
    const { tasks } = await run(request('apply', '0003_hangs'));
    const taskArn = tasks?.[0]?.taskArn ?? '';
    await eventually(
      () => (ecsStandInState(statePath).calls.includes('apply 0003_hangs') ? true : undefined),
      { what: 'the task to start' },
    );

    await ecs.send(
      new StopTaskCommand({ cluster: ecsStandInRunner.cluster, task: taskArn, reason: 'too slow' }),
    );

    expect(await stopped(taskArn)).toMatchObject({
      stopCode: 'UserInitiated',
      stoppedReason: 'too slow',
      containers: [{ exitCode: 143 }],
    });
  });

  it('refuses a Fargate task without subnets, and a stream that does not exist', async () => {
    await expect(
      run(request('plan', '0004_x'), {
        networkConfiguration: { awsvpcConfiguration: { subnets: [] } },
      }),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(
      logs.send(
        new GetLogEventsCommand({
          logGroupName: ecsStandInRunner.logGroup,
          logStreamName: 'migrations/migrate/none',
          startFromHead: true,
        }),
      ),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});
