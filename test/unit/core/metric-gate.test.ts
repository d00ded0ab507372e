import { describe, expect, it } from 'vitest';
import { decideGate, type ReleaseSubject } from '../../../src/core/gate.ts';
import {
  aggregateValues,
  decideMetricGate,
  decideStepGate,
  evaluateMetricGate,
  metricGateQueries,
} from '../../../src/core/metric-gate.ts';
import type { MetricEvidence } from '../../../src/core/records.ts';
import {
  MetricGate,
  type MetricGate as MetricGateConfig,
} from '../../../src/core/service-config.ts';

const lambda: ReleaseSubject = {
  kind: 'lambda-alias',
  functionName: 'checkout',
  alias: 'live',
  blue: '7',
  green: '8',
};
const alb: ReleaseSubject = {
  kind: 'alb-listener',
  loadBalancer: 'app/shop/0123456789abcdef',
  blue: 'targetgroup/shop-a/1111111111111111',
  green: 'targetgroup/shop-b/2222222222222222',
};
const window = { start: '2026-11-21T09:55:00.000Z', end: '2026-11-21T10:00:00.000Z' };
const notHeld = { holds: 0, heldSeconds: 0 };

function aGate(overrides: Record<string, unknown> = {}): MetricGateConfig {
  return MetricGate.parse({
    name: 'errors',
    metric: 'error-rate',
    max: 5,
    maxAboveBlue: 1,
    minSamples: 100,
    ...overrides,
  });
}

function evidenceOf(
  gate: MetricGateConfig,
  verdict: MetricEvidence['verdict'],
  reason: string,
): { gate: MetricGateConfig; evidence: MetricEvidence } {
  return {
    gate,
    evidence: {
      gate: gate.name,
      metric: gate.metric,
      verdict,
      reason,
      green: { samples: 0 },
      blue: { samples: 0 },
      threshold: { minSamples: gate.minSamples },
      window,
      queries: [],
      holds: 0,
      heldSeconds: 0,
    },
  };
}

describe('MetricGate', () => {
  it('takes defaults for samples, window and holds', () => {
    expect(MetricGate.parse({ name: 'errors', metric: 'error-rate', max: 1 })).toEqual({
      name: 'errors',
      metric: 'error-rate',
      max: 1,
      minSamples: 100,
      windowSeconds: 300,
      holdSeconds: 60,
      maxHoldSeconds: 600,
    });
  });

  it('refuses a gate without a threshold, saying which to set', () => {
    const parsed = MetricGate.safeParse({ name: 'errors', metric: 'error-rate' });
    expect(parsed.error?.issues[0]?.message).toBe(
      'has no threshold; set "max" (absolute) and/or "maxAboveBlue" (relative to blue)',
    );
  });

  it('refuses a window GetMetricData cannot use as a period', () => {
    const parsed = MetricGate.safeParse({
      name: 'e',
      metric: 'error-rate',
      max: 1,
      windowSeconds: 90,
    });
    expect(parsed.error?.issues[0]?.message).toBe(
      'must be 1, 5, 10, 30 or a multiple of 60 (a CloudWatch GetMetricData period)',
    );
  });
});

describe('metricGateQueries', () => {
  it('reads a Lambda error rate per version under the alias, one period for the window', () => {
    const queries = metricGateQueries(aGate({ windowSeconds: 120 }), lambda);
    expect(queries.map((q) => [q.id, q.metric, q.stat, q.dimensions.ExecutedVersion])).toEqual([
      ['green_failures', 'Errors', 'Sum', '8'],
      ['green_requests', 'Invocations', 'Sum', '8'],
      ['blue_failures', 'Errors', 'Sum', '7'],
      ['blue_requests', 'Invocations', 'Sum', '7'],
    ]);
    expect(queries[0]).toEqual({
      id: 'green_failures',
      colour: 'green',
      role: 'failures',
      namespace: 'AWS/Lambda',
      metric: 'Errors',
      dimensions: { FunctionName: 'checkout', Resource: 'checkout:live', ExecutedVersion: '8' },
      stat: 'Sum',
      periodSeconds: 120,
    });
  });

  it('reads ALB 5xx over requests and p99 response time per target group', () => {
    expect(
      metricGateQueries(aGate(), alb).map((q) => [q.id, q.namespace, q.metric, q.dimensions]),
    ).toContainEqual([
      'green_failures',
      'AWS/ApplicationELB',
      'HTTPCode_Target_5XX_Count',
      { LoadBalancer: alb.loadBalancer, TargetGroup: alb.green },
    ]);
    expect(
      metricGateQueries(aGate({ metric: 'latency-p99', max: 800 }), alb).map((q) => [
        q.id,
        q.metric,
        q.stat,
      ]),
    ).toEqual([
      ['green_latency', 'TargetResponseTime', 'p99'],
      ['green_samples', 'TargetResponseTime', 'SampleCount'],
      ['blue_latency', 'TargetResponseTime', 'p99'],
      ['blue_samples', 'TargetResponseTime', 'SampleCount'],
    ]);
  });
});

