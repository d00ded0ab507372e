import type { ServiceRegistry } from '../core/service-config.ts';
import { busArn, iamRoleArn, lambdaFunctionArn, stateMachineArn } from './arns.ts';
import type { CiTeam } from './deploy-config.ts';
import { GreenlightFunction, SlackFunctions } from './functions.ts';
import { assumeRolePolicy, type PolicyDocument, trustPolicyJson } from './iam.ts';
import type { AwsLocation, GreenlightNames } from './names.ts';
import { busPolicy, ruleTargetPolicy, stateMachinePolicy } from './orchestration.ts';
import { calledActions, functionPolicy, type IamScope } from './permissions.ts';

/** The AWS quotas a registry grows towards. Each is a hard limit unless its source says so. */
export const AwsQuota = {
  /**
   * Lambda: 4 KB for all of a function's environment variables, keys and values together.
   * Lambda Developer Guide, "Lambda quotas" (gettingstarted-limits.html).
   */
  environmentBytes: 4_096,
  /**
   * IAM: the inline policies of one role together, in non-whitespace characters. IAM User
   * Guide, "IAM and AWS STS quotas" (reference_iam-quotas.html), "Role policy size".
   */
  roleInlinePolicyCharacters: 10_240,
  /** IAM: managed policies attached to one role, by default (adjustable up to 20). Same page. */
  managedPoliciesPerRole: 10,
  /** IAM: a role trust policy, in non-whitespace characters, by default. Same page. */
  trustPolicyCharacters: 2_048,
  /**
   * EventBridge: an event bus's resource policy, in characters, by default (adjustable through
   * Service Quotas). EventBridge User Guide, "Amazon EventBridge quotas" (eb-quota.html),
   * "Event bus policy size": 10,240; PutPermission answers PolicyLengthExceededException
   * beyond it. Each CI team adds its principals and one Deny (~540 characters).
   */
  busPolicyCharacters: 10_240,
} as const;

export const QuotaKind = {
  EnvironmentBytes: 'environment-bytes',
  InlinePolicyCharacters: 'inline-policy-characters',
  ManagedPolicies: 'managed-policies',
  TrustPolicyCharacters: 'trust-policy-characters',
  BusPolicyCharacters: 'bus-policy-characters',
} as const;
export type QuotaKind = (typeof QuotaKind)[keyof typeof QuotaKind];

/** What one resource uses of one quota. */
export interface QuotaUse {
  /** `function greenlight-prod-register`, `role greenlight-prod-register`, ... */
  resource: string;
  kind: QuotaKind;
  used: number;
  limit: number;
}

// Lambda stores the Slack functions' secrets in their environment too: a bot token is ~60
// characters, a signing secret 32; this much covers both with their keys.
const slackSecretsBytes = 256;

export interface QuotaInput {
  /** The environment every function gets (functionEnvironment), before Slack secrets. */
  environment: Record<string, string>;
  registry: ServiceRegistry;
  usesSlack: boolean;
  names: GreenlightNames;
  at: AwsLocation;
  /** How the roles name the services' resources: by tag, or one ARN each. */
  iamScope: IamScope;
  /** Who may put events on the bus: its resource policy grows with them, teams most. */
  bus: {
    ciPrincipals: readonly string[];
    ciTeams: readonly CiTeam[];
    operatorPrincipals: readonly string[];
  };
}

/**
 * What one stage built from the registry uses of AWS's quotas: every function's environment,
 * and every role's inline policies (greenlight attaches no managed policies) and trust policy.
 * Measured on the same documents the stacks deploy.
 */
export function measureQuotas(input: QuotaInput): QuotaUse[] {
  const { names, at } = input;
  const base = environmentBytes(input.environment);
  const uses: QuotaUse[] = [];
  const lambdaTrust = trustPolicyJson(assumeRolePolicy('lambda.amazonaws.com'));
  for (const fn of Object.values(GreenlightFunction)) {
    const functionName = names.functionName(fn);
    const roleName = names.roleName(fn);
    const slack = SlackFunctions.has(fn) && input.usesSlack ? slackSecretsBytes : 0;
    uses.push(
      {
        resource: `function ${functionName}`,
        kind: QuotaKind.EnvironmentBytes,
        used: base + slack,
        limit: AwsQuota.environmentBytes,
      },
      ...roleQuotas(
        roleName,
        [functionPolicy(fn, { at, names, registry: input.registry, scope: input.iamScope })],
        { trust: lambdaTrust },
      ),
    );
  }
  const steps = Object.values(GreenlightFunction).map((fn) =>
    lambdaFunctionArn(at, names.functionName(fn)),
  );
  // The workflow's and the release rule's roles: their trust policies do not grow with the
  // registry and are left out here.
  uses.push(
    ...roleQuotas(names.roleName('release'), [stateMachinePolicy(steps)]),
    ...roleQuotas(names.roleName('release-rule'), [
      ruleTargetPolicy(stateMachineArn(at, names.stateMachine)),
    ]),
    busQuota(input),
  );
  return uses;
}

