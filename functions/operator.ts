import { buildApprovals } from '../src/runtime/ports/approvals.ts';
import { buildBakes } from '../src/runtime/ports/bakes.ts';
import { buildCommandLog } from '../src/runtime/ports/commands.ts';
import { buildLedger } from '../src/runtime/ports/ledger.ts';
import { buildLifecycleEvents } from '../src/runtime/ports/lifecycle-events.ts';
import { buildLock } from '../src/runtime/ports/lock.ts';
import { buildRegistry } from '../src/runtime/ports/registry.ts';
import { buildReleaseRequests } from '../src/runtime/ports/release-requests.ts';
import { buildTaskCallbacks } from '../src/runtime/ports/task-callbacks.ts';
import { buildTrafficRouter } from '../src/runtime/ports/traffic-router.ts';
import { createStepHandler } from '../src/runtime/step-handler.ts';
import { processDependencies } from '../src/runtime/wiring.ts';
import { operatorCommandStep } from '../src/steps/operator-command.ts';

export const handler = createStepHandler(
  operatorCommandStep,
  processDependencies(
    buildRegistry,
    buildLedger,
    buildLock,
    buildLifecycleEvents,
    buildBakes,
    buildTaskCallbacks,
    buildApprovals,
    buildCommandLog,
    buildReleaseRequests,
    buildTrafficRouter,
  ),
);
