import {
  executionFaultFilter,
  forgedCallbackFilter,
  handlerFaultFilters,
  type LogMetricFilterSpec,
  orchestratorAlarms,
} from '../src/infra/monitoring.ts';
import type { GreenlightNames } from '../src/infra/names.ts';
import { logicalName } from './location.ts';

export interface OrchestratorAlarmsInput {
  names: GreenlightNames;
  /** The log groups the filters read must exist first. */
  functionLogs: $util.Resource[];
  executionLogs: $util.Resource;
}

/** Alarms on greenlight itself, notifying one SNS topic that operators subscribe to. */
export function createOrchestratorAlarms(input: OrchestratorAlarmsInput) {
  const { names } = input;
  const topic = new aws.sns.Topic('AlarmTopic', { name: names.alarmTopic });
  const filter = (spec: LogMetricFilterSpec, dependsOn: $util.Resource[]) =>
    new aws.cloudwatch.LogMetricFilter(
      `${logicalName(spec.name)}Filter`,
      {
        name: spec.name,
        logGroupName: spec.logGroupName,
        pattern: spec.pattern,
        metricTransformation: {
          namespace: spec.namespace,
          name: spec.metricName,
          value: '1',
          defaultValue: '0',
        },
      },
      { dependsOn },
    );
  const filters = [
    ...handlerFaultFilters(names).map((spec) => filter(spec, input.functionLogs)),
    filter(executionFaultFilter(names), [input.executionLogs]),
    filter(forgedCallbackFilter(names), input.functionLogs),
  ];
  const alarms = orchestratorAlarms(names).map(
    (spec) =>
      new aws.cloudwatch.MetricAlarm(`${logicalName(spec.name)}Alarm`, {
        name: spec.name,
        alarmDescription: spec.description,
        namespace: spec.namespace,
        metricName: spec.metricName,
        ...(spec.dimensions ? { dimensions: spec.dimensions } : {}),
        statistic: spec.statistic,
        period: spec.periodSeconds,
        evaluationPeriods: spec.evaluationPeriods,
        threshold: spec.threshold,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        treatMissingData: 'notBreaching',
        alarmActions: [topic.arn],
        okActions: [topic.arn],
      }),
  );
  return { topic, filters, alarms };
}
