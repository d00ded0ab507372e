import { AlarmGateFailed, GateInconclusive, MetricGateFailed } from '../core/errors.ts';
import { decideGate, type ReleaseSubject, releaseSubjectOf } from '../core/gate.ts';
import {
  decideStepGate,
  evaluateMetricGate,
  type HoldState,
  metricGateQueries,
} from '../core/metric-gate.ts';
import { ReleasePhase } from '../core/phases.ts';
import type { Colours, MetricEvidence, ReleaseSpec, WeightStep } from '../core/records.ts';
import { alarmNamesOf, type MetricGate } from '../core/service-config.ts';
import { ReleaseEventType } from '../core/transitions.ts';
import * as z from '../core/zod.ts';
import type { StepDependencies } from '../runtime/dependencies.ts';
import type { Step } from '../runtime/step-handler.ts';
import {
  type AdvanceDependencies,
  advanceRelease,
  assertCanAdvance,
  loadRelease,
  stepRecord,
} from './advance-release.ts';
import { ColoursSchema, ReleaseSpecSchema, WeightStepSchema } from './inputs.ts';
import { serviceOf } from './service.ts';

/**
 * What a gate check concluded, short of failing (which throws): go on, or hold the weight and
 * look again in `holdSeconds`. `holds` and `heldSeconds` count this step's holds so far; the
 * workflow hands the verdict back to the next check of a held step (`$.gate`).
 */
export interface GateVerdict {
  verdict: 'pass' | 'hold';
  holdSeconds: number;
  reason: string;
  holds: number;
  heldSeconds: number;
  /** Set on a hold because an operator paused the release: its wait is not a metric hold. */
  paused?: boolean;
}

const PreviousVerdict = z.lazy(() =>
  z.object({
    verdict: z.enum(['pass', 'hold']),
    holdSeconds: z.int().check(z.gte(0)),
    holds: z._default(z.int().check(z.gte(0)), 0),
    heldSeconds: z._default(z.int().check(z.gte(0)), 0),
    paused: z.optional(z.boolean()),
  }),
);

const CheckGatesInput = z.lazy(() =>
  z.object({
    release: ReleaseSpecSchema,
    colours: ColoursSchema,
    step: WeightStepSchema,
    /** The previous check's verdict, present when this step was held. */
    gate: z.optional(PreviousVerdict),
  }),
);
export type CheckGatesInput = {
  release: ReleaseSpec;
  colours: Colours;
  step: WeightStep;
  gate?: z.infer<typeof PreviousVerdict>;
};

/**
 * How often a paused release looks at its gates again. An alarm during a pause is noticed
 * within this long (a bake's alarm events are over: the bake ended before the hold).
 */
export const pausedHoldSeconds = 10;

/**
 * After a bake: any watched alarm in ALARM (or gone missing) rolls the release back; each
 * metric gate compares green with blue over its window. A metric gate with too little data
 * holds the weight (the workflow waits `holdSeconds` and checks again) until its
 * `maxHoldSeconds` have been held, then rolls back: never a pass for want of data. A gate
 * that passes holds the weight instead while an operator has the release paused. Failing
 * beats holding beats passing.
 *
 * No idempotency key: while a step is held the same check runs again and must see the gates
 * as they are now, not replay an earlier answer. Repeats are safe: the hold count comes from
 * the input (so a retried check writes the same timeline entries), and the release's
 * transitions treat a repeated verdict as no change.
 */
export const checkGatesStep: Step<
  CheckGatesInput,
  GateVerdict,
  AdvanceDependencies & Pick<StepDependencies, 'registry' | 'alarms' | 'metrics' | 'bakes'>
