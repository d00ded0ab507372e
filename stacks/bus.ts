import { operatorRulePattern } from '../src/core/operator-command.ts';
import {
  alarmRulePattern,
  releaseRulePattern,
  releaseUpdatesRulePattern,
} from '../src/core/release-rule.ts';
import type { CiTeam } from '../src/infra/deploy-config.ts';
import { assumeRolePolicy, trustPolicyJson } from '../src/infra/iam.ts';
import type { AwsLocation, GreenlightNames } from '../src/infra/names.ts';
import {
  busPolicy,
  deadLetterQueuePolicy,
  releaseRuleTrustCondition,
  ruleTargetPolicy,
} from '../src/infra/orchestration.ts';

export interface ReleaseBusInput {
  names: GreenlightNames;
  at: $util.Output<AwsLocation>;
  ciPrincipals: readonly string[];
  ciTeams: readonly CiTeam[];
  operatorPrincipals: readonly string[];
  /** greenlight's roles that put events: lifecycle events, a retry's Release Requested. */
  publisherRoleArns: $util.Output<string>[];
  stateMachineArn: $util.Output<string>;
  /** Receives the Operator Command events. */
  operatorFunction: sst.aws.Function;
  /** Receives the registered gate alarms' state changes (default bus), when there are any. */
  alarmEvents: { function: sst.aws.Function };
  /** Receives greenlight's own lifecycle events, for services' Slack update threads. */
  releaseUpdatesFunction: sst.aws.Function;
}

/**
 * The greenlight bus, closed to everyone but CI and greenlight, and the rule that starts a
 * release execution for each Release Requested event. SST's Bus cannot target a state
 * machine, so the rule and target are plain resources. Also the rules that hand operator
 * commands (greenlight bus) and gate alarms' state changes (default bus) to their functions.
 * Events EventBridge cannot deliver after its retries land in one dead-letter queue.
 */
