import { ciTeamSource, pascalCaseTeam } from '../core/ci-team.ts';
import { OperatorCommandDetailType } from '../core/operator-command.ts';
import { ReleaseRequestedDetailType } from '../core/release-event.ts';
import { eventRuleArn, stateMachineArn } from './arns.ts';
import { type PolicyDocument, type PolicyStatement, policyDocument } from './iam.ts';
import type { AwsLocation, GreenlightNames } from './names.ts';

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

/** Lets EventBridge park undeliverable events from greenlight's rules, and only from them. */
export function deadLetterQueuePolicy(
  queueArn: string,
  ruleArns: string | readonly string[],
): PolicyDocument {
  const rules = typeof ruleArns === 'string' ? ruleArns : [...ruleArns].sort();
  return policyDocument([
    {
      Sid: 'ReleaseRuleDeadLetters',
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: ['sqs:SendMessage'],
      Resource: [queueArn],
      Condition: { ArnEquals: { 'aws:SourceArn': rules } },
    },
  ]);
}

export interface BusPolicyInput {
  busArn: string;
  /** The platform's CI principals: may put Release Requested events and nothing else. */
  ciPrincipals: readonly string[];
  /**
   * Teams' CI principals: may put Release Requested events and nothing else, and only with
   * their team's source (`greenlight.ci.<team>`).
   * @default []
   */
  ciTeams?: readonly { team: string; principals: readonly string[] }[];
  /** Operators: may put Operator Command events (`greenlight pause`, ...) and nothing else. */
  operatorPrincipals?: readonly string[];
  /** greenlight's own roles that put events: lifecycle events, a retry's Release Requested. */
  publisherRoleArns: readonly string[];
}

/**
 * The bus's resource policy. The Allows let CI principals (possibly in other accounts) put
 * release requests, and operators put operator commands. The Denies make those the only ways
 * in: a same-account principal whose own IAM policy allows events:PutEvents on "*" is still
 * refused unless it is one of them or a greenlight role, and neither CI nor an operator can
 * put anything but its own kind of event (no forged lifecycle events). A principal that is
 * both may put both kinds.
 *
 * The detail-type conditions are written for a multivalued key and hold under either reading
 * of events:detail-type. The Service Authorization Reference for EventBridge types it
 * ArrayOfString (multivalued: the set of the request's entries' detail types), while the
 * examples on EventBridge's "Using IAM policy conditions" page
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-conditions.html) compare it
 * with plain StringEquals as if it were one string. IAM's "Single-valued vs. multivalued
 * context keys" page
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html)
 * says a multivalued key needs a set operator: without one, StringEquals in an Allow never
 * matches (CI could put nothing from another account) and StringNotEquals in a Deny never
 * matches (CI could put "Operator Command" and "Release Finalized"). So:
 * - Deny `ForAnyValue:StringNotEquals`: any detail type outside the principal's own kinds is
 *   refused; a single string is a set of one, so it reads the same either way.
 * - Deny `Null: true`: a request without a detail type is refused (ForAnyValue is false on a
 *   missing key).
 * - Allow `ForAllValues:StringEquals` with `Null: false`: every detail type is one of the
 *   principal's kinds, and there is one (ForAllValues alone is true on a missing key).
 * Separate buses per kind would avoid the key altogether, but would give CI and the CLI a
 * second bus to know of for no more protection than this.
 *
 * A team's CI principals are CI principals as above, and may put only their team's source:
 * events:source is "the literal string of the source field of the event" (EventBridge User
 * Guide, "Using IAM policy conditions",
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-conditions.html), a key of
 * PutEvents typed ArrayOfString like events:detail-type in the Service Authorization
 * Reference, so its Denies are written the same way: `ForAnyValue:StringNotEquals` the team's
 * source, and `Null: true`. The sender picks the source; for these principals this policy
 * leaves one to pick, so Register can trust it to name the team (resolve-release.ts).
 */
