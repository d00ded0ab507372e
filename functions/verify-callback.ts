import { buildApprovals } from '../src/runtime/ports/approvals.ts';
import { buildBakes } from '../src/runtime/ports/bakes.ts';
import { buildLedger } from '../src/runtime/ports/ledger.ts';
import { buildRegistry } from '../src/runtime/ports/registry.ts';
import { createStepHandler } from '../src/runtime/step-handler.ts';
import { processDependencies } from '../src/runtime/wiring.ts';
import { verifyCallbackStep } from '../src/steps/verify-callback.ts';

export const handler = createStepHandler(
  verifyCallbackStep,
  processDependencies(buildRegistry, buildLedger, buildBakes, buildApprovals),
);
