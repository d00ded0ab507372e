import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DemoArtifactBucket } from '../../src/local/demo-registry.ts';

/**
 * The stand-in migration runner of the end-to-end tests (migration-artifacts/stand-in-runner.mjs)
 * and the "orders" service whose old code a breaking expand breaks. Both run in the test's
 * process (the local Lambda imports artifacts in-process), and share this state on globalThis.
 */
export interface StandInMigration {
  /** What `plan` returns. */
  up: string[];
  /** Applied, it makes the old orders code answer 500 (its blue tests fail). */
  breaksOldCode?: boolean;
  /** Per action: fail as the runner would (a thrown error), after hanging `hangMs` if given. */
  fail?: Partial<
    Record<
      'plan' | 'apply' | 'revert' | 'status',
      { errorType?: string; errorMessage?: string; hangMs?: number }
    >
  >;
}

export interface StandInRunnerState {
  migrations: Record<string, StandInMigration>;
  applied: Set<string>;
  /** Every request, `action id`, in order. */
  calls: string[];
}

const key = '__greenlightStandInRunner';

/** The runner's state, made on first use (by the test or by the runner's first call). */
export function standInRunner(): StandInRunnerState {
  const holder = globalThis as unknown as Record<string, StandInRunnerState | undefined>;
  holder[key] ??= { migrations: {}, applied: new Set(), calls: [] };
  return holder[key];
}

/** The calls the runner got about one migration, `action` only. */
export function callsAbout(id: string): string[] {
  return standInRunner()
    .calls.filter((call) => call.endsWith(` ${id}`))
    .map((call) => call.slice(0, call.indexOf(' ')));
}

export const standInRunnerKey = 'migrations/stand-in-runner.zip';
export const ordersKey = (version: string) => `orders/${version}.zip`;

/**
 * An artifact store for the tests: the demo's artifacts, plus the stand-in runner and the
 * orders service (1.0.0 the old code, every later version the new). Made once per test file;
 * `remove` deletes it.
 */
export function migrationArtifactsRoot(newVersions: readonly string[]): {
  root: string;
  remove(): void;
} {
  const here = fileURLToPath(new URL('./migration-artifacts/', import.meta.url));
  const demo = fileURLToPath(new URL('../../demo/artifacts/', import.meta.url));
  const root = mkdtempSync(join(tmpdir(), 'greenlight-migrations-'));
  cpSync(demo, root, { recursive: true });
  const bucket = join(root, 's3', DemoArtifactBucket);
  mkdirSync(join(bucket, 'migrations'), { recursive: true });
  mkdirSync(join(bucket, 'orders'), { recursive: true });
  cpSync(join(here, 'stand-in-runner.mjs'), join(bucket, standInRunnerKey));
  cpSync(join(here, 'orders-old.mjs'), join(bucket, ordersKey('1.0.0')));
  // Each version its own bytes: Lambda publishes no new version for the same code.
  const newCode = readFileSync(join(here, 'orders-new.mjs'), 'utf8');
  for (const version of newVersions) {
    writeFileSync(join(bucket, ordersKey(version)), `${newCode}\n// ${version}\n`);
  }
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}
