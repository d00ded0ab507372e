import { createStepHandler } from '../src/runtime/step-handler.ts';
import { checkGatesStep } from '../src/steps/check-gates.ts';

export const handler = createStepHandler(checkGatesStep);
