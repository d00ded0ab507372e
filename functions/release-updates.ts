import { buildRegistry } from '../src/runtime/ports/registry.ts';
import { buildReleaseUpdateThreads } from '../src/runtime/ports/release-updates.ts';
import { buildSlackMessenger } from '../src/runtime/ports/slack-messenger.ts';
import { createStepHandler } from '../src/runtime/step-handler.ts';
import { processDependencies } from '../src/runtime/wiring.ts';
import { releaseUpdatesStep } from '../src/steps/release-updates.ts';

export const handler = createStepHandler(
  releaseUpdatesStep,
  processDependencies(buildRegistry, buildReleaseUpdateThreads, buildSlackMessenger),
);
