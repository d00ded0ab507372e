import type { GateDecision, ReleaseSubject } from './gate.ts';
import type { MetricEvidence, MetricQueryEvidence } from './records.ts';
import { GateMetric, type MetricGate } from './service-config.ts';

type Colour = 'green' | 'blue';

/**
 * What a query measures for its gate: `failures` over `requests` make an error rate; `latency`
 * is a percentile whose sample count is `samples`.
 */
export type MetricRole = 'failures' | 'requests' | 'latency' | 'samples';

/** One CloudWatch GetMetricData query (a MetricStat), for one colour. */
export interface MetricQuery {
  /** Unique within a request and valid as a GetMetricData Id: `green_failures`. */
  id: string;
  colour: Colour;
  role: MetricRole;
  namespace: string;
  metric: string;
  dimensions: Record<string, string>;
  /** `Sum`, `SampleCount` or a percentile such as `p99`. */
  stat: string;
  periodSeconds: number;
}

/** The datapoints CloudWatch returned for one query (any order). */
export interface MetricQueryResult {
  id: string;
  values: number[];
}

/** What one colour did in the window: its value (absent without data) and how many samples. */
export interface ColourObservation {
  value?: number;
  samples: number;
}

export interface MetricGateDecision {
  verdict: 'pass' | 'fail' | 'inconclusive';
  reason: string;
}

/**
 * The queries that measure `gate` for both colours. Lambda: by `ExecutedVersion` under the
 * alias (the dimension set Lambda publishes for weighted aliases), ALB: by target group. One
 * period spans the whole window, so each query answers with (about) one datapoint.
 */
export function metricGateQueries(gate: MetricGate, subject: ReleaseSubject): MetricQuery[] {
  const queries: MetricQuery[] = [];
  for (const colour of ['green', 'blue'] as const) {
    const add = (role: MetricRole, metric: string, stat: string) => {
      queries.push({
        id: `${colour}_${role}`,
        colour,
        role,
        namespace: subject.kind === 'lambda-alias' ? 'AWS/Lambda' : 'AWS/ApplicationELB',
        metric,
        dimensions: dimensionsOf(subject, colour),
        stat,
        periodSeconds: gate.windowSeconds,
      });
    };
    const lambda = subject.kind === 'lambda-alias';
    if (gate.metric === GateMetric.ErrorRate) {
      add('failures', lambda ? 'Errors' : 'HTTPCode_Target_5XX_Count', 'Sum');
      add('requests', lambda ? 'Invocations' : 'RequestCount', 'Sum');
    } else {
      const metric = lambda ? 'Duration' : 'TargetResponseTime';
      add('latency', metric, 'p99');
      add('samples', metric, 'SampleCount');
    }
  }
  return queries;
}

function dimensionsOf(subject: ReleaseSubject, colour: Colour): Record<string, string> {
  if (subject.kind === 'lambda-alias') {
    return {
      FunctionName: subject.functionName,
      Resource: `${subject.functionName}:${subject.alias}`,
      ExecutedVersion: subject[colour],
    };
  }
  return { LoadBalancer: subject.loadBalancer, TargetGroup: subject[colour] };
}

/**
 * One query's datapoints as one number: counts add up; a percentile takes the worst period,
 * because percentiles of several periods cannot be combined exactly and a gate errs towards
 * caution. Absent when CloudWatch returned no datapoint.
 */
export function aggregateValues(stat: string, values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  if (stat === 'Sum' || stat === 'SampleCount') return values.reduce((a, b) => a + b, 0);
  return Math.max(...values);
}

/** Evidence of each query: its identity, its datapoints' aggregate and their count. */
export function queryEvidence(
  queries: readonly MetricQuery[],
  results: readonly MetricQueryResult[],
): MetricQueryEvidence[] {
  const byId = new Map(results.map((result) => [result.id, result.values]));
  return queries.map((query) => {
    const values = byId.get(query.id) ?? [];
    const value = aggregateValues(query.stat, values);
    return {
      id: query.id,
      colour: query.colour,
      namespace: query.namespace,
      metric: query.metric,
      dimensions: query.dimensions,
      stat: query.stat,
      ...(value === undefined ? {} : { value }),
      datapoints: values.length,
    };
  });
}

