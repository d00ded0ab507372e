import { releaseRulePattern } from '../src/core/release-rule.ts';
import { assumeRolePolicy, trustPolicyJson } from '../src/infra/iam.ts';
import type { AwsLocation, GreenlightNames } from '../src/infra/names.ts';
import { busPolicy, deadLetterQueuePolicy, ruleTargetPolicy } from '../src/infra/orchestration.ts';

export interface ReleaseBusInput {
  names: GreenlightNames;
  at: $util.Output<AwsLocation>;
  ciPrincipals: readonly string[];
  /** Roles that publish lifecycle events: greenlight's steps. */
  publisherRoleArns: $util.Output<string>[];
  stateMachineArn: $util.Output<string>;
}

/**
 * The greenlight bus, closed to everyone but CI and greenlight, and the rule that starts a
 * release execution for each Release Requested event. SST's Bus cannot target a state
 * machine, so the rule and target are plain resources. Events EventBridge cannot deliver
 * after its retries land in a dead-letter queue.
 */
export function createReleaseBus(input: ReleaseBusInput) {
  const { names, at } = input;
  const bus = new aws.cloudwatch.EventBus('ReleaseBus', { name: names.bus });
  const busAccess = new aws.cloudwatch.EventBusPolicy('ReleaseBusPolicy', {
    eventBusName: bus.name,
    policy: $util
      .all([bus.arn, $util.all(input.publisherRoleArns)])
      .apply(([busArn, publisherRoleArns]) =>
        JSON.stringify(busPolicy({ busArn, ciPrincipals: input.ciPrincipals, publisherRoleArns })),
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
  const deadLetterAccess = new aws.sqs.QueuePolicy('ReleaseDeadLettersPolicy', {
    queueUrl: deadLetters.url,
    policy: $util
      .all([deadLetters.arn, rule.arn])
      .apply(([queueArn, ruleArn]) => JSON.stringify(deadLetterQueuePolicy(queueArn, ruleArn))),
  });
  const targetRole = new aws.iam.Role('ReleaseRuleRole', {
    name: names.roleName('release-rule'),
    assumeRolePolicy: at.apply((location) =>
      trustPolicyJson(
        assumeRolePolicy('events.amazonaws.com', {
          StringEquals: { 'aws:SourceAccount': location.accountId },
        }),
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
  return { bus, busAccess, rule, target, targetRole, targetPolicy, deadLetters, deadLetterAccess };
}
