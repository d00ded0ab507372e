import type { GreenlightNames } from '../src/infra/names.ts';
import { sweeperSchedule } from '../src/infra/orchestration.ts';

export interface SweeperScheduleInput {
  names: GreenlightNames;
  sweeperFunctionArn: $util.Output<string>;
  sweeperFunctionName: $util.Output<string>;
}

/**
 * The daily run of the sweeper: a scheduled rule on the default bus, and the Lambda permission
 * that lets this rule, and only it, invoke the function.
 */
export function createSweeperSchedule(input: SweeperScheduleInput) {
  const rule = new aws.cloudwatch.EventRule('SweeperRule', {
    name: input.names.sweeperRule,
    description: sweeperSchedule.description,
    scheduleExpression: sweeperSchedule.expression,
  });
  const permission = new aws.lambda.Permission('SweeperInvoke', {
    action: 'lambda:InvokeFunction',
    function: input.sweeperFunctionName,
    principal: 'events.amazonaws.com',
    sourceArn: rule.arn,
  });
  const target = new aws.cloudwatch.EventTarget(
    'SweeperTarget',
    { rule: rule.name, arn: input.sweeperFunctionArn },
    { dependsOn: [permission] },
  );
  return { rule, permission, target };
}
