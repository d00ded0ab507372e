import { ErrorName } from '../core/errors.ts';
import { ReleasePhase } from '../core/phases.ts';
import type { AlarmEvidence } from '../core/records.ts';
import { ReleaseEventType } from '../core/transitions.ts';
import type { StepDependencies } from '../runtime/dependencies.ts';
import {
  type AdvanceDependencies,
  advanceRelease,
  loadRelease,
  stepRecord,
} from './advance-release.ts';

/** Settling the bake, recording the failure, moving the release on, failing the bake's token. */
export type InterruptDependencies = AdvanceDependencies &
  Pick<StepDependencies, 'bakes' | 'callbacks'>;

/**
 * Cuts a bake short because a gate alarm fired: records the gate failure with its evidence,
 * moves the release to RollingBack, and fails the bake's callback token so the workflow goes
 * to Rollback now rather than at the end of the bake. Safe to repeat: the bake is settled
 * with a conditional write, and answering a token twice is harmless.
 */
export async function interruptBake(
  deps: InterruptDependencies,
  input: { releaseId: string; stepIndex: number; firing: AlarmEvidence[]; reason: string },
): Promise<'interrupted' | 'not-baking'> {
  const { changed, record: bake } = await deps.bakes.settle(
    input.releaseId,
    input.stepIndex,
    'interrupted',
    input.reason,
  );
  const ours = bake?.stepIndex === input.stepIndex && bake.status === 'interrupted';
  if (!changed && !ours) return 'not-baking';
  const release = await loadRelease(deps, input.releaseId);
  await deps.ledger.recordStep(
    input.releaseId,
    stepRecord(deps, {
      key: `gate#${input.stepIndex}`,
      step: 'gate',
      outcome: 'failed',
      phase: ReleasePhase.RollingBack,
      greenPercent: release.greenPercent,
      reason: `Bake of step ${input.stepIndex + 1} cut short: ${input.reason}`,
      evidence: { alarms: input.firing },
    }),
  );
  await advanceRelease(
    deps,
    release,
    {
      type: ReleaseEventType.GateFailed,
      index: input.stepIndex,
      alarms: input.firing.map((alarm) => alarm.name),
    },
    { eventKey: `gate#${input.stepIndex}`, detail: { alarms: input.firing, interrupted: true } },
  );
  if (bake?.taskToken) {
    await deps.callbacks.fail(bake.taskToken, ErrorName.AlarmGateFailed, input.reason);
  }
  return 'interrupted';
}
