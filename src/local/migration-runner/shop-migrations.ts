import { MigrationKind } from '../../core/migration.ts';
import type { Migration } from './migration-runner.ts';

/**
 * The demo `shop`'s migrations, as its team would keep them next to its code. The story they
 * tell: orders carry a free-text `note`; the team wants a `gift_message` instead.
 *
 * - shop-000 is the schema the shop starts with (applied when the local database starts).
 * - shop-001 is the safe way: an expand adds `gift_message` (nullable), which image 1.4.0
 *   writes and reads; 1.0.0 to 1.3.0 never name it, so blue keeps working.
 * - shop-002 is the tempting way: rename `note` to `gift_message` in one step. Blue's code
 *   still inserts into `note`, so its requests fail the moment it runs; greenlight's classifier
 *   refuses it as an expand before anything runs.
 * - shop-003 is the contract that completes shop-001: drop `note` once no colour runs code
 *   older than 1.4.0.
 * - shop-900 and shop-901 exist for tests of a runner that fails or times out. shop-900 passes
 *   greenlight's classifier as an expand (every statement is harmless on paper) and fails when
 *   it runs, as a migration written against a stale schema does. shop-901's `SELECT pg_sleep`
 *   is refused as an expand (greenlight cannot classify a SELECT): it times out only a runner
 *   called directly. To time out a release's Migrate, hold the database instead
 *   (holdShopDatabase in src/local/demo-database.ts): any apply then waits past the Timeout.
 */
export const ShopMigrationId = {
  Orders: 'shop-000-orders',
  AddGiftMessage: 'shop-001-add-gift-message',
  RenameNote: 'shop-002-rename-note-to-gift-message',
  DropNote: 'shop-003-drop-note',
  FailsOnPurpose: 'shop-900-fails-on-purpose',
  OutlivesTimeout: 'shop-901-outlives-timeout',
} as const;

/** How long shop-901 holds the database: well past any runner Timeout the demo configures. */
export const outlivingSeconds = 30;

export const shopMigrations: readonly Migration[] = [
  {
    id: ShopMigrationId.Orders,
    kind: MigrationKind.Expand,
    description: 'The orders table every shop image reads and writes',
    up: [
      `CREATE TABLE orders (
  id serial PRIMARY KEY,
  item text NOT NULL,
  quantity integer NOT NULL DEFAULT 1,
  note text,
  created_at timestamptz NOT NULL DEFAULT now()
)`,
    ],
    down: ['DROP TABLE orders'],
  },
  {
    id: ShopMigrationId.AddGiftMessage,
    kind: MigrationKind.Expand,
    description: 'A nullable gift_message column that image 1.4.0 uses instead of note',
    up: ['ALTER TABLE orders ADD COLUMN gift_message text'],
    down: ['ALTER TABLE orders DROP COLUMN gift_message'],
  },
  {
    id: ShopMigrationId.RenameNote,
    kind: MigrationKind.Expand,
    description: 'note renamed to gift_message in one step: breaks every image older than 1.4.0',
    up: ['ALTER TABLE orders RENAME COLUMN note TO gift_message'],
    down: ['ALTER TABLE orders RENAME COLUMN gift_message TO note'],
  },
  {
    id: ShopMigrationId.DropNote,
    kind: MigrationKind.Contract,
    description: 'Drops note, which only images older than 1.4.0 use (completes shop-001)',
    up: ['ALTER TABLE orders DROP COLUMN note'],
    // The column comes back empty: the notes themselves are gone.
    down: ['ALTER TABLE orders ADD COLUMN note text'],
  },
  {
    id: ShopMigrationId.FailsOnPurpose,
    kind: MigrationKind.Expand,
    description:
      'Creates a table, then adds a column orders already has: fails at its second statement, and the table must not survive (one transaction)',
    up: ['CREATE TABLE shop_failed_probe (id integer)', 'ALTER TABLE orders ADD COLUMN note text'],
    down: ['DROP TABLE shop_failed_probe'],
  },
  {
    id: ShopMigrationId.OutlivesTimeout,
    kind: MigrationKind.Expand,
    description: `Sleeps ${outlivingSeconds} s in the database, past the runner's Timeout; it holds the (single-session) local database meanwhile, so run it against a database of its own`,
    up: [`SELECT pg_sleep(${outlivingSeconds})`],
    down: [],
  },
];
