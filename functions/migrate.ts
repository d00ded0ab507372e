import { createIdempotentStepHandler } from '../src/runtime/idempotent-step-handler.ts';
import { buildIdempotencyStore } from '../src/runtime/ports/idempotency.ts';
import { buildLedger } from '../src/runtime/ports/ledger.ts';
import { buildMigrationRunner } from '../src/runtime/ports/migration-runner.ts';
import { buildRegistry } from '../src/runtime/ports/registry.ts';
import { buildTrafficRouter } from '../src/runtime/ports/traffic-router.ts';
import { processDependencies } from '../src/runtime/wiring.ts';
import { migrateStep } from '../src/steps/migrate.ts';

export const handler = createIdempotentStepHandler(
  migrateStep,
  processDependencies(
    buildRegistry,
    buildLedger,
    buildTrafficRouter,
    buildMigrationRunner,
    buildIdempotencyStore,
  ),
);
