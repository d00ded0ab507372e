import {
  type CloudWatchClient,
  type CompositeAlarm,
  DescribeAlarmsCommand,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import type { AlarmReader } from '../core/ports.ts';
import type { AlarmEvidence } from '../core/records.ts';

export interface CloudWatchAlarmReaderOptions {
  client: CloudWatchClient;
}

// DescribeAlarms accepts at most 100 names per call.
const namesPerCall = 100;

/** Reads gate alarms' current state. Missing alarms are left out: the gate decides what that means. */
export class CloudWatchAlarmReader implements AlarmReader {
  readonly #client: CloudWatchClient;

  constructor(options: CloudWatchAlarmReaderOptions) {
    this.#client = options.client;
  }

  async describe(alarmNames: readonly string[]): Promise<AlarmEvidence[]> {
    const names = [...new Set(alarmNames)];
    const found = new Map<string, AlarmEvidence>();
    for (let start = 0; start < names.length; start += namesPerCall) {
      const batch = names.slice(start, start + namesPerCall);
      let nextToken: string | undefined;
      do {
        const page = await this.#client.send(
          new DescribeAlarmsCommand({
            AlarmNames: batch,
            AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
            ...(nextToken === undefined ? {} : { NextToken: nextToken }),
          }),
        );
        for (const alarm of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
          const evidence = toEvidence(alarm);
          if (evidence) found.set(evidence.name, evidence);
        }
        nextToken = page.NextToken;
      } while (nextToken);
    }
    // The caller's order, so evidence reads the same way as the service configuration.
    return names.flatMap((name) => {
      const evidence = found.get(name);
      return evidence ? [evidence] : [];
    });
  }
}

function toEvidence(alarm: MetricAlarm | CompositeAlarm): AlarmEvidence | undefined {
  if (alarm.AlarmName === undefined) return undefined;
  const evidence: AlarmEvidence = {
    name: alarm.AlarmName,
    // An alarm CloudWatch reports without a state has not been evaluated yet.
    state: alarm.StateValue ?? 'INSUFFICIENT_DATA',
    reason: alarm.StateReason ?? '',
    updatedAt: alarm.StateUpdatedTimestamp?.toISOString() ?? '',
  };
  // What a single-metric alarm watches; metric-math (`Metrics`) and composite alarms have no
  // one metric, and preflight treats them as watching something it cannot name.
  if ('MetricName' in alarm && alarm.Namespace !== undefined && alarm.MetricName !== undefined) {
    evidence.namespace = alarm.Namespace;
    evidence.metric = alarm.MetricName;
    evidence.dimensions = Object.fromEntries(
      (alarm.Dimensions ?? []).flatMap((d) =>
        d.Name === undefined || d.Value === undefined ? [] : [[d.Name, d.Value]],
      ),
    );
  }
  return evidence;
}
