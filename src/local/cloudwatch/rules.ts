import { AwsFault } from '../aws-protocol/fault.ts';
import { optionalStringList, stringMember } from '../aws-protocol/fields.ts';
import type { Dimension, MetricQueryInput } from './types.ts';

/**
 * What CloudWatch refuses, per its API reference
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/): readers that answer
 * CloudWatch's faults and change nothing.
 */
export const optionalString = stringMember;
export const optionalStrings = optionalStringList;

export const statistics = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'];
export const comparisons: Record<
  string,
  { phrase: string; test: (value: number, threshold: number) => boolean }
> = {
  GreaterThanOrEqualToThreshold: { phrase: 'greater than or equal to', test: (v, t) => v >= t },
  GreaterThanThreshold: { phrase: 'greater than', test: (v, t) => v > t },
  LessThanThreshold: { phrase: 'less than', test: (v, t) => v < t },
  LessThanOrEqualToThreshold: { phrase: 'less than or equal to', test: (v, t) => v <= t },
};
export const missingDataTreatments = ['breaching', 'notBreaching', 'ignore', 'missing'];
export const percentileStat = /^p(\d{1,2}(\.\d{1,2})?|100)$/;
export const queryIdPattern = /^[a-z][a-zA-Z0-9_]*$/;
export const maxQueriesPerRequest = 500;

export function readMetricQuery(raw: unknown): MetricQueryInput {
  const query = (raw ?? {}) as Record<string, unknown>;
  const id = optionalString(query, 'Id');
  if (id === undefined || !queryIdPattern.test(id) || id.length > 255) {
    throw new AwsFault(
      400,
      'ValidationError',
      `The value ${String(id)} for field Id must start with a lowercase letter and contain only letters, digits and underscores.`,
    );
  }
  if (query.Expression !== undefined) {
    throw new AwsFault(
      400,
      'ValidationError',
      'The local CloudWatch does not evaluate metric math: send MetricStat queries.',
    );
  }
  const stat = (query.MetricStat ?? {}) as Record<string, unknown>;
  const metric = (stat.Metric ?? {}) as Record<string, unknown>;
  const namespace = optionalString(metric, 'Namespace');
  const metricName = optionalString(metric, 'MetricName');
  if (namespace === undefined || metricName === undefined) {
    throw new AwsFault(
      400,
      'ValidationError',
      `Query ${id} needs a MetricStat with a Metric (Namespace and MetricName).`,
    );
  }
  const period = stat.Period;
  if (typeof period !== 'number' || !Number.isInteger(period) || period < 1) {
    throw new AwsFault(
      400,
      'ValidationError',
      `Query ${id}: Period must be a whole number of seconds of at least 1.`,
    );
  }
  const statName = optionalString(stat, 'Stat');
  if (statName === undefined || !(statistics.includes(statName) || percentileStat.test(statName))) {
    throw new AwsFault(
      400,
      'ValidationError',
      `Query ${id}: Stat '${String(statName)}' is not one of ${statistics.join(', ')} or a percentile such as p99.`,
    );
  }
  const label = optionalString(query, 'Label');
  return {
    id,
    ...(label === undefined ? {} : { label }),
    returnData: query.ReturnData !== false,
    namespace,
    metricName,
    dimensions: readDimensions(metric.Dimensions),
    period,
    stat: statName,
  };
}

/** AWS JSON 1.0 sends timestamps as epoch seconds; ISO strings are taken too. */
export function readTime(value: unknown, field: string): number {
  const ms =
    typeof value === 'number' ? value * 1000 : typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) {
    throw new AwsFault(400, 'MissingParameter', `The parameter ${field} is required.`);
  }
  return ms;
}

export function readDimensions(value: unknown): Dimension[] {
  if (value === undefined) return [];
  if (!Array.isArray(value))
    throw new AwsFault(400, 'ValidationError', 'Dimensions must be a list.');
  return value.map((item: unknown) => {
    const { Name, Value } = (item ?? {}) as { Name?: unknown; Value?: unknown };
    if (typeof Name !== 'string' || typeof Value !== 'string') {
      throw new AwsFault(400, 'ValidationError', 'Each dimension needs a Name and a Value.');
    }
    return { Name, Value };
  });
}

