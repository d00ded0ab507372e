import { describe, expect, it } from 'vitest';
import {
  classifyMigration,
  MigrationEffect,
  MigrationPlanBudget,
} from '../../../src/migrations/classify-migration.ts';

// Each case is one real statement, parsed by PostgreSQL's grammar (libpg-query).
const expandSafe: [string, string, MigrationEffect][] = [
  [
    'a nullable column',
    'ALTER TABLE orders ADD COLUMN note text',
    MigrationEffect.AddsNullableColumn,
  ],
  [
    'a column with a constant default',
    "ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'new'",
    MigrationEffect.AddsColumnWithDefault,
  ],
  [
    'a column defaulting to now() (STABLE: no rewrite)',
    'ALTER TABLE orders ADD COLUMN seen timestamptz DEFAULT now()',
    MigrationEffect.AddsColumnWithDefault,
  ],
  [
    'a new table',
    'CREATE TABLE refunds (id bigint PRIMARY KEY, order_id bigint NOT NULL)',
    MigrationEffect.CreatesTable,
  ],
  [
    'an index built concurrently',
    'CREATE INDEX CONCURRENTLY orders_note ON orders (note)',
    MigrationEffect.CreatesIndexConcurrently,
  ],
  [
    'a foreign key NOT VALID',
    'ALTER TABLE orders ADD CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID',
    MigrationEffect.AddsConstraintNotValid,
  ],
  [
    'a check NOT VALID',
    'ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total > 0) NOT VALID',
    MigrationEffect.AddsConstraintNotValid,
  ],
  [
    'validating a constraint',
    'ALTER TABLE orders VALIDATE CONSTRAINT total_positive',
    MigrationEffect.ValidatesConstraint,
  ],
  [
    'a unique constraint over an existing index',
    'ALTER TABLE orders ADD CONSTRAINT orders_ref UNIQUE USING INDEX orders_ref_idx',
    MigrationEffect.ChangesMetadata,
  ],
  [
    'dropping NOT NULL',
    'ALTER TABLE orders ALTER COLUMN note DROP NOT NULL',
    MigrationEffect.ChangesMetadata,
  ],
  ['session settings', "SET lock_timeout = '2s'", MigrationEffect.ControlsSession],
  ['a new view', 'CREATE VIEW open_orders AS SELECT * FROM orders', MigrationEffect.CreatesObject],
  ['a new enum type', "CREATE TYPE mood AS ENUM ('ok', 'sad')", MigrationEffect.CreatesObject],
  ['a new sequence', 'CREATE SEQUENCE invoice_numbers', MigrationEffect.CreatesObject],
];

