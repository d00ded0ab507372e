import { assumeRolePolicy, trustPolicyJson } from '../src/infra/iam.ts';
import type { AwsLocation, GreenlightNames } from '../src/infra/names.ts';
import { stateMachinePolicy, stateMachineTrustCondition } from '../src/infra/orchestration.ts';
import { buildReleaseDefinition, type ReleaseFunction } from '../workflows/release.ts';

export interface ReleaseStateMachineInput {
  names: GreenlightNames;
  at: $util.Output<AwsLocation>;
  functionArns: Record<ReleaseFunction, $util.Output<string>>;
  /** States' input and output in the execution log, task tokens included (deploy config). */
  includeExecutionData: boolean;
}

/**
 * The release workflow: workflows/release.ts's JSONPath definition as is, with the deployed
 * functions' ARNs. Standard type, every event logged (without states' data unless the stage
 * asks for it: that data holds task tokens), X-Ray on.
 */
export function createReleaseStateMachine(input: ReleaseStateMachineInput) {
  const { names, at } = input;
  const logGroup = new aws.cloudwatch.LogGroup('ReleaseExecutionLogs', {
    name: names.stateMachineLogGroup,
    retentionInDays: 90,
  });
  const role = new aws.iam.Role('ReleaseStateMachineRole', {
    name: names.roleName('release'),
    // Names are fixed, so the state machine's ARN is known before it exists.
    assumeRolePolicy: at.apply((location) =>
      trustPolicyJson(
        assumeRolePolicy('states.amazonaws.com', stateMachineTrustCondition(location, names)),
      ),
    ),
  });
  const functionArns = $util.all(input.functionArns);
  const policy = new aws.iam.RolePolicy('ReleaseStateMachinePolicy', {
    role: role.name,
    policy: functionArns.apply((arns) => JSON.stringify(stateMachinePolicy(Object.values(arns)))),
  });
  const stateMachine = new aws.sfn.StateMachine(
    'ReleaseStateMachine',
    {
      name: names.stateMachine,
      type: 'STANDARD',
      roleArn: role.arn,
      definition: functionArns.apply((arns) =>
        JSON.stringify(
          buildReleaseDefinition({ functionArns: arns as Record<ReleaseFunction, string> }),
        ),
      ),
      loggingConfiguration: {
        level: 'ALL',
        includeExecutionData: input.includeExecutionData,
        logDestination: $util.interpolate`${logGroup.arn}:*`,
      },
      tracingConfiguration: { enabled: true },
    },
    { dependsOn: [policy] },
  );
  return { stateMachine, role, policy, logGroup };
}
