import { createStepHandler } from '../src/runtime/step-handler.ts';
import { bakeTickStep } from '../src/steps/bake-tick.ts';

export const handler = createStepHandler(bakeTickStep);