/**
 * One colour's value and sample count from the queries' evidence. Error rate: failures per
 * hundred requests (a period with requests but no Errors datapoint had none). Latency: p99 in
 * milliseconds (ALB reports seconds).
 */
export function observeColour(
  gate: MetricGate,
  queries: readonly MetricQueryEvidence[],
  colour: Colour,
  subject: ReleaseSubject,
): ColourObservation {
  const measured = (role: MetricRole) => queries.find((q) => q.id === `${colour}_${role}`)?.value;
  if (gate.metric === GateMetric.ErrorRate) {
    const requests = measured('requests') ?? 0;
    if (requests <= 0) return { samples: 0 };
    return { value: ((measured('failures') ?? 0) / requests) * 100, samples: requests };
  }
  const samples = measured('samples') ?? 0;
  const latency = measured('latency');
  if (latency === undefined) return { samples };
  return { value: subject.kind === 'alb-listener' ? latency * 1000 : latency, samples };
}

/**
 * Decides one metric gate from what green and blue did in the window.
 * - Green with fewer than `minSamples` is inconclusive: never a pass.
 * - Above `max`, or more than `maxAboveBlue` above blue: fail.
 * - The comparison with blue needs blue's samples too; short of them it is inconclusive,
 *   except once all traffic is on green (blue takes none by design): then only `max`
 *   applies, and the comparison was made at the earlier steps.
 */
export function decideMetricGate(
  gate: MetricGate,
  observed: { green: ColourObservation; blue: ColourObservation },
  context: { greenPercent: number },
): MetricGateDecision {
  const { green, blue } = observed;
  const unit = gate.metric === GateMetric.ErrorRate ? '%' : ' ms';
  const points = gate.metric === GateMetric.ErrorRate ? ' points' : ' ms';
  const show = (value: number | undefined) =>
    value === undefined ? 'no value' : `${formatNumber(value)}${unit}`;
  const what = gate.metric === GateMetric.ErrorRate ? 'error rate' : 'p99 latency';
  const window = `in the last ${gate.windowSeconds}s`;
  if (green.samples < gate.minSamples) {
    return {
      verdict: 'inconclusive',
      reason: `green had ${formatNumber(green.samples)} of the ${gate.minSamples} samples needed ${window}`,
    };
  }
  if (green.value === undefined) {
    return { verdict: 'inconclusive', reason: `green's ${what} has no value ${window}` };
  }
  const greenText = `green ${what} ${show(green.value)} (${formatNumber(green.samples)} samples)`;
  if (gate.max !== undefined && green.value > gate.max) {
    return { verdict: 'fail', reason: `${greenText} is above the maximum ${show(gate.max)}` };
  }
  const checks = gate.max === undefined ? [] : [`at most ${show(gate.max)}`];
  if (gate.maxAboveBlue !== undefined) {
    const blueText = `blue ${show(blue.value)} (${formatNumber(blue.samples)} samples)`;
    if (blue.samples >= gate.minSamples && blue.value !== undefined) {
      const above = green.value - blue.value;
      if (above > gate.maxAboveBlue) {
        return {
          verdict: 'fail',
          reason: `${greenText} is ${formatNumber(above)}${points} above ${blueText}; at most ${formatNumber(gate.maxAboveBlue)}${points} allowed`,
        };
      }
      checks.push(`${blueText}, at most +${formatNumber(gate.maxAboveBlue)}${points}`);
    } else if (context.greenPercent >= 100) {
      checks.push(
        `no comparison with blue, which takes no traffic at 100% on green (${formatNumber(blue.samples)} samples; compared at the earlier steps)`,
      );
    } else {
      return {
        verdict: 'inconclusive',
        reason: `${greenText}, but blue had ${formatNumber(blue.samples)} of the ${gate.minSamples} samples needed to compare ${window}`,
      };
    }
  }
  return { verdict: 'pass', reason: `${greenText}; ${checks.join('; ')}` };
}

