import { createIdempotentStepHandler } from '../src/runtime/idempotent-step-handler.ts';
import { buildAlarmReader } from '../src/runtime/ports/alarms.ts';
import { buildIdempotencyStore } from '../src/runtime/ports/idempotency.ts';
import { buildLedger } from '../src/runtime/ports/ledger.ts';
import { buildLifecycleEvents } from '../src/runtime/ports/lifecycle-events.ts';
import { buildLockBystander } from '../src/runtime/ports/lock-bystander.ts';
import { buildRegistry } from '../src/runtime/ports/registry.ts';
import { buildTrafficRouter } from '../src/runtime/ports/traffic-router.ts';
import { processDependencies } from '../src/runtime/wiring.ts';
import { testGreenStep } from '../src/steps/test-green.ts';

export const handler = createIdempotentStepHandler(
  testGreenStep,
  processDependencies(
    buildRegistry,
    buildLedger,
    buildLockBystander,
    buildLifecycleEvents,
    buildAlarmReader,
    buildTrafficRouter,
    buildIdempotencyStore,
  ),
);
