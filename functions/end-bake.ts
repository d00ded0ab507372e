import { buildBakes } from '../src/runtime/ports/bakes.ts';
import { buildLedger } from '../src/runtime/ports/ledger.ts';
import { buildTaskCallbacks } from '../src/runtime/ports/task-callbacks.ts';
import { createStepHandler } from '../src/runtime/step-handler.ts';
import { processDependencies } from '../src/runtime/wiring.ts';
import { endBakeStep } from '../src/steps/end-bake.ts';

export const handler = createStepHandler(
  endBakeStep,
  processDependencies(buildLedger, buildBakes, buildTaskCallbacks),
);