describe('aggregateValues', () => {
  it('adds counts across periods and takes the worst percentile', () => {
    expect(aggregateValues('Sum', [3, 4])).toBe(7);
    expect(aggregateValues('SampleCount', [10, 5])).toBe(15);
    expect(aggregateValues('p99', [120, 340])).toBe(340);
    expect(aggregateValues('Sum', [])).toBeUndefined();
  });
});

describe('decideMetricGate', () => {
  const canary = { greenPercent: 10 };

  it('is inconclusive when green has too few samples, never a pass', () => {
    expect(
      decideMetricGate(
        aGate(),
        { green: { value: 0, samples: 12 }, blue: { value: 0, samples: 900 } },
        canary,
      ),
    ).toEqual({
      verdict: 'inconclusive',
      reason: 'green had 12 of the 100 samples needed in the last 300s',
    });
  });

  it('fails when green is above the maximum', () => {
    expect(
      decideMetricGate(
        aGate(),
        { green: { value: 7.5, samples: 200 }, blue: { value: 0, samples: 1800 } },
        canary,
      ),
    ).toEqual({
      verdict: 'fail',
      reason: 'green error rate 7.5% (200 samples) is above the maximum 5%',
    });
  });

  it('fails when green is further above blue than allowed', () => {
    const decision = decideMetricGate(
      aGate({ max: undefined }),
      { green: { value: 2.5, samples: 200 }, blue: { value: 0.5, samples: 1800 } },
      canary,
    );
    expect(decision).toEqual({
      verdict: 'fail',
      reason:
        'green error rate 2.5% (200 samples) is 2 points above blue 0.5% (1800 samples); at most 1 points allowed',
    });
  });

  it('passes when green is within both thresholds, saying what it compared', () => {
    expect(
      decideMetricGate(
        aGate(),
        { green: { value: 1, samples: 200 }, blue: { value: 0.5, samples: 1800 } },
        canary,
      ),
    ).toEqual({
      verdict: 'pass',
      reason:
        'green error rate 1% (200 samples); at most 5%; blue 0.5% (1800 samples), at most +1 points',
    });
  });

  it('is inconclusive when blue has too few samples to compare while it still takes traffic', () => {
    expect(
      decideMetricGate(aGate(), { green: { value: 0, samples: 200 }, blue: { samples: 0 } }, canary)
        .verdict,
    ).toBe('inconclusive');
  });

  it('applies only the maximum at 100% on green, when blue takes no traffic by design', () => {
    const decision = decideMetricGate(
      aGate(),
      { green: { value: 0, samples: 200 }, blue: { samples: 0 } },
      { greenPercent: 100 },
    );
    expect(decision).toEqual({
      verdict: 'pass',
      reason:
        'green error rate 0% (200 samples); at most 5%; no comparison with blue, which takes no traffic at 100% on green (0 samples; compared at the earlier steps)',
    });
  });

  it('compares p99 latency in milliseconds', () => {
    const gate = aGate({ metric: 'latency-p99', max: undefined, maxAboveBlue: 50 });
    expect(
      decideMetricGate(
        gate,
        { green: { value: 420, samples: 300 }, blue: { value: 300, samples: 3000 } },
        canary,
      ).reason,
    ).toBe(
      'green p99 latency 420 ms (300 samples) is 120 ms above blue 300 ms (3000 samples); at most 50 ms allowed',
    );
  });
});