/** The bus's resource policy as the stack writes it (stacks/bus.ts), against EventBridge's. */
function busQuota({ names, at, bus }: QuotaInput): QuotaUse {
  const policy = busPolicy({
    busArn: busArn(at, names.bus),
    ciPrincipals: bus.ciPrincipals,
    ciTeams: bus.ciTeams,
    operatorPrincipals: bus.operatorPrincipals,
    // The same roles as stacks/greenlight.ts: those whose functions put events.
    publisherRoleArns: Object.values(GreenlightFunction)
      .filter((fn) => calledActions(fn).has('events:PutEvents'))
      .map((fn) => iamRoleArn(at, names.roleName(fn))),
  });
  return {
    resource: `bus ${names.bus}`,
    kind: QuotaKind.BusPolicyCharacters,
    // The stack sends JSON.stringify's compact form; every character of it counts.
    used: JSON.stringify(policy).length,
    limit: AwsQuota.busPolicyCharacters,
  };
}

/** Per quota kind, the use closest to its limit (the one to watch), in QuotaKind's order. */
export function closestToLimits(uses: readonly QuotaUse[]): QuotaUse[] {
  return Object.values(QuotaKind).flatMap((kind) => {
    const closest = uses
      .filter((use) => use.kind === kind)
      .reduce<QuotaUse | undefined>(
        (most, use) =>
          most === undefined || use.used / use.limit > most.used / most.limit ? use : most,
        undefined,
      );
    return closest === undefined ? [] : [closest];
  });
}

/** Each quota a use exceeds, said with what to do about it. */
export function quotaProblems(uses: readonly QuotaUse[]): string[] {
  return uses
    .filter((use) => use.used > use.limit)
    .map(
      (use) =>
        `${use.resource}: ${describeKind(use.kind)} ${use.used} > ${use.limit}; ${fixFor(use.kind)}`,
    );
}

/** Keys and values of an environment as Lambda counts them, in bytes. */
export function environmentBytes(environment: Record<string, string>): number {
  return Object.entries(environment).reduce(
    (sum, [key, value]) => sum + Buffer.byteLength(key) + Buffer.byteLength(value),
    0,
  );
}

/** A policy's size as IAM counts it: its JSON without whitespace. */
export function policyCharacters(document: PolicyDocument | string): number {
  const json = typeof document === 'string' ? document : JSON.stringify(document);
  return json.replace(/\s/g, '').length;
}

function roleQuotas(
  roleName: string,
  inline: readonly PolicyDocument[],
  options: { trust?: string } = {},
): QuotaUse[] {
  const resource = `role ${roleName}`;
  const trust = options.trust;
  return [
    {
      resource,
      kind: QuotaKind.InlinePolicyCharacters,
      used: inline.reduce((sum, document) => sum + policyCharacters(document), 0),
      limit: AwsQuota.roleInlinePolicyCharacters,
    },
    { resource, kind: QuotaKind.ManagedPolicies, used: 0, limit: AwsQuota.managedPoliciesPerRole },
    ...(trust === undefined
      ? []
      : [
          {
            resource,
            kind: QuotaKind.TrustPolicyCharacters,
            used: policyCharacters(trust),
            limit: AwsQuota.trustPolicyCharacters,
          },
        ]),
  ];
}

function describeKind(kind: QuotaKind): string {
  switch (kind) {
    case QuotaKind.EnvironmentBytes:
      return 'environment bytes';
    case QuotaKind.InlinePolicyCharacters:
      return 'inline policy characters';
    case QuotaKind.ManagedPolicies:
      return 'managed policies';
    case QuotaKind.TrustPolicyCharacters:
      return 'trust policy characters';
    case QuotaKind.BusPolicyCharacters:
      return 'bus policy characters';
  }
}

function fixFor(kind: QuotaKind): string {
  switch (kind) {
    case QuotaKind.EnvironmentBytes:
      return "Lambda refuses the function; the registry travels in every function's environment: shorten test payloads or register fewer services per stage";
    case QuotaKind.InlinePolicyCharacters:
      return 'IAM refuses the policy; with iam: { scope: "arn" } the grants name every registered resource: use iam: { scope: "tag" } and tag the services\' resources (README, "Security boundary"), or register fewer services per stage';
    case QuotaKind.ManagedPolicies:
      return 'IAM refuses the attachment; ask AWS for a higher quota';
    case QuotaKind.TrustPolicyCharacters:
      return 'IAM refuses the trust policy';
    case QuotaKind.BusPolicyCharacters:
      return 'EventBridge refuses the bus policy (PolicyLengthExceededException); each CI team and principal adds to it: merge teams, share fewer principals per team, or ask AWS for a higher "Event bus policy size" quota';
  }
}
