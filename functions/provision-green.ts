import { createStepHandler } from '../src/runtime/step-handler.ts';
import { provisionGreenStep } from '../src/steps/provision-green.ts';

export const handler = createStepHandler(provisionGreenStep);
