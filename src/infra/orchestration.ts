import { ReleaseRequestedDetailType } from '../core/release-event.ts';
import { type PolicyDocument, policyDocument } from './iam.ts';

/**
 * Actions that may have `*` as their resource, each because AWS offers no resource-level
 * permission for it. Any other `*` resource fails the infra tests.
 */
export const wildcardResourceExceptions: Readonly<Record<string, string>> = {
  'logs:CreateLogDelivery': stepFunctionsLogging(),
  'logs:GetLogDelivery': stepFunctionsLogging(),
  'logs:UpdateLogDelivery': stepFunctionsLogging(),
  'logs:DeleteLogDelivery': stepFunctionsLogging(),
  'logs:ListLogDeliveries': stepFunctionsLogging(),
  'logs:PutResourcePolicy': stepFunctionsLogging(),
  'logs:DescribeResourcePolicies': stepFunctionsLogging(),
  'logs:DescribeLogGroups': stepFunctionsLogging(),
  'xray:PutTraceSegments': xray(),
  'xray:PutTelemetryRecords': xray(),
  'xray:GetSamplingRules': xray(),
  'xray:GetSamplingTargets': xray(),
  'states:SendTaskSuccess': taskTokens(),
  'states:SendTaskFailure': taskTokens(),
  'elasticloadbalancing:DescribeListeners': elbv2Describe(),
  'elasticloadbalancing:DescribeRules': elbv2Describe(),
  'elasticloadbalancing:DescribeTargetHealth': elbv2Describe(),
  'elasticloadbalancing:DescribeTargetGroupAttributes': elbv2Describe(),
  'ecs:DescribeTaskDefinition': ecsTaskDefinitionReads(),
  'ecs:ListTaskDefinitions': ecsTaskDefinitionReads(),
  'cloudwatch:GetMetricData':
    'Service Authorization Reference for Amazon CloudWatch: GetMetricData has no resource types (metrics are not resources IAM can name), so Resource must be "*". Granted to check-gates only, and only when a registered service has a metric gate.',
};

function elbv2Describe(): string {
  return 'Service Authorization Reference for Elastic Load Balancing V2: the Describe* actions have no resource types, so Resource must be "*"; the writes (ModifyListener, ModifyRule) are scoped to the registered listeners and rules.';
}

function ecsTaskDefinitionReads(): string {
  return 'Service Authorization Reference for Amazon ECS: DescribeTaskDefinition and ListTaskDefinitions have no resource types, so Resource must be "*"; RegisterTaskDefinition is scoped to the registered families (task-definition/FAMILY:*).';
}

function taskTokens(): string {
  return 'Service Authorization Reference for Step Functions: SendTaskSuccess and SendTaskFailure have no resource types (the task token is the credential), so Resource must be "*".';
}

function stepFunctionsLogging(): string {
  return 'Step Functions Developer Guide, "Logging Step Functions using CloudWatch Logs": log delivery uses the CloudWatch Logs vended-log APIs, which do not support resource types, so the policy must name Resource "*".';
}

function xray(): string {
  return 'Step Functions Developer Guide, "IAM policies for using AWS X-Ray in Step Functions", and the Service Authorization Reference for X-Ray: these actions have no resource types, so Resource must be "*".';
}

/** The state machine's role: invoke exactly its step functions, deliver logs, send traces. */
export function stateMachinePolicy(stepFunctionArns: readonly string[]): PolicyDocument {
  return policyDocument([
    {
      Sid: 'InvokeSteps',
      Effect: 'Allow',
      Action: ['lambda:InvokeFunction'],
      // `:*` too: Step Functions may invoke a qualified ARN when a Task names one.
      Resource: [...stepFunctionArns.flatMap((arn) => [arn, `${arn}:*`])].sort(),
    },
    {
      Sid: 'DeliverLogs',
      Effect: 'Allow',
      Action: Object.keys(wildcardResourceExceptions)
        .filter((a) => a.startsWith('logs:'))
        .sort(),
      Resource: ['*'],
    },
    {
      Sid: 'Trace',
      Effect: 'Allow',
      Action: Object.keys(wildcardResourceExceptions)
        .filter((a) => a.startsWith('xray:'))
        .sort(),
      Resource: ['*'],
    },
  ]);
}

