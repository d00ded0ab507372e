import { AwsFault } from '../aws-protocol/fault.ts';
import { queryCompatibleJsonFault } from '../aws-protocol/json.ts';
import { decodeIndexToken, encodeIndexToken, pageAt } from '../aws-protocol/pages.ts';
import {
  awsJsonError,
  awsJsonResult,
  type LocalRequest,
  type LocalResponse,
  type LocalService,
  targetOperation,
} from '../http.ts';
import type { LocalLambda } from '../lambda/simulator.ts';
import type { InvocationMetric } from '../lambda/types.ts';
import {
  comparisons,
  maxQueriesPerRequest,
  optionalString,
  optionalStrings,
  readAlarmDefinition,
  readDimensions,
  readMetricQuery,
  readTime,
} from './rules.ts';
import {
  aggregate,
  aggregateStored,
  lambdaMetrics,
  matchesDimensions,
  nearestRank,
  percentileOf,
  seriesKey,
} from './statistics.ts';
import {
  AlarmState,
  type AlarmStateChange,
  type LocalCloudWatchOptions,
  type MetricAlarmRecord,
  type MetricDatum,
  type MetricQueryInput,
  type StoredDatum,
  type Verdict,
} from './types.ts';
import {
  assignDefined,
  count,
  formatNumber,
  parseInput,
  renderMetricAlarm,
  targetPrefix,
} from './wire.ts';

const retentionMs = 24 * 60 * 60 * 1000;

function invalidNextToken(message: string): AwsFault {
  return new AwsFault(400, 'InvalidNextToken', message);
}

/**
 * CloudWatch alarms for the local cloud on the AWS JSON 1.0 protocol (query-compatible) that
 * `@aws-sdk/client-cloudwatch` speaks. Alarms on the AWS/Lambda namespace are evaluated from the
 * local Lambda's invocations over sliding windows of `Period` seconds, on every DescribeAlarms
 * and every invocation, so a faulty green version raises its Errors alarm during a bake. Alarms
 * on other namespaces (AWS/ApplicationELB from the local router) are evaluated the same way from
 * the datapoints given to `recordMetric`.
 *
 * Unlike CloudWatch, any whole number of seconds is a valid `Period` (CloudWatch takes 10, 20,
 * 30 or multiples of 60): the local cloud bakes for seconds, not minutes.
 *
 * Its seams: wire.ts (the JSON codec and the MetricAlarm document), rules.ts (what CloudWatch
 * refuses), statistics.ts (metric arithmetic); this class holds alarms and series and evaluates.
 */
export class LocalCloudWatch implements LocalService {
  readonly name = 'cloudwatch';
  readonly #region: string;
  readonly #accountId: string;
  readonly #now: () => Date;
  readonly #alarms = new Map<string, MetricAlarmRecord>();
  #invocations: InvocationMetric[] = [];
  readonly #stateListeners = new Set<(change: AlarmStateChange) => void>();
  /** Datapoints from recordMetric, by metric identity (namespace, name and exact dimension set). */
  readonly #series = new Map<string, StoredDatum[]>();
  /** Namespaces whose alarms are evaluated even before their first datapoint (missing data). */
  readonly #fedNamespaces = new Set<string>(['AWS/ApplicationELB']);

  constructor(options: LocalCloudWatchOptions = {}) {
    this.#region = options.region ?? 'us-east-1';
    this.#accountId = options.accountId ?? '000000000000';
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * Calls `listener` on every change of an alarm's state, with what CloudWatch puts in the
   * detail of a "CloudWatch Alarm State Change" event; returns the unsubscribe function.
   */
  #alarmArn(name: string): string {
    return `arn:aws:cloudwatch:${this.#region}:${this.#accountId}:alarm:${name}`;
  }

  onStateChange(listener: (change: AlarmStateChange) => void): () => void {
    this.#stateListeners.add(listener);
    return () => this.#stateListeners.delete(listener);
  }

  /** Feeds the local Lambda's invocations into the metrics; returns the unsubscribe function. */
  connectLambda(lambda: LocalLambda): () => void {
    return lambda.onInvocation((metric) => this.recordInvocation(metric));
  }