> = {
  name: 'check-gates',
  input: CheckGatesInput as z.ZodMiniType<CheckGatesInput>,
  run: async ({ release, colours, step, gate: previous }, deps) => {
    const service = await serviceOf(deps, release.service);
    const held: HoldState =
      previous?.verdict === 'hold'
        ? {
            holds: previous.holds,
            heldSeconds: previous.heldSeconds + (previous.paused ? 0 : previous.holdSeconds),
          }
        : { holds: 0, heldSeconds: 0 };
    const names = alarmNamesOf(service);
    const alarms = await deps.alarms.describe(names);
    const alarmGate = decideGate(names, alarms);
    const subject = releaseSubjectOf(service.target, colours);
    const metrics = await Promise.all(
      service.metricGates.map(async (gate) => ({
        gate,
        evidence: await measureGate(deps, gate, subject, step, held),
      })),
    );
    const verdict = decideStepGate(alarmGate, metrics, held);
    const evidence = {
      alarms,
      ...(metrics.length > 0 ? { metrics: metrics.map((m) => m.evidence) } : {}),
    };
    const where = `Gate after step ${step.index + 1} (${step.percent}% on green)`;

    if (verdict.verdict === 'hold') {
      // One entry per hold: each look is a decision with its own evidence. While held, an
      // alarm is seen at the next look: the bake's watch ended with the bake.
      await deps.ledger.recordStep(
        release.releaseId,
        stepRecord(deps, {
          key: `gate#${step.index}#hold#${held.holds + 1}`,
          step: 'gate',
          outcome: 'held',
          phase: ReleasePhase.Shifting,
          greenPercent: step.percent,
          reason: `${where}: ${verdict.reason}`,
          evidence,
        }),
      );
      return { ...verdict, holds: held.holds + 1, heldSeconds: held.heldSeconds };
    }

    // The bake is over (it timed out, or there was none): an alarm event from now on finds
    // nothing to cut short, and the next step's bake watches again.
    await deps.bakes.settle(release.releaseId, step.index, 'ended', verdict.reason);
    const passed = verdict.verdict === 'pass';
    await deps.ledger.recordStep(
      release.releaseId,
      stepRecord(deps, {
        key: `gate#${step.index}`,
        step: 'gate',
        outcome: passed ? 'succeeded' : 'failed',
        phase: passed ? ReleasePhase.Shifting : ReleasePhase.RollingBack,
        greenPercent: step.percent,
        reason: `${where}: ${verdict.reason}`,
        evidence,
      }),
    );
    const record = await loadRelease(deps, release.releaseId);
    if (verdict.verdict === 'fail') {
      const failedMetrics = metrics
        .filter((m) => m.evidence.verdict !== 'pass')
        .filter((m) => verdict.error !== 'AlarmGateFailed' || m.evidence.verdict === 'fail')
        .map((m) => ({ name: m.gate.name, verdict: failureOf(m.evidence) }));
      await advanceRelease(
        deps,
        record,
        {
          type: ReleaseEventType.GateFailed,
          index: step.index,
          alarms: [...alarmGate.firing.map((a) => a.name), ...alarmGate.missing],
          ...(failedMetrics.length > 0 ? { metrics: failedMetrics } : {}),
        },
        {
          eventKey: `gate#${step.index}`,
          detail: {
            alarms: alarmGate.firing,
            missing: alarmGate.missing,
            ...(evidence.metrics ? { metrics: evidence.metrics } : {}),
          },
        },
      );
      const details = { step: step.index, alarms: alarmGate.firing, metrics: failedMetrics };
      switch (verdict.error) {
        case 'MetricGateFailed':
          throw new MetricGateFailed(verdict.reason, details);
        case 'GateInconclusive':
          throw new GateInconclusive(verdict.reason, details);
        default:
          throw new AlarmGateFailed(verdict.reason, details);
      }
    }
    const gatePassed = { type: ReleaseEventType.GatePassed, index: step.index } as const;
    if (record.control?.paused) {
      // The release's reason stays the operator's ("Paused by ...") while it holds. A pause
      // hold is not a hold for want of data: it leaves the metric gates' hold count and time
      // as they were (`paused` tells the next check not to add this wait).
      assertCanAdvance(record, gatePassed);
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
      return {
        verdict: 'hold',
        holdSeconds: pausedHoldSeconds,
        reason,
        holds: held.holds,
        heldSeconds: held.heldSeconds,
        paused: true,
      };
    }
    await advanceRelease(deps, record, gatePassed);
    return {
      verdict: 'pass',
      holdSeconds: 0,
      reason: verdict.reason,
      holds: held.holds,
      heldSeconds: held.heldSeconds,
    };
  },
};

function failureOf(evidence: MetricEvidence): 'fail' | 'inconclusive' {
  return evidence.verdict === 'fail' ? 'fail' : 'inconclusive';
}

/** Reads one metric gate's window, ending now, and decides it. */
async function measureGate(
  deps: Pick<StepDependencies, 'metrics' | 'now'>,
  gate: MetricGate,
  subject: ReleaseSubject,
  step: WeightStep,
  held: HoldState,
): Promise<MetricEvidence> {
  const end = deps.now();
  const start = new Date(end.getTime() - gate.windowSeconds * 1000);
  const queries = metricGateQueries(gate, subject);
  const results = await deps.metrics.query(queries, { start, end });
  return evaluateMetricGate(gate, subject, queries, results, {
    greenPercent: step.percent,
    window: { start: start.toISOString(), end: end.toISOString() },
    held,
  });
}