describe('evaluateMetricGate', () => {
  it('turns query results into evidence: queries, values, samples, verdict and holds', () => {
    const gate = aGate();
    const queries = metricGateQueries(gate, lambda);
    const evidence = evaluateMetricGate(
      gate,
      lambda,
      queries,
      [
        { id: 'green_failures', values: [3] },
        { id: 'green_requests', values: [100, 100] },
        { id: 'blue_requests', values: [1800] },
      ],
      { greenPercent: 10, window, held: { holds: 2, heldSeconds: 120 } },
    );
    expect(evidence).toMatchObject({
      gate: 'errors',
      metric: 'error-rate',
      verdict: 'fail',
      green: { value: 1.5, samples: 200 },
      blue: { value: 0, samples: 1800 },
      threshold: { max: 5, maxAboveBlue: 1, minSamples: 100 },
      window,
      holds: 2,
      heldSeconds: 120,
    });
    expect(evidence.queries.map((q) => [q.id, q.value, q.datapoints])).toEqual([
      ['green_failures', 3, 1],
      ['green_requests', 200, 2],
      ['blue_failures', undefined, 0],
      ['blue_requests', 1800, 1],
    ]);
  });

  it('reads ALB latency in seconds as milliseconds', () => {
    const gate = aGate({ metric: 'latency-p99', max: 500, maxAboveBlue: undefined });
    const evidence = evaluateMetricGate(
      gate,
      alb,
      metricGateQueries(gate, alb),
      [
        { id: 'green_latency', values: [0.25] },
        { id: 'green_samples', values: [150] },
      ],
      { greenPercent: 10, window, held: notHeld },
    );
    expect(evidence.green).toEqual({ value: 250, samples: 150 });
    expect(evidence.verdict).toBe('pass');
  });
});

describe('decideStepGate', () => {
  const alarmsOk = decideGate(
    ['checkout-errors'],
    [{ name: 'checkout-errors', state: 'OK', reason: '', updatedAt: window.end }],
  );
  const alarmFiring = decideGate(
    ['checkout-errors'],
    [{ name: 'checkout-errors', state: 'ALARM', reason: 'errors', updatedAt: window.end }],
  );

  it('passes when alarms and every metric gate pass', () => {
    expect(decideStepGate(alarmsOk, [evidenceOf(aGate(), 'pass', 'green 0%')], notHeld)).toEqual({
      verdict: 'pass',
      reason: '1 alarm not in ALARM; metric gate errors: green 0%',
    });
  });

  it('fails on an alarm first, adding failing metric gates to the reason', () => {
    expect(decideStepGate(alarmFiring, [evidenceOf(aGate(), 'fail', 'green 9%')], notHeld)).toEqual(
      {
        verdict: 'fail',
        error: 'AlarmGateFailed',
        reason: 'Alarm checkout-errors in ALARM: errors; metric gate errors: green 9%',
      },
    );
  });

  it('fails on a metric gate even while another cannot decide', () => {
    const verdict = decideStepGate(
      alarmsOk,
      [
        evidenceOf(aGate(), 'fail', 'green 9%'),
        evidenceOf(aGate({ name: 'latency' }), 'inconclusive', 'few'),
      ],
      notHeld,
    );
    expect(verdict).toEqual({
      verdict: 'fail',
      error: 'MetricGateFailed',
      reason: 'Metric gate errors: green 9%',
    });
  });

  it('holds for the shortest hold of the undecided gates, never past a limit', () => {
    const verdict = decideStepGate(
      alarmsOk,
      [
        evidenceOf(aGate({ holdSeconds: 60, maxHoldSeconds: 600 }), 'inconclusive', 'few'),
        evidenceOf(
          aGate({ name: 'p99', holdSeconds: 30, maxHoldSeconds: 100 }),
          'inconclusive',
          'few',
        ),
      ],
      { holds: 3, heldSeconds: 90 },
    );
    expect(verdict).toEqual({
      verdict: 'hold',
      holdSeconds: 10,
      reason:
        'Holding 10s (hold 4, 90s held so far): metric gate errors: few; metric gate p99: few',
    });
  });

  it('fails as inconclusive once an undecided gate has been held its limit', () => {
    const verdict = decideStepGate(
      alarmsOk,
      [
        evidenceOf(
          aGate({ maxHoldSeconds: 120 }),
          'inconclusive',
          'green had 3 of the 100 samples',
        ),
      ],
      { holds: 2, heldSeconds: 120 },
    );
    expect(verdict).toEqual({
      verdict: 'fail',
      error: 'GateInconclusive',
      reason:
        'Metric gate errors: green had 3 of the 100 samples; still inconclusive after holding 120s (2 holds, limit 120s): rolled back rather than passed without data',
    });
  });

  it('fails at once when a gate allows no hold', () => {
    expect(
      decideStepGate(
        alarmsOk,
        [evidenceOf(aGate({ maxHoldSeconds: 0 }), 'inconclusive', 'few')],
        notHeld,
      ).verdict,
    ).toBe('fail');
  });
});
