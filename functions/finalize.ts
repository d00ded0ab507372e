import { createIdempotentStepHandler } from '../src/runtime/idempotent-step-handler.ts';
import { buildBakes } from '../src/runtime/ports/bakes.ts';
import { buildIdempotencyStore } from '../src/runtime/ports/idempotency.ts';
import { buildIdleColours } from '../src/runtime/ports/idle-colours.ts';
import { buildLedger } from '../src/runtime/ports/ledger.ts';
import { buildLifecycleEvents } from '../src/runtime/ports/lifecycle-events.ts';
import { buildLock } from '../src/runtime/ports/lock.ts';
import { buildRegistry } from '../src/runtime/ports/registry.ts';
import { buildTeardownScheduler } from '../src/runtime/ports/teardown-scheduler.ts';
import { buildTrafficRouter } from '../src/runtime/ports/traffic-router.ts';
import { processDependencies } from '../src/runtime/wiring.ts';
import { finalizeStep } from '../src/steps/finalize.ts';

export const handler = createIdempotentStepHandler(
  finalizeStep,
  processDependencies(
    buildRegistry,
    buildLedger,
    buildLock,
    buildLifecycleEvents,
    buildBakes,
    buildTrafficRouter,
    buildIdleColours,
    buildTeardownScheduler,
    buildIdempotencyStore,
  ),
);
