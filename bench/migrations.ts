import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
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
  const firstMs = await firstClassification();
  const { classifyMigration, MigrationPlanBudget } = await import(
    '../src/migrations/classify-migration.ts'
  );
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

const classifier = new URL('../src/migrations/classify-migration.ts', import.meta.url).href;

/**
 * The parser's load and a first classification, in a fresh Node process (the bench's own has
 * loaded the parser already through the local cloud's migrate handler): a migrate cold start.
 */
async function firstClassification(): Promise<number> {
  const script = `
const started = performance.now();
const { classifyMigration } = await import(${JSON.stringify(classifier)});
await classifyMigration('ALTER TABLE t ADD COLUMN c text', 'expand');
process.stdout.write(String(performance.now() - started));`;
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--input-type=module',
    '--eval',
    script,
  ]);
  return Number(stdout);
}

export function classificationSection({ firstMs, rows }: ClassificationResult): TableSection {
  return {
    title: `11. Migration plans classified by PostgreSQL's parser (libpg-query, WASM): a fresh Node process imports the classifier (TS sources) and classifies a first plan in ${formatMs(firstMs)} ms; then per plan, warm`,
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
