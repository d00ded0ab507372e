import type { AwsFault } from '../aws-protocol/fault.ts';
import { queryFault, queryResult } from '../aws-protocol/query.ts';
import type { LocalResponse } from '../http.ts';
import type { Dict, RuleRecord } from './types.ts';

/**
 * ELBv2's awsQuery wire codec: form-encoded POSTs with `Action=...&Version=2015-12-01` in,
 * XML answers and XML errors out. No rules and no state here.
 */
export const apiVersion = '2015-12-01';
export const xmlns = `http://elasticloadbalancing.amazonaws.com/doc/${apiVersion}/`;

export function xmlResult(action: string, result: Dict, requestId: string): LocalResponse {
  return queryResult(action, result, xmlns, requestId);
}

/** The awsQuery error document; the SDK maps `Code` to its typed exception (TargetGroupNotFound → TargetGroupNotFoundException). */
export function xmlError(fault: AwsFault, requestId: string): LocalResponse {
  return queryFault(fault, xmlns, requestId);
}

export function toRule(rule: RuleRecord): Dict {
  return {
    RuleArn: rule.arn,
    Priority: rule.priority,
    Conditions: rule.conditions,
    Actions: rule.actions,
    IsDefault: rule.priority === 'default',
  };
}
