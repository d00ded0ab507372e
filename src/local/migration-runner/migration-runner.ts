import {
  type MigrationAction,
  type MigrationKind,
  type MigrationRunnerReply,
  MigrationRunnerRequest,
  MigrationStatus,
} from '../../core/migration.ts';

/**
 * A migration runner as a service team would write one: the function that owns the service's
 * schema, answering greenlight's protocol (src/core/migration.ts) against its own database.
 * This one backs the demo's `shop`; it is service code, so nothing of greenlight's internals
 * (ledger, errors) is used here, only the protocol's types.
 *
 * The runner is the authority on what is applied: its bookkeeping table `greenlight_migrations`
 * holds one row per migration ever applied (status applied or reverted, when, and the
 * statements that ran). Every action that changes the schema runs in one transaction with the
 * bookkeeping row and under one advisory lock, so two calls racing (a Step Functions retry while
 * the first call still runs) serialize: the second finds the row and does nothing. PostgreSQL's
 * DDL is transactional, so a failing statement leaves neither the schema change nor the row.
 */

/** A migration as data: what `apply` runs and what `revert` runs, in order. */
export interface Migration {
  id: string;
  kind: MigrationKind;
  /** Why the migration exists, for people reading the set. */
  description: string;
  up: readonly string[];
  /** Empty when the migration cannot be undone: `revert` then fails, saying so. */
  down: readonly string[];
}

/** What the runner needs of a database connection (pg's Client is one). */
export interface MigrationDatabase {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
}

export const bookkeepingTable = 'greenlight_migrations';

/** One application-wide lock id for every migration action (pg_advisory_xact_lock's bigint). */
export const migrationLockId = 4_242_001;

const createBookkeeping = `CREATE TABLE IF NOT EXISTS ${bookkeepingTable} (
  id text PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('applied', 'reverted')),
  applied_at timestamptz NOT NULL,
  reverted_at timestamptz,
  statements jsonb NOT NULL,
  release_id text NOT NULL
)`;

/** Answers one protocol request. Throws a MigrationRunnerError subclass when it cannot. */
export async function runMigrationRequest(
  db: MigrationDatabase,
  migrations: readonly Migration[],
  input: unknown,
): Promise<MigrationRunnerReply> {
  const request = parseRequest(input);
  const migration = findMigration(migrations, request);
  switch (request.action) {
    case 'plan':
      return {
        migrationId: migration.id,
        status: await readStatus(db, migration.id),
        statements: [...migration.up],
      };
    case 'status':
      return { migrationId: migration.id, status: await readStatus(db, migration.id) };
    case 'apply':
      return applyMigration(db, migration, request.releaseId);
    case 'revert':
      return revertMigration(db, migration);
  }
}

/**
 * The migration's status in the bookkeeping table: pending when it never ran, or when nothing
 * ever ran (no table yet: `plan` and `status` write nothing, not even the table).
 */
export async function readStatus(db: MigrationDatabase, id: string): Promise<MigrationStatus> {
  const { rows: tables } = await db.query('SELECT to_regclass($1) IS NOT NULL AS present', [
    bookkeepingTable,
  ]);
  if (tables[0]?.present !== true) return MigrationStatus.Pending;
  const { rows } = await db.query(`SELECT status FROM ${bookkeepingTable} WHERE id = $1`, [id]);
  const status = rows[0]?.status;
  return status === MigrationStatus.Applied || status === MigrationStatus.Reverted
    ? status
    : MigrationStatus.Pending;
}

async function applyMigration(
  db: MigrationDatabase,
  migration: Migration,
  releaseId: string,
): Promise<MigrationRunnerReply> {
  return inTransaction(db, migration, 'apply', async () => {
    if ((await readStatus(db, migration.id)) === MigrationStatus.Applied) {
      return { migrationId: migration.id, status: MigrationStatus.Applied, ran: false };
    }
    await runStatements(db, migration, 'apply', migration.up);
    // A reverted migration may be applied again (a later release asks for it): its row is
    // reused, so the id still appears once.
    await db.query(
      `INSERT INTO ${bookkeepingTable} (id, status, applied_at, statements, release_id)
       VALUES ($1, 'applied', now(), $2, $3)
       ON CONFLICT (id) DO UPDATE
       SET status = 'applied', applied_at = now(), reverted_at = NULL,
           statements = EXCLUDED.statements, release_id = EXCLUDED.release_id`,
      [migration.id, JSON.stringify(migration.up), releaseId],
    );
    return {
      migrationId: migration.id,
      status: MigrationStatus.Applied,
      ran: true,
      evidence: { statementsRun: migration.up.length, bookkeeping: bookkeepingTable },
    };
  });
}

