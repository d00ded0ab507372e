import * as z from 'zod';
import { parseServiceRegistry } from '../core/registry.ts';
import type { ServiceConfigInput, ServiceRegistry } from '../core/service-config.ts';
import { parseRuntimeConfig } from '../runtime/config.ts';
import { parseTeardownSettings } from '../runtime/teardown-settings.ts';
import { iamRoleArn, lambdaFunctionArn } from './arns.ts';
import { ScheduledFunction } from './functions.ts';
import type { AwsLocation, GreenlightNames } from './names.ts';
import { IamScope } from './permissions.ts';
import { measureQuotas, type QuotaUse, quotaProblems } from './quotas.ts';

/** What a team writes in greenlight.config.ts. */
export interface GreenlightDeployConfig {
  /** The services greenlight may release; nothing else can be touched, whatever an event says. */
  services: ServiceConfigInput[];
  ci: {
    /**
     * IAM principals (role or user ARNs) allowed to put Release Requested events on the bus,
     * e.g. the role GitHub Actions assumes through OIDC. They must exist before the deploy:
     * IAM checks principals named in a resource policy.
     */
    principals: string[];
  };
  /**
   * Who may steer releases with `greenlight pause|resume|promote|abort|rollback|retry`: IAM
   * principals allowed to put Operator Command events on the bus. `greenlight approve|reject`
   * needs no bus access but the ledger and SendTask* permissions (README, "Operators").
   * @default { principals: [] }
   */
  operators?: { principals: string[] };
  /** @default "INFO" */
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /**
   * How the function roles name the registered services' resources. `"tag"`: only resources
   * tagged `greenlight:stage = <stage>` (README, "Security boundary" says what to tag and who
   * may); the policies stay one size for any number of services. `"arn"`: each registered
   * resource by its ARN, no tags needed, about 325 policy characters more per service in the
   * largest role: a few dozen services fit IAM's 10,240.
   * @default { scope: "tag" }
   * @example { scope: 'arn' }
   */
  iam?: { scope: IamScope };
}

export interface DeployConfig {
  registry: ServiceRegistry;
  ciPrincipals: string[];
  operatorPrincipals: string[];
  /** Whether any service (or strategy) asks for Slack approval: then the Slack secrets must be set. */
  usesSlack: boolean;
  logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  iamScope: IamScope;
}

const PrincipalArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/,
    'must be an IAM role or user ARN, like arn:aws:iam::123456789012:role/greenlight-ci',
  );
const DeployConfigSchema = z.strictObject({
  services: z.array(z.unknown()),
  ci: z.strictObject({ principals: z.array(PrincipalArn).min(1) }),
  operators: z.strictObject({ principals: z.array(PrincipalArn) }).default({ principals: [] }),
  logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
  iam: z
    .strictObject({ scope: z.enum([IamScope.Tag, IamScope.Arn]) })
    .default({ scope: IamScope.Tag }),
});

// The size check runs before the account and region are known: ARNs measured with the longest
// partition and region names are at least as long as the deployed ones.
const sizingLocation: AwsLocation = {
  partition: 'aws-iso-b',
  region: 'ap-southeast-5',
  accountId: '000000000000',
};

/**
 * Checks greenlight.config.ts at deploy exactly as the handlers will at load (the same
 * parser, on the environment the functions get), and against the AWS quotas the stage would
 * use, so a config the handlers or AWS would refuse never reaches AWS.
 */
export function parseDeployConfig(
  input: GreenlightDeployConfig,
  names: GreenlightNames,
): DeployConfig {
  const checked = checkDeployConfig(input, names);
  if (checked.config === undefined || checked.problems.length > 0) {
    throw new Error(
      `greenlight.config.ts is invalid; fix it:\n${checked.problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
  return checked.config;
}

/** What `greenlight config check` and the deploy learn of a config: problems and quota use. */
export interface DeployConfigCheck {
  /** Undefined when the config does not parse. */
  config: DeployConfig | undefined;
  /** Empty when AWS would take the stage as it is. */
  problems: string[];
  /** Empty when the config does not parse. */
  quotas: QuotaUse[];
}

/** Validates a config as the deploy does, and measures it against AWS's quotas; never throws. */
export function checkDeployConfig(
  input: GreenlightDeployConfig,
  names: GreenlightNames,
): DeployConfigCheck {
  const parsed = DeployConfigSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(config)'}: ${issue.message}`,
    );
    return { config: undefined, problems, quotas: [] };
  }
  const environment = functionEnvironment(names, parsed.data.logLevel, sizingLocation);
  let registry: ServiceRegistry;
  try {
    registry = parseServiceRegistry(input.services);
    parseRuntimeConfig(environment);
    parseTeardownSettings(environment);
  } catch (error) {
    return { config: undefined, problems: [(error as Error).message], quotas: [] };
  }
  const usesSlack = registry.some((service) =>
    [service.approval, ...Object.values(service.strategies).map((s) => s.approval)].some(
      (approval) => approval?.type === 'slack',
    ),
  );
  const quotas = measureQuotas({
    environment,
    registry,
    usesSlack,
    names,
    at: sizingLocation,
    iamScope: parsed.data.iam.scope,
  });
  return {
    config: {
      registry,
      ciPrincipals: [...new Set(parsed.data.ci.principals)].sort(),
      operatorPrincipals: [...new Set(parsed.data.operators.principals)].sort(),
      usesSlack,
      logLevel: parsed.data.logLevel,
      iamScope: parsed.data.iam.scope,
    },
    problems: quotaProblems(quotas),
    quotas,
  };
}

/**
 * The environment of every function: what src/runtime/config.ts and teardown-settings.ts
 * read, plus Powertools'. The same size whatever the registry holds: the services are items
 * of the registry table. Names are fixed (names.ts), so the teardown function's and the
 * scheduler role's ARNs are known without waiting for either to exist.
 */
export function functionEnvironment(
  names: GreenlightNames,
  logLevel: DeployConfig['logLevel'],
  at: AwsLocation,
): Record<string, string> {
  return {
    GREENLIGHT_LEDGER_TABLE: names.ledgerTable,
    GREENLIGHT_IDEMPOTENCY_TABLE: names.idempotencyTable,
    GREENLIGHT_BUS_NAME: names.bus,
    GREENLIGHT_REGISTRY_TABLE: names.registryTable,
    GREENLIGHT_SCHEDULE_GROUP: names.scheduleGroup,
    GREENLIGHT_SCHEDULER_ROLE_ARN: iamRoleArn(at, names.roleName('scheduler')),
    GREENLIGHT_TEARDOWN_FUNCTION_ARN: lambdaFunctionArn(
      at,
      names.functionName(ScheduledFunction.Teardown),
    ),
    POWERTOOLS_SERVICE_NAME: 'greenlight',
    POWERTOOLS_LOG_LEVEL: logLevel,
  };
}
