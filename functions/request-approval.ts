import { createStepHandler } from '../src/runtime/step-handler.ts';
import { sharedApprovalStepDependencies } from '../src/slack/dependencies.ts';
import { requestApprovalStep } from '../src/steps/request-approval.ts';

export const handler = createStepHandler(requestApprovalStep, sharedApprovalStepDependencies);
