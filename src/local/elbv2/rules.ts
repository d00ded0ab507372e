import { AwsFault } from '../aws-protocol/fault.ts';
import {
  constraintViolation,
  optionalList as listOrUndefined,
  nonEmptyString,
  notNullViolation,
} from '../aws-protocol/fields.ts';
import { pageAt, readOffsetMarker } from '../aws-protocol/pages.ts';
import type { Dict, TargetGroupRecord, TargetRef } from './types.ts';

/**
 * What ALB's API refuses, per the Elastic Load Balancing v2 API reference
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/): readers and checks
 * that answer ELBv2's error codes and change nothing.
 */
export function elbv2Fault(code: string, message: string, status = 400): AwsFault {
  return new AwsFault(status, code, message);
}

export const maxTargetGroupsPerAction = 5;
export const maxWeight = 999;
export const routingActionTypes = ['forward', 'redirect', 'fixed-response'];
export const actionTypes = [
  ...routingActionTypes,
  'authenticate-oidc',
  'authenticate-cognito',
  'jwt-validation',
];

export function checkName(name: string, kind: string): void {
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/.test(name)) {
    throw elbv2Fault(
      'ValidationError',
      `The ${kind} name '${name}' must have at most 32 alphanumeric characters or hyphens, and must not begin or end with a hyphen`,
    );
  }
}

export function readTargets(input: Dict, tg: TargetGroupRecord): TargetRef[] {
  const targets = optionalList(input.Targets);
  if (!targets || targets.length === 0) {
    throw elbv2Fault(
      'ValidationError',
      "1 validation error detected: Value null at 'targets' failed to satisfy constraint: Member must not be null",
    );
  }
  return targets.map((item) => {
    const t = (item ?? {}) as Dict;
    const id = optionalString(t.Id);
    if (!id) throw elbv2Fault('ValidationError', 'A target ID must be specified');
    const port = t.Port === undefined ? tg.port : Number(t.Port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw elbv2Fault('ValidationError', `Port '${String(t.Port)}' is not valid`);
    }
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(id)) {
      throw elbv2Fault(
        'InvalidTarget',
        `The IP address '${id}' is not a valid IPv4 address (the target type of '${tg.name}' is ip)`,
      );
    }
    return { id, port };
  });
}

/**
 * Checks and normalises a list of actions as ALB does, resolving each forward action's target
 * groups: they must exist, number at most 5, weigh 0..999, and belong to no other load
 * balancer. Returns actions in the shape Describe* reports them.
 */
export function validateActions(
  targetGroups: ReadonlyMap<string, TargetGroupRecord>,
  loadBalancerArn: string,
  raw: unknown[],
  field: string,
): Dict[] {
  if (raw.length === 0) {
    throw elbv2Fault(
      'ValidationError',
      `1 validation error detected: Value '[]' at '${field}' failed to satisfy constraint: Member must have length greater than or equal to 1`,
    );
  }
  const actions = raw.map((item, index) => {
    const action = (item ?? {}) as Dict;
    const type = optionalString(action.Type);
    if (!type || !actionTypes.includes(type)) {
      throw elbv2Fault(
        'ValidationError',
        `1 validation error detected: Value '${String(type)}' at '${field}.${index + 1}.member.type' failed to satisfy constraint: Member must satisfy enum value set: [${actionTypes.join(', ')}]`,
      );
    }
    return type === 'forward'
      ? validateForward(targetGroups, loadBalancerArn, action, `${field}.${index + 1}.member`)
      : { ...action, ...(action.Order === undefined ? {} : { Order: Number(action.Order) }) };
  });
  const routing = actions.filter((a) => routingActionTypes.includes(String(a.Type)));
  if (routing.length !== 1) {
    throw elbv2Fault(
      'InvalidLoadBalancerAction',
      'A rule must include exactly one of the following actions: forward, redirect, fixed-response',
    );
  }
  return actions;
}

