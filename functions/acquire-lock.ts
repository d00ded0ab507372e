import { buildLedger } from '../src/runtime/ports/ledger.ts';
import { buildLifecycleEvents } from '../src/runtime/ports/lifecycle-events.ts';
import { buildLock } from '../src/runtime/ports/lock.ts';
import { createStepHandler } from '../src/runtime/step-handler.ts';
import { processDependencies } from '../src/runtime/wiring.ts';
import { acquireLockStep } from '../src/steps/acquire-lock.ts';

export const handler = createStepHandler(
  acquireLockStep,
  processDependencies(buildLedger, buildLock, buildLifecycleEvents),
);
