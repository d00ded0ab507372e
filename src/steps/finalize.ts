import { ReleasePhase } from '../core/phases.ts';
import type { Colours, ReleaseSpec } from '../core/records.ts';
import { alarmNamesOf } from '../core/service-config.ts';
import { ReleaseEventType } from '../core/transitions.ts';
import type { Step } from '../runtime/step-handler.ts';
import { advanceRelease, assertCanAdvance, loadRelease, stepRecord } from './advance-release.ts';
import { ColouredReleaseInput } from './inputs.ts';
import { serviceOf } from './service.ts';

export interface ReleaseOutcome {
  phase: string;
  reason: string;
}

/** All traffic on green with no split left behind; frees the service for its next release. */
export const finalizeStep: Step<{ release: ReleaseSpec; colours: Colours }, ReleaseOutcome> = {
  name: 'finalize',
  input: ColouredReleaseInput,
  idempotencyKey: ({ release }) => ({ releaseId: release.releaseId, step: 'finalize', index: 0 }),
  run: async ({ release, colours }, deps) => {
    const service = serviceOf(deps, release.service);
    const record = await loadRelease(deps, release.releaseId);
    assertCanAdvance(record, { type: ReleaseEventType.Finalized });
    await deps.targetFor(service).finalize(service, colours);
    await deps.bakes.unwatch(release.releaseId, alarmNamesOf(service));
    await deps.ledger.recordStep(
      release.releaseId,
      stepRecord(deps, {
        key: 'finalize',
        step: 'finalize',
        outcome: 'succeeded',
        phase: ReleasePhase.Finalized,
        greenPercent: 100,
        reason: `All traffic on green; blue kept warm for ${service.warmWindowSeconds}s`,
      }),
    );
    const final = await advanceRelease(deps, record, { type: ReleaseEventType.Finalized });
    return { phase: final.phase, reason: final.reason };
  },
};