// [case, SQL, effect, squawk rule or undefined, lock or undefined, words the reason must say]
const expandRefused: [
  string,
  string,
  MigrationEffect,
  string | undefined,
  string | undefined,
  string,
][] = [
  [
    'dropping a column',
    'ALTER TABLE orders DROP COLUMN note',
    MigrationEffect.DropsColumn,
    'ban-drop-column',
    undefined,
    'drops orders.note',
  ],
  [
    'renaming a column',
    'ALTER TABLE orders RENAME COLUMN note TO remark',
    MigrationEffect.RenamesColumn,
    'renaming-column',
    undefined,
    'renames orders.note to remark',
  ],
  [
    'renaming a table',
    'ALTER TABLE orders RENAME TO purchases',
    MigrationEffect.RenamesTable,
    'renaming-table',
    undefined,
    'renames orders to purchases',
  ],
  [
    'changing a column type',
    'ALTER TABLE orders ALTER COLUMN total TYPE numeric(12, 2)',
    MigrationEffect.ChangesColumnType,
    'changing-column-type',
    undefined,
    'changes the type of orders.total',
  ],
  [
    'a NOT NULL column without a default',
    'ALTER TABLE orders ADD COLUMN currency text NOT NULL',
    MigrationEffect.AddsNotNullWithoutDefault,
    'adding-not-nullable-field',
    undefined,
    'orders.currency is NOT NULL without a default',
  ],
  [
    'a volatile default',
    'ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid()',
    MigrationEffect.RewritesTable,
    'adding-field-with-default',
    'ACCESS EXCLUSIVE',
    'rewrites orders',
  ],
  [
    'a serial column',
    'ALTER TABLE orders ADD COLUMN seq bigserial',
    MigrationEffect.RewritesTable,
    'adding-field-with-default',
    'ACCESS EXCLUSIVE',
    'rewrites orders',
  ],
  [
    'an index built without CONCURRENTLY',
    'CREATE INDEX orders_note ON orders (note)',
    MigrationEffect.BlocksWrites,
    'require-concurrent-index-creation',
    'SHARE',
    'CREATE INDEX CONCURRENTLY',
  ],
  [
    'a foreign key validated on the spot',
    'ALTER TABLE orders ADD CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id)',
    MigrationEffect.BlocksWrites,
    'constraint-missing-not-valid',
    'SHARE ROW EXCLUSIVE',
    'NOT VALID',
  ],
  [
    'a check validated on the spot',
    'ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total > 0)',
    MigrationEffect.BlocksWrites,
    'constraint-missing-not-valid',
    'ACCESS EXCLUSIVE',
    'NOT VALID',
  ],
  [
    'a unique constraint building its index',
    'ALTER TABLE orders ADD CONSTRAINT orders_ref UNIQUE (ref)',
    MigrationEffect.BlocksWrites,
    'disallowed-unique-constraint',
    'ACCESS EXCLUSIVE',
    'CREATE UNIQUE INDEX CONCURRENTLY',
  ],
  [
    'an inline CHECK on a new column',
    'ALTER TABLE orders ADD COLUMN qty int DEFAULT 1 CHECK (qty > 0)',
    MigrationEffect.BlocksWrites,
    'constraint-missing-not-valid',
    'ACCESS EXCLUSIVE',
    'scans orders',
  ],
  [
    'an inline REFERENCES on a new column',
    'ALTER TABLE orders ADD COLUMN refund_id bigint REFERENCES refunds (id)',
    MigrationEffect.BlocksWrites,
    'adding-foreign-key-constraint',
    'SHARE ROW EXCLUSIVE',
    'NOT VALID',
  ],
  [
    'replacing a view the old code may read',
    'CREATE OR REPLACE VIEW open_orders AS SELECT id FROM orders',
    MigrationEffect.Unclassified,
    undefined,
    undefined,
    'CREATE OR REPLACE VIEW',
  ],
  [
    'dropping a table',
    'DROP TABLE orders',
    MigrationEffect.DropsTable,
    'ban-drop-table',
    undefined,
    'drops the table orders',
  ],
  [
    'SET NOT NULL on an existing column',
    'ALTER TABLE orders ALTER COLUMN note SET NOT NULL',
    MigrationEffect.BlocksWrites,
    'adding-not-nullable-field',
    'ACCESS EXCLUSIVE',
    'scans orders',
  ],
  [
    'VACUUM FULL',
    'VACUUM FULL orders',
    MigrationEffect.RewritesTable,
    undefined,
    'ACCESS EXCLUSIVE',
    'copies the whole table',
  ],
  [
    'CLUSTER',
    'CLUSTER orders USING orders_pkey',
    MigrationEffect.RewritesTable,
    undefined,
    'ACCESS EXCLUSIVE',
    'CLUSTER orders rewrites',
  ],
  [
    'a statement greenlight cannot prove harmless',
    'TRUNCATE orders',
    MigrationEffect.Unclassified,
    undefined,
    undefined,
    'does not know whether Truncate statement is harmless',
  ],
];

