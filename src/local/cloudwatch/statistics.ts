import type { InvocationMetric } from '../lambda/types.ts';
import { percentileStat } from './rules.ts';
import type { Dimension, StoredDatum } from './types.ts';

/**
 * The metric arithmetic alarms and GetMetricData run on: which invocations a dimension set
 * names, statistics and percentiles of samples and of statistic sets, and series identity.
 */
// Lambda's metrics that the local Lambda can produce, one sample per invocation: Errors is 1
// or 0; Duration is absent for an invocation whose time was not measured.
export const lambdaMetrics: Record<string, (metric: InvocationMetric) => number | undefined> = {
  Errors: (metric) => (metric.error ? 1 : 0),
  Invocations: () => 1,
  Duration: (metric) => metric.durationMs,
};

/**
 * Lambda publishes each invocation under several dimension sets: {FunctionName},
 * {FunctionName, Resource: "fn:alias"} and {FunctionName, Resource, ExecutedVersion}. An alarm
 * names one set; a dimension the local Lambda does not publish matches nothing.
 */
export function matchesDimensions(dimensions: Dimension[], metric: InvocationMetric): boolean {
  return dimensions.every(({ Name, Value }) => {
    switch (Name) {
      case 'FunctionName':
        return Value === metric.functionName;
      case 'Resource':
        return metric.alias !== undefined && Value === `${metric.functionName}:${metric.alias}`;
      case 'ExecutedVersion':
        return metric.alias !== undefined && Value === metric.version;
      default:
        return false;
    }
  });
}

/** `p99` → 99; other statistics → undefined. */
export function percentileOf(stat: string): number | undefined {
  return percentileStat.test(stat) ? Number(stat.slice(1)) : undefined;
}

/** The nearest-rank percentile: the smallest sample with at least `p`% of samples at or below it. */
export function nearestRank(samples: number[], p: number): number | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

export function aggregate(statistic: string, values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sum = values.reduce((a, b) => a + b, 0);
  switch (statistic) {
    case 'SampleCount':
      return values.length;
    case 'Average':
      return sum / values.length;
    case 'Minimum':
      return Math.min(...values);
    case 'Maximum':
      return Math.max(...values);
    default:
      return sum;
  }
}

export function aggregateStored(statistic: string, data: StoredDatum[]): number | undefined {
  if (data.length === 0) return undefined;
  const samples = data.reduce((n, d) => n + d.sampleCount, 0);
  const sum = data.reduce((n, d) => n + d.sum, 0);
  switch (statistic) {
    case 'SampleCount':
      return samples;
    case 'Average':
      return samples === 0 ? undefined : sum / samples;
    case 'Minimum':
      return Math.min(...data.map((d) => d.minimum));
    case 'Maximum':
      return Math.max(...data.map((d) => d.maximum));
    default:
      return sum;
  }
}

/** A metric's identity: namespace, name and its dimensions regardless of their order. */
export function seriesKey(namespace: string, metricName: string, dimensions: Dimension[]): string {
  const dims = [...dimensions]
    .sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0))
    .map((d) => `${d.Name}=${d.Value}`);
  return JSON.stringify([namespace, metricName, dims]);
}
