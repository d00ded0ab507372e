import { sharedOperatorDependencies } from '../src/runtime/operator-dependencies.ts';
import { createStepHandler } from '../src/runtime/step-handler.ts';
import { operatorCommandStep } from '../src/steps/operator-command.ts';

export const handler = createStepHandler(operatorCommandStep, sharedOperatorDependencies);
