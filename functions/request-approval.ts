import { buildApprovals } from '../src/runtime/ports/approvals.ts';
import { buildLedger } from '../src/runtime/ports/ledger.ts';
import { buildRegistry } from '../src/runtime/ports/registry.ts';
import { buildSlackMessenger } from '../src/runtime/ports/slack-messenger.ts';
import { buildTaskCallbacks } from '../src/runtime/ports/task-callbacks.ts';
import { createStepHandler } from '../src/runtime/step-handler.ts';
import { processDependencies } from '../src/runtime/wiring.ts';
import { requestApprovalStep } from '../src/steps/request-approval.ts';

export const handler = createStepHandler(
  requestApprovalStep,
  processDependencies(
    buildRegistry,
    buildLedger,
    buildApprovals,
    buildTaskCallbacks,
    buildSlackMessenger,
  ),
);
