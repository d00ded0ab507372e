import type { AwsLocation } from './names.ts';

/** ARN builders for the resource types greenlight's policies name. */

export function lambdaFunctionArn(at: AwsLocation, functionName: string): string {
  return `arn:${at.partition}:lambda:${at.region}:${at.accountId}:function:${functionName}`;
}

/** Every version and alias of a function: `…:function:NAME:*`. */
export function lambdaQualifiedArns(at: AwsLocation, functionName: string): string {
  return `${lambdaFunctionArn(at, functionName)}:*`;
}

export function alarmArn(at: AwsLocation, alarmName: string): string {
  return `arn:${at.partition}:cloudwatch:${at.region}:${at.accountId}:alarm:${alarmName}`;
}

export function tableArn(at: AwsLocation, tableName: string): string {
  return `arn:${at.partition}:dynamodb:${at.region}:${at.accountId}:table/${tableName}`;
}

export function busArn(at: AwsLocation, busName: string): string {
  return `arn:${at.partition}:events:${at.region}:${at.accountId}:event-bus/${busName}`;
}

export function stateMachineArn(at: AwsLocation, name: string): string {
  return `arn:${at.partition}:states:${at.region}:${at.accountId}:stateMachine:${name}`;
}

/**
 * Executions of a state machine, which states:DescribeExecution is checked against (Service
 * Authorization Reference for Step Functions: resource type "execution",
 * `arn:…:states:REGION:ACCOUNT:execution:MACHINE:NAME`).
 */
export function executionsArn(at: AwsLocation, stateMachineName: string): string {
  return `arn:${at.partition}:states:${at.region}:${at.accountId}:execution:${stateMachineName}:*`;
}

/** Log streams of a log group, which is what logs:PutLogEvents is checked against. */
export function logStreamsArn(at: AwsLocation, logGroupName: string): string {
  return `arn:${at.partition}:logs:${at.region}:${at.accountId}:log-group:${logGroupName}:*`;
}

/** Objects of a bucket, or only those under `keyPrefix` (which ends in "/"). */
export function bucketObjectsArn(at: AwsLocation, bucket: string, keyPrefix = ''): string {
  return `arn:${at.partition}:s3:::${bucket}/${keyPrefix}*`;
}

/**
 * `123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/checkout` → the repository's ARN. Only
 * ECR repositories can be granted; any other registry is refused at deploy.
 */
export function ecrRepositoryArn(at: AwsLocation, repositoryUri: string): string {
  const match = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([a-z0-9._/-]+)$/.exec(
    repositoryUri,
  );
  if (!match) {
    throw new Error(
      `Image repository "${repositoryUri}" is not an ECR repository URI without a tag, like 123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout; Lambda deploys images from ECR only`,
    );
  }
  const [, account, region, name] = match;
  return `arn:${at.partition}:ecr:${region}:${account}:repository/${name}`;
}

/** An ECS service, by its cluster (name or ARN) and name: `…:service/CLUSTER/SERVICE`. */
export function ecsServiceArn(at: AwsLocation, cluster: string, service: string): string {
  const clusterName = cluster.startsWith('arn:')
    ? cluster.slice(cluster.indexOf('/') + 1)
    : cluster;
  return `arn:${at.partition}:ecs:${at.region}:${at.accountId}:service/${clusterName}/${service}`;
}

/** Every revision of a task definition family: `…:task-definition/FAMILY:*`. */
export function taskDefinitionFamilyArn(at: AwsLocation, family: string): string {
  return `arn:${at.partition}:ecs:${at.region}:${at.accountId}:task-definition/${family}:*`;
}

/**
 * A schedule group: what EventBridge Scheduler sends as aws:SourceArn when it assumes a
 * schedule's execution role.
 */
export function scheduleGroupArn(at: AwsLocation, groupName: string): string {
  return `arn:${at.partition}:scheduler:${at.region}:${at.accountId}:schedule-group/${groupName}`;
}

/** An EventBridge rule, on a custom bus or (without one) the default bus. */
export function eventRuleArn(at: AwsLocation, ruleName: string, busName?: string): string {
  const rule = busName === undefined ? ruleName : `${busName}/${ruleName}`;
  return `arn:${at.partition}:events:${at.region}:${at.accountId}:rule/${rule}`;
}

/** Every schedule of one EventBridge Scheduler group. */
export function schedulesArn(at: AwsLocation, groupName: string): string {
  return `arn:${at.partition}:scheduler:${at.region}:${at.accountId}:schedule/${groupName}/*`;
}

export function iamRoleArn(at: AwsLocation, roleName: string): string {
  return `arn:${at.partition}:iam::${at.accountId}:role/${roleName}`;
}
