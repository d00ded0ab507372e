import { performance } from 'node:perf_hooks';
import { MigrationKind } from '../src/core/migration.ts';
import { shopMigrations } from '../src/local/migration-runner/shop-migrations.ts';
import { type Summary, summarize } from './stats.ts';
import { formatMs, type TableSection } from './table.ts';

export interface ClassificationRow {
  plan: string;
  statements: number;
  verdict: string;
  /** Warm classifications of the plan, parser loaded. */
  ms: Summary;
}

export interface ClassificationResult {
  /** Loading libpg-query (compiling its WASM) and the first classification: a migrate cold start. */
  firstMs: number;
  rows: ClassificationRow[];
}

/**
 * What classifying a migration plan costs the migrate step: the parser's load on a cold start,
 * then each of the demo shop's plans and the largest plan greenlight accepts (one statement per
 * line, up to MigrationPlanBudget.statements), parsed by PostgreSQL's own parser.
 */
export async function measureClassification(runs = 21): Promise<ClassificationResult> {
  const started = performance.now();
  // Imported here, not at the top, so that the parser's load is what is timed.
  const { classifyMigration, MigrationPlanBudget } = await import(
    '../src/migrations/classify-migration.ts'
  );
  await classifyMigration('ALTER TABLE t ADD COLUMN c text', MigrationKind.Expand);
  const firstMs = performance.now() - started;

  const widest = Array.from(
    { length: MigrationPlanBudget.statements },
    (_, i) => `ALTER TABLE orders ADD COLUMN extra_${i} text;`,
  ).join('\n');
  const plans = [
    ...shopMigrations.map((m) => ({ plan: m.id, kind: m.kind, sql: m.up.join(';\n') })),
    {
      plan: `${MigrationPlanBudget.statements} nullable columns`,
      kind: MigrationKind.Expand,
      sql: widest,
    },
  ];
  const rows: ClassificationRow[] = [];
  for (const { plan, kind, sql } of plans) {
    const samples: number[] = [];
    let verdict = '';
    let statements = 0;
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      const classification = await classifyMigration(sql, kind);
      samples.push(performance.now() - t);
      verdict = `${kind} ${classification.verdict}`;
      statements = classification.statements.length;
    }
    rows.push({ plan, statements, verdict, ms: summarize(samples) });
  }
  return { firstMs, rows };
}

export function classificationSection({ firstMs, rows }: ClassificationResult): TableSection {
  return {
    title: `11. Migration plans classified by PostgreSQL's parser (libpg-query, WASM): parser load and first plan ${formatMs(firstMs)} ms; then per plan`,
    header: ['plan', 'statements', 'verdict', 'p50 ms', 'max ms'],
    rows: rows.map((row) => [
      row.plan,
      String(row.statements),
      row.verdict,
      formatMs(row.ms.p50),
      formatMs(row.ms.max),
    ]),
  };
}
