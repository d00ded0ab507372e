import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TaskHostMessage } from './task-host.ts';

export interface TaskProcessSpec {
  /** The image module (an `images/*.mjs` file of the artifact store). */
  imagePath: string;
  /** The container's environment; the parent's environment is not inherited. */
  env: Record<string, string>;
}

export interface TaskExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines the task wrote to stderr, for a stopped task's reason. */
  stderr: string;
}

/** One running task: a local HTTP server on 127.0.0.1:`port`. */
export interface TaskProcess {
  pid: number;
  port: number;
  /** Settles when the process has exited, for whatever reason. */
  exited: Promise<TaskExit>;
  /** SIGTERM (the app drains and exits), then SIGKILL after `graceMs`. */
  stop(graceMs: number): Promise<TaskExit>;
}

export interface TaskRunner {
  start(spec: TaskProcessSpec): Promise<TaskProcess>;
  /** Kills every task still running (the local cloud is shutting down). */
  close(): Promise<void>;
}

export interface ProcessTaskRunnerOptions {
  /** How long a task may take to import its image and listen. @default 10000 */
  startTimeoutMs?: number;
}

const hostPath = fileURLToPath(new URL('./task-host.ts', import.meta.url));
const stderrTailBytes = 2_000;
const typeStrippingFlags = ['--experimental-strip-types', '--experimental-transform-types'];

/**
 * Runs each task as its own Node child process (the project's Node: `process.execPath`), so a
 * crash, a hang or a 5xx storm in one colour cannot touch the other or the router.
 */
export class ProcessTaskRunner implements TaskRunner {
  readonly #startTimeoutMs: number;
  readonly #children = new Set<ChildProcess>();

  constructor(options: ProcessTaskRunnerOptions = {}) {
    this.#startTimeoutMs = options.startTimeoutMs ?? 10_000;
  }

  start(spec: TaskProcessSpec): Promise<TaskProcess> {
    const child = fork(hostPath, [spec.imagePath], {
      execPath: process.execPath,
      // The test runner's or CLI's flags (loaders, inspectors) are not the task's business,
      // except what lets this Node run the TypeScript host (flags only older Node 22 needs).
      execArgv: process.execArgv.filter((flag) => typeStrippingFlags.includes(flag)),
      env: spec.env,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.#children.add(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-stderrTailBytes);
    });
    const exited = new Promise<TaskExit>((resolve) => {
      child.once('exit', (code, signal) => {
        this.#children.delete(child);
        resolve({ code, signal, stderr: stderr.trim() });
      });
    });
    return new Promise<TaskProcess>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`Task did not listen within ${this.#startTimeoutMs} ms`));
      }, this.#startTimeoutMs);
      child.on('message', (message: TaskHostMessage) => {
        if (message.type === 'failed') {
          clearTimeout(timer);
          reject(new Error(message.reason));
        } else if (message.type === 'listening') {
          clearTimeout(timer);
          resolve({
            pid: child.pid ?? -1,
            port: message.port,
            exited,
            stop: (graceMs) => stopChild(child, exited, graceMs),
          });
        }
      });
      void exited.then((exit) => {
        clearTimeout(timer);
        reject(
          new Error(
            `Task exited before listening (code ${exit.code}, signal ${exit.signal})${exit.stderr ? `: ${exit.stderr}` : ''}`,
          ),
        );
      });
    });
  }

  async close(): Promise<void> {
    const children = [...this.#children];
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
  }
}

async function stopChild(
  child: ChildProcess,
  exited: Promise<TaskExit>,
  graceMs: number,
): Promise<TaskExit> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}
