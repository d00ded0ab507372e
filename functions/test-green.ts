import { createStepHandler } from '../src/runtime/step-handler.ts';
import { testGreenStep } from '../src/steps/test-green.ts';

export const handler = createStepHandler(testGreenStep);