export interface AlarmDefinition {
  name: string;
  comparisonOperator: string;
  evaluationPeriods: number;
  datapointsToAlarm: number | undefined;
  treatMissingData: string | undefined;
  statistic: string | undefined;
  metricName: string | undefined;
  metrics: unknown;
}

/** PutMetricAlarm's members, checked as CloudWatch checks them (API_PutMetricAlarm). */
export function readAlarmDefinition(input: Record<string, unknown>): AlarmDefinition {
  const name = optionalString(input, 'AlarmName');
  if (!name) throw new AwsFault(400, 'MissingParameter', 'The parameter AlarmName is required.');
  const comparisonOperator = optionalString(input, 'ComparisonOperator');
  if (!comparisonOperator || !Object.hasOwn(comparisons, comparisonOperator)) {
    throw new AwsFault(
      400,
      'ValidationError',
      `Invalid ComparisonOperator '${String(comparisonOperator)}'. Use one of ${Object.keys(comparisons).join(', ')}.`,
    );
  }
  const evaluationPeriods = input.EvaluationPeriods;
  if (
    typeof evaluationPeriods !== 'number' ||
    !Number.isInteger(evaluationPeriods) ||
    evaluationPeriods < 1
  ) {
    throw new AwsFault(
      400,
      'ValidationError',
      'EvaluationPeriods must be a whole number of at least 1.',
    );
  }
  const datapointsToAlarm =
    typeof input.DatapointsToAlarm === 'number' ? input.DatapointsToAlarm : undefined;
  if (
    datapointsToAlarm !== undefined &&
    (datapointsToAlarm < 1 || datapointsToAlarm > evaluationPeriods)
  ) {
    throw new AwsFault(
      400,
      'ValidationError',
      'DatapointsToAlarm must be between 1 and EvaluationPeriods.',
    );
  }
  const treatMissingData = optionalString(input, 'TreatMissingData');
  if (treatMissingData !== undefined && !missingDataTreatments.includes(treatMissingData)) {
    throw new AwsFault(
      400,
      'ValidationError',
      `Invalid TreatMissingData '${treatMissingData}'. Use one of ${missingDataTreatments.join(', ')}.`,
    );
  }
  const statistic = optionalString(input, 'Statistic');
  if (statistic !== undefined && !statistics.includes(statistic)) {
    throw new AwsFault(
      400,
      'ValidationError',
      `Invalid Statistic '${statistic}'. Use one of ${statistics.join(', ')}.`,
    );
  }
  const metrics = input.Metrics;
  const metricName = optionalString(input, 'MetricName');
  if (metrics === undefined) {
    const period = input.Period;
    if (!metricName || !optionalString(input, 'Namespace')) {
      throw new AwsFault(
        400,
        'ValidationError',
        'A metric alarm needs MetricName and Namespace, or Metrics.',
      );
    }
    if (typeof period !== 'number' || !Number.isInteger(period) || period < 1) {
      throw new AwsFault(
        400,
        'ValidationError',
        'Period must be a whole number of seconds of at least 1.',
      );
    }
    if (statistic === undefined && optionalString(input, 'ExtendedStatistic') === undefined) {
      throw new AwsFault(
        400,
        'ValidationError',
        'A metric alarm needs Statistic or ExtendedStatistic.',
      );
    }
  } else if (metricName !== undefined) {
    throw new AwsFault(
      400,
      'InvalidParameterCombination',
      'MetricName and Metrics cannot be specified together.',
    );
  }
  if (typeof input.Threshold !== 'number' && input.ThresholdMetricId === undefined) {
    throw new AwsFault(400, 'ValidationError', 'Threshold is required.');
  }
  return {
    name,
    comparisonOperator,
    evaluationPeriods,
    datapointsToAlarm,
    treatMissingData,
    statistic,
    metricName,
    metrics,
  };
}
