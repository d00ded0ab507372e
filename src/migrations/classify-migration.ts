import { hasSqlDetails, parse } from 'libpg-query';
import { MigrationKind } from '../core/migration.ts';

/**
 * Classifies a migration plan (the SQL a migration runner's `plan` returns) with PostgreSQL's
 * own parser (libpg-query: the server's grammar compiled to WASM), and decides whether it may
 * run as its declared kind. An `expand` runs while blue still serves traffic on the old code,
 * so it is refused when any statement breaks the old code (drops, renames or retypes what blue
 * reads, or adds a NOT NULL column blue's inserts do not fill) or blocks blue's writes for
 * longer than a catalog update (rewrites or scans a table under a lock that conflicts with
 * ROW EXCLUSIVE). Rules after squawk (https://squawkhq.com/docs/rules); the locks and rewrites
 * are those of PostgreSQL's documentation: "ALTER TABLE" (Notes: which forms rewrite the table,
 * which take which lock), "CREATE INDEX" (Building Indexes Concurrently), and "Explicit
 * Locking" (13.3.1, table-level lock modes and which conflict with ROW EXCLUSIVE, the lock
 * INSERT, UPDATE and DELETE take).
 *
 * This lives outside src/core because loading the parser reads its .wasm file from disk: the
 * classification is pure, the parser is not.
 *
 * What it cannot know without the database: a function's volatility (defaults calling
 * functions it does not list as non-volatile are treated as rewriting), a table's size (every
 * scan is treated as long), and which tables blue's code reads (every drop or rename of an
 * existing object is treated as breaking it).
 */

export { MigrationKind } from '../core/migration.ts';

export const MigrationEffect = {
  CreatesTable: 'creates-table',
  /** A new view, function, type, sequence, extension or comment: nothing old code reads. */
  CreatesObject: 'creates-object',
  AddsNullableColumn: 'adds-nullable-column',
  AddsColumnWithDefault: 'adds-column-with-default',
  CreatesIndexConcurrently: 'creates-index-concurrently',
  AddsConstraintNotValid: 'adds-constraint-not-valid',
  ValidatesConstraint: 'validates-constraint',
  /** Catalog-only changes that relax what old code may do (drop a default, DROP NOT NULL). */
  ChangesMetadata: 'changes-metadata',
  /** BEGIN, COMMIT, SET lock_timeout and such: no schema change. */
  ControlsSession: 'controls-session',
  DropsColumn: 'drops-column',
  DropsTable: 'drops-table',
  DropsObject: 'drops-object',
  RenamesColumn: 'renames-column',
  RenamesTable: 'renames-table',
  RenamesObject: 'renames-object',
  ChangesColumnType: 'changes-column-type',
  AddsNotNullWithoutDefault: 'adds-not-null-without-default',
  RewritesTable: 'rewrites-table',
  BlocksWrites: 'blocks-writes',
  /** A statement greenlight cannot prove harmless to the old code. */
  Unclassified: 'unclassified',
} as const;
export type MigrationEffect = (typeof MigrationEffect)[keyof typeof MigrationEffect];

/** Effects that make the old code (blue) fail on the new schema. */
const breaksOldCode: ReadonlySet<MigrationEffect> = new Set([
  MigrationEffect.DropsColumn,
  MigrationEffect.DropsTable,
  MigrationEffect.DropsObject,
  MigrationEffect.RenamesColumn,
  MigrationEffect.RenamesTable,
  MigrationEffect.RenamesObject,
  MigrationEffect.ChangesColumnType,
  MigrationEffect.AddsNotNullWithoutDefault,
]);

/** Effects that hold a write-blocking lock for as long as the table takes to scan or copy. */
const blocksWritesForLong: ReadonlySet<MigrationEffect> = new Set([
  MigrationEffect.RewritesTable,
  MigrationEffect.BlocksWrites,
]);

/** PostgreSQL's table-level lock modes ("Explicit Locking", 13.3.1) that we name. */
export type PgLock =
  | 'ACCESS EXCLUSIVE'
  | 'SHARE ROW EXCLUSIVE'
  | 'SHARE'
  | 'SHARE UPDATE EXCLUSIVE';

