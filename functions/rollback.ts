import { createStepHandler } from '../src/runtime/step-handler.ts';
import { rollbackStep } from '../src/steps/rollback.ts';

export const handler = createStepHandler(rollbackStep);
