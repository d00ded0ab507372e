import { buildBakes } from '../src/runtime/ports/bakes.ts';
import { buildLedger } from '../src/runtime/ports/ledger.ts';
import { buildLifecycleEvents } from '../src/runtime/ports/lifecycle-events.ts';
import { buildLockBystander } from '../src/runtime/ports/lock-bystander.ts';
import { buildTaskCallbacks } from '../src/runtime/ports/task-callbacks.ts';
import { createStepHandler } from '../src/runtime/step-handler.ts';
import { processDependencies } from '../src/runtime/wiring.ts';
import { alarmEventStep } from '../src/steps/alarm-event.ts';

export const handler = createStepHandler(
  alarmEventStep,
  processDependencies(
    buildLedger,
    buildLockBystander,
    buildLifecycleEvents,
    buildBakes,
    buildTaskCallbacks,
  ),
);
