import { AlarmGateFailed } from '../core/errors.ts';
import { decideGate } from '../core/gate.ts';
import { ReleasePhase } from '../core/phases.ts';
import type { Colours, ReleaseSpec, WeightStep } from '../core/records.ts';
import { ReleaseEventType } from '../core/transitions.ts';
import type { Step } from '../runtime/step-handler.ts';
import { advanceRelease, assertCanAdvance, loadRelease, stepRecord } from './advance-release.ts';
import { WeightStepInput } from './inputs.ts';
import { serviceOf } from './service.ts';

/**
 * What a gate check concluded, short of failing (which throws): go on, or hold the weight and
 * look again in `holdSeconds`.
 */
export interface GateVerdict {
  verdict: 'pass' | 'hold';
  holdSeconds: number;
  reason: string;
}

/**
 * How often a paused release looks at its gates again. An alarm during a pause is noticed
 * within this long (a bake's alarm events are over: the bake ended before the hold).
 */
export const pausedHoldSeconds = 10;

/**
 * After a bake: any watched alarm in ALARM (or gone missing) rolls the release back. A gate
 * that passes holds the weight instead while an operator has the release paused.
 *
 * No idempotency key: while a step is held the same check runs again and must see the
 * alarms as they are now, not replay an earlier answer. Repeats are safe: the timeline entry
 * is keyed by step, and the release's transitions treat a repeated verdict as no change.
 */
export const checkGatesStep: Step<
  { release: ReleaseSpec; colours: Colours; step: WeightStep },
  GateVerdict
> = {
  name: 'check-gates',
  input: WeightStepInput,
  run: async ({ release, step }, deps) => {
    const service = serviceOf(deps, release.service);
    const alarms = await deps.alarms.describe(service.alarms);
    const gate = decideGate(service.alarms, alarms);
    // The bake is over (it timed out, or there was none): an alarm event from now on finds
    // nothing to cut short, and the next step's bake watches again.
    await deps.bakes.settle(release.releaseId, step.index, 'ended', gate.reason);
    await deps.ledger.recordStep(
      release.releaseId,
      stepRecord(deps, {
        key: `gate#${step.index}`,
        step: 'gate',
        outcome: gate.passed ? 'succeeded' : 'failed',
        phase: gate.passed ? ReleasePhase.Shifting : ReleasePhase.RollingBack,
        greenPercent: step.percent,
        reason: `Gate after step ${step.index + 1} (${step.percent}% on green): ${gate.reason}`,
        evidence: { alarms },
      }),
    );
    const record = await loadRelease(deps, release.releaseId);
    if (!gate.passed) {
      await advanceRelease(
        deps,
        record,
        {
          type: ReleaseEventType.GateFailed,
          index: step.index,
          alarms: [...gate.firing.map((a) => a.name), ...gate.missing],
        },
        { eventKey: `gate#${step.index}`, detail: { alarms: gate.firing, missing: gate.missing } },
      );
      throw new AlarmGateFailed(gate.reason, { step: step.index, alarms: gate.firing });
    }
    const passed = { type: ReleaseEventType.GatePassed, index: step.index } as const;
    if (record.control?.paused) {
      // The release's reason stays the operator's ("Paused by ...") while it holds.
      assertCanAdvance(record, passed);
      const reason = `Holding at ${step.percent}% on green, gates checked every ${pausedHoldSeconds}s: ${record.reason}`;
      await deps.ledger.recordStep(
        release.releaseId,
        stepRecord(deps, {
          key: `hold#${step.index}`,
          step: 'hold',
          outcome: 'started',
          phase: ReleasePhase.Shifting,
          greenPercent: step.percent,
          reason,
        }),
      );
      return { verdict: 'hold', holdSeconds: pausedHoldSeconds, reason };
    }
    await advanceRelease(deps, record, passed);
    return { verdict: 'pass', holdSeconds: 0, reason: gate.reason };
  },
};
