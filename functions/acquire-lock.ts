import { createStepHandler } from '../src/runtime/step-handler.ts';
import { acquireLockStep } from '../src/steps/acquire-lock.ts';

export const handler = createStepHandler(acquireLockStep);
