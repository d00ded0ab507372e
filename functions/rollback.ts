import { createIdempotentStepHandler } from '../src/runtime/idempotent-step-handler.ts';
import { buildBakes } from '../src/runtime/ports/bakes.ts';
import { buildIdempotencyStore } from '../src/runtime/ports/idempotency.ts';
import { buildLedger } from '../src/runtime/ports/ledger.ts';
import { buildLifecycleEvents } from '../src/runtime/ports/lifecycle-events.ts';
import { buildLock } from '../src/runtime/ports/lock.ts';
import { buildRegistry } from '../src/runtime/ports/registry.ts';
import { buildTrafficRouter } from '../src/runtime/ports/traffic-router.ts';
import { processDependencies } from '../src/runtime/wiring.ts';
import { rollbackStep } from '../src/steps/rollback.ts';

export const handler = createIdempotentStepHandler(
  rollbackStep,
  processDependencies(
    buildRegistry,
    buildLedger,
    buildLock,
    buildLifecycleEvents,
    buildBakes,
    buildTrafficRouter,
    buildIdempotencyStore,
  ),
);
