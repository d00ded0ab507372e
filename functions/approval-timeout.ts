import { createStepHandler } from '../src/runtime/step-handler.ts';
import { sharedApprovalStepDependencies } from '../src/slack/dependencies.ts';
import { approvalTimeoutStep } from '../src/steps/approval-timeout.ts';

export const handler = createStepHandler(approvalTimeoutStep, sharedApprovalStepDependencies);
