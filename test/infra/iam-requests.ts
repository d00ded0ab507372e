import {
  ecrRepositoryArn,
  ecsServiceArn,
  lambdaFunctionArn,
  tableArn,
} from '../../src/infra/arns.ts';
import type { AwsLocation } from '../../src/infra/names.ts';

/**
 * One authorization AWS makes for a request: the action, the resource ARN it is checked
 * against and the request's context keys. `implicit` marks a check AWS makes on the caller's
 * role for a request of another action (a task role passed to ECS, an S3 object Lambda reads).
 */
export interface IamRequest {
  action: string;
  resource: string;
  context: Record<string, string | string[]>;
  implicit?: true;
}

/** One SDK request a function sent: the client's service prefix, command and input. */
export interface SentRequest {
  service: string;
  command: string;
  input: Record<string, unknown>;
  /** The fake's answer, for what only the answer names (a task definition's new revision). */
  output?: Record<string, unknown> | undefined;
}

/** SDK command → IAM action, where the action is not simply the command's name. */
const actionOverrides: Record<string, string> = {
  'lambda:Invoke': 'lambda:InvokeFunction',
  'sfn:SendTaskSuccess': 'states:SendTaskSuccess',
  'sfn:SendTaskFailure': 'states:SendTaskFailure',
  'sfn:DescribeExecution': 'states:DescribeExecution',
};

