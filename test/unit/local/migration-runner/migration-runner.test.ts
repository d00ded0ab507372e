import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MigrationRunnerRequest } from '../../../../src/core/migration.ts';
import {
  bookkeepingTable,
  runMigrationRequest,
} from '../../../../src/local/migration-runner/migration-runner.ts';
import {
  ShopMigrationId,
  shopMigrations,
} from '../../../../src/local/migration-runner/shop-migrations.ts';
import { type LocalPostgres, startLocalPostgres } from '../../../../src/local/postgres/postgres.ts';

function aRequest(overrides: Partial<MigrationRunnerRequest> = {}): MigrationRunnerRequest {
  return {
    greenlight: 1,
    action: 'plan',
    migrationId: ShopMigrationId.AddGiftMessage,
    kind: 'expand',
    service: 'shop',
    releaseId: 'shop-1.4.0-1',
    ...overrides,
  };
}

/** The runner against a real PostgreSQL (PGlite) over the wire protocol, through pg. */
describe('runMigrationRequest', () => {
  let database: LocalPostgres;
  let client: pg.Client;

  const run = (overrides: Partial<MigrationRunnerRequest>) =>
    runMigrationRequest(client, shopMigrations, aRequest(overrides));

  const columnsOf = async (table: string) =>
    (
      await client.query(
        'SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position',
        [table],
      )
    ).rows.map((row) => row.column_name);

  beforeAll(async () => {
    database = await startLocalPostgres();
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
    await database?.close();
  });

  beforeEach(async () => {
    // Each test starts from the shop's baseline, with fresh bookkeeping.
    await client.query('DROP SCHEMA public CASCADE');
    await client.query('CREATE SCHEMA public');
    await run({ action: 'apply', migrationId: ShopMigrationId.Orders });
  });

  it('plans the statements apply would run, running nothing', async () => {
    const reply = await run({ action: 'plan' });
    expect(reply).toEqual({
      migrationId: ShopMigrationId.AddGiftMessage,
      status: 'pending',
      statements: ['ALTER TABLE orders ADD COLUMN gift_message text'],
    });
    expect(await columnsOf('orders')).not.toContain('gift_message');
  });

  it('answers plan and status on a database where nothing ever ran, writing nothing', async () => {
    await client.query('DROP SCHEMA public CASCADE');
    await client.query('CREATE SCHEMA public');
    expect(await run({ action: 'status', migrationId: ShopMigrationId.Orders })).toEqual({
      migrationId: ShopMigrationId.Orders,
      status: 'pending',
    });
    expect(await run({ action: 'plan', migrationId: ShopMigrationId.Orders })).toMatchObject({
      status: 'pending',
    });
    expect(await columnsOf(bookkeepingTable)).toEqual([]);
  });

  it("plans a breaking expand as it is: refusing it is greenlight's job, not the runner's", async () => {
    const reply = await run({ action: 'plan', migrationId: ShopMigrationId.RenameNote });
    expect(reply.statements).toEqual(['ALTER TABLE orders RENAME COLUMN note TO gift_message']);
    expect(await columnsOf('orders')).toContain('note');
  });

  it('applies once, records it, and answers ran:false to the second apply', async () => {
    const first = await run({ action: 'apply' });
    expect(first).toMatchObject({ status: 'applied', ran: true });
    expect(await columnsOf('orders')).toContain('gift_message');
    const second = await run({ action: 'apply' });
    expect(second).toEqual({
      migrationId: ShopMigrationId.AddGiftMessage,
      status: 'applied',
      ran: false,
    });
    const { rows } = await client.query(
      `SELECT id, status, statements, release_id, applied_at IS NOT NULL AS dated FROM ${bookkeepingTable} ORDER BY id`,
    );
    expect(rows).toEqual([
      {
        id: ShopMigrationId.Orders,
        status: 'applied',
        statements: [expect.stringContaining('CREATE TABLE orders')],
        release_id: 'shop-1.4.0-1',
        dated: true,
      },
      {
        id: ShopMigrationId.AddGiftMessage,
        status: 'applied',
        statements: ['ALTER TABLE orders ADD COLUMN gift_message text'],
        release_id: 'shop-1.4.0-1',
        dated: true,
      },
    ]);
    expect(await run({ action: 'status' })).toEqual({
      migrationId: ShopMigrationId.AddGiftMessage,
      status: 'applied',
    });
  });

  it('applies once when two applies race on two connections', async () => {
    // The status is read inside apply's transaction: read before it, both would see pending
    // and the second ALTER would fail. (PGlite serializes transactions across connections; on
    // PostgreSQL the runner's advisory lock does.)
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    try {
      const replies = await Promise.all([
        run({ action: 'apply' }),
        runMigrationRequest(other, shopMigrations, aRequest({ action: 'apply' })),
      ]);
      expect(replies.map((reply) => reply.ran).sort()).toEqual([false, true]);
    } finally {
      await other.end();
    }
  });

  it('reverts an applied migration once, and does nothing for one never applied', async () => {
    expect(await run({ action: 'revert' })).toEqual({
      migrationId: ShopMigrationId.AddGiftMessage,
      status: 'pending',
      ran: false,
    });
    await run({ action: 'apply' });
    expect(await run({ action: 'revert' })).toMatchObject({ status: 'reverted', ran: true });
    expect(await columnsOf('orders')).not.toContain('gift_message');
    expect(await run({ action: 'revert' })).toEqual({
      migrationId: ShopMigrationId.AddGiftMessage,
      status: 'reverted',
      ran: false,
    });
    expect(await run({ action: 'status' })).toMatchObject({ status: 'reverted' });
    // A later release may ask for it again.
    expect(await run({ action: 'apply' })).toMatchObject({ status: 'applied', ran: true });
  });

  it('applies a contract and reverts it', async () => {
    await run({ action: 'apply' });
    const contract = { migrationId: ShopMigrationId.DropNote, kind: 'contract' as const };
    expect(await run({ ...contract, action: 'apply' })).toMatchObject({ ran: true });
    expect(await columnsOf('orders')).toEqual([
      'id',
      'item',
      'quantity',
      'created_at',
      'gift_message',
    ]);
    expect(await run({ ...contract, action: 'revert' })).toMatchObject({ ran: true });
    expect(await columnsOf('orders')).toContain('note');
  });

  it('rolls back a migration that fails part-way, and says which statement failed', async () => {
    const failing = run({ action: 'apply', migrationId: ShopMigrationId.FailsOnPurpose });
    await expect(failing).rejects.toMatchObject({
      name: 'MigrationFailed',
      message: expect.stringMatching(
        /^apply of shop-900-fails-on-purpose failed at statement 2 of 2 \(ALTER TABLE orders ADD COLUMN note text\): column "note" of relation "orders" already exists \(SQLSTATE 42701\); rolled back, nothing changed$/,
      ),
    });
    // Its first statement created a table: gone with the transaction, and no bookkeeping row.
    expect(await columnsOf('shop_failed_probe')).toEqual([]);
    expect(await run({ action: 'status', migrationId: ShopMigrationId.FailsOnPurpose })).toEqual({
      migrationId: ShopMigrationId.FailsOnPurpose,
      status: 'pending',
    });
    // The connection is usable afterwards: the transaction was closed.
    expect(await run({ action: 'apply' })).toMatchObject({ ran: true });
  });

  it('refuses unknown migrations, kinds that differ from its set, and other protocol versions', async () => {
    await expect(run({ migrationId: 'shop-999-nope' })).rejects.toMatchObject({
      name: 'UnknownMigration',
      message: expect.stringContaining('No migration shop-999-nope'),
    });
    await expect(run({ migrationId: ShopMigrationId.DropNote })).rejects.toMatchObject({
      name: 'MigrationKindMismatch',
      message: 'Migration shop-003-drop-note is a contract, but the release calls it expand',
    });
    await expect(
      runMigrationRequest(client, shopMigrations, { ...aRequest(), greenlight: 2 }),
    ).rejects.toMatchObject({ name: 'InvalidMigrationRequest' });
  });

  it('refuses to revert a migration without down statements', async () => {
    const oneWay = [
      {
        id: 'one-way',
        kind: 'expand' as const,
        description: 'cannot be undone',
        up: ['CREATE TABLE one_way (id integer)'],
        down: [],
      },
    ];
    const request = aRequest({ migrationId: 'one-way' });
    await runMigrationRequest(client, oneWay, { ...request, action: 'apply' });
    await expect(
      runMigrationRequest(client, oneWay, { ...request, action: 'revert' }),
    ).rejects.toMatchObject({ name: 'MigrationIrreversible' });
    expect(await columnsOf('one_way')).toEqual(['id']);
  });
});
