import { createHash } from 'node:crypto';
import {
  type CloudWatchLogsClient,
  GetLogEventsCommand,
  type GetLogEventsCommandOutput,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  type Container,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  type ECSClient,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { MigrationRunnerFailed, MigrationRunnerReplyInvalid } from '../core/errors.ts';
import {
  MigrationAction,
  type MigrationRunnerReply,
  type MigrationRunnerRequest,
} from '../core/migration.ts';
import type { MigrationRunner } from '../core/ports.ts';
import type { EcsTaskRunnerConfig, MigrationsConfig } from '../core/service-config.ts';
import { parseReply } from './lambda-migration-runner.ts';

/** The environment variable that carries the request into the runner's container. */
export const migrationRequestVariable = 'GREENLIGHT_MIGRATION_REQUEST';
/** The runner's answer: one stdout line, this word, one space, the reply's JSON. */
export const migrationReplyMarker = 'GREENLIGHT_MIGRATION_REPLY';

export interface EcsTaskMigrationRunnerOptions {
  ecs: ECSClient;
  logs: CloudWatchLogsClient;
  /** Milliseconds on a clock that only moves forward; injected so tests need not wait. */
  monotonicMs?: () => number;
  /** The wall clock, to tell a task an earlier attempt started (its createdAt) from this one's. */
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  /**
   * How long after the task stopped greenlight keeps looking for the reply line (never past
   * `timeoutSeconds`): CloudWatch Logs may show a stopped task's last lines seconds later.
   * @default 30
   */
  logLagSeconds?: number;
}

// DescribeTasks polling: 1 s, doubling up to 10 s. One migrate invocation waits at most
// timeoutSeconds (720 at most), so about 75 DescribeTasks at worst.
const firstPollMs = 1_000;
const maxPollMs = 10_000;
const maxReasonChars = 1_000;
/**
 * ECS errors that say the registered runner cannot run as given (Amazon ECS API Reference,
 * RunTask and DescribeTaskDefinition, Errors; ConflictException: a clientToken reused with other
 * parameters, "Ensuring idempotency").
 */
const refusals = new Set([
  'ClientException',
  'InvalidParameterException',
  'ClusterNotFoundException',
  'PlatformUnknownException',
  'PlatformTaskDefinitionIncompatibilityException',
  'UnsupportedFeatureException',
  'AccessDeniedException',
  'ConflictException',
]);
// Between greenlight's clock and ECS's: a task created this much before the call is an earlier one.
const clockSkewMs = 5_000;
// How many of a failed task's last log lines its failure quotes.
const tailLines = 3;

/**
 * A migration runner that is an ECS task definition run as one Fargate task per call.
 *
 * - The request goes in the container's environment (RunTask `overrides.containerOverrides`);
 *   the runner prints `GREENLIGHT_MIGRATION_REPLY <json>` on stdout and exits 0.
 * - `apply` and `revert` are sent with a clientToken made of the release, the migration and the
 *   action, so a retried step (Step Functions retries a transport error) gets the task the first
 *   attempt started, while it runs, instead of a second one (Amazon ECS API Reference, "Ensuring idempotency",
 *   Idempotency for RunTask: the same token and parameters within 24 hours return the original
 *   task; up to 64 ASCII characters 33-126). `plan` and `status` run nothing, and a stale answer
 *   of an earlier task would be wrong, so each call gets the SDK's own token (reused across the
 *   SDK's own retries of that request).
 * - greenlight waits for the task to stop (DescribeTasks, backing off) within `timeoutSeconds`,
 *   and stops it (StopTask) when it did not: MigrationRunnerFailed. A container that exited
 *   non-zero, or a task that stopped without its container exiting (it failed to start), is
 *   MigrationRunnerFailed with ECS's reasons.
 * - The reply is read from the container's awslogs stream `prefix/container/taskId` (Amazon ECS
 *   Developer Guide, "Send Amazon ECS logs to CloudWatch", awslogs-stream-prefix) with
 *   GetLogEvents (Amazon CloudWatch Logs API Reference, GetLogEvents: startFromHead, and the
 *   end of the stream is a nextForwardToken equal to the one sent).
 */
export class EcsTaskMigrationRunner implements MigrationRunner {
  readonly #ecs: ECSClient;
  readonly #logs: CloudWatchLogsClient;
  readonly #monotonicMs: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #logLagMs: number;
  readonly #now: () => Date;

  constructor(options: EcsTaskMigrationRunnerOptions) {
    this.#ecs = options.ecs;
    this.#logs = options.logs;
    this.#monotonicMs = options.monotonicMs ?? (() => performance.now());
    this.#sleep =
      options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()));
    this.#logLagMs = (options.logLagSeconds ?? 30) * 1000;
    this.#now = options.now ?? (() => new Date());
  }

  async call(
    migrations: MigrationsConfig,
    request: MigrationRunnerRequest,
  ): Promise<MigrationRunnerReply> {
    const runner = migrations.runner;
    if (runner.type !== 'ecs-task') {
      // MigrationRunners (src/aws/migration-runners.ts) routes by type: a wiring mistake.
      throw new Error(`EcsTaskMigrationRunner was given a "${runner.type}" runner`);
    }
    const deadline = this.#monotonicMs() + migrations.timeoutSeconds * 1000;
    const startedAt = this.#now().getTime();
    const what = `Migration runner task ${runner.taskDefinition} (${request.action} ${request.migrationId})`;
    const failed = (reason: string, details: Record<string, unknown> = {}) =>
      new MigrationRunnerFailed(`${what} failed: ${reason}`, {
        cluster: runner.cluster,
        taskDefinition: runner.taskDefinition,
        action: request.action,
        ...details,
      });

    let streamPrefix: string;
    let task: Task;
    try {
      streamPrefix = await this.#streamPrefix(runner, failed);
      task = await this.#runTask(runner, request, failed, true);
      if (await this.#earlierAndStopped(runner, task, startedAt)) {
        // The token answered with an earlier attempt's task that has ended: its answer may be
        // stale (a revert since), so ask again in a task of its own; the runner's apply and
        // revert do nothing when already done.
        task = await this.#runTask(runner, request, failed, false);
      }
    } catch (error) {
      // ECS refusing the registration (no such family or cluster, a bad network) is not
      // transient: the workflow must not retry it as it retries throttling.
      const name = (error as { name?: unknown }).name;
      if (typeof name === 'string' && refusals.has(name)) {
        throw failed(`ECS refused it: ${name}: ${cut((error as Error).message)}`, {
          errorType: name,
        });
      }
      throw error;
    }
    const taskArn = task.taskArn as string;
    const stopped = await this.#waitStopped(runner, taskArn, deadline);
    if (stopped === undefined) {
      await this.#ecs.send(
        new StopTaskCommand({
          cluster: runner.cluster,
          task: taskArn,
          reason: `greenlight: no answer within ${migrations.timeoutSeconds}s`,
        }),
      );
      throw new MigrationRunnerFailed(
        `${what} did not answer within ${migrations.timeoutSeconds}s (migrations.timeoutSeconds); greenlight stopped task ${taskIdOf(taskArn)}`,
        {
          cluster: runner.cluster,
          taskArn,
          action: request.action,
          errorType: 'Timeout',
        },
      );
    }
    const container = stopped.containers?.find((c) => c.name === runner.containerName);
    const stream = `${streamPrefix}/${runner.containerName}/${taskIdOf(taskArn)}`;
    if (container?.exitCode !== 0) {
      // The runner's own words say more than an exit code: its last lines, if already there.
      const output = container?.exitCode === undefined ? [] : await this.#tail(runner, stream);
      const said = output.length > 0 ? `; its last output: ${output.join(' | ')}` : '';
      throw failed(`${stopReasonOf(stopped, container)}${cut(said)}`, {
        taskArn,
        exitCode: container?.exitCode,
        stopCode: stopped.stopCode,
        stoppedReason: cut(stopped.stoppedReason ?? ''),
      });
    }
    const lagDeadline = Math.min(deadline, this.#monotonicMs() + this.#logLagMs);
    const line = await this.#replyLine(runner.logGroup, stream, lagDeadline);
    if (line === undefined) {
      throw new MigrationRunnerReplyInvalid(
        `${what} exited 0 without printing "${migrationReplyMarker} <json>" to ${runner.logGroup}/${stream}`,
        { taskArn, logGroup: runner.logGroup, logStream: stream },
      );
    }
    return parseReply(line, request, what);
  }

  /** The container's awslogs stream prefix, checked to log where the stack lets us read. */
  async #streamPrefix(
    runner: EcsTaskRunnerConfig,
    failed: (reason: string) => MigrationRunnerFailed,
  ): Promise<string> {
    const described = await this.#ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: runner.taskDefinition }),
    );
    const container = described.taskDefinition?.containerDefinitions?.find(
      (c) => c.name === runner.containerName,
    );
    if (container === undefined) {
      throw failed(`task definition has no container "${runner.containerName}" (containerName)`);
    }
    const logging = container.logConfiguration;
    const group = logging?.options?.['awslogs-group'];
    const prefix = logging?.options?.['awslogs-stream-prefix'];
    if (logging?.logDriver !== 'awslogs' || group === undefined || prefix === undefined) {
      throw failed(
        `container "${runner.containerName}" must log with the awslogs driver and an awslogs-stream-prefix, where greenlight reads the reply line`,
      );
    }
    if (group !== runner.logGroup) {
      throw failed(
        `container "${runner.containerName}" logs to ${group}, not to the registered logGroup ${runner.logGroup} (the only group greenlight may read)`,
      );
    }
    return prefix;
  }

  async #runTask(
    runner: EcsTaskRunnerConfig,
    request: MigrationRunnerRequest,
    failed: (reason: string, details?: Record<string, unknown>) => MigrationRunnerFailed,
    withToken: boolean,
  ): Promise<Task> {
    const mutates =
      withToken &&
      (request.action === MigrationAction.Apply || request.action === MigrationAction.Revert);
    const response = await this.#ecs.send(
      new RunTaskCommand({
        cluster: runner.cluster,
        taskDefinition: runner.taskDefinition,
        launchType: 'FARGATE',
        count: 1,
        networkConfiguration: {
          awsvpcConfiguration: {
            subnets: runner.network.subnets,
            securityGroups: runner.network.securityGroups,
            assignPublicIp: runner.network.assignPublicIp ? 'ENABLED' : 'DISABLED',
          },
        },
        overrides: {
          containerOverrides: [
            {
              name: runner.containerName,
              environment: [{ name: migrationRequestVariable, value: JSON.stringify(request) }],
            },
          ],
        },
        startedBy: startedByOf(request),
        ...(mutates ? { clientToken: clientTokenOf(runner, request) } : {}),
      }),
    );
    const task = response.tasks?.[0];
    if (task?.taskArn === undefined) {
      const reasons = (response.failures ?? [])
        .map((f) => [f.reason, f.detail].filter(Boolean).join(': '))
        .join('; ');
      throw failed(`RunTask started no task${reasons ? `: ${cut(reasons)}` : ''}`, {
        failures: response.failures,
      });
    }
    return task;
  }

  /**
   * Whether RunTask's clientToken gave back a task an earlier attempt started (created well
   * before this call: ECS returns the original task for a token it has seen) that has stopped.
   * One still running is what the token is for: this call waits for it.
   */
  async #earlierAndStopped(
    runner: EcsTaskRunnerConfig,
    task: Task,
    startedAt: number,
  ): Promise<boolean> {
    const createdAt = task.createdAt?.getTime();
    if (createdAt === undefined || createdAt + clockSkewMs >= startedAt) return false;
    const described = await this.#ecs.send(
      new DescribeTasksCommand({ cluster: runner.cluster, tasks: [task.taskArn as string] }),
    );
    return described.tasks?.[0]?.lastStatus === 'STOPPED';
  }

  /** The task once STOPPED, or undefined when the deadline came first. */
  async #waitStopped(
    runner: EcsTaskRunnerConfig,
    taskArn: string,
    deadline: number,
  ): Promise<Task | undefined> {
    let pause = firstPollMs;
    for (;;) {
      const described = await this.#ecs.send(
        new DescribeTasksCommand({ cluster: runner.cluster, tasks: [taskArn] }),
      );
      const task = described.tasks?.find((t) => t.taskArn === taskArn);
      if (task?.lastStatus === 'STOPPED') return task;
      const left = deadline - this.#monotonicMs();
      if (left <= 0) return undefined;
      await this.#sleep(Math.min(pause, left));
      pause = Math.min(pause * 2, maxPollMs);
    }
  }

  /** The reply line of the stream, looked for again until `until` while the logs lag. */
  async #replyLine(group: string, stream: string, until: number): Promise<string | undefined> {
    let pause = firstPollMs;
    for (;;) {
      const line = await this.#findReply(group, stream);
      if (line !== undefined) return line;
      const left = until - this.#monotonicMs();
      if (left <= 0) return undefined;
      await this.#sleep(Math.min(pause, left));
      pause = Math.min(pause * 2, maxPollMs);
    }
  }

  /** The stream's last few lines, best effort: a failure is reported without them. */
  async #tail(runner: EcsTaskRunnerConfig, stream: string): Promise<string[]> {
    try {
      const page = await this.#logs.send(
        new GetLogEventsCommand({
          logGroupName: runner.logGroup,
          logStreamName: stream,
          startFromHead: false,
          limit: tailLines,
        }),
      );
      return (page.events ?? []).map((event) => (event.message ?? '').trimEnd()).filter(Boolean);
    } catch {
      return [];
    }
  }

  async #findReply(group: string, stream: string): Promise<string | undefined> {
    let token: string | undefined;
    for (;;) {
      let page: GetLogEventsCommandOutput;
      try {
        page = await this.#logs.send(
          new GetLogEventsCommand({
            logGroupName: group,
            logStreamName: stream,
            startFromHead: true,
            ...(token === undefined ? {} : { nextToken: token }),
          }),
        );
      } catch (error) {
        // The stream appears with the container's first line: not there yet is lag.
        if ((error as { name?: unknown }).name === 'ResourceNotFoundException') return undefined;
        throw error;
      }
      for (const event of page.events ?? []) {
        const message = (event.message ?? '').trimEnd();
        if (message.startsWith(`${migrationReplyMarker} `)) {
          return message.slice(migrationReplyMarker.length + 1);
        }
      }
      if (page.nextForwardToken === undefined || page.nextForwardToken === token) return undefined;
      token = page.nextForwardToken;
    }
  }
}

