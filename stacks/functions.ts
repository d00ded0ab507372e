import { ProvisionBudget } from '../src/core/service-config.ts';
import type { DeployConfig } from '../src/infra/deploy-config.ts';
import { GreenlightFunction } from '../src/infra/functions.ts';
import { assumeRolePolicy, trustPolicyJson } from '../src/infra/iam.ts';
import type { AwsLocation, GreenlightNames } from '../src/infra/names.ts';
import { functionPolicy } from '../src/infra/permissions.ts';
import { logicalName } from './location.ts';

export interface StepFunctionsInput {
  names: GreenlightNames;
  config: DeployConfig;
  at: $util.Output<AwsLocation>;
  environment: $util.Input<Record<string, string>>;
  /** Resources the roles' policies name, which must exist before a step runs. */
  dependsOn: $util.Resource[];
}

/**
 * One Lambda function per workflow step, plus the teardown and the sweeper, each with its own
 * role whose policy is exactly its row of src/infra/permissions.ts. SST's `link` is not used: it would grant `dynamodb:*` on
 * the tables; the tables reach the code through the environment instead.
 */
export function createStepFunctions(input: StepFunctionsInput) {
  const { names, config, at } = input;
  const entries = Object.values(GreenlightFunction).map((fn) => {
    const id = logicalName(fn);
    const role = new aws.iam.Role(`${id}Role`, {
      name: names.roleName(fn),
      assumeRolePolicy: trustPolicyJson(assumeRolePolicy('lambda.amazonaws.com')),
    });
    const policy = new aws.iam.RolePolicy(
      `${id}Policy`,
      {
        role: role.name,
        policy: at.apply((location) =>
          JSON.stringify(functionPolicy(fn, { at: location, names, registry: config.registry })),
        ),
      },
      { dependsOn: input.dependsOn },
    );
    const handler = new sst.aws.Function(
      `${id}Function`,
      {
        name: names.functionName(fn),
        description: `greenlight ${fn}`,
        handler: `functions/${fn}.handler`,
        runtime: 'nodejs24.x',
        architecture: 'arm64',
        role: role.arn,
        environment: input.environment,
        timeout: timeoutOf(fn),
        memory: '512 MB',
        nodejs: { format: 'esm', minify: true },
        logging: { retention: '3 months' },
        // `sst dev` would swap in a live stub that needs permissions this role does not have.
        dev: false,
      },
      { dependsOn: [policy] },
    );
    return [fn, { role, policy, handler }] as const;
  });
  return Object.fromEntries(entries) as Record<
    GreenlightFunction,
    { role: aws.iam.Role; policy: aws.iam.RolePolicy; handler: sst.aws.Function }
  >;
}

function timeoutOf(fn: GreenlightFunction): `${number} seconds` | '5 minutes' | '1 minute' {
  switch (fn) {
    // Provisioning waits for Lambda to finish a code update (up to 300 s in the adapter) or
    // for an ALB service's green to be healthy (healthyDeadlineSeconds, capped to fit).
    case GreenlightFunction.ProvisionGreen:
      return `${ProvisionBudget.taskTimeoutSeconds} seconds`;
    // The sweeper tears down every service's left-behind idle colours, one after the other.
    case GreenlightFunction.Sweeper:
      return '5 minutes';
    default:
      return '1 minute';
  }
}
