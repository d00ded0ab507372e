import { buildAlarmReader } from '../src/runtime/ports/alarms.ts';
import { buildBakes } from '../src/runtime/ports/bakes.ts';
import { buildLedger } from '../src/runtime/ports/ledger.ts';
import { buildLifecycleEvents } from '../src/runtime/ports/lifecycle-events.ts';
import { buildLockBystander } from '../src/runtime/ports/lock-bystander.ts';
import { buildMetricReader } from '../src/runtime/ports/metrics.ts';
import { buildRegistry } from '../src/runtime/ports/registry.ts';
import { createStepHandler } from '../src/runtime/step-handler.ts';
import { processDependencies } from '../src/runtime/wiring.ts';
import { checkGatesStep } from '../src/steps/check-gates.ts';

export const handler = createStepHandler(
  checkGatesStep,
  processDependencies(
    buildRegistry,
    buildLedger,
    buildLockBystander,
    buildLifecycleEvents,
    buildBakes,
    buildAlarmReader,
    buildMetricReader,
  ),
);
