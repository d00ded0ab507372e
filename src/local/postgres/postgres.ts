import { Worker } from 'node:worker_threads';
import type { DatabaseThreadMessage } from './database-thread.ts';

export interface LocalPostgresOptions {
  /** How long the database may take to start and listen. @default 30000 */
  startTimeoutMs?: number;
  /** How long `close()` waits for a clean stop before it ends the thread. @default 2000 */
  stopTimeoutMs?: number;
}

/** A running local PostgreSQL. */
export interface LocalPostgres {
  /**
   * What a task or a function puts in DATABASE_URL, as it would an RDS endpoint:
   * `postgres://postgres@127.0.0.1:PORT/postgres` (PGlite has no passwords and no TLS).
   */
  url: string;
  port: number;
  /** Stops the server and the database; ends its thread even when a statement is still running. */
  close(): Promise<void>;
}

const threadUrl = new URL('./database-thread.ts', import.meta.url);

/**
 * Starts a real PostgreSQL (PGlite) on 127.0.0.1 with a free port, on its own thread. It holds
 * one in-memory database for the life of the local cloud; ~1.7 s to start on these machines, so
 * the local cloud starts one only when something needs it.
 */
export function startLocalPostgres(options: LocalPostgresOptions = {}): Promise<LocalPostgres> {
  const worker = new Worker(threadUrl);
  const stopTimeoutMs = options.stopTimeoutMs ?? 2_000;
  let closing: Promise<void> | undefined;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));

  const close = (): Promise<void> => {
    closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => {
        worker.on('message', (message: DatabaseThreadMessage) => {
          if (message.type === 'stopped') resolve();
        });
      });
      worker.postMessage({ type: 'stop' });
      // A statement still running (a migration's pg_sleep, say) holds the thread: PGlite cannot
      // stop between two of its instructions, so the thread is ended instead.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), stopTimeoutMs);
      });
      const outcome = await Promise.race([stopped, exited, late]);
      clearTimeout(timer);
      if (outcome === 'late') await worker.terminate();
      await exited;
    })();
    return closing;
  };

  return new Promise<LocalPostgres>((resolve, reject) => {
    const startTimeoutMs = options.startTimeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(
        new LocalPostgresError(`The local PostgreSQL did not listen within ${startTimeoutMs} ms`),
      );
    }, startTimeoutMs);
    worker.once('error', (error) => {
      clearTimeout(timer);
      reject(
        new LocalPostgresError(`The local PostgreSQL failed to start: ${error.message}`, error),
      );
    });
    worker.on('message', (message: DatabaseThreadMessage) => {
      if (message.type === 'failed') {
        clearTimeout(timer);
        reject(new LocalPostgresError(`The local PostgreSQL failed to start: ${message.reason}`));
      } else if (message.type === 'listening') {
        clearTimeout(timer);
        resolve({
          url: `postgres://postgres@127.0.0.1:${message.port}/postgres`,
          port: message.port,
          close,
        });
      }
    });
  });
}

export class LocalPostgresError extends Error {
  override readonly name = 'LocalPostgresError';

  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
  }
}
