import { BakeNotStarted } from '../core/errors.ts';
import { ReleasePhase } from '../core/phases.ts';
import type { Colours, ReleaseSpec, WeightStep } from '../core/records.ts';
import type { StepDependencies } from '../runtime/dependencies.ts';
import type { Step } from '../runtime/step-handler.ts';
import { stepRecord } from './advance-release.ts';
import { WeightStepInput } from './inputs.ts';

export interface BakeEnded {
  ended: boolean;
}

/**
 * Ends a bake that ran its course: settles it and answers the watching branch's token, so
 * the workflow goes on to the gate check. A bake that an alarm already cut short is left as
 * it is (the workflow is rolling back). No idempotency key: settle is a conditional write and
 * answering a token twice is harmless.
 */
export const endBakeStep: Step<
  { release: ReleaseSpec; colours: Colours; step: WeightStep },
  BakeEnded,
  Pick<StepDependencies, 'ledger' | 'bakes' | 'callbacks' | 'now'>
> = {
  name: 'end-bake',
  input: WeightStepInput,
  run: async ({ release, step }, deps) => {
    const bake = await deps.bakes.get(release.releaseId);
    if (bake === undefined || bake.stepIndex < step.index) {
      throw new BakeNotStarted(
        `The bake of step ${step.index + 1} of ${release.releaseId} has not started yet`,
      );
    }
    if (bake.stepIndex > step.index) return { ended: false };
    const { changed, record } = await deps.bakes.settle(
      release.releaseId,
      step.index,
      'ended',
      `Baked ${step.bakeSeconds}s`,
    );
    const token = record?.taskToken;
    if (token === undefined || record?.status !== 'ended') return { ended: false };
    await deps.ledger.recordStep(
      release.releaseId,
      stepRecord(deps, {
        key: `bake#${step.index}`,
        step: 'bake',
        outcome: 'succeeded',
        phase: ReleasePhase.Shifting,
        greenPercent: step.percent,
        reason: `Baked step ${step.index + 1} for ${step.bakeSeconds}s with no gate alarm firing`,
      }),
    );
    await deps.callbacks.succeed(token, { bakedSeconds: step.bakeSeconds, settledNow: changed });
    return { ended: true };
  },
};