/** The role EventBridge assumes to start a release: this one state machine, nothing else. */
export function ruleTargetPolicy(stateMachineArn: string): PolicyDocument {
  return policyDocument([
    {
      Sid: 'StartRelease',
      Effect: 'Allow',
      Action: ['states:StartExecution'],
      Resource: [stateMachineArn],
    },
  ]);
}

/** Lets EventBridge park undeliverable events from the release rule, and only from it. */
export function deadLetterQueuePolicy(queueArn: string, ruleArn: string): PolicyDocument {
  return policyDocument([
    {
      Sid: 'ReleaseRuleDeadLetters',
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: ['sqs:SendMessage'],
      Resource: [queueArn],
      Condition: { ArnEquals: { 'aws:SourceArn': ruleArn } },
    },
  ]);
}

export interface BusPolicyInput {
  busArn: string;
  /** CI principals: may put Release Requested events and nothing else. */
  ciPrincipals: readonly string[];
  /** greenlight's own step roles: they put lifecycle events. */
  publisherRoleArns: readonly string[];
}

/**
 * The bus's resource policy. The Allow lets CI principals (possibly in other accounts) put
 * release requests. The Denies make that the only way in: a same-account principal whose
 * own IAM policy allows events:PutEvents on "*" is still refused unless it is a CI principal
 * or a greenlight step, and CI cannot forge lifecycle events.
 */
export function busPolicy(input: BusPolicyInput): PolicyDocument {
  const ci = [...input.ciPrincipals].sort();
  const allowed = [...new Set([...ci, ...input.publisherRoleArns])].sort();
  return policyDocument([
    {
      Sid: 'CiPutsReleaseRequests',
      Effect: 'Allow',
      Principal: { AWS: ci },
      Action: ['events:PutEvents'],
      Resource: [input.busArn],
      Condition: { StringEquals: { 'events:detail-type': ReleaseRequestedDetailType } },
    },
    {
      Sid: 'OnlyCiAndGreenlightPut',
      Effect: 'Deny',
      Principal: '*',
      Action: ['events:PutEvents'],
      Resource: [input.busArn],
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': allowed } },
    },
    {
      Sid: 'CiPutsOnlyReleaseRequests',
      Effect: 'Deny',
      Principal: { AWS: ci },
      Action: ['events:PutEvents'],
      Resource: [input.busArn],
      Condition: { StringNotEquals: { 'events:detail-type': ReleaseRequestedDetailType } },
    },
  ]);
}

/**
 * Trust policy of the role EventBridge Scheduler assumes for teardown schedules: only
 * schedules of greenlight's group in this account may use it. Its one permission is to invoke
 * the teardown function (schedulerRolePolicy).
 */
export function schedulerTrustCondition(accountId: string, scheduleGroupArn: string) {
  return {
    StringEquals: { 'aws:SourceAccount': accountId },
    ArnLike: { 'aws:SourceArn': `${scheduleGroupArn.replace(':schedule-group/', ':schedule/')}/*` },
  };
}

/**
 * What the scheduler role may do: invoke the teardown function, nothing else. Its schedules
 * name the unqualified function ARN, so that is the only resource.
 */
export function schedulerRolePolicy(teardownFunctionArn: string): PolicyDocument {
  return policyDocument([
    {
      Sid: 'InvokeTeardown',
      Effect: 'Allow',
      Action: ['lambda:InvokeFunction'],
      Resource: [teardownFunctionArn],
    },
  ]);
}

/** The daily rule that runs the sweeper (on the default bus). */
export const sweeperSchedule = {
  /** Every day at 03:17 UTC: off the hour, when few releases run. */
  expression: 'cron(17 3 * * ? *)',
  description:
    'Tears down idle colours left warm past their window (a lost schedule, a failed teardown)',
} as const;
