import { createIdempotentStepHandler } from '../src/runtime/idempotent-step-handler.ts';
import { buildIdempotencyStore } from '../src/runtime/ports/idempotency.ts';
import { buildLedger } from '../src/runtime/ports/ledger.ts';
import { buildLifecycleEvents } from '../src/runtime/ports/lifecycle-events.ts';
import { buildLockBystander } from '../src/runtime/ports/lock-bystander.ts';
import { buildRegistry } from '../src/runtime/ports/registry.ts';
import { buildTrafficTarget } from '../src/runtime/ports/traffic-target.ts';
import { processDependencies } from '../src/runtime/wiring.ts';
import { provisionGreenStep } from '../src/steps/provision-green.ts';

export const handler = createIdempotentStepHandler(
  provisionGreenStep,
  processDependencies(
    buildRegistry,
    buildLedger,
    buildLockBystander,
    buildLifecycleEvents,
    buildTrafficTarget,
    buildIdempotencyStore,
  ),
);
