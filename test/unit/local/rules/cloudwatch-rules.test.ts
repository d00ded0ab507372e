import {
  CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  PutMetricAlarmCommand,
  type PutMetricAlarmCommandInput,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import { LocalCloudWatch } from '../../../../src/local/cloudwatch/simulator.ts';
import { startEndpoint } from '../../../../src/local/endpoint.ts';
import { clientConfig, describeRules, outcomeOf, type RuleCase } from '../../../support/moto.ts';

/**
 * CloudWatch alarm and metric API rules, as one table run against the local CloudWatch and
 * against moto_server. Each case names its alarms after its own prefix (`rule-N`).
 */
interface CloudWatchBackend {
  client: CloudWatchClient;
}

const api = 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference';

function anAlarm(
  name: string,
  overrides: Partial<PutMetricAlarmCommandInput> = {},
): PutMetricAlarmCommandInput {
  return {
    AlarmName: name,
    Namespace: 'AWS/Lambda',
    MetricName: 'Errors',
    Dimensions: [{ Name: 'FunctionName', Value: 'checkout' }],
    Statistic: 'Sum',
    Period: 60,
    EvaluationPeriods: 1,
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
    ...overrides,
  };
}

function put(
  { client }: CloudWatchBackend,
  name: string,
  overrides: Partial<PutMetricAlarmCommandInput> = {},
) {
  return outcomeOf(client.send(new PutMetricAlarmCommand(anAlarm(name, overrides))));
}

const cases: RuleCase<CloudWatchBackend>[] = [
  {
    name: 'PutMetricAlarm without an AlarmName',
    doc: `${api}/API_PutMetricAlarm.html (AlarmName: required, length 1 to 255)`,
    run: (backend) => put(backend, ''),
    aws: { error: 'MissingRequiredParameterException' },
    motoIsWrong: { outcome: { ok: true }, because: 'moto stores an alarm with an empty name' },
  },
  {
    name: 'PutMetricAlarm with an unknown ComparisonOperator',
    doc: `${api}/API_PutMetricAlarm.html (ComparisonOperator: valid values)`,
    run: (backend, prefix) =>
      put(backend, `${prefix}-a`, { ComparisonOperator: 'Bigger' as 'GreaterThanThreshold' }),
    aws: { error: 'ValidationException' },
    motoIsWrong: {
      outcome: { ok: true },
      because: 'moto stores PutMetricAlarm input without validating it',
    },
  },
  {
    name: 'PutMetricAlarm with EvaluationPeriods 0',
    doc: `${api}/API_PutMetricAlarm.html (EvaluationPeriods: minimum 1)`,
    run: (backend, prefix) => put(backend, `${prefix}-a`, { EvaluationPeriods: 0 }),
    aws: { error: 'ValidationException' },
    motoIsWrong: {
      outcome: { ok: true },
      because: 'moto stores PutMetricAlarm input without validating it',
    },
  },
  {
    name: 'PutMetricAlarm with more DatapointsToAlarm than EvaluationPeriods',
    doc: `${api}/API_PutMetricAlarm.html (DatapointsToAlarm: the M of "M out of N")`,
    run: (backend, prefix) =>
      put(backend, `${prefix}-a`, { EvaluationPeriods: 1, DatapointsToAlarm: 2 }),
    aws: { error: 'ValidationException' },
    motoIsWrong: {
      outcome: { ok: true },
      because: 'moto stores PutMetricAlarm input without validating it',
    },
  },
  {
    name: 'PutMetricAlarm with an unknown TreatMissingData',
    doc: `${api}/API_PutMetricAlarm.html (TreatMissingData: breaching | notBreaching | ignore | missing)`,
    run: (backend, prefix) => put(backend, `${prefix}-a`, { TreatMissingData: 'sometimes' }),
    aws: { error: 'ValidationException' },
    motoIsWrong: {
      outcome: { ok: true },
      because: 'moto stores PutMetricAlarm input without validating it',
    },
  },
  {
    name: 'PutMetricAlarm with MetricName and Metrics together',
    doc: `${api}/API_PutMetricAlarm.html (Metrics: cannot be used with MetricName)`,
    run: (backend, prefix) =>
      put(backend, `${prefix}-a`, {
        Metrics: [
          {
            Id: 'm1',
            MetricStat: {
              Metric: { Namespace: 'AWS/Lambda', MetricName: 'Errors' },
              Period: 60,
              Stat: 'Sum',
            },
          },
        ],
      }),
    aws: { error: 'InvalidParameterCombinationException' },
    motoIsWrong: {
      outcome: { ok: true },
      because: 'moto stores PutMetricAlarm input without validating it',
    },
  },
  {
    name: 'DescribeAlarms with AlarmNames and AlarmNamePrefix together',
    doc: `${api}/API_DescribeAlarms.html (AlarmNamePrefix: cannot be used with AlarmNames)`,
    run: ({ client }, prefix) =>
      outcomeOf(
        client.send(new DescribeAlarmsCommand({ AlarmNames: [prefix], AlarmNamePrefix: prefix })),
      ),
    aws: { error: 'InvalidParameterCombinationException' },
    motoIsWrong: { outcome: { ok: true }, because: 'moto answers with the union of both filters' },
  },
  {
    name: 'DescribeAlarms with MaxRecords 101',
    doc: `${api}/API_DescribeAlarms.html (MaxRecords: 1 to 100)`,
    run: ({ client }, prefix) =>
      outcomeOf(
        client.send(new DescribeAlarmsCommand({ AlarmNamePrefix: prefix, MaxRecords: 101 })),
      ),
    aws: { error: 'ValidationException' },
    motoIsWrong: { outcome: { ok: true }, because: 'moto does not check MaxRecords' },
  },
  {
    name: 'DescribeAlarms one a page, following NextToken',
    doc: `${api}/API_DescribeAlarms.html (MaxRecords, NextToken)`,
    async run(backend, prefix) {
      for (const suffix of ['c', 'a', 'b']) await put(backend, `${prefix}-${suffix}`);
      const pages: (string | undefined)[][] = [];
      let token: string | undefined;
      do {
        const page = await backend.client.send(
          new DescribeAlarmsCommand({ AlarmNamePrefix: prefix, MaxRecords: 1, NextToken: token }),
        );
        pages.push((page.MetricAlarms ?? []).map((a) => a.AlarmName));
        token = page.NextToken;
      } while (token !== undefined && pages.length < 5);
      return { ok: pages };
    },
    aws: { ok: [['rule-8-a'], ['rule-8-b'], ['rule-8-c']] },
    motoIsWrong: {
      outcome: { ok: [['rule-8-c', 'rule-8-a', 'rule-8-b']] },
      because: 'moto ignores MaxRecords and answers every alarm in one page, unsorted',
    },
  },
  {
    name: 'DescribeAlarms with a NextToken it did not issue',
    doc: `${api}/API_DescribeAlarms.html (Errors: InvalidNextToken)`,
    run: ({ client }, prefix) =>
      outcomeOf(
        client.send(new DescribeAlarmsCommand({ AlarmNamePrefix: prefix, NextToken: 'bogus' })),
      ),
    aws: { error: 'InvalidNextToken' },
    motoIsWrong: { outcome: { ok: true }, because: 'moto ignores NextToken' },
  },
  {
    name: 'a new alarm starts in INSUFFICIENT_DATA',
    doc: `${api}/API_PutMetricAlarm.html ("the alarm state is immediately set to INSUFFICIENT_DATA")`,
    async run(backend, prefix) {
      // With no data and TreatMissingData "missing", evaluation leaves it there too.
      await put(backend, `${prefix}-a`, { TreatMissingData: 'missing' });
      return outcomeOf(
        backend.client.send(new DescribeAlarmsCommand({ AlarmNames: [`${prefix}-a`] })),
        (r) => r.MetricAlarms?.map((a) => a.StateValue),
      );
    },
    aws: { ok: ['INSUFFICIENT_DATA'] },
    motoIsWrong: { outcome: { ok: ['OK'] }, because: 'moto creates every alarm in state OK' },
  },
  {
    name: 'SetAlarmState to ALARM, then DescribeAlarms',
    doc: `${api}/API_SetAlarmState.html`,
    async run(backend, prefix) {
      await put(backend, `${prefix}-a`);
      await backend.client.send(
        new SetAlarmStateCommand({
          AlarmName: `${prefix}-a`,
          StateValue: 'ALARM',
          StateReason: 'drill',
        }),
      );
      return outcomeOf(
        backend.client.send(new DescribeAlarmsCommand({ AlarmNames: [`${prefix}-a`] })),
        (r) => r.MetricAlarms?.map((a) => [a.StateValue, a.StateReason]),
      );
    },
    aws: { ok: [['ALARM', 'drill']] },
  },
  {
    name: 'SetAlarmState of an alarm that does not exist',
    doc: `${api}/API_SetAlarmState.html (Errors: ResourceNotFound)`,
    run: ({ client }, prefix) =>
      outcomeOf(
        client.send(
          new SetAlarmStateCommand({ AlarmName: prefix, StateValue: 'ALARM', StateReason: 'x' }),
        ),
      ),
    aws: { error: 'ResourceNotFound' },
  },
  {
    name: 'SetAlarmState with a StateValue that is not a state',
    doc: `${api}/API_SetAlarmState.html (StateValue: OK | ALARM | INSUFFICIENT_DATA)`,
    async run(backend, prefix) {
      await put(backend, `${prefix}-a`);
      return outcomeOf(
        backend.client.send(
          new SetAlarmStateCommand({
            AlarmName: `${prefix}-a`,
            StateValue: 'BROKEN' as 'OK',
            StateReason: 'x',
          }),
        ),
      );
    },
    aws: { error: 'ValidationException' },
  },
  {
    name: 'DeleteAlarms of an alarm that does not exist',
    doc: `${api}/API_DeleteAlarms.html (Errors: ResourceNotFound)`,
    run: ({ client }, prefix) =>
      outcomeOf(client.send(new DeleteAlarmsCommand({ AlarmNames: [`${prefix}-missing`] }))),
    aws: { error: 'ResourceNotFound' },
    motoIsWrong: { outcome: { ok: true }, because: 'moto deletes nothing and answers success' },
  },
  {
    name: 'DeleteAlarms of an alarm that exists',
    doc: `${api}/API_DeleteAlarms.html`,
    async run(backend, prefix) {
      await put(backend, `${prefix}-a`);
      await backend.client.send(new DeleteAlarmsCommand({ AlarmNames: [`${prefix}-a`] }));
      return outcomeOf(
        backend.client.send(new DescribeAlarmsCommand({ AlarmNamePrefix: prefix })),
        (r) => r.MetricAlarms?.length,
      );
    },
    aws: { ok: 0 },
  },
  {
    name: 'GetMetricData with StartTime after EndTime',
    doc: `${api}/API_GetMetricData.html (StartTime must be earlier than EndTime)`,
    run: ({ client }) =>
      outcomeOf(
        client.send(
          new GetMetricDataCommand({
            StartTime: new Date('2025-03-01T11:00:00Z'),
            EndTime: new Date('2025-03-01T10:00:00Z'),
            MetricDataQueries: [
              {
                Id: 'errors',
                MetricStat: {
                  Metric: { Namespace: 'AWS/Lambda', MetricName: 'Errors' },
                  Period: 60,
                  Stat: 'Sum',
                },
              },
            ],
          }),
        ),
      ),
    aws: { error: 'ValidationException' },
  },
];

describeRules<CloudWatchBackend>({
  service: 'CloudWatch',
  cases,
  async local() {
    const cloudwatch = new LocalCloudWatch({ now: () => new Date('2025-03-01T12:00:00Z') });
    const endpoint = await startEndpoint([cloudwatch]);
    const client = cloudWatchClient(endpoint.url);
    return {
      backend: { client },
      async close() {
        client.destroy();
        await endpoint.close();
      },
    };
  },
  async moto(endpoint) {
    const client = cloudWatchClient(endpoint);
    return {
      backend: { client },
      async close() {
        client.destroy();
      },
    };
  },
});

function cloudWatchClient(endpoint: string): CloudWatchClient {
  return new CloudWatchClient(clientConfig(endpoint));
}
