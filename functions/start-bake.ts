import { createStepHandler } from '../src/runtime/step-handler.ts';
import { startBakeStep } from '../src/steps/start-bake.ts';

export const handler = createStepHandler(startBakeStep);
