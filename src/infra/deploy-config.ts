import { CiTeamName } from '../core/ci-team.ts';
import { parseServiceRegistry } from '../core/registry.ts';
import type { ServiceConfigInput, ServiceRegistry } from '../core/service-config.ts';
import * as z from '../core/zod.ts';
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
     * The platform's CI: IAM principals (role or user ARNs) allowed to put Release Requested
     * events for any service, with any source, e.g. the role GitHub Actions assumes through
     * OIDC. They must exist before the deploy: IAM checks principals named in a resource
     * policy.
     */
    principals: string[];
    /**
     * Teams' CI: each team's principals may put Release Requested events only with the
     * source `greenlight.ci.<team>` (the bus policy refuses any other), and Register takes
     * them only for services whose `ci.team` is that team. A principal belongs to one team at
     * most, and to no team if it is in `principals`.
     * @default {}
     * @example { payments: { principals: ['arn:aws:iam::123456789012:role/payments-ci'] } }
     */
    teams?: Record<string, { principals: string[] }>;
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
  /**
   * The release state machine's execution log (CloudWatch Logs, level ALL). With
   * `includeExecutionData`, every state's input and output is logged too, and those hold the
   * approval and bake task tokens (the Task parameters): whoever may read the log group could
   * read a token. greenlight decides by the ledger, not by a token (README, "Task tokens"),
   * but keep it off unless you debug a workflow, and then limit logs:GetLogEvents on the group.
   * @default { includeExecutionData: false }
   * @example { includeExecutionData: true }
   */
  executionLogs?: { includeExecutionData: boolean };
}

export interface DeployConfig {
  registry: ServiceRegistry;
  ciPrincipals: string[];
  /** By team name; each team's principals sorted. */
  ciTeams: CiTeam[];
  operatorPrincipals: string[];
  /**
   * Whether any service (or strategy) asks for Slack approval or names an updates channel: then
   * the Slack secrets must be set.
   */
  usesSlack: boolean;
  logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  iamScope: IamScope;
  /** Whether the execution log holds states' input and output (and so task tokens). */
  logExecutionData: boolean;
}

/** A CI team and the principals that release its services. */
export interface CiTeam {
  team: string;
  principals: string[];
}

const PrincipalArn = z
  .string()
  .check(
    z.regex(
      /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/,
      'must be an IAM role or user ARN, like arn:aws:iam::123456789012:role/greenlight-ci',
    ),
  );
