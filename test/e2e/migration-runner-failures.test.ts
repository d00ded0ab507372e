import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReleaseRecord } from '../../src/core/records.ts';
import { deriveReleaseId } from '../../src/core/release-id.ts';
import { DemoShop } from '../../src/local/data-plane/local-alb.ts';
import {
  type DatabaseHold,
  DemoDatabase,
  holdShopDatabase,
  ShopMigrationId,
} from '../../src/local/demo-database.ts';
import { type GreenlightLocal, startGreenlightLocal } from '../../src/local/greenlight-local.ts';
import type { LocalLambdaHandler } from '../../src/local/step-functions.ts';
import { requestRelease, waitForPhase } from './local-release.ts';

// The demo shop's real runner (`shop-migrations`, a local Lambda function with a Timeout) on the
// real database, failing the two ways a runner fails: an error from PostgreSQL, and no answer
// before the function's Timeout. Each describe has its own local cloud: PGlite runs one session,
// so the held database of the second would stall every connection of the first.

async function releaseShop(local: GreenlightLocal, migrationId: string): Promise<ReleaseRecord> {
  await requestRelease(local, {
    service: 'shop',
    version: '1.4.0',
    artifact: { imageUri: DemoShop.image('1.4.0') },
    migration: { id: migrationId, kind: 'expand' },
  });
  return waitForPhase(local, deriveReleaseId('shop', '1.4.0', 1), undefined, 60_000);
}

async function runnerStatus(local: GreenlightLocal, migrationId: string): Promise<string> {
  const lambda = new LambdaClient(local.clientConfig);
  try {
    const reply = await lambda.send(
      new InvokeCommand({
        FunctionName: DemoDatabase.runnerFunction,
        Payload: JSON.stringify({
          greenlight: 1,
          action: 'status',
          migrationId,
          kind: 'expand',
          service: 'shop',
          releaseId: 'test',
        }),
      }),
    );
    return (JSON.parse(Buffer.from(reply.Payload ?? []).toString()) as { status: string }).status;
  } finally {
    lambda.destroy();
  }
}

/** Blue keeps all of the production listener's traffic: green never took any. */
function expectTrafficOnBlue(local: GreenlightLocal, release: ReleaseRecord): void {
  const shop = local.shop;
  if (shop === undefined) throw new Error('the default local cloud has the demo shop');
  const blue = release.colours?.blue === 'b' ? shop.slots.b : shop.slots.a;
  const green = release.colours?.blue === 'b' ? shop.slots.a : shop.slots.b;
  expect(local.alb.elbv2.weightsOf(shop.listenerArn)).toMatchObject({
    [blue.targetGroupArn]: 100,
  });
  expect(local.alb.elbv2.weightsOf(shop.listenerArn)[green.targetGroupArn] ?? 0).toBe(0);
}

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

describe('a migration runner that times out', () => {
  let local: GreenlightLocal;
  let hold: DatabaseHold | undefined;
  beforeAll(async () => {
    local = await startGreenlightLocal({
      database: true,
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
        `MigrationRunnerFailed: Migration runner shop-migrations \\(\\w+ ${ShopMigrationId.AddGiftMessage}\\) failed: Sandbox\\.Timedout: .*Task timed out after ${DemoDatabase.runnerTimeoutSeconds}\\.00 seconds`,
      ),
    );
    expect(release.migrationState?.status).not.toBe('applied');
    expectTrafficOnBlue(local, release);
    // Once the hold ends the runner answers again: what its call left behind is in its status.
    await hold?.release();
    expect(['pending', 'applied']).toContain(
      await runnerStatus(local, ShopMigrationId.AddGiftMessage),
    );
  }, 60_000);
});
