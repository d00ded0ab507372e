import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchAlarmReader } from '../../../src/aws/cloudwatch-alarms.ts';

const cloudwatch = mockClient(CloudWatchClient);

beforeEach(() => {
  cloudwatch.reset();
});

function reader() {
  return new CloudWatchAlarmReader({ client: new CloudWatchClient({ region: 'us-east-1' }) });
}

describe('CloudWatchAlarmReader.describe', () => {
  it('maps metric and composite alarms to evidence in the order asked', async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        {
          AlarmName: 'checkout-errors',
          StateValue: 'ALARM',
          StateReason: 'Threshold Crossed: 1 datapoint [5.0] was greater than 1.0',
          StateUpdatedTimestamp: new Date('2025-03-01T10:04:00.000Z'),
        },
      ],
      CompositeAlarms: [
        {
          AlarmName: 'checkout-health',
          StateValue: 'OK',
          StateReason: 'All children OK',
          StateUpdatedTimestamp: new Date('2025-03-01T09:00:00.000Z'),
        },
      ],
    });

    const evidence = await reader().describe(['checkout-health', 'checkout-errors', 'missing']);

    expect(evidence).toEqual([
      {
        name: 'checkout-health',
        state: 'OK',
        reason: 'All children OK',
        updatedAt: '2025-03-01T09:00:00.000Z',
      },
      {
        name: 'checkout-errors',
        state: 'ALARM',
        reason: 'Threshold Crossed: 1 datapoint [5.0] was greater than 1.0',
        updatedAt: '2025-03-01T10:04:00.000Z',
      },
    ]);
    expect(
      cloudwatch.commandCalls(DescribeAlarmsCommand).map((call) => call.args[0].input),
    ).toEqual([
      {
        AlarmNames: ['checkout-health', 'checkout-errors', 'missing'],
        AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
      },
    ]);
  });

  it('maps what a single-metric alarm watches, and nothing for a metric-math alarm', async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        {
          AlarmName: 'checkout-errors-green',
          StateValue: 'OK',
          StateReason: 'fine',
          StateUpdatedTimestamp: new Date('2025-03-01T10:00:00.000Z'),
          Namespace: 'AWS/Lambda',
          MetricName: 'Errors',
          Dimensions: [
            { Name: 'FunctionName', Value: 'checkout' },
            { Name: 'Resource', Value: 'checkout:live' },
            { Name: 'ExecutedVersion', Value: '8' },
          ],
        },
        {
          AlarmName: 'checkout-error-rate',
          StateValue: 'OK',
          StateReason: 'fine',
          StateUpdatedTimestamp: new Date('2025-03-01T10:00:00.000Z'),
          Metrics: [{ Id: 'rate', Expression: 'errors / invocations' }],
        },
      ],
    });

    const [single, math] = await reader().describe([
      'checkout-errors-green',
      'checkout-error-rate',
    ]);

    expect(single).toMatchObject({
      namespace: 'AWS/Lambda',
      metric: 'Errors',
      dimensions: { FunctionName: 'checkout', Resource: 'checkout:live', ExecutedVersion: '8' },
    });
    expect(math).toEqual({
      name: 'checkout-error-rate',
      state: 'OK',
      reason: 'fine',
      updatedAt: '2025-03-01T10:00:00.000Z',
    });
  });

  it('follows NextToken until the last page', async () => {
    cloudwatch
      .on(DescribeAlarmsCommand)
      .resolvesOnce({
        MetricAlarms: [
          {
            AlarmName: 'a',
            StateValue: 'OK',
            StateReason: 'fine',
            StateUpdatedTimestamp: new Date('2025-03-01T10:00:00.000Z'),
          },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        MetricAlarms: [
          {
            AlarmName: 'b',
            StateValue: 'INSUFFICIENT_DATA',
            StateReason: 'no data',
            StateUpdatedTimestamp: new Date('2025-03-01T10:01:00.000Z'),
          },
        ],
      });

    const evidence = await reader().describe(['a', 'b']);

    expect(evidence.map((alarm) => [alarm.name, alarm.state])).toEqual([
      ['a', 'OK'],
      ['b', 'INSUFFICIENT_DATA'],
    ]);
    expect(
      cloudwatch.commandCalls(DescribeAlarmsCommand).map((call) => call.args[0].input),
    ).toEqual([
      { AlarmNames: ['a', 'b'], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] },
      {
        AlarmNames: ['a', 'b'],
        AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
        NextToken: 'page-2',
      },
    ]);
  });

  it('asks for at most 100 names per call', async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves({});
    const names = Array.from({ length: 150 }, (_, i) => `alarm-${i}`);

    await reader().describe(names);

    expect(
      cloudwatch.commandCalls(DescribeAlarmsCommand).map((call) => call.args[0].input.AlarmNames),
    ).toEqual([names.slice(0, 100), names.slice(100)]);
  });

  it('calls nothing when no alarms are named', async () => {
    expect(await reader().describe([])).toEqual([]);
    expect(cloudwatch.calls()).toHaveLength(0);
  });
});
