import { ProvisionBudget } from '../src/core/service-config.ts';
import type { DeployConfig } from '../src/infra/deploy-config.ts';
import { assumeRolePolicy, trustPolicyJson } from '../src/infra/iam.ts';
import type { AwsLocation, GreenlightNames } from '../src/infra/names.ts';
import { functionPolicy } from '../src/infra/permissions.ts';
import { ReleaseFunction } from '../workflows/release.ts';
import { logicalName } from './location.ts';

export interface StepFunctionsInput {
  names: GreenlightNames;
  config: DeployConfig;
  at: $util.Output<AwsLocation>;
  environment: Record<string, string>;
  /** Resources the roles' policies name, which must exist before a step runs. */
  dependsOn: $util.Resource[];
}

/**
 * One Lambda function per workflow step, each with its own role whose policy is exactly its
 * row of src/infra/permissions.ts. SST's `link` is not used: it would grant `dynamodb:*` on
 * the tables; the tables reach the code through the environment instead.
 */
export function createStepFunctions(input: StepFunctionsInput) {
  const { names, config, at } = input;
  const entries = Object.values(ReleaseFunction).map((fn) => {
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
        description: `greenlight ${fn} step`,
        handler: `functions/${fn}.handler`,
        runtime: 'nodejs24.x',
        architecture: 'arm64',
        role: role.arn,
        environment: input.environment,
        // Provisioning waits for Lambda to finish a code update (up to 300 s in the adapter) or
        // for an ALB service's green to be healthy (healthyDeadlineSeconds, capped to fit).
        timeout:
          fn === ReleaseFunction.ProvisionGreen
            ? `${ProvisionBudget.taskTimeoutSeconds} seconds`
            : '1 minute',
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
    ReleaseFunction,
    { role: aws.iam.Role; policy: aws.iam.RolePolicy; handler: sst.aws.Function }
  >;
}
