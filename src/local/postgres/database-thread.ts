/**
 * The local PostgreSQL's own thread: a PGlite instance (real Postgres compiled to WASM) served
 * over the Postgres wire protocol on 127.0.0.1 by pglite-socket. The parent (postgres.ts) reads
 * the port from the first message and ends the thread with a `stop` message.
 *
 * Why a worker thread: PGlite executes each statement synchronously on the thread that owns
 * it. Measured: `SELECT pg_sleep(0.5)` on the main thread froze Node's event loop for the whole
 * 0.5 s (one 10 ms interval tick instead of fifty). In the local cloud's process that would
 * stall the simulators, the Step Functions engine and the Lambda simulator's timeout timer
 * whenever a migration or a query runs long; on its own thread the database is a separate
 * machine, as RDS is.
 */
import { parentPort } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** What the database thread tells its parent. */
export type DatabaseThreadMessage =
  | { type: 'listening'; port: number }
  | { type: 'failed'; reason: string }
  | { type: 'stopped' };

const port = parentPort;
if (!port) throw new Error('database-thread.ts runs as a worker thread (see postgres.ts)');

try {
  const db = await PGlite.create();
  const server = new PGLiteSocketServer({
    db,
    host: '127.0.0.1',
    port: 0,
    // pglite-socket accepts ONE connection by default and refuses the rest ("Too many
    // connections"); blue's and green's tasks, the migration runner and tests each hold one.
    // Their queries still run one at a time on the single PGlite session; a connection inside
    // a transaction keeps the session until it commits.
    maxConnections: 32,
  });
  await server.start();
  const [, listening] = server.getServerConn().split(':');
  port.on('message', (message: unknown) => {
    if ((message as { type?: unknown }).type !== 'stop') return;
    void (async () => {
      await server.stop();
      await db.close();
      port.postMessage({ type: 'stopped' } satisfies DatabaseThreadMessage);
      port.close();
    })();
  });
  port.postMessage({ type: 'listening', port: Number(listening) } satisfies DatabaseThreadMessage);
} catch (error) {
  port.postMessage({
    type: 'failed',
    reason: error instanceof Error ? error.message : String(error),
  } satisfies DatabaseThreadMessage);
  port.close();
}
