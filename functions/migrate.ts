import { buildLedger } from '../src/runtime/ports/ledger.ts';
import { buildMigrationRunner } from '../src/runtime/ports/migration-runner.ts';
import { buildRegistry } from '../src/runtime/ports/registry.ts';
import { buildTrafficRouter } from '../src/runtime/ports/traffic-router.ts';
import { createStepHandler } from '../src/runtime/step-handler.ts';
import { processDependencies } from '../src/runtime/wiring.ts';
import { migrateStep } from '../src/steps/migrate.ts';

export const handler = createStepHandler(
  migrateStep,
  processDependencies(buildRegistry, buildLedger, buildTrafficRouter, buildMigrationRunner),
);

// The bundle's own parser, for test/infra/bundles.test.ts: it classifies a statement with the
// bundle as shipped, proving the .wasm beside it loads (src/infra/functions.ts, packagedFiles).
export { classifyMigration } from '../src/migrations/classify-migration.ts';
