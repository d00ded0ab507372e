import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type MetricAlarm,
  type MetricDataQuery,
  MissingRequiredParameterException,
  PutMetricAlarmCommand,
  type PutMetricAlarmCommandInput,
  SetAlarmStateCommand,
  ValidationException,
} from '@aws-sdk/client-cloudwatch';
import {
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalArtifactStore } from '../../../src/local/artifact-store.ts';
import { LocalCloudWatch } from '../../../src/local/cloudwatch/simulator.ts';
import { type Endpoint, startEndpoint } from '../../../src/local/endpoint.ts';
import { LocalLambda } from '../../../src/local/lambda/simulator.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const bucket = 'artifacts';

function anErrorsAlarm(
  overrides: Partial<PutMetricAlarmCommandInput> = {},
): PutMetricAlarmCommandInput {
  return {
    AlarmName: 'checkout-errors',
    Namespace: 'AWS/Lambda',
    MetricName: 'Errors',
    Dimensions: [
      { Name: 'FunctionName', Value: 'checkout' },
      { Name: 'Resource', Value: 'checkout:live' },
    ],
    Statistic: 'Sum',
    Period: 5,
    EvaluationPeriods: 1,
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
    ...overrides,
  };
}

describe('LocalCloudWatch', () => {
  let root: string;
  let clock: Date;
  let lambda: LocalLambda;
  let cloudwatch: LocalCloudWatch;
  let endpoint: Endpoint;
  let cw: CloudWatchClient;
  let lambdaClient: LambdaClient;

  function advance(seconds: number): void {
    clock = new Date(clock.getTime() + seconds * 1000);
  }

  async function alarm(name = 'checkout-errors'): Promise<MetricAlarm | undefined> {
    const described = await cw.send(new DescribeAlarmsCommand({ AlarmNames: [name] }));
    return described.MetricAlarms?.[0];
  }

  async function invokeLive(times: number, path = '/checkout'): Promise<void> {
    for (let i = 0; i < times; i += 1) {
      await lambdaClient.send(
        new InvokeCommand({
          FunctionName: 'checkout',
          Qualifier: 'live',
          Payload: JSON.stringify({ path }),
        }),
      );
    }
  }

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'greenlight-cloudwatch-'));
    const store = new LocalArtifactStore({ root });
    for (const [key, body] of [
      ['checkout/1.0.0.zip', 'return { statusCode: 200 };'],
      [
        'checkout/1.3.0.zip',
        "if (event.path === '/health') return { statusCode: 200 }; throw new Error('faulty');",
      ],
    ] as const) {
      const path = store.s3Path(bucket, key);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, `export async function handler(event) { ${body} }\n`);
    }
    clock = new Date('2025-03-01T10:00:00.000Z');
    lambda = new LocalLambda({ artifacts: store, now: () => clock });
    await lambda.seedFunction({
      functionName: 'checkout',
      artifact: { s3: { bucket, key: 'checkout/1.0.0.zip' } },
      alias: 'live',
    });
    cloudwatch = new LocalCloudWatch({ now: () => clock });
    cloudwatch.connectLambda(lambda);
    endpoint = await startEndpoint([lambda, cloudwatch]);
    cw = new CloudWatchClient({ endpoint: endpoint.url, region: 'us-east-1', credentials });
    lambdaClient = new LambdaClient({ endpoint: endpoint.url, region: 'us-east-1', credentials });
  });

  afterEach(async () => {
    cw.destroy();
    lambdaClient.destroy();
    await endpoint.close();
    await rm(root, { recursive: true, force: true });
  });

  describe('PutMetricAlarm and DescribeAlarms', () => {
    it('lists a new alarm with its configuration and epoch-second timestamps', async () => {
      await cw.send(new PutMetricAlarmCommand(anErrorsAlarm()));
      const listed = await alarm();
      expect(listed).toMatchObject({
        AlarmName: 'checkout-errors',
        AlarmArn: 'arn:aws:cloudwatch:us-east-1:000000000000:alarm:checkout-errors',
        MetricName: 'Errors',
        Namespace: 'AWS/Lambda',
        Statistic: 'Sum',
        Period: 5,
        Threshold: 1,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        StateValue: 'OK',
      });
      expect(listed?.StateUpdatedTimestamp).toEqual(clock);
    });

    it('returns no metric alarms when only composite alarms are asked for', async () => {
      await cw.send(new PutMetricAlarmCommand(anErrorsAlarm()));
      const described = await cw.send(
        new DescribeAlarmsCommand({ AlarmTypes: ['CompositeAlarm'] }),
      );
      expect(described.MetricAlarms).toEqual([]);
    });

    it('rejects an alarm without a name with MissingRequiredParameterException', async () => {
      await expect(
        cw.send(new PutMetricAlarmCommand(anErrorsAlarm({ AlarmName: '' }))),
      ).rejects.toBeInstanceOf(MissingRequiredParameterException);
    });
  });

  describe('Lambda Errors alarms', () => {
    beforeEach(async () => {
      await lambdaClient.send(
        new UpdateFunctionCodeCommand({
          FunctionName: 'checkout',
          S3Bucket: bucket,
          S3Key: 'checkout/1.3.0.zip',
        }),
      );
      await lambdaClient.send(new GetFunctionConfigurationCommand({ FunctionName: 'checkout' }));
      await lambdaClient.send(new PublishVersionCommand({ FunctionName: 'checkout' }));
      await cw.send(new PutMetricAlarmCommand(anErrorsAlarm()));
    });

    it('goes to ALARM when the faulty green version errors, and back to OK once the window passes', async () => {
      await lambdaClient.send(
        new UpdateAliasCommand({
          FunctionName: 'checkout',
          Name: 'live',
          RoutingConfig: { AdditionalVersionWeights: { '2': 0.5 } },
        }),
      );
      await invokeLive(6);
      const raised = await alarm();
      expect(raised?.StateValue).toBe('ALARM');
      // The reason records the evaluation that changed the state: the first error.
      expect(raised?.StateReason).toBe(
        'Threshold Crossed: 1 datapoint [1.0] was greater than or equal to the threshold (1.0).',
      );
      expect(raised?.StateUpdatedTimestamp).toEqual(clock);

      advance(6);
      const cleared = await alarm();
      expect(cleared?.StateValue).toBe('OK');
      expect(cleared?.StateUpdatedTimestamp).toEqual(clock);
    });

    it('stays OK while only the healthy blue version takes traffic', async () => {
      await invokeLive(10);
      expect((await alarm())?.StateValue).toBe('OK');
    });

    it('does not count invocations through another alias when the Resource dimension names one', async () => {
      await lambdaClient.send(
        new UpdateAliasCommand({ FunctionName: 'checkout', Name: 'live', FunctionVersion: '1' }),
      );
      for (let i = 0; i < 3; i += 1) {
        await lambdaClient.send(
          new InvokeCommand({ FunctionName: 'checkout', Qualifier: '2', Payload: '{}' }),
        );
      }
      expect((await alarm())?.StateValue).toBe('OK');
      await cw.send(
        new PutMetricAlarmCommand(
          anErrorsAlarm({
            AlarmName: 'all-errors',
            Dimensions: [{ Name: 'FunctionName', Value: 'checkout' }],
          }),
        ),
      );
      expect((await alarm('all-errors'))?.StateValue).toBe('ALARM');
    });

    it('reports INSUFFICIENT_DATA with no invocations when missing data is treated as missing', async () => {
      await cw.send(
        new PutMetricAlarmCommand(
          anErrorsAlarm({ AlarmName: 'strict', TreatMissingData: 'missing' }),
        ),
      );
      await lambdaClient.send(
        new UpdateAliasCommand({ FunctionName: 'checkout', Name: 'live', FunctionVersion: '2' }),
      );
      await invokeLive(1);
      expect((await alarm('strict'))?.StateValue).toBe('ALARM');
      advance(10);
      const quiet = await alarm('strict');
      expect(quiet?.StateValue).toBe('INSUFFICIENT_DATA');
      expect(quiet?.StateReason).toBe('Insufficient Data: 1 datapoint was unknown.');
    });
  });

  describe('SetAlarmState', () => {
    it('holds a forced state until the next period is evaluated', async () => {
      await cw.send(new PutMetricAlarmCommand(anErrorsAlarm()));
      await cw.send(
        new SetAlarmStateCommand({
          AlarmName: 'checkout-errors',
          StateValue: 'ALARM',
          StateReason: 'drill',
        }),
      );
      expect(await alarm()).toMatchObject({ StateValue: 'ALARM', StateReason: 'drill' });
      advance(5);
      expect((await alarm())?.StateValue).toBe('OK');
    });
  });

  describe('GetMetricData', () => {
    const byVersion = (version: string) => [
      { Name: 'FunctionName', Value: 'checkout' },
      { Name: 'Resource', Value: 'checkout:live' },
      { Name: 'ExecutedVersion', Value: version },
    ];
    const query = (
      id: string,
      metricName: string,
      dimensions: { Name: string; Value: string }[],
      stat = 'Sum',
      period = 60,
      namespace = 'AWS/Lambda',
    ): MetricDataQuery => ({
      Id: id,
      MetricStat: {
        Metric: { Namespace: namespace, MetricName: metricName, Dimensions: dimensions },
        Period: period,
        Stat: stat,
      },
    });
    const lastMinute = () => ({
      StartTime: new Date(clock.getTime() - 60_000),
      EndTime: new Date(clock.getTime() + 1),
    });

    it('answers Errors and Invocations per executed version from the invocations through the alias', async () => {
      await lambdaClient.send(
        new UpdateFunctionCodeCommand({
          FunctionName: 'checkout',
          S3Bucket: bucket,
          S3Key: 'checkout/1.3.0.zip',
        }),
      );
      await lambdaClient.send(new GetFunctionConfigurationCommand({ FunctionName: 'checkout' }));
      await lambdaClient.send(new PublishVersionCommand({ FunctionName: 'checkout' }));
      await lambdaClient.send(
        new UpdateAliasCommand({
          FunctionName: 'checkout',
          Name: 'live',
          RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } },
        }),
      );
      await invokeLive(8);

      const data = await cw.send(
        new GetMetricDataCommand({
          MetricDataQueries: [
            query('green_failures', 'Errors', byVersion('2')),
            query('green_requests', 'Invocations', byVersion('2')),
            query('blue_failures', 'Errors', byVersion('1')),
            query('blue_requests', 'Invocations', byVersion('1')),
          ],
          ...lastMinute(),
        }),
      );

      expect(data.MetricDataResults?.map((r) => [r.Id, r.Values, r.StatusCode])).toEqual([
        ['green_failures', [2], 'Complete'],
        ['green_requests', [2], 'Complete'],
        ['blue_failures', [0], 'Complete'],
        ['blue_requests', [6], 'Complete'],
      ]);
      // Periods start at StartTime: the invocations (all at the clock's instant) fall in the second.
      expect(data.MetricDataResults?.[0]?.Timestamps).toEqual([clock]);
    });

    it('answers one datapoint per period that has data, newest first unless asked otherwise', async () => {
      const start = clock;
      await invokeLive(1);
      advance(25);
      await invokeLive(2);
      const queries = [query('requests', 'Invocations', byVersion('1'), 'Sum', 10)];
      const window = { StartTime: start, EndTime: new Date(start.getTime() + 30_000) };

      const newest = await cw.send(
        new GetMetricDataCommand({ MetricDataQueries: queries, ...window }),
      );
      const oldest = await cw.send(
        new GetMetricDataCommand({
          MetricDataQueries: queries,
          ScanBy: 'TimestampAscending',
          ...window,
        }),
      );

      expect(newest.MetricDataResults?.[0]?.Values).toEqual([2, 1]);
      expect(newest.MetricDataResults?.[0]?.Timestamps).toEqual([
        new Date(start.getTime() + 20_000),
        start,
      ]);
      expect(oldest.MetricDataResults?.[0]?.Values).toEqual([1, 2]);
    });

    it('ranks Lambda durations for a percentile and counts them for SampleCount', async () => {
      for (const durationMs of [10, 20, 30, 40, 500]) {
        cloudwatch.recordInvocation({
          functionName: 'checkout',
          alias: 'live',
          version: '1',
          error: false,
          at: clock,
          durationMs,
        });
      }
      const data = await cw.send(
        new GetMetricDataCommand({
          MetricDataQueries: [
            query('p99', 'Duration', byVersion('1'), 'p99'),
            query('p50', 'Duration', byVersion('1'), 'p50'),
            query('samples', 'Duration', byVersion('1'), 'SampleCount'),
          ],
          ...lastMinute(),
        }),
      );
      expect(data.MetricDataResults?.map((r) => r.Values)).toEqual([[500], [30], [5]]);
    });

    it('answers recorded metrics by their exact dimensions, without percentiles of statistic sets', async () => {
      const dims = [
        { Name: 'LoadBalancer', Value: 'app/shop/0123456789abcdef' },
        { Name: 'TargetGroup', Value: 'targetgroup/shop-b/2222222222222222' },
      ];
      cloudwatch.recordMetric(
        {
          namespace: 'AWS/ApplicationELB',
          metricName: 'RequestCount',
          dimensions: dims,
          value: 40,
          at: clock,
        },
        {
          namespace: 'AWS/ApplicationELB',
          metricName: 'TargetResponseTime',
          dimensions: dims,
          statisticValues: { sampleCount: 40, sum: 4, minimum: 0.05, maximum: 0.3 },
          at: clock,
        },
      );
      const alb = (id: string, metric: string, stat: string, dimensions = dims) =>
        query(id, metric, dimensions, stat, 60, 'AWS/ApplicationELB');
      const data = await cw.send(
        new GetMetricDataCommand({
          MetricDataQueries: [
            alb('requests', 'RequestCount', 'Sum'),
            alb('latency', 'TargetResponseTime', 'p99'),
            alb('samples', 'TargetResponseTime', 'SampleCount'),
            alb('other', 'RequestCount', 'Sum', dims.slice(0, 1)),
          ],
          ...lastMinute(),
        }),
      );
      expect(data.MetricDataResults?.map((r) => [r.Id, r.Values])).toEqual([
        ['requests', [40]],
        ['latency', []],
        ['samples', [40]],
        ['other', []],
      ]);
    });

    it('refuses duplicate ids, metric math and an empty window with ValidationException', async () => {
      const dims = byVersion('1');
      for (const input of [
        {
          MetricDataQueries: [query('a', 'Errors', dims), query('a', 'Errors', dims)],
          ...lastMinute(),
        },
        { MetricDataQueries: [{ Id: 'rate', Expression: 'a / b' }], ...lastMinute() },
        { MetricDataQueries: [query('a', 'Errors', dims)], StartTime: clock, EndTime: clock },
        { MetricDataQueries: [query('a', 'Errors', dims, 'Median')], ...lastMinute() },
      ]) {
        await expect(cw.send(new GetMetricDataCommand(input))).rejects.toBeInstanceOf(
          ValidationException,
        );
      }
    });
  });

  describe('DeleteAlarms', () => {
    it('removes the named alarms', async () => {
      await cw.send(new PutMetricAlarmCommand(anErrorsAlarm()));
      await cw.send(new DeleteAlarmsCommand({ AlarmNames: ['checkout-errors'] }));
      expect(await alarm()).toBeUndefined();
    });
  });
});
