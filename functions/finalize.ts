import { createStepHandler } from '../src/runtime/step-handler.ts';
import { sharedTeardownDependencies } from '../src/runtime/teardown-dependencies.ts';
import { finalizeStep } from '../src/steps/finalize.ts';

export const handler = createStepHandler(finalizeStep, sharedTeardownDependencies);
