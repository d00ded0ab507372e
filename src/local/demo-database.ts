import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { HttpCheck } from '../core/service-config.ts';
import type { SeedFunctionInput } from './lambda/types.ts';
import { migrationLockId, runMigrationRequest } from './migration-runner/migration-runner.ts';
import { ShopMigrationId, shopMigrations } from './migration-runner/shop-migrations.ts';
import { type LocalPostgres, startLocalPostgres } from './postgres/postgres.ts';

export { ShopMigrationId } from './migration-runner/shop-migrations.ts';

/**
 * What the demo's database gives the registry and the demo: the shop's migration runner as a
 * Lambda function, and the ids of its migrations (see migration-runner/shop-migrations.ts).
 *
 * To register it for `shop` (once the service config has `migrations`):
 * `migrations: { runner: { type: 'lambda', functionName: DemoDatabase.runnerFunction } }`.
 */
export const DemoDatabase = {
  /** The runner's Lambda function name in the local cloud. */
  runnerFunction: 'shop-migrations',
  /** Its alias (the seeded function's version 1); invoke the function unqualified or by it. */
  runnerAlias: 'live',
  /** The runner's Timeout. shop-901 sleeps longer than this. */
  runnerTimeoutSeconds: 10,
  /** The migration the database starts with: the orders table of images 1.0.0 to 1.3.0. */
  baseline: ShopMigrationId.Orders,
  migrations: ShopMigrationId,
} as const;

/**
 * The shop's own checks of its orders, for its `smoke.checks` (and blue's re-test after an
 * expand): they write and read through the database, so a schema change that breaks a version
 * fails that version's checks. Each run adds an order named `smoke-test`.
 */
export const shopOrdersChecks: HttpCheck[] = [
  {
    name: 'POST /orders',
    method: 'POST',
    path: '/orders',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ item: 'smoke-test', quantity: 1 }),
    expectStatus: 201,
  },
  {
    name: 'GET /orders',
    method: 'GET',
    path: '/orders',
    headers: {},
    expectStatus: 200,
    bodyIncludes: '"orders"',
  },
];

const runnerModule = fileURLToPath(
  new URL('./migration-runner/shop-migrations-function.ts', import.meta.url),
);

/** The runner's seed for the local Lambda, pointed at the database by DATABASE_URL. */
export function shopMigrationRunnerFunction(
  databaseUrl: string,
  options: { timeoutSeconds?: number; functionName?: string } = {},
): SeedFunctionInput {
  return {
    functionName: options.functionName ?? DemoDatabase.runnerFunction,
    alias: DemoDatabase.runnerAlias,
    artifact: { localModule: runnerModule },
    timeoutSeconds: options.timeoutSeconds ?? DemoDatabase.runnerTimeoutSeconds,
    environment: { DATABASE_URL: databaseUrl },
  };
}

/** A running demo database with the shop's starting schema. */
export interface DemoDatabaseHandle extends LocalPostgres {}

/**
 * Starts the local PostgreSQL and applies the shop's baseline through the runner itself (so its
 * bookkeeping shows it applied, as a real database's history would).
 */
export async function startDemoDatabase(): Promise<DemoDatabaseHandle> {
  const database = await startLocalPostgres();
  try {
    await applyBaseline(database.url);
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}

async function applyBaseline(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await runMigrationRequest(client, shopMigrations, {
      greenlight: 1,
      action: 'apply',
      migrationId: DemoDatabase.baseline,
      kind: 'expand',
      service: 'shop',
      releaseId: 'local-cloud-baseline',
    });
  } finally {
    await client.end();
  }
}

/** A transaction kept open on the database until `release()`. */
export interface DatabaseHold {
  release(): Promise<void>;
}

/**
 * Holds the database as a forgotten transaction or another migration would: a connection opens
 * a transaction and takes the runner's migration lock, so the runner's next call waits. With a
 * function Timeout under the runner's 5 s connection wait (shop-migrations-function.ts) that
 * call times out as Lambda's ("Task timed out"); with a longer one, the runner's own connection
 * attempt fails first ("timeout expired"). The way to make a release's Migrate time out (the
 * classifier refuses shop-901's pg_sleep as an expand).
 *
 * PGlite runs one session: while the hold lasts, every other connection's queries wait too
 * (blue's and green's requests included), where PostgreSQL would block only the runner. The
 * runner's call that timed out still runs once the hold is released (the local Lambda cannot
 * freeze it as Lambda freezes a sandbox): its effect shows in `status` afterwards.
 */
export async function holdShopDatabase(databaseUrl: string): Promise<DatabaseHold> {
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on('error', () => undefined);
  await client.connect();
  await client.query('BEGIN');
  await client.query('SELECT pg_advisory_xact_lock($1)', [migrationLockId]);
  return {
    release: async () => {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}
