import { createStepHandler } from '../src/runtime/step-handler.ts';
import { finalizeStep } from '../src/steps/finalize.ts';

export const handler = createStepHandler(finalizeStep);
