import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShopMigrationId } from '../../src/local/demo-database.ts';
import { type GreenlightLocal, startGreenlightLocal } from '../../src/local/greenlight-local.ts';
import { expectTrafficOnBlue, releaseShop, runnerStatus } from './shop-migrations.ts';

// The demo shop's real runner (`shop-migrations`, a local Lambda function) on the real database,
// failing as a migration written against a stale schema does: PostgreSQL's error.
describe('a migration runner that fails', () => {
  let local: GreenlightLocal;
  beforeAll(async () => {
    local = await startGreenlightLocal({ database: true });
  }, 60_000);
  afterAll(async () => {
    await local?.close();
  });

  it('rolls the release back with PostgreSQL’s error, its transaction undone, traffic untouched', async () => {
    const release = await releaseShop(local, ShopMigrationId.FailsOnPurpose);

    expect(release.phase).toBe('RolledBack');
    expect(release.reason).toMatch(
      /MigrationRunnerFailed: Migration runner shop-migrations \(apply shop-900-fails-on-purpose\) failed: .*column "note" of relation "orders" already exists/,
    );
    expect(release.reason).toMatch(/expand shop-900-fails-on-purpose may have been applied/);
    // Classified harmless, so it ran; one transaction, so nothing of it stayed.
    const steps = (await local.ledger.listSteps(release.releaseId)).map(
      (s) => `${s.key}:${s.outcome}`,
    );
    expect(steps).toEqual(
      expect.arrayContaining(['migrate-classify:succeeded', 'migrate-apply:failed']),
    );
    expect(steps).not.toContain('test:succeeded');
    expect(await runnerStatus(local, ShopMigrationId.FailsOnPurpose)).toBe('pending');
    const client = new pg.Client({ connectionString: local.database?.url });
    await client.connect();
    try {
      const probe = await client.query("SELECT to_regclass('shop_failed_probe') AS probe");
      expect(probe.rows[0]).toEqual({ probe: null });
    } finally {
      await client.end();
    }
    expectTrafficOnBlue(local, release);
  });
});
