import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startLocalPostgres } from '../../../src/local/postgres/postgres.ts';

/**
 * The handles a database left open would show as: sockets, servers, and the worker thread's
 * MessagePort (measured: a running database with one client shows MessagePort and
 * TCPSocketWrap). Other kinds (timers, file reads) belong to the test runner.
 */
function liveHandles(): string[] {
  return process
    .getActiveResourcesInfo()
    .filter((kind) => ['MessagePort', 'TCPSocketWrap', 'TCPServerWrap', 'Worker'].includes(kind))
    .sort();
}

describe('startLocalPostgres', () => {
  it('serves several connections to one database, and stops leaving no handle open', async () => {
    const before = liveHandles();
    const database = await startLocalPostgres();
    expect(database.url).toBe(`postgres://postgres@127.0.0.1:${database.port}/postgres`);
    // pglite-socket's default is ONE connection: blue, green and the runner need more.
    const clients = Array.from(
      { length: 4 },
      () => new pg.Client({ connectionString: database.url }),
    );
    await Promise.all(clients.map((client) => client.connect()));
    const [writer, ...readers] = clients as [pg.Client, ...pg.Client[]];
    await writer.query('CREATE TABLE shared (value text)');
    await writer.query("INSERT INTO shared VALUES ('seen by all')");
    for (const reader of readers) {
      expect((await reader.query('SELECT value FROM shared')).rows).toEqual([
        { value: 'seen by all' },
      ]);
    }
    await Promise.all(clients.map((client) => client.end()));
    await database.close();
    expect(liveHandles()).toEqual(before);
  });

  it('stops promptly with a 600-second statement sent, leaving no handle open', async () => {
    const before = liveHandles();
    const database = await startLocalPostgres({ stopTimeoutMs: 100 });
    const client = new pg.Client({ connectionString: database.url });
    const errors: Error[] = [];
    client.on('error', (error) => errors.push(error));
    await client.connect();
    const sleeping = client.query('SELECT pg_sleep(600)').then(
      () => 'finished',
      (error: Error) => error.message,
    );
    // Whether the thread is already inside pg_sleep or about to be, close() must not wait for
    // it: it ends the thread after stopTimeoutMs.
    await database.close();
    expect(await sleeping).toMatch(/Connection terminated/);
    await client.end().catch(() => undefined);
    expect(liveHandles()).toEqual(before);
  });
});
