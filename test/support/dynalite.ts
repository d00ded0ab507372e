import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

/** The part of dynalite's (untyped, CommonJS) API we use. */
type CreateDynalite = (options: { createTableMs?: number; deleteTableMs?: number }) => Server;

const createDynalite = createRequire(import.meta.url)('dynalite') as CreateDynalite;

export interface RunningDynalite {
  /** `http://127.0.0.1:<port>`, for an SDK client's `endpoint`. */
  endpoint: string;
  close(): Promise<void>;
}

/**
 * An in-memory DynamoDB on 127.0.0.1 and a free port. Tables are ACTIVE at once, but still
 * call `waitUntilTableExists` (with `minDelay: 1`) as production code would.
 */
export async function startDynalite(): Promise<RunningDynalite> {
  const server = createDynalite({ createTableMs: 0, deleteTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // SDK clients keep sockets alive; without this close() waits for them to time out.
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