export function busPolicy(input: BusPolicyInput): PolicyDocument {
  const teams = [...(input.ciTeams ?? [])]
    .map((t) => ({ team: t.team, principals: [...new Set(t.principals)].sort() }))
    .filter((t) => t.principals.length > 0)
    .sort((a, b) => (a.team < b.team ? -1 : a.team > b.team ? 1 : 0));
  const teamPrincipals = teams.flatMap((t) => t.principals);
  const ci = [...new Set([...input.ciPrincipals, ...teamPrincipals])].sort();
  const operators = [...new Set(input.operatorPrincipals ?? [])].sort();
  const allowed = [...new Set([...ci, ...operators, ...input.publisherRoleArns])].sort();
  const groups = [
    {
      sid: 'CiPutsOnlyReleaseRequests',
      allowSid: 'CiPutsReleaseRequests',
      principals: ci.filter((p) => !operators.includes(p)),
      detailTypes: [ReleaseRequestedDetailType],
    },
    {
      sid: 'OperatorsPutOnlyCommands',
      allowSid: 'OperatorsPutCommands',
      principals: operators.filter((p) => !ci.includes(p)),
      detailTypes: [OperatorCommandDetailType],
    },
    {
      sid: 'CiOperatorsPutOnlyTheirEvents',
      allowSid: 'CiOperatorsPutTheirEvents',
      principals: ci.filter((p) => operators.includes(p)),
      detailTypes: [ReleaseRequestedDetailType, OperatorCommandDetailType],
    },
  ].filter((group) => group.principals.length > 0);
  const statement = (
    sid: string,
    effect: 'Allow' | 'Deny',
    principal: '*' | readonly string[],
    condition: NonNullable<PolicyStatement['Condition']>,
  ): PolicyStatement => ({
    Sid: sid,
    Effect: effect,
    Principal: principal === '*' ? '*' : { AWS: [...principal] },
    Action: ['events:PutEvents'],
    Resource: [input.busArn],
    Condition: condition,
  });
  return policyDocument([
    ...groups.map((group) =>
      statement(group.allowSid, 'Allow', group.principals, {
        'ForAllValues:StringEquals': { 'events:detail-type': group.detailTypes },
        Null: { 'events:detail-type': 'false' },
      }),
    ),
    statement('OnlyCiOperatorsAndGreenlightPut', 'Deny', '*', {
      ArnNotEquals: { 'aws:PrincipalArn': allowed },
    }),
    ...groups.map((group) =>
      statement(group.sid, 'Deny', group.principals, {
        'ForAnyValue:StringNotEquals': { 'events:detail-type': group.detailTypes },
      }),
    ),
    statement('CiAndOperatorsNameADetailType', 'Deny', [...new Set([...ci, ...operators])].sort(), {
      Null: { 'events:detail-type': 'true' },
    }),
    ...teams.map((t) =>
      statement(`CiTeam${pascalCaseTeam(t.team)}PutsOnlyItsSource`, 'Deny', t.principals, {
        'ForAnyValue:StringNotEquals': { 'events:source': [ciTeamSource(t.team)] },
      }),
    ),
    ...(teamPrincipals.length === 0
      ? []
      : [
          statement('CiTeamsNameASource', 'Deny', [...new Set(teamPrincipals)].sort(), {
            Null: { 'events:source': 'true' },
          }),
        ]),
  ]);
}

/**
 * Trust of the role EventBridge Scheduler assumes for teardown schedules: only schedules of
 * greenlight's group in this account. Scheduler sends the schedule group's ARN as
 * aws:SourceArn, and its guide says never to scope it to a schedule or a name prefix: a
 * condition on `…:schedule/GROUP/*` never matches, and no teardown would ever run (EventBridge
 * Scheduler User Guide, "Confused deputy prevention",
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html).
 * Its one permission is to invoke the teardown function (schedulerRolePolicy).
 */
export function schedulerTrustCondition(accountId: string, scheduleGroupArn: string) {
  return {
    StringEquals: { 'aws:SourceAccount': accountId },
    ArnEquals: { 'aws:SourceArn': scheduleGroupArn },
  };
}

/**
 * Trust of the workflow's role: Step Functions, for greenlight's state machine only. Step
 * Functions sends the state machine's ARN as aws:SourceArn (Step Functions Developer Guide,
 * "Creating an IAM role for your state machine", "Prevent cross-service confused deputy
 * issue", https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html);
 * `:*` admits its versions and aliases, which are still this state machine.
 */
export function stateMachineTrustCondition(at: AwsLocation, names: GreenlightNames) {
  const machine = stateMachineArn(at, names.stateMachine);
  return {
    StringEquals: { 'aws:SourceAccount': at.accountId },
    ArnLike: { 'aws:SourceArn': [machine, `${machine}:*`] },
  };
}

/**
 * Trust of the role the release rule's target uses: EventBridge, for that rule only. "For
 * EventBridge event bus rule targets, the value of aws:SourceArn must be the rule ARN"
 * (EventBridge User Guide, "Cross-service confused deputy prevention",
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/cross-service-confused-deputy-prevention.html).
 */
export function releaseRuleTrustCondition(at: AwsLocation, names: GreenlightNames) {
  return {
    StringEquals: { 'aws:SourceAccount': at.accountId },
    ArnEquals: { 'aws:SourceArn': eventRuleArn(at, names.releaseRule, names.bus) },
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
