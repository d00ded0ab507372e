import { createStepHandler } from '../src/runtime/step-handler.ts';
import { setWeightStep } from '../src/steps/set-weight.ts';

export const handler = createStepHandler(setWeightStep);
