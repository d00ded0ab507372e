import { ProvisionBudget } from '../src/core/service-config.ts';
import type { DeployConfig } from '../src/infra/deploy-config.ts';
import {
  GreenlightFunction,
  handlerBundling,
  packagedFiles,
  SlackFunctions,
} from '../src/infra/functions.ts';
import { assumeRolePolicy, trustPolicyJson } from '../src/infra/iam.ts';
import type { AwsLocation, GreenlightNames } from '../src/infra/names.ts';
import { functionPolicy } from '../src/infra/permissions.ts';
import { logicalName } from './location.ts';

export interface GreenlightFunctionsInput {
  names: GreenlightNames;
  config: DeployConfig;
  at: $util.Output<AwsLocation>;
  environment: $util.Input<Record<string, string>>;
  /** Resources the roles' policies name, which must exist before a step runs. */
  dependsOn: $util.Resource[];
  slack: { botToken: $util.Output<string>; signingSecret: $util.Output<string> };
}

/**
 * One Lambda function per workflow step, plus the teardown and the sweeper, the Slack
 * interactivity endpoint and the operator function, each with its own role whose policy is
 * exactly its row of src/infra/permissions.ts. SST's `link` is not used: it would grant
 * `dynamodb:*` on the tables; the tables reach the code through the environment instead, and
 * the Slack secrets through the environment of the three functions that talk to Slack.
 */
export function createGreenlightFunctions(input: GreenlightFunctionsInput) {
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
          JSON.stringify(
            functionPolicy(fn, {
              at: location,
              names,
              registry: config.registry,
              scope: config.iamScope,
            }),
          ),
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
        environment: environmentOf(fn, input),
        timeout: timeoutOf(fn),
        memory: '512 MB',
        // The AWS SDK comes from the runtime, not the bundle: handlerBundling says why.
        nodejs: {
          format: handlerBundling.format,
          minify: handlerBundling.minify,
          esbuild: { external: [...handlerBundling.esbuild.external] },
        },
        // Beside the bundle: the migrate function's parser (packagedFiles says why).
        ...(packagedFiles[fn] ? { copyFiles: packagedFiles[fn].map((file) => ({ ...file })) } : {}),
        logging: { retention: '3 months' },
        // Slack's interactivity requests reach the endpoint here; Slack's v0 signature over
        // the raw body is its authentication, so the URL itself is public.
        ...(fn === GreenlightFunction.SlackInteractions
          ? { url: { authorization: 'none' as const, cors: false } }
          : {}),
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

function environmentOf(
  fn: GreenlightFunction,
  input: GreenlightFunctionsInput,
): $util.Input<Record<string, string>> {
  if (!SlackFunctions.has(fn)) return input.environment;
  return $util
    .all([input.environment, input.slack.botToken, input.slack.signingSecret])
    .apply(([environment, botToken, signingSecret]) => ({
      ...environment,
      SLACK_BOT_TOKEN: botToken,
      ...(fn === GreenlightFunction.SlackInteractions
        ? { SLACK_SIGNING_SECRET: signingSecret }
        : {}),
    }));
}

function timeoutOf(fn: GreenlightFunction): `${number} seconds` | '5 minutes' | '1 minute' {
  switch (fn) {
    // Provisioning waits for Lambda to finish a code update (up to 300 s in the adapter) or
    // for an ALB service's green to be healthy (healthyDeadlineSeconds, capped to fit).
    case GreenlightFunction.ProvisionGreen:
      return `${ProvisionBudget.taskTimeoutSeconds} seconds`;
    // The runner's calls, each up to the service's migrations.timeoutSeconds (at most 720 s,
    // maxMigrationTimeoutSeconds), and blue's tests: Lambda's own maximum, as the workflow's
    // Migrate state allows.
    case GreenlightFunction.Migrate:
      return '900 seconds';
    // The sweeper tears down every service's left-behind idle colours, one after the other.
    case GreenlightFunction.Sweeper:
      return '5 minutes';
    default:
      return '1 minute';
  }
}
