import { describe, expect, it } from 'vitest';
import { MigrationId, MigrationKind } from '../../../../src/core/migration.ts';
import {
  ShopMigrationId,
  shopMigrations,
} from '../../../../src/local/migration-runner/shop-migrations.ts';
import { classifyMigration } from '../../../../src/migrations/classify-migration.ts';

/** What greenlight's classifier makes of the demo's plans: the demo's story depends on it. */
describe('the shop migrations under the classifier', () => {
  const planOf = (id: string) => {
    const migration = shopMigrations.find((candidate) => candidate.id === id);
    if (migration === undefined) throw new Error(`no ${id}`);
    return {
      sql: migration.up.map((statement) => `${statement};`).join('\n'),
      kind: migration.kind,
    };
  };

  it('has ids the protocol accepts, each once', () => {
    const ids = shopMigrations.map((migration) => migration.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(MigrationId.safeParse(id).success).toBe(true);
    expect(ids).toEqual(Object.values(ShopMigrationId));
  });

  it('lets the expand adding gift_message through', async () => {
    const { sql, kind } = planOf(ShopMigrationId.AddGiftMessage);
    expect(kind).toBe(MigrationKind.Expand);
    expect((await classifyMigration(sql, kind)).verdict).toBe('accepted');
  });

  it('lets the failing expand through: it fails when it runs, not before', async () => {
    const { sql, kind } = planOf(ShopMigrationId.FailsOnPurpose);
    expect((await classifyMigration(sql, kind)).verdict).toBe('accepted');
  });

  it('refuses the one-step rename declared as an expand', async () => {
    const { sql, kind } = planOf(ShopMigrationId.RenameNote);
    const classification = await classifyMigration(sql, kind);
    expect(classification.verdict).toBe('refused');
    expect(classification.reasons.join(' ')).toMatch(/renam/i);
  });

  it('declares the drop of note as a contract', async () => {
    const { sql, kind } = planOf(ShopMigrationId.DropNote);
    expect(kind).toBe(MigrationKind.Contract);
    expect((await classifyMigration(sql, kind)).verdict).toBe('accepted');
    expect((await classifyMigration(sql, MigrationKind.Expand)).verdict).toBe('refused');
  });
});