const DeployConfigSchema = z.strictObject({
  services: z.array(z.unknown()),
  ci: z
    .strictObject({
      principals: z.array(PrincipalArn),
      teams: z._default(
        z.record(
          CiTeamName,
          z.strictObject({ principals: z.array(PrincipalArn).check(z.minLength(1)) }),
        ),
        {},
      ),
    })
    .check(
      z.superRefine((ci, ctx) => {
        const teams = Object.values(ci.teams);
        if (ci.principals.length === 0 && teams.length === 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['principals'],
            message:
              'names no CI principal; list the platform CI role under "principals" or a team\'s under "teams"',
          });
        }
        const owner = new Map<string, string>();
        for (const principal of ci.principals) owner.set(principal, 'ci.principals');
        for (const [team, { principals }] of Object.entries(ci.teams)) {
          for (const [i, principal] of principals.entries()) {
            const other = owner.get(principal);
            if (other !== undefined && other !== `team "${team}"`) {
              ctx.addIssue({
                code: 'custom',
                path: ['teams', team, 'principals', i],
                message: `is already in ${other}; a principal releases for one team, or for the platform (ci.principals), not both`,
              });
            }
            owner.set(principal, `team "${team}"`);
          }
        }
      }),
    ),
  operators: z._default(z.strictObject({ principals: z.array(PrincipalArn) }), { principals: [] }),
  logLevel: z._default(z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']), 'INFO'),
  iam: z._default(z.strictObject({ scope: z.enum([IamScope.Tag, IamScope.Arn]) }), {
    scope: IamScope.Tag,
  }),
  executionLogs: z._default(z.strictObject({ includeExecutionData: z.boolean() }), {
    includeExecutionData: false,
  }),
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
    // A bad record key (a team name) says why in its nested issues, not in its own message.
    const problems = parsed.error.issues.map(
      (issue) =>
        `${issue.path.join('.') || '(config)'}: ${issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message}`,
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
  const teamProblems = [
    ...checkTeams(parsed.data.ci.teams, parsed.data.operators.principals, registry),
    ...ownResourceProblems(registry),
  ];
  if (teamProblems.length > 0) return { config: undefined, problems: teamProblems, quotas: [] };
  const usesSlack = registry.some(
    (service) =>
      service.updates !== undefined ||
      [service.approval, ...Object.values(service.strategies).map((s) => s.approval)].some(
        (approval) => approval?.type === 'slack',
      ),
  );
  const ciPrincipals = [...new Set(parsed.data.ci.principals)].sort();
  const ciTeams = Object.entries(parsed.data.ci.teams)
    .map(([team, { principals }]) => ({ team, principals: [...new Set(principals)].sort() }))
    .sort((a, b) => (a.team < b.team ? -1 : a.team > b.team ? 1 : 0));
  const operatorPrincipals = [...new Set(parsed.data.operators.principals)].sort();
  const quotas = measureQuotas({
    environment,
    registry,
    usesSlack,
    names,
    at: sizingLocation,
    iamScope: parsed.data.iam.scope,
    bus: { ciPrincipals, ciTeams, operatorPrincipals },
  });
  return {
    config: {
      registry,
      ciPrincipals,
      ciTeams,
      operatorPrincipals,
      usesSlack,
      logLevel: parsed.data.logLevel,
      iamScope: parsed.data.iam.scope,
      logExecutionData: parsed.data.executionLogs.includeExecutionData,
    },
    problems: quotaProblems(quotas),
    quotas,
  };
}

/**
 * A team's principals may put their team's source alone, so one that is also an operator could
 * not put Operator Commands; and a service naming a team nobody declared could be released by
 * platform CI only, which is surely not what its `ci.team` meant.
 */
function checkTeams(
  teams: Record<string, { principals: string[] }>,
  operators: readonly string[],
  registry: ServiceRegistry,
): string[] {
  const problems: string[] = [];
  for (const [team, { principals }] of Object.entries(teams)) {
    for (const principal of principals.filter((p) => operators.includes(p))) {
      problems.push(
        `ci.teams.${team}.principals: ${principal} is also an operator; a team's CI may put only its team's source, so give operators a principal of their own`,
      );
    }
  }
  for (const [i, service] of registry.entries()) {
    const team = service.ci?.team;
    if (team !== undefined && !Object.hasOwn(teams, team)) {
      problems.push(
        `services[${i}].ci.team: team "${team}" is not declared; add it under ci.teams with its CI principals, or remove ci.team`,
      );
    }
  }
  return problems;
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

// Every stage names its functions and roles `greenlight-<stage>-…` (names.ts).
const ownPrefix = 'greenlight-';

/**
 * A service that names greenlight's own function or roles would let a release replace
 * greenlight's code (provision-green publishes the function's new code) or hand greenlight's
 * privileges to ECS tasks (iam:PassRole): refused, whatever the stage.
 */
function ownResourceProblems(registry: ServiceRegistry): string[] {
  return registry.flatMap((service, i) => {
    const problems: string[] = [];
    if (
      service.target.kind === 'lambda-alias' &&
      service.target.functionName.startsWith(ownPrefix)
    ) {
      problems.push(
        `services[${i}].target.functionName: "${service.target.functionName}" looks like one of greenlight's own functions (${ownPrefix}<stage>-…); a service releases its own function, never greenlight's`,
      );
    }
    if (service.target.kind === 'alb-listener') {
      service.target.passRoles.forEach((role, j) => {
        if (/:role\/(.*\/)?greenlight-/.test(role)) {
          problems.push(
            `services[${i}].target.passRoles[${j}]: "${role}" looks like one of greenlight's own roles (${ownPrefix}<stage>-…); list the roles the service's task definition names`,
          );
        }
      });
    }
    return problems;
  });
}
