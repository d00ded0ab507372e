import { ReleasePhase } from '../core/phases.ts';
import type { Colours, ReleaseRecord, ReleaseSpec, WeightStep } from '../core/records.ts';
import { ReleaseEventType } from '../core/transitions.ts';
import type { StepDependencies, TrafficRouting } from '../runtime/dependencies.ts';
import type { IdempotentStep } from '../runtime/step-handler.ts';
import {
  type AdvanceDependencies,
  advanceRelease,
  assertCanAdvance,
  loadRelease,
  stepRecord,
} from './advance-release.ts';
import { WeightStepInput } from './inputs.ts';
import { serviceOf } from './service.ts';

/**
 * Puts one step's share of traffic on green; answers with the step as applied, which is what
 * the bake and the gate check read. For a promoted release that is 100% with no bake, once;
 * the plan's later steps then change nothing and answer the step that put 100% on green.
 */
export const setWeightStep: IdempotentStep<
  { release: ReleaseSpec; colours: Colours; step: WeightStep },
  WeightStep,
  AdvanceDependencies & Pick<StepDependencies, 'registry'> & TrafficRouting
> = {
  name: 'set-weight',
  input: WeightStepInput,
  idempotencyKey: ({ release, step }) => ({
    releaseId: release.releaseId,
    step: 'shift',
    index: step.index,
  }),
  run: async ({ release, colours, step: planned }, deps) => {
    const service = await serviceOf(deps, release.service);
    const record = await loadRelease(deps, release.releaseId);
    const step = stepToApply(record, planned);
    if (step === 'done') {
      const applied = { index: record.stepIndex, percent: 100, bakeSeconds: 0 };
      // An abort after promote must still stop the plan here.
      assertCanAdvance(record, { type: ReleaseEventType.WeightSet, ...applied });
      return applied;
    }
    const event = {
      type: ReleaseEventType.WeightSet,
      index: step.index,
      percent: step.percent,
    } as const;
    assertCanAdvance(record, event);
    await deps.targetFor(service).setGreenPercent(service, colours, step.percent);
    const promoted = step !== planned;
    await deps.ledger.recordStep(
      release.releaseId,
      stepRecord(deps, {
        key: `shift#${step.index}`,
        step: 'shift',
        outcome: 'succeeded',
        phase: ReleasePhase.Shifting,
        greenPercent: step.percent,
        reason: promoted
          ? `Step ${step.index + 1} of ${release.plan.length}: promoted, all traffic on green, no bake (${record.reason})`
          : `Step ${step.index + 1} of ${release.plan.length}: ${step.percent}% of traffic on green, baking ${step.bakeSeconds}s`,
      }),
    );
    await advanceRelease(deps, record, event, {
      eventKey: `shift#${step.index}`,
      detail: { step: step.index, bakeSeconds: step.bakeSeconds, ...(promoted && { promoted }) },
    });
    return step;
  },
};

/** The planned step, the promoted one (100%, no bake), or `done` when promote already got there. */
function stepToApply(record: ReleaseRecord, planned: WeightStep): WeightStep | 'done' {
  if (!record.control?.promoted) return planned;
  if (record.stepIndex >= 0 && record.greenPercent === 100) return 'done';
  return { index: planned.index, percent: 100, bakeSeconds: 0 };
}