/** Measures and decides one gate from the queries' results: the evidence the ledger keeps. */
export function evaluateMetricGate(
  gate: MetricGate,
  subject: ReleaseSubject,
  queries: readonly MetricQuery[],
  results: readonly MetricQueryResult[],
  context: { greenPercent: number; window: { start: string; end: string }; held: HoldState },
): MetricEvidence {
  const evidence = queryEvidence(queries, results);
  const green = observeColour(gate, evidence, 'green', subject);
  const blue = observeColour(gate, evidence, 'blue', subject);
  const decision = decideMetricGate(gate, { green, blue }, context);
  return {
    gate: gate.name,
    metric: gate.metric,
    verdict: decision.verdict,
    reason: decision.reason,
    green,
    blue,
    threshold: {
      ...(gate.max === undefined ? {} : { max: gate.max }),
      ...(gate.maxAboveBlue === undefined ? {} : { maxAboveBlue: gate.maxAboveBlue }),
      minSamples: gate.minSamples,
    },
    window: context.window,
    queries: evidence,
    holds: context.held.holds,
    heldSeconds: context.held.heldSeconds,
  };
}

/** How long a weight step has been held so far: the holds already waited out. */
export interface HoldState {
  holds: number;
  heldSeconds: number;
}

export type StepGateVerdict =
  | { verdict: 'pass'; reason: string }
  | { verdict: 'hold'; holdSeconds: number; reason: string }
  | {
      verdict: 'fail';
      error: 'AlarmGateFailed' | 'MetricGateFailed' | 'GateInconclusive';
      reason: string;
    };

/**
 * The verdict of a weight step's gate check from its alarms and metric gates: any alarm or
 * metric failing fails; a metric gate that cannot decide holds the weight for the shortest of
 * the undecided gates' `holdSeconds` (never past a gate's `maxHoldSeconds`); once any
 * undecided gate has been held its `maxHoldSeconds`, the release fails as inconclusive.
 */
export function decideStepGate(
  alarms: GateDecision,
  metrics: readonly { gate: MetricGate; evidence: MetricEvidence }[],
  held: HoldState,
): StepGateVerdict {
  const failed = metrics.filter((m) => m.evidence.verdict === 'fail');
  const metricText = (list: typeof metrics) =>
    list.map((m) => `metric gate ${m.gate.name}: ${m.evidence.reason}`).join('; ');
  if (!alarms.passed) {
    const also = failed.length > 0 ? `; ${metricText(failed)}` : '';
    return { verdict: 'fail', error: 'AlarmGateFailed', reason: `${alarms.reason}${also}` };
  }
  if (failed.length > 0) {
    return { verdict: 'fail', error: 'MetricGateFailed', reason: capitalize(metricText(failed)) };
  }
  const undecided = metrics.filter((m) => m.evidence.verdict === 'inconclusive');
  if (undecided.length === 0) {
    const passed = metrics.length > 0 ? `; ${metricText(metrics)}` : '';
    return { verdict: 'pass', reason: `${alarms.reason}${passed}` };
  }
  const expired = undecided.filter((m) => held.heldSeconds >= m.gate.maxHoldSeconds);
  if (expired.length > 0) {
    return {
      verdict: 'fail',
      error: 'GateInconclusive',
      reason: `${capitalize(metricText(expired))}; still inconclusive after holding ${held.heldSeconds}s (${held.holds} hold${held.holds === 1 ? '' : 's'}, limit ${Math.min(...expired.map((m) => m.gate.maxHoldSeconds))}s): rolled back rather than passed without data`,
    };
  }
  const holdSeconds = Math.max(
    1,
    Math.min(
      ...undecided.map((m) =>
        Math.min(m.gate.holdSeconds, m.gate.maxHoldSeconds - held.heldSeconds),
      ),
    ),
  );
  return {
    verdict: 'hold',
    holdSeconds,
    reason: `Holding ${holdSeconds}s (hold ${held.holds + 1}, ${held.heldSeconds}s held so far): ${metricText(undecided)}`,
  };
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Up to two decimals, no trailing zeros: `0.5`, `12`, `33.33`. */
function formatNumber(value: number): string {
  return String(Math.round(value * 100) / 100);
}
