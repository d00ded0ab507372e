import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { LocalArtifactStore } from '../artifact-store.ts';
import type { TaskProcess } from '../data-plane/task-runner.ts';
import type { LocalCloudWatchLogs } from '../logs-standin.ts';
import type { Dict, TaskRecord } from './types.ts';

const typeStrippingFlags = ['--experimental-strip-types', '--experimental-transform-types'];

/** What a one-off task's container runs with, resolved from RunTask and its task definition. */
export interface OneOffLaunch {
  task: TaskRecord;
  /** The container definition (image, environment, logConfiguration). */
  container: Dict;
  /** RunTask's containerOverrides for this container: its environment wins. */
  overrideEnvironment: Dict[];
}

/**
 * RunTask's one-off tasks (no service, no load balancer): each container image is a module of
 * the artifact store (`images/<uri>.mjs`) run as a script in its own Node process, which does
 * its work and exits. Its stdout goes, line by line, to the local CloudWatch Logs as the awslogs
 * driver would send it: group `awslogs-group`, stream `awslogs-stream-prefix/container/taskId`
 * (Amazon ECS Developer Guide, "Send Amazon ECS logs to CloudWatch"). Exit code and stop reason
 * land on the task as DescribeTasks shows them.
 */
export class OneOffTasks {
  readonly #artifacts: LocalArtifactStore;
  readonly #logs: LocalCloudWatchLogs;
  readonly #now: () => Date;
  readonly #children = new Set<ChildProcess>();

  constructor(options: {
    artifacts: LocalArtifactStore;
    logs: LocalCloudWatchLogs;
    now: () => Date;
  }) {
    this.#artifacts = options.artifacts;
    this.#logs = options.logs;
    this.#now = options.now;
  }

  async run(launch: OneOffLaunch): Promise<void> {
    const { task, container } = launch;
    const artifact = await this.#artifacts.resolveImage(task.image);
    if (!artifact) {
      this.#stopped(
        task,
        'TaskFailedToStart',
        `CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref ${task.image}: not found`,
      );
      return;
    }
    if (task.desiredStatus !== 'RUNNING') {
      this.#stopped(task, 'UserInitiated', task.stoppedReason ?? 'Task stopped by user');
      return;
    }
    const env: Record<string, string> = {};
    for (const pair of [
      ...((container.environment ?? []) as Dict[]),
      ...launch.overrideEnvironment,
    ]) {
      if (typeof pair.name === 'string') env[pair.name] = String(pair.value ?? '');
    }
    Object.assign(env, {
      GREENLIGHT_TASK_ARN: task.arn,
      GREENLIGHT_TASK_ID: task.id,
      GREENLIGHT_IMAGE: task.image,
      GREENLIGHT_CONTAINER_NAME: task.containerName,
    });
    const child = spawn(
      process.execPath,
      [...process.execArgv.filter((flag) => typeStrippingFlags.includes(flag)), artifact.path],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#children.add(child);
    const logging = container.logConfiguration as Dict | undefined;
    const options = (logging?.options ?? {}) as Record<string, string>;
    const group = logging?.logDriver === 'awslogs' ? options['awslogs-group'] : undefined;
    const stream = `${options['awslogs-stream-prefix'] ?? ''}/${task.containerName}/${task.id}`;
    let stderr = '';
    const output = createInterface({ input: child.stdout });
    output.on('line', (line) => {
      if (group !== undefined) this.#logs.append(group, stream, line);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-2_000);
    });
    const exited = new Promise<{
      code: number | null;
      signal: NodeJS.Signals | null;
      stderr: string;
    }>((resolve) => {
      // 'close': stdout is drained too, so every line is in the logs before the task STOPPED.
      child.once('close', (code, signal) => {
        this.#children.delete(child);
        resolve({ code, signal, stderr: stderr.trim() });
      });
    });
    const processHandle: TaskProcess = {
      pid: child.pid ?? -1,
      port: 0,
      exited,
      stop: async (graceMs) => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        try {
          return await exited;
        } finally {
          clearTimeout(timer);
        }
      },
    };
    task.process = processHandle;
    task.lastStatus = 'RUNNING';
    task.startedAt = this.#now();
    const exit = await exited;
    // A signal's exit code, as Docker reports it (128 + signal number: SIGTERM 143, SIGKILL 137).
    task.exitCode = exit.code ?? (exit.signal === 'SIGKILL' ? 137 : 143);
    // StopTask may have asked while it ran (TypeScript cannot see that across the await).
    if (stoppedByUser(task)) {
      this.#stopped(task, 'UserInitiated', task.stoppedReason ?? 'Task stopped by user');
    } else {
      task.desiredStatus = 'STOPPED';
      this.#stopped(task, 'EssentialContainerExited', 'Essential container in task exited');
    }
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.#children].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('close', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
  }

  #stopped(task: TaskRecord, stopCode: string, reason: string): void {
    task.desiredStatus = 'STOPPED';
    task.lastStatus = 'STOPPED';
    task.stoppedAt = this.#now();
    task.stopCode = stopCode;
    task.stoppedReason = reason;
  }
}

function stoppedByUser(task: TaskRecord): boolean {
  return task.desiredStatus === 'STOPPED';
}