async function revertMigration(
  db: MigrationDatabase,
  migration: Migration,
): Promise<MigrationRunnerReply> {
  return inTransaction(db, migration, 'revert', async () => {
    const status = await readStatus(db, migration.id);
    if (status !== MigrationStatus.Applied) {
      return { migrationId: migration.id, status, ran: false };
    }
    if (migration.down.length === 0) {
      throw new MigrationIrreversible(
        `Migration ${migration.id} has no down statements: it cannot be reverted`,
      );
    }
    await runStatements(db, migration, 'revert', migration.down);
    await db.query(
      `UPDATE ${bookkeepingTable} SET status = 'reverted', reverted_at = now() WHERE id = $1`,
      [migration.id],
    );
    return {
      migrationId: migration.id,
      status: MigrationStatus.Reverted,
      ran: true,
      evidence: { statementsRun: migration.down.length, bookkeeping: bookkeepingTable },
    };
  });
}

async function inTransaction<T>(
  db: MigrationDatabase,
  migration: Migration,
  action: MigrationAction,
  work: () => Promise<T>,
): Promise<T> {
  await db.query('BEGIN');
  try {
    await db.query('SELECT pg_advisory_xact_lock($1)', [migrationLockId]);
    // Under the lock: two first-ever calls racing would both try to create it.
    await db.query(createBookkeeping);
    const result = await work();
    await db.query('COMMIT');
    return result;
  } catch (error) {
    await db.query('ROLLBACK').catch(() => undefined);
    if (error instanceof MigrationRunnerError) throw error;
    throw new MigrationFailed(
      `${action} of ${migration.id} failed: ${describeDatabaseError(error)}; rolled back, nothing changed`,
      error,
    );
  }
}

async function runStatements(
  db: MigrationDatabase,
  migration: Migration,
  action: MigrationAction,
  statements: readonly string[],
): Promise<void> {
  for (const [i, statement] of statements.entries()) {
    try {
      await db.query(statement);
    } catch (error) {
      throw new MigrationFailed(
        `${action} of ${migration.id} failed at statement ${i + 1} of ${statements.length} (${shorten(statement)}): ${describeDatabaseError(error)}; rolled back, nothing changed`,
        error,
      );
    }
  }
}

function parseRequest(input: unknown): MigrationRunnerRequest {
  const parsed = MigrationRunnerRequest.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((issue) => `${issue.path.join('.') || '(request)'}: ${issue.message}`)
      .join('; ');
    throw new InvalidMigrationRequest(`Not a greenlight migration request: ${issues}`);
  }
  return parsed.data;
}

function findMigration(
  migrations: readonly Migration[],
  request: MigrationRunnerRequest,
): Migration {
  const migration = migrations.find((candidate) => candidate.id === request.migrationId);
  if (migration === undefined) {
    throw new UnknownMigration(
      `No migration ${request.migrationId} in this runner's set (${migrations.map((m) => m.id).join(', ')})`,
    );
  }
  if (migration.kind !== request.kind) {
    throw new MigrationKindMismatch(
      `Migration ${migration.id} is a${migration.kind === 'expand' || migration.kind === 'irreversible' ? 'n' : ''} ${migration.kind}, but the release calls it ${request.kind}`,
    );
  }
  return migration;
}

function describeDatabaseError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${error.message} (SQLSTATE ${code})` : error.message;
}

function shorten(statement: string): string {
  const line = statement.replace(/\s+/g, ' ').trim();
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}

/** A runner error: its name becomes the Lambda function error's errorType greenlight records. */
export abstract class MigrationRunnerError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

/** The payload is not a protocol request this runner knows (wrong version, missing fields). */
export class InvalidMigrationRequest extends MigrationRunnerError {
  override readonly name = 'InvalidMigrationRequest';
}

/** The release names a migration this runner does not have. */
export class UnknownMigration extends MigrationRunnerError {
  override readonly name = 'UnknownMigration';
}

/** The release declares the migration as another kind than the runner's set does. */
export class MigrationKindMismatch extends MigrationRunnerError {
  override readonly name = 'MigrationKindMismatch';
}

/** A statement failed; the transaction was rolled back, so nothing of it is applied. */
export class MigrationFailed extends MigrationRunnerError {
  override readonly name = 'MigrationFailed';
}

/** `revert` of a migration that has no down statements. */
export class MigrationIrreversible extends MigrationRunnerError {
  override readonly name = 'MigrationIrreversible';
}
