import { ReleasePhase } from '../core/phases.ts';
import type { Colours, ReleaseSpec, WeightStep } from '../core/records.ts';
import { ReleaseEventType } from '../core/transitions.ts';
import type { Step } from '../runtime/step-handler.ts';
import { advanceRelease, assertCanAdvance, loadRelease, stepRecord } from './advance-release.ts';
import { WeightStepInput } from './inputs.ts';
import { serviceOf } from './service.ts';

/** Puts one step's share of traffic on green; answers with the step as applied. */
export const setWeightStep: Step<
  { release: ReleaseSpec; colours: Colours; step: WeightStep },
  WeightStep
> = {
  name: 'set-weight',
  input: WeightStepInput,
  idempotencyKey: ({ release, step }) => ({
    releaseId: release.releaseId,
    step: 'shift',
    index: step.index,
  }),
  run: async ({ release, colours, step }, deps) => {
    const service = serviceOf(deps, release.service);
    const record = await loadRelease(deps, release.releaseId);
    const event = {
      type: ReleaseEventType.WeightSet,
      index: step.index,
      percent: step.percent,
    } as const;
    assertCanAdvance(record, event);
    await deps.targetFor(service).setGreenPercent(service, colours, step.percent);
    await deps.ledger.recordStep(
      release.releaseId,
      stepRecord(deps, {
        key: `shift#${step.index}`,
        step: 'shift',
        outcome: 'succeeded',
        phase: ReleasePhase.Shifting,
        greenPercent: step.percent,
        reason: `Step ${step.index + 1} of ${release.plan.length}: ${step.percent}% of traffic on green, baking ${step.bakeSeconds}s`,
      }),
    );
    await advanceRelease(deps, record, event, {
      eventKey: `shift#${step.index}`,
      detail: { step: step.index, bakeSeconds: step.bakeSeconds },
    });
    return step;
  },
};
