import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalArtifactStore } from '../../../../src/local/artifact-store.ts';
import {
  DemoDatabase,
  type DemoDatabaseHandle,
  holdShopDatabase,
  ShopMigrationId,
  shopMigrationRunnerFunction,
  startDemoDatabase,
} from '../../../../src/local/demo-database.ts';
import { type Endpoint, startEndpoint } from '../../../../src/local/endpoint.ts';
import { LocalLambda } from '../../../../src/local/lambda/simulator.ts';

/**
 * The shop's runner as greenlight calls it: Lambda Invoke with the real client, through the
 * local Lambda's HTTP endpoint, against the demo database over the wire.
 */
describe('the shop-migrations function', () => {
  let database: DemoDatabaseHandle;
  let stuckDatabase: DemoDatabaseHandle;
  let endpoint: Endpoint;
  let client: LambdaClient;

  async function invoke(
    functionName: string,
    request: Record<string, unknown>,
  ): Promise<{ functionError: string | undefined; payload: Record<string, unknown> }> {
    const result = await client.send(
      new InvokeCommand({
        FunctionName: functionName,
        Payload: JSON.stringify({
          greenlight: 1,
          kind: 'expand',
          service: 'shop',
          releaseId: 'shop-1.4.0-1',
          ...request,
        }),
      }),
    );
    return {
      functionError: result.FunctionError,
      payload: JSON.parse(Buffer.from(result.Payload ?? []).toString()),
    };
  }

  beforeAll(async () => {
    // The slow migration holds its (single-session) database: it gets one of its own.
    [database, stuckDatabase] = await Promise.all([startDemoDatabase(), startDemoDatabase()]);
    const lambda = new LocalLambda({ artifacts: new LocalArtifactStore({ root: '/nonexistent' }) });
    await lambda.seedFunction(shopMigrationRunnerFunction(database.url));
    await lambda.seedFunction(
      shopMigrationRunnerFunction(stuckDatabase.url, {
        functionName: 'shop-migrations-impatient',
        timeoutSeconds: 1,
      }),
    );
    await lambda.seedFunction(
      shopMigrationRunnerFunction(database.url, {
        functionName: 'shop-migrations-hurried',
        timeoutSeconds: 1,
      }),
    );
    endpoint = await startEndpoint([lambda]);
    client = new LambdaClient({
      endpoint: endpoint.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  });

  afterAll(async () => {
    client?.destroy();
    await endpoint?.close();
    await database?.close();
    await stuckDatabase?.close();
  });

  it('plans, applies once, and reports the status, as Invoke replies', async () => {
    const migrationId = ShopMigrationId.AddGiftMessage;
    expect(await invoke(DemoDatabase.runnerFunction, { action: 'plan', migrationId })).toEqual({
      functionError: undefined,
      payload: {
        migrationId,
        status: 'pending',
        statements: ['ALTER TABLE orders ADD COLUMN gift_message text'],
      },
    });
    const applied = await invoke(DemoDatabase.runnerFunction, { action: 'apply', migrationId });
    expect(applied.payload).toMatchObject({ status: 'applied', ran: true });
    const again = await invoke(DemoDatabase.runnerFunction, { action: 'apply', migrationId });
    expect(again.payload).toEqual({ migrationId, status: 'applied', ran: false });
    expect(
      (await invoke(DemoDatabase.runnerFunction, { action: 'status', migrationId })).payload,
    ).toEqual({ migrationId, status: 'applied' });
    // The database itself has the column, and the baseline the local cloud applied.
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    try {
      const { rows } = await db.query('SELECT id FROM greenlight_migrations ORDER BY id');
      expect(rows.map((row) => row.id)).toEqual([ShopMigrationId.Orders, migrationId]);
    } finally {
      await db.end();
    }
  });

  it('answers a failing migration with a function error naming it', async () => {
    const failed = await invoke(DemoDatabase.runnerFunction, {
      action: 'apply',
      migrationId: ShopMigrationId.FailsOnPurpose,
    });
    expect(failed.functionError).toBe('Unhandled');
    expect(failed.payload).toMatchObject({
      errorType: 'MigrationFailed',
      errorMessage: expect.stringContaining(
        'column "note" of relation "orders" already exists (SQLSTATE 42701)',
      ),
    });
  });

  it('is stopped with "Task timed out" when a migration outlives the function Timeout', async () => {
    // The migration sleeps 30 s in the database's own thread; only the 1-second Timeout ends
    // the call, and the simulator's timer fires because the database does not block it.
    const timedOut = await invoke('shop-migrations-impatient', {
      action: 'apply',
      migrationId: ShopMigrationId.OutlivesTimeout,
    });
    expect(timedOut.functionError).toBe('Unhandled');
    expect(timedOut.payload).toMatchObject({
      errorType: 'Sandbox.Timedout',
      errorMessage: expect.stringMatching(/Task timed out after 1\.00 seconds$/),
    });
  });

  it('times out while the database is held, and answers again once it is released', async () => {
    const hold = await holdShopDatabase(database.url);
    let released = false;
    try {
      const timedOut = await invoke('shop-migrations-hurried', {
        action: 'status',
        migrationId: ShopMigrationId.DropNote,
        kind: 'contract',
      });
      expect(timedOut).toMatchObject({
        functionError: 'Unhandled',
        payload: { errorType: 'Sandbox.Timedout' },
      });
      await hold.release();
      released = true;
      expect(
        await invoke('shop-migrations-hurried', {
          action: 'status',
          migrationId: ShopMigrationId.DropNote,
          kind: 'contract',
        }),
      ).toEqual({
        functionError: undefined,
        payload: { migrationId: ShopMigrationId.DropNote, status: 'pending' },
      });
    } finally {
      if (!released) await hold.release();
    }
  });
});