export function createReleaseBus(input: ReleaseBusInput) {
  const { names, at } = input;
  const bus = new aws.cloudwatch.EventBus('ReleaseBus', { name: names.bus });
  const busAccess = new aws.cloudwatch.EventBusPolicy('ReleaseBusPolicy', {
    eventBusName: bus.name,
    policy: $util
      .all([bus.arn, $util.all(input.publisherRoleArns)])
      .apply(([busArn, publisherRoleArns]) =>
        JSON.stringify(
          busPolicy({
            busArn,
            ciPrincipals: input.ciPrincipals,
            ciTeams: input.ciTeams,
            operatorPrincipals: input.operatorPrincipals,
            publisherRoleArns,
          }),
        ),
      ),
  });
  const rule = new aws.cloudwatch.EventRule('ReleaseRequestedRule', {
    name: names.releaseRule,
    eventBusName: bus.name,
    description: 'Starts a greenlight release for each Release Requested event',
    eventPattern: JSON.stringify(releaseRulePattern),
  });
  const deadLetters = new aws.sqs.Queue('ReleaseDeadLetters', {
    name: names.deadLetterQueue,
    messageRetentionSeconds: 14 * 24 * 3600,
    sqsManagedSseEnabled: true,
  });
  // Operators' commands go to the operator function, which answers in the ledger.
  const operatorRule = new aws.cloudwatch.EventRule('OperatorCommandRule', {
    name: names.operatorRule,
    eventBusName: bus.name,
    description:
      'Hands greenlight operator commands (pause, promote, abort, ...) to the operator function',
    eventPattern: JSON.stringify(operatorRulePattern),
  });
  // CloudWatch puts alarm state changes on the default bus; an alarm entering ALARM goes to
  // the alarm-event function, which cuts the bakes watching it short (and ignores the rest).
  const alarmRule = new aws.cloudwatch.EventRule('AlarmStateChangeRule', {
    name: names.alarmRule,
    description: "Hands alarms' ALARM state changes to greenlight's alarm-event function",
    eventPattern: JSON.stringify(alarmRulePattern),
  });
  // greenlight's own lifecycle events go to the release-updates function, which keeps the
  // Slack thread of each release whose service names an updates channel.
  const updatesRule = new aws.cloudwatch.EventRule('ReleaseUpdatesRule', {
    name: names.releaseUpdatesRule,
    eventBusName: bus.name,
    description: "Hands greenlight's lifecycle events to the release-updates function",
    eventPattern: JSON.stringify(releaseUpdatesRulePattern),
  });
  const ruleArns = [rule.arn, operatorRule.arn, alarmRule.arn, updatesRule.arn];
  const deadLetterAccess = new aws.sqs.QueuePolicy('ReleaseDeadLettersPolicy', {
    queueUrl: deadLetters.url,
    policy: $util
      .all([deadLetters.arn, $util.all(ruleArns)])
      .apply(([queueArn, arns]) => JSON.stringify(deadLetterQueuePolicy(queueArn, arns))),
  });
  const operatorInvoke = new aws.lambda.Permission('OperatorCommandInvoke', {
    action: 'lambda:InvokeFunction',
    function: input.operatorFunction.name,
    principal: 'events.amazonaws.com',
    sourceArn: operatorRule.arn,
  });
  const operatorTarget = new aws.cloudwatch.EventTarget(
    'OperatorCommandTarget',
    {
      rule: operatorRule.name,
      eventBusName: bus.name,
      arn: input.operatorFunction.arn,
      deadLetterConfig: { arn: deadLetters.arn },
      // An operator waits for the answer: a command not delivered within an hour is stale.
      retryPolicy: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 20 },
    },
    { dependsOn: [operatorInvoke, deadLetterAccess] },
  );
  const alarmTarget = alarmEventTarget(alarmRule, input, deadLetters, deadLetterAccess);
  const updatesInvoke = new aws.lambda.Permission('ReleaseUpdatesInvoke', {
    action: 'lambda:InvokeFunction',
    function: input.releaseUpdatesFunction.name,
    principal: 'events.amazonaws.com',
    sourceArn: updatesRule.arn,
  });
  const updatesTarget = new aws.cloudwatch.EventTarget(
    'ReleaseUpdatesTarget',
    {
      rule: updatesRule.name,
      eventBusName: bus.name,
      arn: input.releaseUpdatesFunction.arn,
      deadLetterConfig: { arn: deadLetters.arn },
      // An update an hour late tells nobody anything; the ledger keeps the full timeline.
      retryPolicy: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 20 },
    },
    { dependsOn: [updatesInvoke, deadLetterAccess] },
  );
  const targetRole = new aws.iam.Role('ReleaseRuleRole', {
    name: names.roleName('release-rule'),
    // Names are fixed, so the rule's ARN is known before the rule exists.
    assumeRolePolicy: at.apply((location) =>
      trustPolicyJson(
        assumeRolePolicy('events.amazonaws.com', releaseRuleTrustCondition(location, names)),
      ),
    ),
  });
  const targetPolicy = new aws.iam.RolePolicy('ReleaseRulePolicy', {
    role: targetRole.name,
    policy: input.stateMachineArn.apply((arn) => JSON.stringify(ruleTargetPolicy(arn))),
  });
  const target = new aws.cloudwatch.EventTarget(
    'ReleaseRequestedTarget',
    {
      rule: rule.name,
      eventBusName: bus.name,
      arn: input.stateMachineArn,
      roleArn: targetRole.arn,
      deadLetterConfig: { arn: deadLetters.arn },
      // EventBridge's maximum: a release request survives a day of throttling or outage.
      retryPolicy: { maximumEventAgeInSeconds: 24 * 3600, maximumRetryAttempts: 185 },
    },
    { dependsOn: [targetPolicy, deadLetterAccess] },
  );
  return {
    bus,
    busAccess,
    rule,
    target,
    targetRole,
    targetPolicy,
    deadLetters,
    deadLetterAccess,
    operatorRule,
    operatorTarget,
    alarmRule,
    alarmTarget,
    updatesRule,
    updatesTarget,
  };
}

/** The alarm rule's target: the alarm-event function, invokable by this rule only. */
function alarmEventTarget(
  rule: aws.cloudwatch.EventRule,
  input: ReleaseBusInput,
  deadLetters: aws.sqs.Queue,
  deadLetterAccess: aws.sqs.QueuePolicy,
) {
  const fn = input.alarmEvents.function;
  const invoke = new aws.lambda.Permission('AlarmStateChangeInvoke', {
    action: 'lambda:InvokeFunction',
    function: fn.name,
    principal: 'events.amazonaws.com',
    sourceArn: rule.arn,
  });
  const target = new aws.cloudwatch.EventTarget(
    'AlarmStateChangeTarget',
    {
      rule: rule.name,
      arn: fn.arn,
      deadLetterConfig: { arn: deadLetters.arn },
      // An alarm event matters while a bake runs; after that the gate check is the backstop.
      retryPolicy: { maximumEventAgeInSeconds: 3600, maximumRetryAttempts: 20 },
    },
    { dependsOn: [invoke, deadLetterAccess] },
  );
  return { invoke, target };
}
