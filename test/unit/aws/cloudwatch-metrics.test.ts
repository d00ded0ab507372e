import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudWatchMetricReader } from '../../../src/aws/cloudwatch-metrics.ts';
import type { MetricQuery } from '../../../src/core/metric-gate.ts';

const cloudwatch = mockClient(CloudWatchClient);

beforeEach(() => {
  cloudwatch.reset();
});

function reader() {
  return new CloudWatchMetricReader({ client: new CloudWatchClient({ region: 'us-east-1' }) });
}

const window = {
  start: new Date('2026-11-21T09:55:00.000Z'),
  end: new Date('2026-11-21T10:00:00.000Z'),
};

function aQuery(id: string, overrides: Partial<MetricQuery> = {}): MetricQuery {
  return {
    id,
    colour: 'green',
    role: 'requests',
    namespace: 'AWS/Lambda',
    metric: 'Invocations',
    dimensions: { FunctionName: 'checkout', Resource: 'checkout:live', ExecutedVersion: '8' },
    stat: 'Sum',
    periodSeconds: 300,
    ...overrides,
  };
}

describe('CloudWatchMetricReader.query', () => {
  it('sends MetricStat queries for the window and answers every id with its datapoints', async () => {
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        {
          Id: 'green_requests',
          Timestamps: [new Date('2026-11-21T09:55:00.000Z')],
          Values: [120],
          StatusCode: 'Complete',
        },
      ],
    });

    const results = await reader().query(
      [aQuery('green_requests'), aQuery('green_failures', { metric: 'Errors' })],
      window,
    );

    expect(results).toEqual([
      { id: 'green_requests', values: [120] },
      { id: 'green_failures', values: [] },
    ]);
    expect(cloudwatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input)).toEqual([
      {
        MetricDataQueries: [
          {
            Id: 'green_requests',
            MetricStat: {
              Metric: {
                Namespace: 'AWS/Lambda',
                MetricName: 'Invocations',
                Dimensions: [
                  { Name: 'FunctionName', Value: 'checkout' },
                  { Name: 'Resource', Value: 'checkout:live' },
                  { Name: 'ExecutedVersion', Value: '8' },
                ],
              },
              Period: 300,
              Stat: 'Sum',
            },
            ReturnData: true,
          },
          {
            Id: 'green_failures',
            MetricStat: {
              Metric: {
                Namespace: 'AWS/Lambda',
                MetricName: 'Errors',
                Dimensions: [
                  { Name: 'FunctionName', Value: 'checkout' },
                  { Name: 'Resource', Value: 'checkout:live' },
                  { Name: 'ExecutedVersion', Value: '8' },
                ],
              },
              Period: 300,
              Stat: 'Sum',
            },
            ReturnData: true,
          },
        ],
        StartTime: window.start,
        EndTime: window.end,
        ScanBy: 'TimestampDescending',
      },
    ]);
  });

  it('collects one query’s datapoints across pages', async () => {
    cloudwatch
      .on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [{ Id: 'green_requests', Values: [10], StatusCode: 'PartialData' }],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        MetricDataResults: [{ Id: 'green_requests', Values: [5], StatusCode: 'Complete' }],
      });

    expect(await reader().query([aQuery('green_requests')], window)).toEqual([
      { id: 'green_requests', values: [10, 5] },
    ]);
    expect(
      cloudwatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input.NextToken),
    ).toEqual([undefined, 'page-2']);
  });
});
