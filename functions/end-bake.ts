import { createStepHandler } from '../src/runtime/step-handler.ts';
import { endBakeStep } from '../src/steps/end-bake.ts';

export const handler = createStepHandler(endBakeStep);