export function iamAction(service: string, commandName: string): string {
  const action = `${service}:${commandName.replace(/Command$/, '')}`;
  return actionOverrides[action] ?? action;
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const texts = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

/**
 * The authorizations AWS makes for one SDK request, resource ARNs built the way IAM checks
 * them (Service Authorization Reference, each service's "Resource types" table): a Lambda
 * request naming a Qualifier (or an alias) on the qualified ARN, others on the function;
 * ModifyRule on the rule, ModifyListener on the listener; PutEvents on the bus with its
 * entries' detail types and sources as multivalued context keys; actions without resource
 * types on "*".
 */
export function iamRequestsOf(sent: SentRequest, at: AwsLocation): IamRequest[] {
  const action = iamAction(sent.service, sent.command);
  const { input } = sent;
  const on = (resource: string, context: IamRequest['context'] = {}): IamRequest => ({
    action,
    resource,
    context,
  });
  switch (sent.service) {
    case 'dynamodb': {
      const tables = input.RequestItems
        ? Object.keys(input.RequestItems as object)
        : [text(input.TableName)];
      return tables.map((table) =>
        on(
          input.IndexName
            ? `${tableArn(at, table)}/index/${text(input.IndexName)}`
            : tableArn(at, table),
        ),
      );
    }
    case 'lambda':
      return lambdaRequests(sent, action, at);
    case 'cloudwatch':
      // DescribeAlarms is checked against each named alarm; GetMetricData has no resource.
      return action === 'cloudwatch:DescribeAlarms'
        ? texts(input.AlarmNames).map((name) =>
            on(`arn:${at.partition}:cloudwatch:${at.region}:${at.accountId}:alarm:${name}`),
          )
        : [on('*')];
    case 'events': {
      // EventBridge authorizes PutEvents per bus, with the entries' detail types and sources
      // (Service Authorization Reference for EventBridge: events:detail-type, events:source,
      // ArrayOfString).
      const entries = (input.Entries ?? []) as Record<string, unknown>[];
      const buses = new Map<string, Record<string, unknown>[]>();
      for (const entry of entries) {
        const bus = text(entry.EventBusName) || 'default';
        buses.set(bus, [...(buses.get(bus) ?? []), entry]);
      }
      return [...buses].map(([bus, onBus]) =>
        on(
          bus.startsWith('arn:')
            ? bus
            : `arn:${at.partition}:events:${at.region}:${at.accountId}:event-bus/${bus}`,
          {
            'events:detail-type': [...new Set(onBus.map((e) => text(e.DetailType)))].sort(),
            'events:source': [...new Set(onBus.map((e) => text(e.Source)))].sort(),
          },
        ),
      );
    }
    case 'sfn':
      // DescribeExecution is checked against the execution; the task token actions have no
      // resource type.
      if (action === 'states:DescribeExecution') return [on(text(input.executionArn))];
      return [on('*')];
    case 'elasticloadbalancing':
      if (action === 'elasticloadbalancing:ModifyListener') return [on(text(input.ListenerArn))];
      if (action === 'elasticloadbalancing:ModifyRule') return [on(text(input.RuleArn))];
      return [on('*')];
    case 'ecs':
      return ecsRequests(sent, action, at);
    case 'logs':
      // GetLogEvents is authorized on the log stream.
      return [
        on(
          `arn:${at.partition}:logs:${at.region}:${at.accountId}:log-group:${text(input.logGroupName)}:log-stream:${text(input.logStreamName)}`,
        ),
      ];
    case 'scheduler': {
      const group = text(input.GroupName) || 'default';
      const schedule = on(
        `arn:${at.partition}:scheduler:${at.region}:${at.accountId}:schedule/${group}/${text(input.Name)}`,
      );
      const roleArn = text((input.Target as Record<string, unknown> | undefined)?.RoleArn);
      return roleArn === '' ? [schedule] : [schedule, passRole(roleArn, 'scheduler.amazonaws.com')];
    }
    default:
      throw new Error(`No IAM resource rule for ${sent.service}:${sent.command}; add one here`);
  }
}

function lambdaRequests(sent: SentRequest, action: string, at: AwsLocation): IamRequest[] {
  const { input } = sent;
  const [name = '', nameQualifier] = text(input.FunctionName)
    .replace(/^arn:[^:]+:lambda:[^:]+:\d+:function:/, '')
    .split(':');
  const fn = lambdaFunctionArn(at, name);
  // An alias operation on the alias's ARN. The reference gives GetAlias and UpdateAlias only
  // the "function" resource type, whose pattern admits both that and the unqualified ARN; the
  // grants name both (`…:NAME` and `…:NAME:*`), so either way they are allowed.
  const qualifier =
    action === 'lambda:GetAlias' || action === 'lambda:UpdateAlias'
      ? text(input.Name)
      : text(input.Qualifier) || nameQualifier;
  const requests: IamRequest[] = [
    { action, resource: qualifier ? `${fn}:${qualifier}` : fn, context: {} },
  ];
  if (action === 'lambda:UpdateFunctionCode') {
    // Lambda reads the artifact with the caller's permissions (Lambda API Reference,
    // UpdateFunctionCode).
    if (input.S3Bucket) {
      const object = `arn:${at.partition}:s3:::${text(input.S3Bucket)}/${text(input.S3Key)}`;
      requests.push({ action: 's3:GetObject', resource: object, context: {}, implicit: true });
      if (input.S3ObjectVersion) {
        requests.push({
          action: 's3:GetObjectVersion',
          resource: object,
          context: {},
          implicit: true,
        });
      }
    }
    if (input.ImageUri) {
      const repository = ecrRepositoryArn(at, text(input.ImageUri).replace(/[:@].*$/, ''));
      for (const ecr of ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer']) {
        requests.push({ action: ecr, resource: repository, context: {}, implicit: true });
      }
    }
  }
  return requests;
}

function ecsRequests(sent: SentRequest, action: string, at: AwsLocation): IamRequest[] {
  const { input } = sent;
  const cluster = text(input.cluster) || 'default';
  switch (action) {
    case 'ecs:DescribeServices':
      return texts(input.services).map((service) => ({
        action,
        resource: ecsServiceArn(at, cluster, service),
        context: {},
      }));
    case 'ecs:RunTask': {
      // Authorized on the revision that runs (a family alone: its latest ACTIVE one), with the
      // cluster as the ecs:cluster condition key.
      const tasks = (sent.output?.tasks ?? []) as Record<string, unknown>[];
      return tasks.map((task) => ({
        action,
        resource: text(task.taskDefinitionArn),
        context: { 'ecs:cluster': clusterArn(at, cluster) },
      }));
    }
    case 'ecs:DescribeTasks':
      return texts(input.tasks).map((task) => ({
        action,
        resource: task,
        context: { 'ecs:cluster': clusterArn(at, cluster) },
      }));
    case 'ecs:StopTask':
      return [
        { action, resource: text(input.task), context: { 'ecs:cluster': clusterArn(at, cluster) } },
      ];
    case 'ecs:UpdateService':
      return [{ action, resource: ecsServiceArn(at, cluster, text(input.service)), context: {} }];
    case 'ecs:RegisterTaskDefinition': {
      // The new revision is what IAM checks; only the answer names it. The tags it is
      // registered with are the request's (aws:RequestTag/<key>, aws:TagKeys), for both checks.
      const revision = text(
        (sent.output?.taskDefinition as Record<string, unknown> | undefined)?.taskDefinitionArn,
      );
      const tags = requestTagContext(input.tags);
      const requests: IamRequest[] = [{ action, resource: revision, context: tags }];
      if (Array.isArray(input.tags) && input.tags.length > 0) {
        requests.push({
          action: 'ecs:TagResource',
          resource: revision,
          context: { ...tags, 'ecs:CreateAction': 'RegisterTaskDefinition' },
          implicit: true,
        });
      }
      for (const role of new Set([text(input.taskRoleArn), text(input.executionRoleArn)])) {
        if (role !== '') {
          requests.push(passRole(role, 'ecs-tasks.amazonaws.com'));
        }
      }
      return requests;
    }
    default:
      return [{ action, resource: '*', context: {} }];
  }
}

function clusterArn(at: AwsLocation, cluster: string): string {
  return cluster.startsWith('arn:')
    ? cluster
    : `arn:${at.partition}:ecs:${at.region}:${at.accountId}:cluster/${cluster}`;
}

/** ECS's `[{key, value}]` tags of a creating request, as the context keys IAM sets from them. */
function requestTagContext(tags: unknown): IamRequest['context'] {
  const pairs = (Array.isArray(tags) ? tags : []).map((tag: Record<string, unknown>) => [
    text(tag.key),
    text(tag.value),
  ]);
  if (pairs.length === 0) return {};
  return {
    ...Object.fromEntries(pairs.map(([key, value]) => [`aws:RequestTag/${key}`, value])),
    'aws:TagKeys': pairs.map(([key]) => key ?? '').sort(),
  };
}

/** Handing a role to a service: iam:PassRole on it, with the service it goes to. */
function passRole(roleArn: string, service: string): IamRequest {
  return {
    action: 'iam:PassRole',
    resource: roleArn,
    context: { 'iam:PassedToService': service },
    implicit: true,
  };
}

/**
 * What the Lambda service does with the function's role for its logs: create its stream and
 * put the function's output (Lambda Developer Guide, "Sending Lambda function logs to
 * CloudWatch Logs").
 */
export function logRequests(logGroupName: string, at: AwsLocation): IamRequest[] {
  const stream = `arn:${at.partition}:logs:${at.region}:${at.accountId}:log-group:${logGroupName}:log-stream:2026/12/06/[$LATEST]0123456789abcdef`;
  return ['logs:CreateLogStream', 'logs:PutLogEvents'].map((action) => ({
    action,
    resource: stream,
    context: {},
    implicit: true,
  }));
}