export interface StatementEffect {
  effect: MigrationEffect;
  /** The squawk rule this is, where there is one (https://squawkhq.com/docs/rules). */
  rule?: string;
  /** The lock held while the table is scanned or rewritten, for write-blocking effects. */
  lock?: PgLock;
  /** What the statement does to the table and why it matters, for the operator. */
  reason: string;
}

export type Verdict = 'accepted' | 'refused';

export interface StatementClassification {
  /** 0-based position of the statement in the plan. */
  index: number;
  /** The statement's text, cut to `MigrationPlanBudget.statementChars`. */
  text: string;
  /** 1-based line and column where the statement starts in the plan. */
  line: number;
  column: number;
  effects: StatementEffect[];
  verdict: Verdict;
}

export interface MigrationParseError {
  message: string;
  /** 1-based character offset into the plan, as PostgreSQL reports `cursorpos`. */
  position: number;
  line: number;
  column: number;
}

export interface MigrationClassification {
  kind: MigrationKind;
  verdict: Verdict;
  /** Why it was refused (one line per refused effect), or what an accepted plan risks. */
  reasons: string[];
  statements: StatementClassification[];
  parseError?: MigrationParseError;
}

/**
 * Bounds on what a plan may be: a runner is code greenlight does not own, and its plan ends up
 * in records and messages. PostgreSQL's parser fails cleanly on deep nesting ("memory
 * exhausted" at 10,000 open parentheses), so the text length bounds the parse tree too.
 */
export const MigrationPlanBudget = {
  /** Characters (UTF-16 code units) of the plan's SQL. */
  sqlChars: 256 * 1024,
  /** Statements in one plan. */
  statements: 500,
  /** Characters of a statement's text kept in its classification, a cut included. */
  statementChars: 500,
} as const;

// Functions whose result does not vary per row (STABLE or IMMUTABLE in pg_proc), so a column
// default calling them is evaluated once and stored in the catalog: no rewrite ("ALTER TABLE",
// Notes: "a volatile DEFAULT ... will require the entire table and its indexes to be
// rewritten"). Anything not listed is assumed volatile, as squawk's adding-field-with-default.
const nonVolatileFunctions: ReadonlySet<string> = new Set([
  'now',
  'current_timestamp',
  'statement_timestamp',
  'transaction_timestamp',
  'current_date',
  'localtimestamp',
  'lower',
  'upper',
  'coalesce',
  'jsonb_build_object',
  'jsonb_build_array',
  'json_build_object',
  'json_build_array',
  'array',
]);

// serial types are an integer with DEFAULT nextval(...): volatile, so adding one rewrites.
const serialTypes: ReadonlySet<string> = new Set([
  'serial',
  'serial2',
  'serial4',
  'serial8',
  'smallserial',
  'bigserial',
]);

type Node = Record<string, unknown>;

function asNode(value: unknown): Node | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Node)
    : undefined;
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The single key of a parse-tree node (`{ AlterTableStmt: {...} }`) and its body. */
function unwrap(value: unknown): [string, Node] | undefined {
  const node = asNode(value);
  if (node === undefined) return undefined;
  const [key] = Object.keys(node);
  if (key === undefined) return undefined;
  const body = asNode(node[key]);
  return body === undefined ? undefined : [key, body];
}

function relationName(relation: unknown): string {
  const node = asNode(relation);
  if (node === undefined) return '?';
  const schema = typeof node.schemaname === 'string' ? `${node.schemaname}.` : '';
  return `${schema}${String(node.relname ?? '?')}`;
}

function stringsOf(list: unknown): string[] {
  return asList(list).flatMap((item) => {
    const entry = unwrap(item);
    return entry?.[0] === 'String' && typeof entry[1].sval === 'string' ? [entry[1].sval] : [];
  });
}

/**
 * Whether a default expression is evaluated once (constants, casts of constants, listed
 * non-volatile functions). Iterative with a node budget, so a hostile expression costs at most
 * that many steps; past it, the default is assumed volatile.
 */
