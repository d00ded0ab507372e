import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DatabaseHold,
  holdShopDatabase,
  ShopMigrationId,
} from '../../src/local/demo-database.ts';
import { type GreenlightLocal, startGreenlightLocal } from '../../src/local/greenlight-local.ts';
import type { LocalLambdaHandler } from '../../src/local/step-functions.ts';
import { expectTrafficOnBlue, releaseShop, runnerStatus } from './shop-migrations.ts';

// The demo shop's real runner (`shop-migrations`, a local Lambda function with a Timeout) giving
// no answer before its Timeout, because the database is held. Its own local cloud (its own file):
// PGlite runs one session, so a held database stalls every connection to it.
describe('a migration runner that times out', () => {
  let local: GreenlightLocal;
  let hold: DatabaseHold | undefined;
  beforeAll(async () => {
    local = await startGreenlightLocal({
      database: true,
      // Shorter than the runner's own wait for a connection (5 s): the call ends as Lambda ends
      // one that outlives its Timeout, not with pg's connection timeout.
      runnerTimeoutSeconds: 2,
      // The database is held (a forgotten transaction) from the moment Migrate starts, so the
      // runner's first call waits past its function Timeout; green is provisioned by then.
      faults: (name, handler): LocalLambdaHandler =>
        name === 'greenlight-migrate'
          ? async (event, context) => {
              hold ??= await holdShopDatabase(local.database?.url ?? '');
              return handler(event, context);
            }
          : handler,
    });
  }, 60_000);
  afterAll(async () => {
    await hold?.release();
    await local?.close();
  });

  it('rolls the release back with Lambda’s "Task timed out", traffic untouched', async () => {
    const release = await releaseShop(local, ShopMigrationId.AddGiftMessage);

    expect(hold).toBeDefined();
    expect(release.phase).toBe('RolledBack');
    expect(release.reason).toMatch(
      new RegExp(
        `MigrationRunnerFailed: Migration runner shop-migrations \\(\\w+ ${ShopMigrationId.AddGiftMessage}\\) failed: Sandbox\\.Timedout: .*Task timed out after 2\\.00 seconds`,
      ),
    );
    expect(release.migrationState?.status).not.toBe('applied');
    expectTrafficOnBlue(local, release);
    // Once the hold ends the runner answers again: what its call left behind is in its status.
    await hold?.release();
    expect(['pending', 'applied']).toContain(
      await runnerStatus(local, ShopMigrationId.AddGiftMessage),
    );
  }, 90_000);
});
