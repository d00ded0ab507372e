import { createStepHandler } from '../src/runtime/step-handler.ts';
import { sharedTeardownDependencies } from '../src/runtime/teardown-dependencies.ts';
import { sweeperStep } from '../src/steps/sweeper.ts';

export const handler = createStepHandler(sweeperStep, sharedTeardownDependencies);
