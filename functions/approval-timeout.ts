import { buildApprovals } from '../src/runtime/ports/approvals.ts';
import { buildLedger } from '../src/runtime/ports/ledger.ts';
import { buildLifecycleEvents } from '../src/runtime/ports/lifecycle-events.ts';
import { buildLockBystander } from '../src/runtime/ports/lock-bystander.ts';
import { buildRegistry } from '../src/runtime/ports/registry.ts';
import { buildSlackMessenger } from '../src/runtime/ports/slack-messenger.ts';
import { createStepHandler } from '../src/runtime/step-handler.ts';
import { processDependencies } from '../src/runtime/wiring.ts';
import { approvalTimeoutStep } from '../src/steps/approval-timeout.ts';

export const handler = createStepHandler(
  approvalTimeoutStep,
  processDependencies(
    buildRegistry,
    buildLedger,
    buildLockBystander,
    buildLifecycleEvents,
    buildApprovals,
    buildSlackMessenger,
  ),
);
