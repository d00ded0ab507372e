/**
 * The demo shop's migration runner as a Lambda function module (seeded in the local Lambda as
 * `shop-migrations`, see src/local/demo-database.ts). It connects to DATABASE_URL with pg, as
 * it would to RDS, for each invocation, and answers greenlight's protocol.
 *
 * The local Lambda imports it from this file (a "local module"), not from a data: URL as it does
 * uploaded artifacts, because it imports pg from node_modules; and hands it the function's
 * environment through createHandler (see src/local/lambda/runtime.ts). Deployed to AWS, the same
 * code would export `const handler = createHandler(process.env)`.
 */
import pg from 'pg';
import type { MigrationRunnerReply } from '../../core/migration.ts';
import { runMigrationRequest } from './migration-runner.ts';
import { shopMigrations } from './shop-migrations.ts';

export function createHandler(
  env: Record<string, string | undefined>,
): (event: unknown) => Promise<MigrationRunnerReply> {
  const databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) throw new Error('shop-migrations needs DATABASE_URL in its environment');
  return async (event) => {
    const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
    // A connection the database drops (it stopped) surfaces as the pending query's rejection;
    // without a listener pg would also emit it as an unhandled 'error' and end the process.
    client.on('error', () => undefined);
    await client.connect();
    try {
      return await runMigrationRequest(client, shopMigrations, event);
    } finally {
      await client.end().catch(() => undefined);
    }
  };
}