function validateForward(
  targetGroups: ReadonlyMap<string, TargetGroupRecord>,
  loadBalancerArn: string,
  action: Dict,
  path: string,
): Dict {
  const single = optionalString(action.TargetGroupArn);
  const config = (action.ForwardConfig ?? undefined) as Dict | undefined;
  const tuples = optionalList(config?.TargetGroups) ?? [];
  if (!single && tuples.length === 0) {
    throw elbv2Fault(
      'ValidationError',
      'A target group ARN or a forward config with at least one target group must be specified for a forward action',
    );
  }
  if (single && tuples.length > 0) {
    const only = tuples.length === 1 ? ((tuples[0] ?? {}) as Dict).TargetGroupArn : undefined;
    if (only !== single) {
      throw elbv2Fault(
        'ValidationError',
        'You cannot specify a target group ARN and a forward config that names other target groups',
      );
    }
  }
  if (tuples.length > maxTargetGroupsPerAction) {
    throw elbv2Fault(
      'ValidationError',
      `1 validation error detected: Value at '${path}.forwardConfig.targetGroups' failed to satisfy constraint: Member must have length less than or equal to ${maxTargetGroupsPerAction}`,
    );
  }
  const groups: { arn: string; weight: number }[] =
    tuples.length > 0
      ? tuples.map((tuple) => {
          const t = (tuple ?? {}) as Dict;
          const weight = t.Weight === undefined ? 1 : Number(t.Weight);
          if (!Number.isInteger(weight) || weight < 0 || weight > maxWeight) {
            throw elbv2Fault(
              'ValidationError',
              'The weight for each target group must be between 0 and 999, inclusive',
            );
          }
          return { arn: String(t.TargetGroupArn ?? ''), weight };
        })
      : [{ arn: single ?? '', weight: 1 }];
  const seen = new Set<string>();
  for (const group of groups) {
    if (seen.has(group.arn)) {
      throw elbv2Fault(
        'ValidationError',
        `Target group '${group.arn}' cannot be specified more than once in a forward action`,
      );
    }
    seen.add(group.arn);
  }
  const missing = groups.filter((g) => !targetGroups.has(g.arn)).map((g) => g.arn);
  if (missing.length > 0) {
    throw elbv2Fault('TargetGroupNotFound', `Target groups '${missing.join(', ')}' not found`);
  }
  const foreign = groups
    .filter((g) => {
      const owner = targetGroups.get(g.arn)?.loadBalancerArn;
      return owner !== undefined && owner !== loadBalancerArn;
    })
    .map((g) => g.arn);
  if (foreign.length > 0) {
    throw elbv2Fault(
      'TargetGroupAssociationLimit',
      `The following target groups cannot be associated with more than one load balancer: ${foreign.join(', ')}`,
    );
  }
  const stickinessIn = (config?.TargetGroupStickinessConfig ?? {}) as Dict;
  const stickiness: Dict = {
    Enabled: stickinessIn.Enabled === 'true' || stickinessIn.Enabled === true,
  };
  if (stickiness.Enabled) {
    const duration = Number(stickinessIn.DurationSeconds);
    if (!Number.isInteger(duration) || duration < 1 || duration > 604800) {
      throw elbv2Fault(
        'ValidationError',
        'The target group stickiness duration must be between 1 and 604800 seconds',
      );
    }
    stickiness.DurationSeconds = duration;
  }
  const normalised: Dict = {
    Type: 'forward',
    ForwardConfig: {
      TargetGroups: groups.map((g) => ({ TargetGroupArn: g.arn, Weight: g.weight })),
      TargetGroupStickinessConfig: stickiness,
    },
  };
  // AWS reports the single-group form with TargetGroupArn as well.
  if (groups.length === 1) normalised.TargetGroupArn = groups[0]?.arn;
  if (action.Order !== undefined) normalised.Order = Number(action.Order);
  return normalised;
}

export const optionalString = nonEmptyString;
export const optionalList = listOrUndefined;

export function requireString(input: Dict, field: string): string {
  const value = optionalString(input[field]);
  if (value === undefined) throw elbv2Fault('ValidationError', notNullViolation(field));
  return value;
}

/** One page of a Marker/PageSize listing (at most 400 a page), as ELBv2's Describe* answer. */
export function paginate<T>(
  items: T[],
  input: Dict,
  key: string,
  toShape: (item: T) => Dict,
): Dict {
  const marker = input.Marker === undefined ? undefined : String(input.Marker);
  const start = readOffsetMarker(marker, items.length, validationError, 'The marker is not valid');
  const pageSize = input.PageSize === undefined ? 400 : Number(input.PageSize);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 400) {
    throw validationError(
      constraintViolation(
        `'${String(input.PageSize)}'`,
        'pageSize',
        'Member must have value less than or equal to 400',
      ),
    );
  }
  const page = pageAt(items, start, pageSize);
  const result: Dict = { [key]: page.items.map(toShape) };
  if (page.next !== undefined) result.NextMarker = String(page.next);
  return result;
}

function validationError(message: string): AwsFault {
  return elbv2Fault('ValidationError', message);
}
