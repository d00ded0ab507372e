import { createIdempotentStepHandler } from '../src/runtime/idempotent-step-handler.ts';
import { buildIdempotencyStore } from '../src/runtime/ports/idempotency.ts';
import { buildLedger } from '../src/runtime/ports/ledger.ts';
import { buildLifecycleEvents } from '../src/runtime/ports/lifecycle-events.ts';
import { buildLockBystander } from '../src/runtime/ports/lock-bystander.ts';
import { buildRegistry } from '../src/runtime/ports/registry.ts';
import { buildTrafficRouter } from '../src/runtime/ports/traffic-router.ts';
import { processDependencies } from '../src/runtime/wiring.ts';
import { setWeightStep } from '../src/steps/set-weight.ts';

export const handler = createIdempotentStepHandler(
  setWeightStep,
  processDependencies(
    buildRegistry,
    buildLedger,
    buildLockBystander,
    buildLifecycleEvents,
    buildTrafficRouter,
    buildIdempotencyStore,
  ),
);
