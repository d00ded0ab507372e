import { createIdempotentStepHandler } from '../src/runtime/idempotent-step-handler.ts';
import { buildIdempotencyStore } from '../src/runtime/ports/idempotency.ts';
import { buildLedger } from '../src/runtime/ports/ledger.ts';
import { buildLifecycleEvents } from '../src/runtime/ports/lifecycle-events.ts';
import { buildRegistry } from '../src/runtime/ports/registry.ts';
import { processDependencies } from '../src/runtime/wiring.ts';
import { registerStep } from '../src/steps/register.ts';

export const handler = createIdempotentStepHandler(
  registerStep,
  processDependencies(buildRegistry, buildLedger, buildLifecycleEvents, buildIdempotencyStore),
);
