import { optionalList } from './rules.ts';
import type {
  Dict,
  ForwardTarget,
  HealthCheckSettings,
  RouteRequest,
  RuleRecord,
  TargetHealthState,
  TargetRecord,
  TargetRef,
} from './types.ts';

/**
 * The load balancer's model semantics the simulator's state runs on: target health states and
 * their reasons, forward actions' target groups, and which rule takes a request.
 */
export const defaultHealthCheck: Required<HealthCheckSettings> = {
  path: '/',
  intervalSeconds: 30,
  timeoutSeconds: 5,
  healthyThresholdCount: 5,
  unhealthyThresholdCount: 2,
  matcher: '200',
};
export const reasons = {
  registering: ['Elb.RegistrationInProgress', 'Target registration is in progress'],
  initialChecks: ['Elb.InitialHealthChecking', 'Initial health checks in progress'],
  notInUse: [
    'Target.NotInUse',
    'Target group is not configured to receive traffic from the load balancer',
  ],
  notRegistered: ['Target.NotRegistered', 'Target is not registered to the target group'],
  draining: ['Target.DeregistrationInProgress', 'Target deregistration is in progress'],
  timeout: ['Target.Timeout', 'Request timed out'],
  failed: ['Target.FailedHealthChecks', 'Health checks failed'],
} as const;

export function setState(
  target: TargetRecord,
  state: TargetHealthState,
  reason?: readonly [string, string],
): void {
  target.state = state;
  if (reason) {
    target.reason = reason[0];
    target.description = reason[1];
  } else {
    delete target.reason;
    delete target.description;
  }
}

export function forwardAction(targets: ForwardTarget[]): Dict {
  return {
    Type: 'forward',
    ForwardConfig: {
      TargetGroups: targets.map((t) => ({
        TargetGroupArn: t.targetGroupArn,
        Weight: t.weight ?? 1,
      })),
    },
  };
}

export function forwardTargets(action: Dict | undefined): { arn: string; weight: number }[] {
  if (action?.Type !== 'forward') return [];
  const config = (action.ForwardConfig ?? {}) as Dict;
  const tuples = (config.TargetGroups ?? []) as Dict[];
  return tuples.map((t) => ({ arn: String(t.TargetGroupArn), weight: Number(t.Weight ?? 1) }));
}

/** path-pattern, host-header and http-request-method conditions; any other field never matches. */
export function ruleMatches(rule: RuleRecord, request: RouteRequest): boolean {
  if (rule.conditions.length === 0) return false;
  return rule.conditions.every((condition) => {
    const field = String(condition.Field);
    const config = (condition.PathPatternConfig ??
      condition.HostHeaderConfig ??
      condition.HttpRequestMethodConfig ??
      {}) as Dict;
    const values = (optionalList(config.Values) ?? optionalList(condition.Values) ?? []).map(
      String,
    );
    switch (field) {
      case 'path-pattern':
        return values.some((pattern) => globMatches(pattern, request.path, true));
      case 'host-header':
        return values.some((pattern) =>
          globMatches(pattern.toLowerCase(), request.host.toLowerCase().replace(/:\d+$/, ''), true),
        );
      case 'http-request-method':
        return values.includes(request.method);
      default:
        return false;
    }
  });
}

/** ALB patterns: `*` any characters, `?` one character; case-sensitive for paths. */
function globMatches(pattern: string, value: string, anchored: boolean): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(anchored ? `^${source}$` : source).test(value);
}

export function targetKey(target: TargetRef): string {
  return `${target.id}:${target.port}`;
}

export function isDefined<T>(value: T | undefined): value is T {
  return value !== undefined;
}
