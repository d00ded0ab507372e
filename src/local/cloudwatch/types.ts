export const AlarmState = {
  Ok: 'OK',
  Alarm: 'ALARM',
  InsufficientData: 'INSUFFICIENT_DATA',
} as const;
export type AlarmState = (typeof AlarmState)[keyof typeof AlarmState];

/** The detail of a "CloudWatch Alarm State Change" event (the fields greenlight reads). */
export interface AlarmStateChange {
  alarmName: string;
  alarmArn: string;
  state: { value: AlarmState; reason: string; timestamp: string };
  previousState: { value: AlarmState; reason: string; timestamp: string };
}

export interface LocalCloudWatchOptions {
  /** @default 'us-east-1' */
  region?: string;
  /** @default '000000000000' */
  accountId?: string;
  /** @default () => new Date() */
  now?: () => Date;
}

export interface Dimension {
  Name: string;
  Value: string;
}

/**
 * One datapoint for `recordMetric`, as PutMetricData takes it: a single `value`, or
 * `statisticValues` that pre-aggregate many samples (the local ALB flushes its counts that way).
 */
export interface MetricDatum {
  namespace: string;
  metricName: string;
  dimensions: Dimension[];
  value?: number;
  statisticValues?: { sampleCount: number; sum: number; minimum: number; maximum: number };
  at: Date;
}

export interface StoredDatum {
  at: number;
  sampleCount: number;
  sum: number;
  minimum: number;
  maximum: number;
}

export interface MetricAlarmRecord {
  name: string;
  description?: string;
  actionsEnabled: boolean;
  okActions: string[];
  alarmActions: string[];
  insufficientDataActions: string[];
  metricName?: string;
  namespace?: string;
  statistic?: string;
  extendedStatistic?: string;
  dimensions: Dimension[];
  period?: number;
  unit?: string;
  evaluationPeriods: number;
  datapointsToAlarm?: number;
  threshold?: number;
  comparisonOperator: string;
  treatMissingData?: string;
  /** Metric-math alarms are stored and listed but never evaluated locally. */
  metrics?: unknown;
  state: AlarmState;
  reason: string;
  reasonData?: string;
  stateUpdatedAt: Date;
  configurationUpdatedAt: Date;
  /** A state set by SetAlarmState holds until the next period's evaluation, as in CloudWatch. */
  heldUntil?: Date;
}

export interface Verdict {
  state: AlarmState;
  reason: string;
  reasonData: string;
}

export interface MetricQueryInput {
  id: string;
  label?: string;
  returnData: boolean;
  namespace: string;
  metricName: string;
  dimensions: Dimension[];
  period: number;
  stat: string;
}