function isNonVolatile(expression: unknown): boolean {
  const pending: unknown[] = [expression];
  let budget = 1_000;
  while (pending.length > 0) {
    if (--budget < 0) return false;
    const entry = unwrap(pending.pop());
    if (entry === undefined) return false;
    const [kind, body] = entry;
    switch (kind) {
      case 'A_Const':
      case 'SQLValueFunction':
        break;
      case 'TypeCast':
        pending.push(body.arg);
        break;
      case 'A_Expr':
        pending.push(...[body.lexpr, body.rexpr].filter((side) => side !== undefined));
        break;
      case 'A_ArrayExpr':
        pending.push(...asList(body.elements));
        break;
      case 'FuncCall': {
        const name = stringsOf(body.funcname).at(-1)?.toLowerCase() ?? '';
        if (!nonVolatileFunctions.has(name)) return false;
        pending.push(...asList(body.args));
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

function classifyAddColumn(
  table: string,
  definition: Node,
  createdHere: boolean,
): StatementEffect[] {
  const column = String(definition.colname ?? '?');
  const typeNames = stringsOf(asNode(definition.typeName)?.names);
  const typeName = typeNames.at(-1)?.toLowerCase() ?? '';
  const constraints = asList(definition.constraints).flatMap((item) => {
    const entry = unwrap(item);
    return entry?.[0] === 'Constraint' ? [entry[1]] : [];
  });
  const ofType = (type: string) => constraints.find((c) => c.contype === type);
  const notNull = ofType('CONSTR_NOTNULL') ?? ofType('CONSTR_PRIMARY');
  const defaultConstraint = ofType('CONSTR_DEFAULT');
  const effects: StatementEffect[] = [];
  if (createdHere) {
    return [
      {
        effect: MigrationEffect.AddsNullableColumn,
        reason: `adds ${table}.${column} to a table this plan creates`,
      },
    ];
  }
  const fillsRows =
    serialTypes.has(typeName) ||
    ofType('CONSTR_IDENTITY') !== undefined ||
    ofType('CONSTR_GENERATED') !== undefined ||
    (defaultConstraint !== undefined && !isNonVolatile(defaultConstraint.raw_expr));
  if (fillsRows) {
    effects.push({
      effect: MigrationEffect.RewritesTable,
      rule: 'adding-field-with-default',
      lock: 'ACCESS EXCLUSIVE',
      reason: `adding ${table}.${column} with a volatile default, a serial, identity or stored generated value computes it for every row: PostgreSQL rewrites ${table} under ACCESS EXCLUSIVE ("ALTER TABLE", Notes); add it nullable, backfill in batches, then set the default`,
    });
  }
  if (notNull !== undefined && defaultConstraint === undefined && !fillsRows) {
    effects.push({
      effect: MigrationEffect.AddsNotNullWithoutDefault,
      rule: 'adding-not-nullable-field',
      reason: `${table}.${column} is NOT NULL without a default: the old code's inserts do not name it and fail (and the ALTER fails on a non-empty table); add it nullable or with a constant default`,
    });
  }
  // A CHECK or REFERENCES on the new column is verified against every existing row, under the
  // ALTER's lock, before it commits ("ALTER TABLE", Notes: adding a CHECK or NOT NULL
  // constraint requires scanning the table); NOT VALID cannot be written inline.
  const check = ofType('CONSTR_CHECK');
  if (check !== undefined) {
    effects.push({
      effect: MigrationEffect.BlocksWrites,
      rule: 'constraint-missing-not-valid',
      lock: 'ACCESS EXCLUSIVE',
      reason: `the CHECK on the new column ${table}.${column} scans ${table} under ACCESS EXCLUSIVE; add the column, then ADD CONSTRAINT ... CHECK (...) NOT VALID and VALIDATE it`,
    });
  }
  const references = ofType('CONSTR_FOREIGN');
  if (references !== undefined) {
    effects.push({
      effect: MigrationEffect.BlocksWrites,
      rule: 'adding-foreign-key-constraint',
      lock: 'SHARE ROW EXCLUSIVE',
      reason: `the REFERENCES on the new column ${table}.${column} is validated by scanning ${table} under SHARE ROW EXCLUSIVE on both tables; add the column, then ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID and VALIDATE it`,
    });
  }
  const unique = ofType('CONSTR_UNIQUE') ?? ofType('CONSTR_PRIMARY');
  if (unique !== undefined) {
    effects.push({
      effect: MigrationEffect.BlocksWrites,
      rule: 'disallowed-unique-constraint',
      lock: 'ACCESS EXCLUSIVE',
      reason: `${table}.${column} is UNIQUE or a PRIMARY KEY: its index is built under ACCESS EXCLUSIVE; build it with CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... USING INDEX`,
    });
  }
  if (effects.length === 0) {
    effects.push(
      defaultConstraint === undefined
        ? {
            effect: MigrationEffect.AddsNullableColumn,
            reason: `adds the nullable column ${table}.${column}: old code ignores it`,
          }
        : {
            effect: MigrationEffect.AddsColumnWithDefault,
            reason: `adds ${table}.${column} with a non-volatile default: stored in the catalog, no rewrite (PostgreSQL 11 and later)`,
          },
    );
  }
  return effects;
}

function classifyAddConstraint(
  table: string,
  constraint: Node,
  createdHere: boolean,
): StatementEffect {
  const name = String(constraint.conname ?? constraint.contype ?? '?');
  if (createdHere) {
    return {
      effect: MigrationEffect.AddsConstraintNotValid,
      reason: `adds ${name} to a table this plan creates: nothing to scan`,
    };
  }
  switch (constraint.contype) {
    case 'CONSTR_UNIQUE':
    case 'CONSTR_PRIMARY':
      if (typeof constraint.indexname === 'string') {
        return {
          effect: MigrationEffect.ChangesMetadata,
          reason: `turns the existing index ${constraint.indexname} into the constraint ${name}: no scan`,
        };
      }
      return {
        effect: MigrationEffect.BlocksWrites,
        rule: 'disallowed-unique-constraint',
        lock: 'ACCESS EXCLUSIVE',
        reason: `${name} on ${table} builds its index under ACCESS EXCLUSIVE; build it with CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ${name} ... USING INDEX`,
      };
    case 'CONSTR_EXCLUSION':
      return {
        effect: MigrationEffect.BlocksWrites,
        lock: 'ACCESS EXCLUSIVE',
        reason: `the exclusion constraint ${name} on ${table} builds its index under ACCESS EXCLUSIVE`,
      };
    default:
      // FOREIGN KEY, CHECK and (PostgreSQL 18) NOT NULL constraints accept NOT VALID: added so,
      // only new rows are checked and VALIDATE CONSTRAINT scans later under SHARE UPDATE
      // EXCLUSIVE, which lets writes through ("ALTER TABLE", ADD table_constraint, Notes).
      if (constraint.skip_validation === true) {
        return {
          effect: MigrationEffect.AddsConstraintNotValid,
          reason: `adds ${name} to ${table} NOT VALID: checks new rows only, no scan`,
        };
      }
      return {
        effect: MigrationEffect.BlocksWrites,
        rule: 'constraint-missing-not-valid',
        lock: constraint.contype === 'CONSTR_FOREIGN' ? 'SHARE ROW EXCLUSIVE' : 'ACCESS EXCLUSIVE',
        reason: `${name} on ${table} is validated by scanning every row while the lock is held; add it NOT VALID, then VALIDATE CONSTRAINT ${name} in a later statement`,
      };
  }
}

function classifyAlterTable(
  statement: Node,
  createdTables: ReadonlySet<string>,
): StatementEffect[] {
  const table = relationName(statement.relation);
  const createdHere = createdTables.has(table);
  return asList(statement.cmds).flatMap((item): StatementEffect[] => {
    const entry = unwrap(item);
    if (entry?.[0] !== 'AlterTableCmd') return [unclassified('an ALTER TABLE command')];
    const command = entry[1];
    const column = `${table}.${String(command.name ?? '?')}`;
    const definition = unwrap(command.def);
    switch (command.subtype) {
      case 'AT_AddColumn':
        return definition?.[0] === 'ColumnDef'
          ? classifyAddColumn(table, definition[1], createdHere)
          : [unclassified('ADD COLUMN')];
      case 'AT_DropColumn':
        return [
          {
            effect: MigrationEffect.DropsColumn,
            rule: 'ban-drop-column',
            reason: `drops ${column}: the old code still reads and writes it; drop it in a contract migration once no colour runs that code`,
          },
        ];
      case 'AT_AlterColumnType':
        return [
          {
            effect: MigrationEffect.ChangesColumnType,
            rule: 'changing-column-type',
            reason: `changes the type of ${column}: the old code reads and writes the old type; add a new column instead`,
          },
          {
            effect: MigrationEffect.RewritesTable,
            rule: 'changing-column-type',
            lock: 'ACCESS EXCLUSIVE',
            reason: `a type change rewrites ${table} and its indexes under ACCESS EXCLUSIVE unless the types are binary-coercible ("ALTER TABLE", Notes)`,
          },
        ];
      case 'AT_SetNotNull':
        return [
          {
            effect: MigrationEffect.BlocksWrites,
            rule: 'adding-not-nullable-field',
            lock: 'ACCESS EXCLUSIVE',
            reason: `SET NOT NULL on ${column} scans ${table} under ACCESS EXCLUSIVE, and the old code's inserts that leave it empty fail; add CHECK (${String(command.name ?? '?')} IS NOT NULL) NOT VALID, validate it, then SET NOT NULL in a contract`,
          },
        ];
      case 'AT_AddConstraint':
        return definition?.[0] === 'Constraint'
          ? [classifyAddConstraint(table, definition[1], createdHere)]
          : [unclassified('ADD CONSTRAINT')];
      case 'AT_ValidateConstraint':
        return [
          {
            effect: MigrationEffect.ValidatesConstraint,
            reason: `validates ${String(command.name ?? '?')} on ${table} under SHARE UPDATE EXCLUSIVE: writes go on`,
          },
        ];
      case 'AT_ColumnDefault':
      case 'AT_DropNotNull':
      case 'AT_DropConstraint':
        return [
          {
            effect: MigrationEffect.ChangesMetadata,
            reason: `changes ${column}'s default or relaxes a constraint: catalog only, nothing the old code relies on`,
          },
        ];
      default:
        return [unclassified(`ALTER TABLE ${table} ${String(command.subtype)}`)];
    }
  });
}

function unclassified(what: string): StatementEffect {
  return {
    effect: MigrationEffect.Unclassified,
    reason: `greenlight does not know whether ${what} is harmless to the old code; run it as a contract or irreversible migration`,
  };
}

function classifyStatement(
  kind: string,
  statement: Node,
  createdTables: Set<string>,
): StatementEffect[] {
  switch (kind) {
    case 'CreateStmt': {
      const table = relationName(statement.relation);
      // IF NOT EXISTS may leave an existing (populated, in use) table in place: later
      // statements on it are judged as on any existing table.
      if (statement.if_not_exists !== true) createdTables.add(table);
      return [
        {
          effect: MigrationEffect.CreatesTable,
          reason: `creates ${table}: the old code does not use it`,
        },
      ];
    }
    case 'AlterTableStmt':
      return statement.objtype === 'OBJECT_TABLE'
        ? classifyAlterTable(statement, createdTables)
        : [unclassified(`ALTER ${String(statement.objtype)}`)];
    case 'IndexStmt': {
      const table = relationName(statement.relation);
      if (statement.concurrent === true || createdTables.has(table)) {
        return [
          {
            effect: MigrationEffect.CreatesIndexConcurrently,
            reason: `builds ${String(statement.idxname ?? 'an index')} on ${table} without blocking writes`,
          },
        ];
      }
      return [
        {
          effect: MigrationEffect.BlocksWrites,
          rule: 'require-concurrent-index-creation',
          lock: 'SHARE',
          reason: `CREATE INDEX on ${table} holds SHARE, which blocks inserts, updates and deletes, for the whole build; use CREATE INDEX CONCURRENTLY ("CREATE INDEX", Building Indexes Concurrently)`,
        },
      ];
    }
    case 'RenameStmt': {
      const table = relationName(statement.relation);
      if (statement.renameType === 'OBJECT_COLUMN') {
        return [
          {
            effect: MigrationEffect.RenamesColumn,
            rule: 'renaming-column',
            reason: `renames ${table}.${String(statement.subname)} to ${String(statement.newname)}: the old code still uses the old name; add the new column, write both, drop the old one in a contract`,
          },
        ];
      }
      if (statement.renameType === 'OBJECT_TABLE') {
        return [
          {
            effect: MigrationEffect.RenamesTable,
            rule: 'renaming-table',
            reason: `renames ${table} to ${String(statement.newname)}: the old code still uses the old name`,
          },
        ];
      }
      return [
        {
          effect: MigrationEffect.RenamesObject,
          reason: `renames a ${String(statement.renameType)} to ${String(statement.newname)}: the old code may use the old name`,
        },
      ];
    }
    case 'DropStmt': {
      const names = asList(statement.objects)
        .map((item) => stringsOf(unwrap(item)?.[1]?.items).join('.'))
        .join(', ');
      if (statement.removeType === 'OBJECT_TABLE') {
        return [
          {
            effect: MigrationEffect.DropsTable,
            rule: 'ban-drop-table',
            reason: `drops the table ${names}: the old code may still use it; drop it in a contract migration`,
          },
        ];
      }
      if (statement.removeType === 'OBJECT_INDEX' && statement.concurrent === true) {
        return [
          {
            effect: MigrationEffect.ChangesMetadata,
            reason: `drops the index ${names} concurrently`,
          },
        ];
      }
      if (statement.removeType === 'OBJECT_INDEX') {
        return [
          {
            effect: MigrationEffect.BlocksWrites,
            rule: 'require-concurrent-index-deletion',
            lock: 'ACCESS EXCLUSIVE',
            reason: `DROP INDEX ${names} takes ACCESS EXCLUSIVE on its table; use DROP INDEX CONCURRENTLY`,
          },
        ];
      }
      return [
        {
          effect: MigrationEffect.DropsObject,
          reason: `drops ${String(statement.removeType)} ${names}: the old code may still use it`,
        },
      ];
    }
    case 'VacuumStmt': {
      const options = asList(statement.options).map((item) => unwrap(item)?.[1]?.defname);
      if (statement.is_vacuumcmd === true && options.includes('full')) {
        return [
          {
            effect: MigrationEffect.RewritesTable,
            lock: 'ACCESS EXCLUSIVE',
            reason: 'VACUUM FULL copies the whole table under ACCESS EXCLUSIVE ("VACUUM")',
          },
        ];
      }
      return [unclassified('VACUUM or ANALYZE')];
    }
    case 'ClusterStmt':
      return [
        {
          effect: MigrationEffect.RewritesTable,
          lock: 'ACCESS EXCLUSIVE',
          reason: `CLUSTER ${relationName(statement.relation)} rewrites the table under ACCESS EXCLUSIVE ("CLUSTER")`,
        },
      ];
    case 'ViewStmt':
    case 'CreateFunctionStmt':
      // OR REPLACE can change what the old code reads through an existing view or function.
      return statement.replace === true
        ? [unclassified(`CREATE OR REPLACE ${kind === 'ViewStmt' ? 'VIEW' : 'FUNCTION'}`)]
        : [
            {
              effect: MigrationEffect.CreatesObject,
              reason: `creates a ${kind === 'ViewStmt' ? 'view' : 'function'}`,
            },
          ];
    case 'CreateEnumStmt':
    case 'CompositeTypeStmt':
    case 'CreateSeqStmt':
    case 'CreateExtensionStmt':
    case 'CommentStmt':
      return [
        {
          effect: MigrationEffect.CreatesObject,
          reason: `${kind.replace(/Stmt$/, '')}: adds to the catalog, changes nothing the old code reads`,
        },
      ];
    case 'TransactionStmt':
    case 'VariableSetStmt':
      return [
        { effect: MigrationEffect.ControlsSession, reason: 'controls the session or transaction' },
      ];
    default:
      return [unclassified(kind.replace(/Stmt$/, ' statement'))];
  }
}

/** 1-based line and column of a character offset. */
function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const lastNewline = before.lastIndexOf('\n');
  return { line: before.split('\n').length, column: offset - lastNewline };
}

function cut(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, chars - 1)}…`;
}

function refused(
  kind: MigrationKind,
  reason: string,
  parseError?: MigrationParseError,
): MigrationClassification {
  return {
    kind,
    verdict: 'refused',
    reasons: [reason],
    statements: [],
    ...(parseError === undefined ? {} : { parseError }),
  };
}

/**
 * Parses `sql` with PostgreSQL's parser and classifies each statement. Never throws for a bad
 * plan: an oversized or unparsable plan is a refusal whose reason says why.
 */
export async function classifyMigration(
  sql: string,
  kind: MigrationKind,
): Promise<MigrationClassification> {
  if (sql.length > MigrationPlanBudget.sqlChars) {
    return refused(
      kind,
      `The migration plan is ${sql.length} characters; greenlight classifies at most ${MigrationPlanBudget.sqlChars}: split the migration`,
    );
  }
  let tree: unknown;
  try {
    tree = await parse(sql);
  } catch (error) {
    if (!hasSqlDetails(error)) throw error;
    const details = error.sqlDetails;
    const message = details?.message ?? error.message;
    // libpg-query reports PostgreSQL's cursorpos (1-based, in characters) less one; we report
    // it 1-based again, as psql and the server's log do.
    const offset = Math.min(Math.max(0, details?.cursorPosition ?? 0), sql.length);
    const position = offset + 1;
    const at = lineAndColumn(sql, offset);
    return refused(
      kind,
      `The migration plan is not valid PostgreSQL: ${message} at line ${at.line}, column ${at.column}`,
      { message, position, ...at },
    );
  }
  const parsed = asList(asNode(tree)?.stmts);
  if (parsed.length > MigrationPlanBudget.statements) {
    return refused(
      kind,
      `The migration plan has ${parsed.length} statements; greenlight classifies at most ${MigrationPlanBudget.statements}: split the migration`,
    );
  }
  // libpg_query's stmt_location and stmt_len count UTF-8 bytes, not characters.
  const bytes = new TextEncoder().encode(sql);
  const decoder = new TextDecoder();
  const createdTables = new Set<string>();
  const statements: StatementClassification[] = parsed.map((raw, index) => {
    const wrapper = asNode(raw) ?? {};
    const start = typeof wrapper.stmt_location === 'number' ? wrapper.stmt_location : 0;
    const length =
      typeof wrapper.stmt_len === 'number' && wrapper.stmt_len > 0
        ? wrapper.stmt_len
        : bytes.length - start;
    const prefix = decoder.decode(bytes.subarray(0, start));
    const fullText = decoder.decode(bytes.subarray(start, start + length));
    const leading = fullText.length - fullText.trimStart().length;
    const at = lineAndColumn(sql, prefix.length + leading);
    const entry = unwrap(wrapper.stmt);
    const effects =
      entry === undefined
        ? [unclassified('an empty statement')]
        : classifyStatement(entry[0], entry[1], createdTables);
    return {
      index,
      text: cut(fullText.trim(), MigrationPlanBudget.statementChars),
      ...at,
      effects,
      verdict:
        kind === MigrationKind.Expand && effects.some(refusesExpand) ? 'refused' : 'accepted',
    };
  });
  return { kind, ...decide(kind, statements), statements };
}

function refusesExpand(effect: StatementEffect): boolean {
  return (
    breaksOldCode.has(effect.effect) ||
    blocksWritesForLong.has(effect.effect) ||
    effect.effect === MigrationEffect.Unclassified
  );
}

function describe(statement: StatementClassification, effect: StatementEffect): string {
  const rule = effect.rule === undefined ? '' : ` [${effect.rule}]`;
  const lock = effect.lock === undefined ? '' : ` (${effect.lock})`;
  return `statement ${statement.index + 1} (line ${statement.line}) ${effect.effect}${lock}${rule}: ${effect.reason}`;
}

function decide(
  kind: MigrationKind,
  statements: StatementClassification[],
): { verdict: Verdict; reasons: string[] } {
  if (kind === MigrationKind.Expand) {
    const reasons = statements.flatMap((statement) =>
      statement.effects.filter(refusesExpand).map((effect) => describe(statement, effect)),
    );
    return reasons.length === 0
      ? {
          verdict: 'accepted',
          reasons: ['every statement is harmless to the old code and lets writes through'],
        }
      : { verdict: 'refused', reasons: reasons.map((reason) => `An expand must not: ${reason}`) };
  }
  // A contract runs once no colour runs the old code, and an irreversible migration is approved
  // by name: breaking the old code is their point. Long write-blocking locks still hurt the code
  // that is live, so they are said, not refused.
  const warnings = statements.flatMap((statement) =>
    statement.effects
      .filter((effect) => blocksWritesForLong.has(effect.effect))
      .map((effect) => `Blocks writes while it runs: ${describe(statement, effect)}`),
  );
  return { verdict: 'accepted', reasons: warnings };
}
