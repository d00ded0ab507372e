/** Target health states, as DescribeTargetHealth reports them. */
export const TargetHealthState = {
  Initial: 'initial',
  Healthy: 'healthy',
  Unhealthy: 'unhealthy',
  Unused: 'unused',
  Draining: 'draining',
  Unavailable: 'unavailable',
} as const;
export type TargetHealthState = (typeof TargetHealthState)[keyof typeof TargetHealthState];

/** Operations whose next response `failNextResponse` can lose (the change still happens). */
export const Elbv2FaultableOperation = {
  ModifyListener: 'ModifyListener',
  ModifyRule: 'ModifyRule',
  RegisterTargets: 'RegisterTargets',
  DeregisterTargets: 'DeregisterTargets',
} as const;
export type Elbv2FaultableOperation =
  (typeof Elbv2FaultableOperation)[keyof typeof Elbv2FaultableOperation];

/** What changed, for the data plane (router, ECS) to react to. */
export type Elbv2Change =
  | { type: 'listener'; listenerArn: string; at: Date }
  | { type: 'health'; targetGroupArn: string; target: TargetRef; state: TargetHealthState }
  | { type: 'registered'; targetGroupArn: string; target: TargetRef }
  | { type: 'deregistered'; targetGroupArn: string; target: TargetRef };

export interface TargetRef {
  id: string;
  port: number;
}

/** A target chosen for one request; `release()` exactly once when the request is over. */
export interface TargetLease extends TargetRef {
  release(): void;
}

export interface LocalElbv2Options {
  /** @default 'us-east-1' */
  region?: string;
  /** @default '000000000000' */
  accountId?: string;
  /** @default () => new Date() */
  now?: () => Date;
}

export interface CreateLoadBalancerInput {
  name: string;
  /** @default 'internet-facing' */
  scheme?: 'internet-facing' | 'internal';
}

export interface HealthCheckSettings {
  /** @default '/' */
  path?: string;
  /** @default 30 */
  intervalSeconds?: number;
  /** @default 5 */
  timeoutSeconds?: number;
  /** @default 5 */
  healthyThresholdCount?: number;
  /** @default 2 */
  unhealthyThresholdCount?: number;
  /** Success codes, as ALB's matcher: `200`, `200,204`, `200-299`. @default '200' */
  matcher?: string;
}

export interface CreateTargetGroupInput {
  name: string;
  /** @default 80 */
  port?: number;
  healthCheck?: HealthCheckSettings;
  /** @default 300 */
  deregistrationDelaySeconds?: number;
  /** @default false */
  stickiness?: boolean;
  /** @default 86400 */
  stickinessDurationSeconds?: number;
}

export interface ForwardTarget {
  targetGroupArn: string;
  /** @default 1 */
  weight?: number;
}

export interface CreateListenerInput {
  loadBalancerArn: string;
  port: number;
  /** @default 'HTTP' */
  protocol?: 'HTTP' | 'HTTPS';
  /** Default action: forward to these target groups. */
  forward: ForwardTarget[];
  /** HTTPS only: the listener's certificate. */
  certificateArn?: string;
}

export interface CreateRuleInput {
  listenerArn: string;
  priority: number;
  pathPatterns?: string[];
  hostHeaders?: string[];
  forward: ForwardTarget[];
}

/** What a router needs of one request to find the rule that takes it. */
export interface RouteRequest {
  path: string;
  host: string;
  method: string;
}

/** The action a listener applies to a request, resolved from its rules. */
export type RouteAction =
  | { type: 'forward'; ruleArn: string; targetGroups: { arn: string; weight: number }[] }
  | { type: 'fixed-response'; ruleArn: string; status: number; contentType: string; body: string }
  | { type: 'unsupported'; ruleArn: string; actionType: string };

export interface TargetHealthSnapshot extends TargetRef {
  state: TargetHealthState;
  reason?: string;
  description?: string;
  inFlight: number;
}

/** One health check the data plane should run now. */
export interface HealthCheckJob {
  targetGroupArn: string;
  target: TargetRef;
  path: string;
  matcher: string;
  timeoutMs: number;
  intervalMs: number;
}

export interface HealthCheckResult {
  ok: boolean;
  /** HTTP status, when an answer came. */
  status?: number;
  timedOut?: boolean;
}

export interface Dict {
  [key: string]: unknown;
}

export interface LoadBalancerRecord {
  arn: string;
  name: string;
  id: string;
  scheme: string;
  createdAt: Date;
}

export interface TargetRecord extends TargetRef {
  state: TargetHealthState;
  reason?: string;
  description?: string;
  passes: number;
  failures: number;
  inFlight: number;
  checked: boolean;
  drainTimer?: NodeJS.Timeout;
}

export interface TargetGroupRecord {
  arn: string;
  name: string;
  port: number;
  healthCheck: Required<HealthCheckSettings>;
  attributes: Map<string, string>;
  loadBalancerArn?: string;
  targets: Map<string, TargetRecord>;
  /** Round-robin position among healthy targets. */
  cursor: number;
}

export interface RuleRecord {
  arn: string;
  /** `default` or a whole number as a string, as AWS reports it. */
  priority: string;
  conditions: Dict[];
  actions: Dict[];
}

export interface ListenerRecord {
  arn: string;
  loadBalancerArn: string;
  port: number;
  protocol: string;
  certificates: Dict[];
  sslPolicy?: string;
  alpnPolicy: string[];
  defaultRule: RuleRecord;
  rules: RuleRecord[];
}