describe('classifyMigration', () => {
  it.each(expandSafe)('accepts in an expand: %s', async (_name, sql, effect) => {
    const result = await classifyMigration(sql, 'expand');

    expect(result.verdict).toBe('accepted');
    expect(result.statements).toHaveLength(1);
    expect(result.statements[0]?.verdict).toBe('accepted');
    expect(result.statements[0]?.effects.map((e) => e.effect)).toEqual([effect]);
  });

  it.each(expandRefused)(
    'refuses in an expand: %s',
    async (_name, sql, effect, rule, lock, words) => {
      const result = await classifyMigration(sql, 'expand');

      expect(result.verdict).toBe('refused');
      expect(result.statements[0]?.verdict).toBe('refused');
      const found = result.statements[0]?.effects.find((e) => e.effect === effect);
      expect(found).toBeDefined();
      expect(found?.rule).toBe(rule);
      expect(found?.lock).toBe(lock);
      expect(found?.reason).toContain(words);
      expect(result.reasons.join('\n')).toContain(`statement 1 (line 1) ${effect}`);
    },
  );

  it('says a type change both breaks the old code and rewrites the table', async () => {
    const result = await classifyMigration(
      'ALTER TABLE orders ALTER COLUMN total TYPE bigint',
      'expand',
    );

    expect(result.statements[0]?.effects.map((e) => [e.effect, e.lock])).toEqual([
      [MigrationEffect.ChangesColumnType, undefined],
      [MigrationEffect.RewritesTable, 'ACCESS EXCLUSIVE'],
    ]);
  });

  it('classifies each command of a multi-command ALTER TABLE', async () => {
    const result = await classifyMigration(
      'ALTER TABLE orders ADD COLUMN note text, DROP COLUMN legacy',
      'expand',
    );

    expect(result.verdict).toBe('refused');
    expect(result.statements[0]?.effects.map((e) => e.effect)).toEqual([
      MigrationEffect.AddsNullableColumn,
      MigrationEffect.DropsColumn,
    ]);
  });

  it('accepts a plan of expand-safe statements, each with its text and line', async () => {
    const sql = [
      "SET lock_timeout = '2s';",
      'ALTER TABLE orders ADD COLUMN note text;',
      '  CREATE INDEX CONCURRENTLY orders_note ON orders (note);',
    ].join('\n');

    const result = await classifyMigration(sql, 'expand');

    expect(result.verdict).toBe('accepted');
    expect(result.statements.map((s) => [s.index, s.line, s.column, s.text])).toEqual([
      [0, 1, 1, "SET lock_timeout = '2s'"],
      [1, 2, 1, 'ALTER TABLE orders ADD COLUMN note text'],
      [2, 3, 3, 'CREATE INDEX CONCURRENTLY orders_note ON orders (note)'],
    ]);
  });

  it('refuses a plan when one statement of several breaks the old code, naming it', async () => {
    const sql = [
      'ALTER TABLE orders ADD COLUMN remark text;',
      "UPDATE orders SET remark = note WHERE id < 1000; -- backfill: 'é' keeps byte offsets honest",
      'ALTER TABLE orders RENAME COLUMN note TO old_note;',
    ].join('\n');

    const result = await classifyMigration(sql, 'expand');

    expect(result.verdict).toBe('refused');
    expect(result.statements.map((s) => s.verdict)).toEqual(['accepted', 'refused', 'refused']);
    expect(result.statements[2]?.line).toBe(3);
    expect(result.statements[2]?.text).toBe('ALTER TABLE orders RENAME COLUMN note TO old_note');
    expect(result.reasons).toEqual([
      expect.stringContaining('statement 2 (line 2) unclassified'),
      expect.stringContaining('statement 3 (line 3) renames-column [renaming-column]'),
    ]);
  });

  it('lets a plan index and constrain a table it creates itself: nothing to lock', async () => {
    const sql = [
      'CREATE TABLE refunds (id bigint, order_id bigint, ref text);',
      'CREATE INDEX refunds_order ON refunds (order_id);',
      'ALTER TABLE refunds ADD CONSTRAINT refunds_ref UNIQUE (ref);',
      'ALTER TABLE refunds ADD COLUMN reason text NOT NULL;',
    ].join('\n');

    const result = await classifyMigration(sql, 'expand');

    expect(result.reasons).toEqual([expect.stringContaining('harmless')]);
    expect(result.verdict).toBe('accepted');
  });

  it('judges a table of CREATE TABLE IF NOT EXISTS as existing: it may have been there', async () => {
    const sql = [
      'CREATE TABLE IF NOT EXISTS refunds (id bigint, order_id bigint);',
      'CREATE INDEX refunds_order ON refunds (order_id);',
    ].join('\n');

    const result = await classifyMigration(sql, 'expand');

    expect(result.verdict).toBe('refused');
    expect(result.statements.map((s) => s.verdict)).toEqual(['accepted', 'refused']);
  });

  it('accepts breaking statements in a contract, and says which block writes', async () => {
    const sql = 'ALTER TABLE orders DROP COLUMN note; CREATE INDEX orders_total ON orders (total);';

    const result = await classifyMigration(sql, 'contract');

    expect(result.verdict).toBe('accepted');
    expect(result.statements.map((s) => s.verdict)).toEqual(['accepted', 'accepted']);
    expect(result.reasons).toEqual([
      expect.stringContaining(
        'Blocks writes while it runs: statement 2 (line 1) blocks-writes (SHARE)',
      ),
    ]);
  });

  it('accepts an irreversible drop (it was approved by name)', async () => {
    const result = await classifyMigration('DROP TABLE legacy_orders', 'irreversible');

    expect(result.verdict).toBe('accepted');
    expect(result.statements[0]?.effects[0]?.effect).toBe(MigrationEffect.DropsTable);
  });

  it('refuses SQL PostgreSQL cannot parse, with its message and position', async () => {
    // The 'é' checks that the position counts characters, not UTF-8 bytes.
    const sql =
      "ALTER TABLE orders ADD COLUMN note text DEFAULT 'é';\nALTER TABLE orders ADD COLUMN;";

    const result = await classifyMigration(sql, 'expand');

    expect(result.verdict).toBe('refused');
    expect(result.statements).toEqual([]);
    expect(result.parseError).toMatchObject({ message: 'syntax error at or near ";"', line: 2 });
    expect(sql.charAt((result.parseError?.position ?? 0) - 1)).toBe(';');
    expect(result.parseError?.column).toBe(30);
    expect(result.reasons[0]).toBe(
      'The migration plan is not valid PostgreSQL: syntax error at or near ";" at line 2, column 30',
    );
  });

  it('refuses a plan longer than its budget without parsing it', async () => {
    const sql = `SELECT 1;${' '.repeat(MigrationPlanBudget.sqlChars)}`;

    const result = await classifyMigration(sql, 'expand');

    expect(result.verdict).toBe('refused');
    expect(result.reasons[0]).toContain(`at most ${MigrationPlanBudget.sqlChars}`);
  });

  it('refuses a plan of more statements than its budget', async () => {
    const sql = 'SET lock_timeout = 1;'.repeat(MigrationPlanBudget.statements + 1);

    const result = await classifyMigration(sql, 'expand');

    expect(result.verdict).toBe('refused');
    expect(result.statements).toEqual([]);
    expect(result.reasons[0]).toContain(`${MigrationPlanBudget.statements + 1} statements`);
  });

  it('refuses hostile nesting with the parser message, not a crash', async () => {
    const sql = `ALTER TABLE orders ADD COLUMN n int DEFAULT ${'('.repeat(20_000)}1${')'.repeat(20_000)}`;

    const result = await classifyMigration(sql, 'expand');

    expect(result.verdict).toBe('refused');
    expect(result.parseError?.message).toContain('memory exhausted');
  });

  it('cuts a long statement text to its budget', async () => {
    const sql = `COMMENT ON TABLE orders IS '${'x'.repeat(2_000)}'`;

    const result = await classifyMigration(sql, 'contract');

    expect(result.statements[0]?.text).toHaveLength(MigrationPlanBudget.statementChars);
    expect(result.statements[0]?.text.endsWith('…')).toBe(true);
  });
});
