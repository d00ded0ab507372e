import { buildAlarmReader } from '../src/runtime/ports/alarms.ts';
import { buildBakes } from '../src/runtime/ports/bakes.ts';
import { buildLedger } from '../src/runtime/ports/ledger.ts';
import { buildLifecycleEvents } from '../src/runtime/ports/lifecycle-events.ts';
import { buildLockBystander } from '../src/runtime/ports/lock-bystander.ts';
import { buildRegistry } from '../src/runtime/ports/registry.ts';
import { buildTaskCallbacks } from '../src/runtime/ports/task-callbacks.ts';
import { createStepHandler } from '../src/runtime/step-handler.ts';
import { processDependencies } from '../src/runtime/wiring.ts';
import { startBakeStep } from '../src/steps/start-bake.ts';

export const handler = createStepHandler(
  startBakeStep,
  processDependencies(
    buildRegistry,
    buildLedger,
    buildLockBystander,
    buildLifecycleEvents,
    buildBakes,
    buildTaskCallbacks,
    buildAlarmReader,
  ),
);
