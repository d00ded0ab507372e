import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { ledgerTableInput } from '../../src/aws/dynamo-tables.ts';

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

export interface FreshTable {
  client: DynamoDBDocumentClient;
  tableName: string;
}

/**
 * Registers the hooks of an adapter test file: one dynalite for the file, and a new table
 * (ledger-shaped unless `tableInput` says otherwise) before each test, which keeps tests independent without restarting dynalite.
 * Returns a getter for the current test's client and table.
 */
export function useFreshLedgerTable(
  prefix = 'ledger',
  tableInput: (tableName: string) => CreateTableCommandInput = ledgerTableInput,
): () => FreshTable {
  let dynalite: RunningDynalite;
  let client: DynamoDBDocumentClient;
  let tableNumber = 0;
  let tableName = '';
  beforeAll(async () => {
    dynalite = await startDynalite();
    client = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint: dynalite.endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
      { marshallOptions: { removeUndefinedValues: true } },
    );
  });
  afterAll(async () => {
    client?.destroy();
    await dynalite?.close();
  });
  beforeEach(async () => {
    tableNumber += 1;
    tableName = `${prefix}-${tableNumber}`;
    await client.send(new CreateTableCommand(tableInput(tableName)));
    await waitUntilTableExists({ client, maxWaitTime: 10, minDelay: 1 }, { TableName: tableName });
  });
  return () => ({ client, tableName });
}
