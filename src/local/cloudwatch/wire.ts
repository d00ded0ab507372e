import { AwsFault } from '../aws-protocol/fault.ts';
import { epochSeconds, parseJsonObject } from '../aws-protocol/json.ts';
import type { LocalRequest } from '../http.ts';
import type { MetricAlarmRecord } from './types.ts';

/**
 * CloudWatch's wire codec (AWS JSON 1.0, query-compatible): the request's input and the
 * MetricAlarm document, with the words CloudWatch puts in state reasons.
 */
export const targetPrefix = 'GraniteServiceVersion20100801';

export function parseInput(request: LocalRequest): Record<string, unknown> {
  return parseJsonObject(
    request,
    (message) => new AwsFault(400, 'InvalidFormat', message),
    'The request body is not a JSON object.',
  );
}

/** CloudWatch prints datapoints with at least one decimal: `3.0`, `0.25`. */
export function formatNumber(value: number): string {
  return Number.isInteger(value) ? value.toFixed(1) : String(value);
}

export function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** Copies the fields that have values: exactOptionalPropertyTypes forbids assigning `undefined`. */
export function assignDefined<T extends object>(
  target: T,
  fields: { [K in keyof T]?: T[K] | undefined },
): void {
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) (target as Record<string, unknown>)[key] = value;
  }
}

export function renderMetricAlarm(alarm: MetricAlarmRecord, arn: string): Record<string, unknown> {
  const shape: Record<string, unknown> = {
    AlarmName: alarm.name,
    AlarmArn: arn,
    AlarmConfigurationUpdatedTimestamp: epochSeconds(alarm.configurationUpdatedAt),
    ActionsEnabled: alarm.actionsEnabled,
    OKActions: alarm.okActions,
    AlarmActions: alarm.alarmActions,
    InsufficientDataActions: alarm.insufficientDataActions,
    StateValue: alarm.state,
    StateReason: alarm.reason,
    StateUpdatedTimestamp: epochSeconds(alarm.stateUpdatedAt),
    StateTransitionedTimestamp: epochSeconds(alarm.stateUpdatedAt),
    Dimensions: alarm.dimensions,
    EvaluationPeriods: alarm.evaluationPeriods,
    ComparisonOperator: alarm.comparisonOperator,
  };
  assignDefined(shape, {
    AlarmDescription: alarm.description,
    StateReasonData: alarm.reasonData,
    MetricName: alarm.metricName,
    Namespace: alarm.namespace,
    Statistic: alarm.statistic,
    ExtendedStatistic: alarm.extendedStatistic,
    Period: alarm.period,
    Unit: alarm.unit,
    DatapointsToAlarm: alarm.datapointsToAlarm,
    Threshold: alarm.threshold,
    TreatMissingData: alarm.treatMissingData,
    Metrics: alarm.metrics,
  });
  return shape;
}