/**
 * Same release, migration, action and runner: same token, so a retried step gets the task its
 * first attempt started while it runs (one that has stopped is asked again in a new task, see
 * #earlierAndStopped). A hash keeps it within RunTask's 64 characters.
 */
export function clientTokenOf(
  runner: EcsTaskRunnerConfig,
  request: MigrationRunnerRequest,
): string {
  const key = [
    request.service,
    request.releaseId,
    request.migrationId,
    request.action,
    runner.cluster,
    runner.taskDefinition,
  ].join('\n');
  return `greenlight-${createHash('sha256').update(key).digest('hex').slice(0, 48)}`;
}

/**
 * What the task shows as its starter (RunTask startedBy: up to 128 letters, digits, "-", "/"
 * and "_"), for whoever lists the cluster's tasks.
 */
function startedByOf(request: MigrationRunnerRequest): string {
  return `greenlight/${request.action}/${request.migrationId}`
    .replace(/[^A-Za-z0-9/_-]/g, '_')
    .slice(0, 128);
}

function stopReasonOf(task: Task, container: Container | undefined): string {
  const parts = [
    container?.exitCode === undefined
      ? 'the container did not exit'
      : `the container exited ${container.exitCode}`,
    container?.reason,
    task.stopCode,
    task.stoppedReason,
  ].filter((part): part is string => typeof part === 'string' && part.length > 0);
  return cut(parts.join('; '));
}

function taskIdOf(taskArn: string): string {
  return taskArn.slice(taskArn.lastIndexOf('/') + 1);
}

function cut(text: string): string {
  return text.length > maxReasonChars ? `${text.slice(0, maxReasonChars)}…` : text;
}