  recordInvocation(metric: InvocationMetric): void {
    const horizon = this.#now().getTime() - retentionMs;
    this.#invocations = this.#invocations.filter((m) => m.at.getTime() > horizon);
    this.#invocations.push(metric);
    this.#evaluateAll();
  }

  /**
   * Records datapoints of any namespace (AWS/ApplicationELB from the local router, for one) and
   * evaluates the alarms once. An alarm matches a metric as CloudWatch does: same namespace,
   * name and exactly the same set of dimensions.
   */
  recordMetric(...data: MetricDatum[]): void {
    const horizon = this.#now().getTime() - retentionMs;
    for (const datum of data) {
      this.#fedNamespaces.add(datum.namespace);
      const key = seriesKey(datum.namespace, datum.metricName, datum.dimensions);
      const series = (this.#series.get(key) ?? []).filter((d) => d.at > horizon);
      const stats = datum.statisticValues ?? {
        sampleCount: 1,
        sum: datum.value ?? 0,
        minimum: datum.value ?? 0,
        maximum: datum.value ?? 0,
      };
      series.push({ at: datum.at.getTime(), ...stats });
      this.#series.set(key, series);
    }
    this.#evaluateAll();
  }

  async handle(request: LocalRequest): Promise<LocalResponse | undefined> {
    const operation = targetOperation(request, targetPrefix);
    if (operation === undefined) return undefined;
    try {
      const input = parseInput(request);
      switch (operation) {
        case 'DescribeAlarms':
          return awsJsonResult(this.#describeAlarms(input));
        case 'PutMetricAlarm':
          this.#putMetricAlarm(input);
          return awsJsonResult({});
        case 'SetAlarmState':
          this.#setAlarmState(input);
          return awsJsonResult({});
        case 'DeleteAlarms':
          this.#deleteAlarms(input);
          return awsJsonResult({});
        case 'GetMetricData':
          return awsJsonResult(this.#getMetricData(input));
        default:
          return awsJsonError(
            400,
            'UnknownOperationException',
            `The local CloudWatch does not serve ${operation}`,
          );
      }
    } catch (error) {
      if (!(error instanceof AwsFault)) throw error;
      return queryCompatibleJsonFault(error);
    }
  }

  #describeAlarms(input: Record<string, unknown>): Record<string, unknown> {
    this.#evaluateAll();
    const names = optionalStrings(input, 'AlarmNames');
    const prefix = optionalString(input, 'AlarmNamePrefix');
    const stateValue = optionalString(input, 'StateValue');
    const types = optionalStrings(input, 'AlarmTypes');
    if (names && prefix !== undefined) {
      throw new AwsFault(
        400,
        'InvalidParameterCombination',
        'AlarmNames and AlarmNamePrefix cannot be specified together.',
      );
    }
    const wantsMetric = !types || types.includes('MetricAlarm');
    const matching = wantsMetric
      ? [...this.#alarms.values()]
          .filter((alarm) => !names || names.includes(alarm.name))
          .filter((alarm) => prefix === undefined || alarm.name.startsWith(prefix))
          .filter((alarm) => stateValue === undefined || alarm.state === stateValue)
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      : [];
    const maxRecords = typeof input.MaxRecords === 'number' ? input.MaxRecords : 50;
    if (!Number.isInteger(maxRecords) || maxRecords < 1 || maxRecords > 100) {
      throw new AwsFault(
        400,
        'ValidationError',
        `1 validation error detected: Value '${String(input.MaxRecords)}' at 'maxRecords' failed to satisfy constraint: Member must have value between 1 and 100`,
      );
    }
    const start = decodeIndexToken(
      optionalString(input, 'NextToken'),
      invalidNextToken,
      'The service returned an invalid NextToken.',
    );
    const page = pageAt(matching, start, maxRecords);
    const output: Record<string, unknown> = {
      MetricAlarms: page.items.map((alarm) => renderMetricAlarm(alarm, this.#alarmArn(alarm.name))),
    };
    if (types?.includes('CompositeAlarm')) output.CompositeAlarms = [];
    if (page.next !== undefined) output.NextToken = encodeIndexToken(page.next);
    return output;
  }

  #putMetricAlarm(input: Record<string, unknown>): void {
    const definition = readAlarmDefinition(input);
    const { name, evaluationPeriods, comparisonOperator } = definition;
    const now = this.#now();
    const existing = this.#alarms.get(name);
    const alarm: MetricAlarmRecord = {
      name,
      actionsEnabled: input.ActionsEnabled !== false,
      okActions: optionalStrings(input, 'OKActions') ?? [],
      alarmActions: optionalStrings(input, 'AlarmActions') ?? [],
      insufficientDataActions: optionalStrings(input, 'InsufficientDataActions') ?? [],
      dimensions: readDimensions(input.Dimensions),
      evaluationPeriods,
      comparisonOperator,
      // An update rewrites the configuration but leaves the state as it was.
      state: existing?.state ?? AlarmState.InsufficientData,
      reason: existing?.reason ?? 'Unchecked: Initial alarm creation',
      stateUpdatedAt: existing?.stateUpdatedAt ?? now,
      configurationUpdatedAt: now,
    };
    assignDefined(alarm, {
      description: optionalString(input, 'AlarmDescription'),
      metricName: definition.metricName,
      namespace: optionalString(input, 'Namespace'),
      statistic: definition.statistic,
      extendedStatistic: optionalString(input, 'ExtendedStatistic'),
      period: typeof input.Period === 'number' ? input.Period : undefined,
      unit: optionalString(input, 'Unit'),
      datapointsToAlarm: definition.datapointsToAlarm,
      threshold: typeof input.Threshold === 'number' ? input.Threshold : undefined,
      treatMissingData: definition.treatMissingData,
      metrics: definition.metrics,
      reasonData: existing?.reasonData,
    });
    this.#alarms.set(name, alarm);
    this.#evaluate(alarm);
  }

  #setAlarmState(input: Record<string, unknown>): void {
    const name = optionalString(input, 'AlarmName') ?? '';
    const alarm = this.#alarms.get(name);
    if (!alarm) throw new AwsFault(404, 'ResourceNotFound', `Alarm ${name} not found`);
    const state = optionalString(input, 'StateValue');
    if (!state || !Object.values<string>(AlarmState).includes(state)) {
      throw new AwsFault(
        400,
        'ValidationError',
        `Invalid StateValue '${String(state)}'. Use one of OK, ALARM, INSUFFICIENT_DATA.`,
      );
    }
    const reason = optionalString(input, 'StateReason');
    if (reason === undefined)
      throw new AwsFault(400, 'MissingParameter', 'The parameter StateReason is required.');
    const reasonData = optionalString(input, 'StateReasonData');
    if (reasonData !== undefined) {
      try {
        JSON.parse(reasonData);
      } catch {
        throw new AwsFault(400, 'InvalidFormat', 'StateReasonData is not valid JSON.');
      }
    }
    const now = this.#now();
    this.#transition(
      alarm,
      { state: state as AlarmState, reason, reasonData: reasonData ?? '' },
      now,
    );
    if (alarm.period !== undefined) alarm.heldUntil = new Date(now.getTime() + alarm.period * 1000);
  }

  /**
   * GetMetricData for MetricStat queries (no metric math): one datapoint per `Period` from
   * `StartTime`, each only when the period has data, as CloudWatch answers. Lambda's Errors,
   * Invocations and Duration come from the local Lambda's invocations (each one sample, so
   * percentiles are exact); other metrics from `recordMetric`. As in CloudWatch, a percentile
   * of data given as statistic sets (many samples, minimum unlike maximum) has no value.
   */
  #getMetricData(input: Record<string, unknown>): Record<string, unknown> {
    const queries = input.MetricDataQueries;
    if (!Array.isArray(queries) || queries.length === 0 || queries.length > maxQueriesPerRequest) {
      throw new AwsFault(
        400,
        'ValidationError',
        `MetricDataQueries must list 1 to ${maxQueriesPerRequest} queries.`,
      );
    }
    const start = readTime(input.StartTime, 'StartTime');
    const end = readTime(input.EndTime, 'EndTime');
    if (start >= end) {
      throw new AwsFault(
        400,
        'ValidationError',
        'The parameter StartTime must be less than the parameter EndTime.',
      );
    }
    const ascending = input.ScanBy === 'TimestampAscending';
    const ids = new Set<string>();
    const results: Record<string, unknown>[] = [];
    for (const raw of queries) {
      const query = readMetricQuery(raw);
      if (ids.has(query.id)) {
        throw new AwsFault(
          400,
          'ValidationError',
          `The value ${query.id} for field Id is not unique.`,
        );
      }
      ids.add(query.id);
      const points: [number, number][] = [];
      for (let from = start; from < end; from += query.period * 1000) {
        const to = Math.min(from + query.period * 1000, end);
        const value = this.#statistic(query, from, to);
        if (value !== undefined) points.push([from, value]);
      }
      if (!ascending) points.reverse();
      if (!query.returnData) continue;
      results.push({
        Id: query.id,
        Label: query.label ?? query.metricName,
        Timestamps: points.map(([at]) => at / 1000),
        Values: points.map(([, value]) => value),
        StatusCode: 'Complete',
        Messages: [],
      });
    }
    return { MetricDataResults: results, Messages: [] };
  }

  /** One statistic of one metric over [from, to), or `undefined` when there is no data. */
  #statistic(query: MetricQueryInput, from: number, to: number): number | undefined {
    const measure =
      query.namespace === 'AWS/Lambda' && Object.hasOwn(lambdaMetrics, query.metricName)
        ? lambdaMetrics[query.metricName]
        : undefined;
    if (measure) {
      const samples = this.#invocations
        .filter(
          (m) =>
            m.at.getTime() >= from && m.at.getTime() < to && matchesDimensions(query.dimensions, m),
        )
        .map(measure)
        .filter((v): v is number => v !== undefined);
      const percentile = percentileOf(query.stat);
      return percentile === undefined
        ? aggregate(query.stat, samples)
        : nearestRank(samples, percentile);
    }
    const stored = (
      this.#series.get(seriesKey(query.namespace, query.metricName, query.dimensions)) ?? []
    ).filter((d) => d.at >= from && d.at < to);
    const percentile = percentileOf(query.stat);
    if (percentile === undefined) return aggregateStored(query.stat, stored);
    // Only single samples (or sets of one repeated value) can be ranked.
    if (stored.some((d) => d.sampleCount !== 1 && d.minimum !== d.maximum)) return undefined;
    const samples = stored.flatMap((d) =>
      Array.from({ length: Math.max(1, Math.round(d.sampleCount)) }, () => d.minimum),
    );
    return nearestRank(samples, percentile);
  }

