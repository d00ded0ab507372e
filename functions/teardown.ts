import { buildIdleColours } from '../src/runtime/ports/idle-colours.ts';
import { buildLedger } from '../src/runtime/ports/ledger.ts';
import { buildLifecycleEvents } from '../src/runtime/ports/lifecycle-events.ts';
import { buildMigrationRunner } from '../src/runtime/ports/migration-runner.ts';
import { buildRegistry } from '../src/runtime/ports/registry.ts';
import { createStepHandler } from '../src/runtime/step-handler.ts';
import { processDependencies } from '../src/runtime/wiring.ts';
import { teardownStep } from '../src/steps/teardown.ts';

export const handler = createStepHandler(
  teardownStep,
  processDependencies(
    buildRegistry,
    buildLedger,
    buildLifecycleEvents,
    buildIdleColours,
    buildMigrationRunner,
  ),
);
