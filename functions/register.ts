import { createStepHandler } from '../src/runtime/step-handler.ts';
import { registerStep } from '../src/steps/register.ts';

export const handler = createStepHandler(registerStep);
