import { createStepHandler } from '../src/runtime/step-handler.ts';
import { sharedTeardownDependencies } from '../src/runtime/teardown-dependencies.ts';
import { teardownStep } from '../src/steps/teardown.ts';

export const handler = createStepHandler(teardownStep, sharedTeardownDependencies);