  #deleteAlarms(input: Record<string, unknown>): void {
    const names = optionalStrings(input, 'AlarmNames') ?? [];
    const missing = names.filter((name) => !this.#alarms.has(name));
    if (missing.length > 0) {
      throw new AwsFault(404, 'ResourceNotFound', `Alarms not found: ${missing.join(', ')}`);
    }
    for (const name of names) this.#alarms.delete(name);
  }

  #evaluateAll(): void {
    for (const alarm of this.#alarms.values()) this.#evaluate(alarm);
  }

  #evaluate(alarm: MetricAlarmRecord): void {
    const now = this.#now();
    if (alarm.heldUntil && now < alarm.heldUntil) return;
    const verdict = this.#judge(alarm, now);
    if (verdict) this.#transition(alarm, verdict, now);
  }

  /**
   * Computes what an alarm's state would be now, or `undefined` when the local cloud cannot
   * evaluate it (no recorded metric, metric math, percentiles) or missing data is ignored.
   */
  #judge(alarm: MetricAlarmRecord, now: Date): Verdict | undefined {
    const measure =
      alarm.namespace === 'AWS/Lambda' &&
      alarm.metricName &&
      Object.hasOwn(lambdaMetrics, alarm.metricName)
        ? lambdaMetrics[alarm.metricName]
        : undefined;
    const series =
      alarm.namespace !== undefined && alarm.metricName !== undefined
        ? (this.#series.get(seriesKey(alarm.namespace, alarm.metricName, alarm.dimensions)) ??
          (this.#fedNamespaces.has(alarm.namespace) ? [] : undefined))
        : undefined;
    const comparison = Object.hasOwn(comparisons, alarm.comparisonOperator)
      ? comparisons[alarm.comparisonOperator]
      : undefined;
    const { period, statistic, threshold } = alarm;
    if (
      (!measure && !series) ||
      !comparison ||
      period === undefined ||
      statistic === undefined ||
      threshold === undefined
    )
      return undefined;
    const periods = alarm.evaluationPeriods;
    const needed = alarm.datapointsToAlarm ?? periods;
    const end = now.getTime();
    // Newest period first, each the `period` seconds before the previous one: (end - P, end].
    const datapoints: (number | undefined)[] = [];
    for (let k = 0; k < periods; k += 1) {
      const to = end - k * period * 1000;
      const from = to - period * 1000;
      if (measure) {
        const values = this.#invocations
          .filter(
            (m) =>
              m.at.getTime() > from &&
              m.at.getTime() <= to &&
              matchesDimensions(alarm.dimensions, m),
          )
          .map(measure)
          .filter((v): v is number => v !== undefined);
        datapoints.push(aggregate(statistic, values));
      } else {
        const stored = (series ?? []).filter((d) => d.at > from && d.at <= to);
        datapoints.push(aggregateStored(statistic, stored));
      }
    }
    const present = datapoints.filter((v): v is number => v !== undefined);
    const missingCount = periods - present.length;
    const treatment = alarm.treatMissingData ?? 'missing';
    const breaching = present.filter((v) => comparison.test(v, threshold));
    const breachCount = breaching.length + (treatment === 'breaching' ? missingCount : 0);
    const reasonData = JSON.stringify({
      version: '1.0',
      queryDate: now.toISOString(),
      statistic,
      period,
      recentDatapoints: present,
      threshold,
    });
    const thresholdText = `the threshold (${formatNumber(threshold)})`;
    if (present.length === 0) {
      if (treatment === 'ignore') return undefined;
      if (treatment === 'missing') {
        return {
          state: AlarmState.InsufficientData,
          reason: `Insufficient Data: ${count(periods, 'datapoint')} ${periods === 1 ? 'was' : 'were'} unknown.`,
          reasonData,
        };
      }
      const treatedAs = treatment === 'breaching' ? 'Breaching' : 'NonBreaching';
      return {
        state: breachCount >= needed ? AlarmState.Alarm : AlarmState.Ok,
        reason: `Threshold Crossed: no datapoints were received for ${count(periods, 'period')} and ${count(periods, 'missing datapoint')} ${periods === 1 ? 'was' : 'were'} treated as [${treatedAs}].`,
        reasonData,
      };
    }
    if (breachCount >= needed) {
      const shown = breaching.map(formatNumber).join(', ');
      const subject =
        periods === 1
          ? `${count(breaching.length, 'datapoint')} [${shown}] was`
          : `${breachCount} out of the last ${periods} datapoints [${shown}] were`;
      return {
        state: AlarmState.Alarm,
        reason: `Threshold Crossed: ${subject} ${comparison.phrase} ${thresholdText}.`,
        reasonData,
      };
    }
    const shown = present.map(formatNumber).join(', ');
    const subject =
      present.length === 1
        ? `1 datapoint [${shown}] was`
        : `${present.length} datapoints [${shown}] were`;
    return {
      state: AlarmState.Ok,
      reason: `Threshold Crossed: ${subject} not ${comparison.phrase} ${thresholdText}.`,
      reasonData,
    };
  }

  /** Only a change of state rewrites the reason and timestamp, as CloudWatch records transitions. */
  #transition(alarm: MetricAlarmRecord, verdict: Verdict, now: Date): void {
    if (alarm.state === verdict.state) return;
    const previous = { state: alarm.state, reason: alarm.reason, at: alarm.stateUpdatedAt };
    alarm.state = verdict.state;
    alarm.reason = verdict.reason;
    alarm.reasonData = verdict.reasonData;
    alarm.stateUpdatedAt = now;
    delete alarm.heldUntil;
    const change: AlarmStateChange = {
      alarmName: alarm.name,
      alarmArn: `arn:aws:cloudwatch:${this.#region}:${this.#accountId}:alarm:${alarm.name}`,
      state: { value: alarm.state, reason: alarm.reason, timestamp: now.toISOString() },
      previousState: {
        value: previous.state,
        reason: previous.reason,
        timestamp: previous.at.toISOString(),
      },
    };
    for (const listener of this.#stateListeners) listener(change);
  }
}
