import { createHash } from 'node:crypto';
import type { LocalRequest, LocalResponse, LocalService } from './http.ts';

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

interface Dict {
  [key: string]: unknown;
}

interface LoadBalancerRecord {
  arn: string;
  name: string;
  id: string;
  scheme: string;
  createdAt: Date;
}

interface TargetRecord extends TargetRef {
  state: TargetHealthState;
  reason?: string;
  description?: string;
  passes: number;
  failures: number;
  inFlight: number;
  checked: boolean;
  drainTimer?: NodeJS.Timeout;
}

interface TargetGroupRecord {
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

interface RuleRecord {
  arn: string;
  /** `default` or a whole number as a string, as AWS reports it. */
  priority: string;
  conditions: Dict[];
  actions: Dict[];
}

interface ListenerRecord {
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

class Elbv2Fault extends Error {
  readonly code: string;
  readonly status: number;

  constructor(code: string, message: string, status = 400) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

const apiVersion = '2015-12-01';
const xmlns = `http://elasticloadbalancing.amazonaws.com/doc/${apiVersion}/`;
const maxTargetGroupsPerAction = 5;
const maxWeight = 999;
const routingActionTypes = ['forward', 'redirect', 'fixed-response'];
const actionTypes = [
  ...routingActionTypes,
  'authenticate-oidc',
  'authenticate-cognito',
  'jwt-validation',
];
const defaultHealthCheck: Required<HealthCheckSettings> = {
  path: '/',
  intervalSeconds: 30,
  timeoutSeconds: 5,
  healthyThresholdCount: 5,
  unhealthyThresholdCount: 2,
  matcher: '200',
};
const reasons = {
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

/**
 * Elastic Load Balancing v2 (Application Load Balancers) for the local cloud, on the awsQuery
 * wire protocol the unmodified `@aws-sdk/client-elastic-load-balancing-v2` speaks: form-encoded
 * POSTs with `Action=...&Version=2015-12-01`, XML answers and XML errors with AWS's codes.
 *
 * It is also the load balancer's brain for the local data plane: the router asks it which rule
 * takes a request and leases healthy targets from it (counting in-flight requests), and the
 * health checker reports real HTTP health checks to it. A deregistered target drains: it gets
 * no new requests, keeps its in-flight ones, and leaves when they are done or when the target
 * group's deregistration delay has passed, whichever comes first, as ALB does.
 *
 * Deliberate difference: ALB "fails open" (sends to every target when none is healthy); the
 * local router sends only to healthy targets, so a release test can claim that no request ever
 * reached an unhealthy colour.
 */
export class LocalElbv2 implements LocalService {
  readonly name = 'elbv2';
  readonly #region: string;
  readonly #accountId: string;
  readonly #now: () => Date;
  readonly #loadBalancers = new Map<string, LoadBalancerRecord>();
  readonly #targetGroups = new Map<string, TargetGroupRecord>();
  readonly #listeners = new Map<string, ListenerRecord>();
  readonly #subscribers = new Set<(change: Elbv2Change) => void>();
  readonly #faults = new Map<Elbv2FaultableOperation, number>();
  #sequence = 0;
  #requestCount = 0;

  constructor(options: LocalElbv2Options = {}) {
    this.#region = options.region ?? 'us-east-1';
    this.#accountId = options.accountId ?? '000000000000';
    this.#now = options.now ?? (() => new Date());
  }

  // ---- seeding -------------------------------------------------------------------------------

  createLoadBalancer(input: CreateLoadBalancerInput): { loadBalancerArn: string; dnsName: string } {
    checkName(input.name, 'load balancer');
    if ([...this.#loadBalancers.values()].some((lb) => lb.name === input.name)) {
      throw new Elbv2Fault(
        'DuplicateLoadBalancerName',
        'A load balancer with the same name exists',
      );
    }
    const id = this.#newId(`loadbalancer/${input.name}`);
    const arn = `${this.#arnPrefix()}loadbalancer/app/${input.name}/${id}`;
    const record: LoadBalancerRecord = {
      arn,
      name: input.name,
      id,
      scheme: input.scheme ?? 'internet-facing',
      createdAt: this.#now(),
    };
    this.#loadBalancers.set(arn, record);
    return { loadBalancerArn: arn, dnsName: this.#dnsName(record) };
  }

  createTargetGroup(input: CreateTargetGroupInput): { targetGroupArn: string } {
    checkName(input.name, 'target group');
    if ([...this.#targetGroups.values()].some((tg) => tg.name === input.name)) {
      throw new Elbv2Fault('DuplicateTargetGroupName', 'A target group with the same name exists');
    }
    const id = this.#newId(`targetgroup/${input.name}`);
    const arn = `${this.#arnPrefix()}targetgroup/${input.name}/${id}`;
    const healthCheck = { ...defaultHealthCheck, ...input.healthCheck };
    const attributes = new Map<string, string>([
      ['deregistration_delay.timeout_seconds', String(input.deregistrationDelaySeconds ?? 300)],
      ['stickiness.enabled', String(input.stickiness ?? false)],
      ['stickiness.type', 'lb_cookie'],
      ['stickiness.lb_cookie.duration_seconds', String(input.stickinessDurationSeconds ?? 86400)],
      ['stickiness.app_cookie.cookie_name', ''],
      ['stickiness.app_cookie.duration_seconds', '86400'],
      ['load_balancing.algorithm.type', 'round_robin'],
      ['load_balancing.algorithm.anomaly_mitigation', 'off'],
      ['slow_start.duration_seconds', '0'],
      ['load_balancing.cross_zone.enabled', 'use_load_balancer_configuration'],
    ]);
    this.#targetGroups.set(arn, {
      arn,
      name: input.name,
      port: input.port ?? 80,
      healthCheck,
      attributes,
      targets: new Map(),
      cursor: 0,
    });
    return { targetGroupArn: arn };
  }

  createListener(input: CreateListenerInput): { listenerArn: string } {
    const lb = this.#requireLoadBalancer(input.loadBalancerArn);
    const protocol = input.protocol ?? 'HTTP';
    for (const listener of this.#listeners.values()) {
      if (listener.loadBalancerArn === lb.arn && listener.port === input.port) {
        throw new Elbv2Fault('DuplicateListener', 'A listener already exists on this port');
      }
    }
    const actions = this.#validateActions(lb.arn, [forwardAction(input.forward)], 'defaultActions');
    const listenerId = this.#newId(`listener/${lb.name}/${input.port}`);
    const arn = `${this.#arnPrefix()}listener/app/${lb.name}/${lb.id}/${listenerId}`;
    const record: ListenerRecord = {
      arn,
      loadBalancerArn: lb.arn,
      port: input.port,
      protocol,
      certificates: input.certificateArn ? [{ CertificateArn: input.certificateArn }] : [],
      alpnPolicy: [],
      defaultRule: {
        arn: this.#ruleArn(lb, listenerId),
        priority: 'default',
        conditions: [],
        actions,
      },
      rules: [],
    };
    if (protocol === 'HTTPS') record.sslPolicy = 'ELBSecurityPolicy-2016-08';
    this.#listeners.set(arn, record);
    this.#associate(lb.arn, actions);
    return { listenerArn: arn };
  }

  createRule(input: CreateRuleInput): { ruleArn: string } {
    const listener = this.#requireListener(input.listenerArn);
    const lb = this.#requireLoadBalancer(listener.loadBalancerArn);
    if (listener.rules.some((rule) => rule.priority === String(input.priority))) {
      throw new Elbv2Fault('PriorityInUse', `Priority '${input.priority}' is currently in use`);
    }
    const conditions: Dict[] = [];
    if (input.pathPatterns) {
      conditions.push({ Field: 'path-pattern', PathPatternConfig: { Values: input.pathPatterns } });
    }
    if (input.hostHeaders) {
      conditions.push({ Field: 'host-header', HostHeaderConfig: { Values: input.hostHeaders } });
    }
    const actions = this.#validateActions(lb.arn, [forwardAction(input.forward)], 'actions');
    const listenerId = listener.arn.split('/').at(-1) ?? '';
    const rule: RuleRecord = {
      arn: this.#ruleArn(lb, listenerId, String(input.priority)),
      priority: String(input.priority),
      conditions,
      actions,
    };
    listener.rules.push(rule);
    listener.rules.sort((a, b) => Number(a.priority) - Number(b.priority));
    this.#associate(lb.arn, actions);
    return { ruleArn: rule.arn };
  }

  // ---- inspection and faults -----------------------------------------------------------------

  /** Subscribes to changes (listener modified, target health, registrations); returns unsubscribe. */
  onChange(listener: (change: Elbv2Change) => void): () => void {
    this.#subscribers.add(listener);
    return () => this.#subscribers.delete(listener);
  }

  /**
   * Makes the next `times` calls of `operation` take effect and then answer 500 InternalFailure,
   * as if the response were lost: retries must not double the effect.
   */
  failNextResponse(operation: Elbv2FaultableOperation, times = 1): void {
    this.#faults.set(operation, (this.#faults.get(operation) ?? 0) + times);
  }

  /** The weights of a listener's default forward action (or of a rule's), by target group ARN. */
  weightsOf(listenerOrRuleArn: string): Record<string, number> {
    const rule = this.#findRule(listenerOrRuleArn);
    const forward = rule.actions.find((action) => action.Type === 'forward');
    const weights: Record<string, number> = {};
    for (const tg of forwardTargets(forward)) weights[tg.arn] = tg.weight;
    return weights;
  }

  /** Every registered target of a group with its health and in-flight requests. */
  targetHealth(targetGroupArn: string): TargetHealthSnapshot[] {
    const tg = this.#requireTargetGroup(targetGroupArn);
    return [...tg.targets.values()].map((target) => {
      const view = this.#viewOf(tg, target);
      return { id: target.id, port: target.port, inFlight: target.inFlight, ...view };
    });
  }

  /** The load balancer that owns a listener, for metrics dimensions and DNS names. */
  loadBalancerOf(listenerArn: string): { loadBalancerArn: string; name: string; dnsName: string } {
    const listener = this.#requireListener(listenerArn);
    const lb = this.#requireLoadBalancer(listener.loadBalancerArn);
    return { loadBalancerArn: lb.arn, name: lb.name, dnsName: this.#dnsName(lb) };
  }

  /** A target group's attributes (deregistration delay, stickiness), as DescribeTargetGroupAttributes. */
  attributesOf(targetGroupArn: string): Record<string, string> {
    return Object.fromEntries(this.#requireTargetGroup(targetGroupArn).attributes);
  }

  // ---- data plane hooks ----------------------------------------------------------------------

  /** Registers a target, as RegisterTargets does (ECS calls this for its tasks). */
  registerTarget(targetGroupArn: string, target: TargetRef): void {
    this.#registerTargets(this.#requireTargetGroup(targetGroupArn), [target]);
  }

  /** Deregisters a target, as DeregisterTargets does: it drains first. */
  deregisterTarget(targetGroupArn: string, target: TargetRef): void {
    this.#deregisterTargets(this.#requireTargetGroup(targetGroupArn), [target], true);
  }

  /** Whether a registered target is still known (registered or draining). */
  isRegistered(targetGroupArn: string, target: TargetRef): boolean {
    return this.#targetGroups.get(targetGroupArn)?.targets.has(targetKey(target)) ?? false;
  }

  /** The action a listener's rules give a request: the first matching rule, else the default. */
  routeFor(listenerArn: string, request: RouteRequest): RouteAction {
    const listener = this.#requireListener(listenerArn);
    const rule =
      listener.rules.find((candidate) => ruleMatches(candidate, request)) ?? listener.defaultRule;
    const action = rule.actions.find((a) => routingActionTypes.includes(String(a.Type)));
    if (action?.Type === 'forward') {
      return { type: 'forward', ruleArn: rule.arn, targetGroups: forwardTargets(action) };
    }
    if (action?.Type === 'fixed-response') {
      const config = (action.FixedResponseConfig ?? {}) as Dict;
      return {
        type: 'fixed-response',
        ruleArn: rule.arn,
        status: Number(config.StatusCode ?? 200),
        contentType: String(config.ContentType ?? 'text/plain'),
        body: String(config.MessageBody ?? ''),
      };
    }
    return { type: 'unsupported', ruleArn: rule.arn, actionType: String(action?.Type) };
  }

  /** Whether a target group has a target that may take a new request. */
  hasHealthyTarget(targetGroupArn: string): boolean {
    const tg = this.#targetGroups.get(targetGroupArn);
    if (!tg) return false;
    for (const target of tg.targets.values()) {
      if (target.state === TargetHealthState.Healthy) return true;
    }
    return false;
  }

  /**
   * Picks the next healthy target of a group (round robin) and counts the request as in flight
   * on it until `release()`. Only healthy, registered targets are ever leased.
   */
  leaseTarget(targetGroupArn: string): TargetLease | undefined {
    const tg = this.#targetGroups.get(targetGroupArn);
    if (!tg) return undefined;
    const healthy = [...tg.targets.values()].filter((t) => t.state === TargetHealthState.Healthy);
    if (healthy.length === 0) return undefined;
    const target = healthy[tg.cursor % healthy.length] as TargetRecord;
    tg.cursor = (tg.cursor + 1) % 1_000_000_000;
    target.inFlight += 1;
    let released = false;
    return {
      id: target.id,
      port: target.port,
      release: () => {
        if (released) return;
        released = true;
        target.inFlight -= 1;
        if (target.inFlight === 0 && target.state === TargetHealthState.Draining) {
          this.#finishDeregistration(tg, target);
        }
      },
    };
  }

  /** The health checks due: every registered, non-draining target of a group a listener uses. */
  healthCheckJobs(): HealthCheckJob[] {
    const jobs: HealthCheckJob[] = [];
    for (const tg of this.#targetGroups.values()) {
      if (!this.#inUse(tg)) continue;
      for (const target of tg.targets.values()) {
        if (target.state === TargetHealthState.Draining) continue;
        jobs.push({
          targetGroupArn: tg.arn,
          target: { id: target.id, port: target.port },
          path: tg.healthCheck.path,
          matcher: tg.healthCheck.matcher,
          timeoutMs: tg.healthCheck.timeoutSeconds * 1000,
          intervalMs: tg.healthCheck.intervalSeconds * 1000,
        });
      }
    }
    return jobs;
  }

  /** Applies one health check's outcome: healthy after N passes in a row, unhealthy after M failures. */
  recordHealthCheck(targetGroupArn: string, ref: TargetRef, result: HealthCheckResult): void {
    const tg = this.#targetGroups.get(targetGroupArn);
    const target = tg?.targets.get(targetKey(ref));
    if (!tg || !target || target.state === TargetHealthState.Draining) return;
    const before = target.state;
    target.checked = true;
    if (result.ok) {
      target.passes += 1;
      target.failures = 0;
      if (target.passes >= tg.healthCheck.healthyThresholdCount) {
        setState(target, TargetHealthState.Healthy);
      } else if (target.state === TargetHealthState.Initial) {
        setState(target, TargetHealthState.Initial, reasons.initialChecks);
      }
    } else {
      target.failures += 1;
      target.passes = 0;
      if (target.failures >= tg.healthCheck.unhealthyThresholdCount) {
        const reason: readonly [string, string] = result.timedOut
          ? reasons.timeout
          : result.status === undefined
            ? reasons.failed
            : [
                'Target.ResponseCodeMismatch',
                `Health checks failed with these codes: [${result.status}]`,
              ];
        setState(target, TargetHealthState.Unhealthy, reason);
      } else if (target.state === TargetHealthState.Initial) {
        setState(target, TargetHealthState.Initial, reasons.initialChecks);
      }
    }
    if (target.state !== before) {
      this.#emit({ type: 'health', targetGroupArn, target: ref, state: target.state });
    }
  }

  /** Stops drain timers; registered targets stay as they are. */
  close(): void {
    for (const tg of this.#targetGroups.values()) {
      for (const target of tg.targets.values()) clearTimeout(target.drainTimer);
    }
    this.#subscribers.clear();
  }

  // ---- wire protocol -------------------------------------------------------------------------

  async handle(request: LocalRequest): Promise<LocalResponse | undefined> {
    if (request.method !== 'POST') return undefined;
    const contentType = String(request.headers['content-type'] ?? '');
    if (!contentType.startsWith('application/x-www-form-urlencoded')) return undefined;
    const form = new URLSearchParams(request.body.toString('utf8'));
    if (form.get('Version') !== apiVersion) return undefined;
    const action = form.get('Action') ?? '';
    this.#requestCount += 1;
    const requestId = this.#requestId();
    try {
      const input = parseQuery(form);
      const result = this.#dispatch(action, input);
      if (action in Elbv2FaultableOperation && this.#takeFault(action as Elbv2FaultableOperation)) {
        return xmlError(
          new Elbv2Fault(
            'InternalFailure',
            'The local cloud lost this response on purpose (failNextResponse).',
            500,
          ),
          requestId,
        );
      }
      return {
        status: 200,
        headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
        body: `<?xml version="1.0" encoding="UTF-8"?><${action}Response xmlns="${xmlns}">${xmlElement(`${action}Result`, result)}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
      };
    } catch (error) {
      if (error instanceof Elbv2Fault) return xmlError(error, requestId);
      throw error;
    }
  }

  #dispatch(action: string, input: Dict): Dict {
    switch (action) {
      case 'DescribeLoadBalancers':
        return this.#describeLoadBalancers(input);
      case 'DescribeListeners':
        return this.#describeListeners(input);
      case 'DescribeRules':
        return this.#describeRules(input);
      case 'ModifyListener':
        return this.#modifyListener(input);
      case 'ModifyRule':
        return this.#modifyRule(input);
      case 'DescribeTargetGroups':
        return this.#describeTargetGroups(input);
      case 'DescribeTargetGroupAttributes':
        return this.#describeTargetGroupAttributes(input);
      case 'DescribeTargetHealth':
        return this.#describeTargetHealth(input);
      case 'RegisterTargets': {
        const tg = this.#requireTargetGroup(requireString(input, 'TargetGroupArn'));
        this.#registerTargets(tg, readTargets(input, tg));
        return {};
      }
      case 'DeregisterTargets': {
        const tg = this.#requireTargetGroup(requireString(input, 'TargetGroupArn'));
        this.#deregisterTargets(tg, readTargets(input, tg), false);
        return {};
      }
      default:
        throw new Elbv2Fault(
          'InvalidAction',
          `The action ${action} is not valid for this web service (the local ELBv2 does not serve it).`,
        );
    }
  }

  #describeLoadBalancers(input: Dict): Dict {
    const arns = optionalList(input.LoadBalancerArns);
    const names = optionalList(input.Names);
    let found = [...this.#loadBalancers.values()];
    if (arns) {
      found = arns.map((arn) => this.#loadBalancers.get(String(arn))).filter(isDefined);
      if (found.length !== arns.length) {
        throw new Elbv2Fault('LoadBalancerNotFound', 'One or more load balancers not found');
      }
    } else if (names) {
      found = found.filter((lb) => names.includes(lb.name));
      if (found.length !== names.length) {
        throw new Elbv2Fault('LoadBalancerNotFound', 'One or more load balancers not found');
      }
    }
    return paginate(found, input, 'LoadBalancers', (lb) => this.#toLoadBalancer(lb));
  }

  #describeListeners(input: Dict): Dict {
    const arns = optionalList(input.ListenerArns);
    const lbArn = optionalString(input.LoadBalancerArn);
    let found: ListenerRecord[];
    if (arns) {
      if (lbArn) {
        throw new Elbv2Fault(
          'ValidationError',
          'Listener ARNs and a load balancer ARN cannot be specified at the same time',
        );
      }
      found = arns.map((arn) => this.#listeners.get(String(arn))).filter(isDefined);
      if (found.length !== arns.length) {
        throw new Elbv2Fault('ListenerNotFound', 'One or more listeners not found');
      }
    } else if (lbArn) {
      this.#requireLoadBalancer(lbArn);
      found = [...this.#listeners.values()].filter((l) => l.loadBalancerArn === lbArn);
    } else {
      throw new Elbv2Fault(
        'ValidationError',
        'You must specify either listener ARNs or a load balancer ARN',
      );
    }
    return paginate(found, input, 'Listeners', (listener) => this.#toListener(listener));
  }

  #describeRules(input: Dict): Dict {
    const arns = optionalList(input.RuleArns);
    const listenerArn = optionalString(input.ListenerArn);
    let found: RuleRecord[];
    if (arns) {
      found = arns.map((arn) => this.#findRuleOrUndefined(String(arn))).filter(isDefined);
      if (found.length !== arns.length) {
        throw new Elbv2Fault('RuleNotFound', 'One or more rules not found');
      }
    } else if (listenerArn) {
      const listener = this.#requireListener(listenerArn);
      found = [...listener.rules, listener.defaultRule];
    } else {
      throw new Elbv2Fault('ValidationError', 'You must specify either listener or rule ARNs');
    }
    return paginate(found, input, 'Rules', (rule) => toRule(rule));
  }

  #modifyListener(input: Dict): Dict {
    const listener = this.#requireListener(requireString(input, 'ListenerArn'));
    // Validate everything before changing anything: a rejected call leaves the listener as it was.
    const port = input.Port === undefined ? undefined : Number(input.Port);
    if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) {
      throw new Elbv2Fault(
        'ValidationError',
        `1 validation error detected: Value '${String(input.Port)}' at 'port' failed to satisfy constraint: Member must have value less than or equal to 65535`,
      );
    }
    const protocol = optionalString(input.Protocol);
    if (protocol !== undefined && protocol !== 'HTTP' && protocol !== 'HTTPS') {
      throw new Elbv2Fault(
        'UnsupportedProtocol',
        `Protocol '${protocol}' is not supported by an Application Load Balancer`,
      );
    }
    if (port !== undefined && port !== listener.port) {
      for (const other of this.#listeners.values()) {
        if (other.loadBalancerArn === listener.loadBalancerArn && other.port === port) {
          throw new Elbv2Fault('DuplicateListener', 'A listener already exists on this port');
        }
      }
    }
    const certificates = optionalList(input.Certificates);
    if (
      (protocol ?? listener.protocol) === 'HTTPS' &&
      (certificates ?? listener.certificates).length === 0
    ) {
      throw new Elbv2Fault(
        'CertificateNotFound',
        'A certificate must be specified for HTTPS listeners',
      );
    }
    const rawActions = optionalList(input.DefaultActions);
    const actions = rawActions
      ? this.#validateActions(listener.loadBalancerArn, rawActions, 'defaultActions')
      : undefined;
    if (port !== undefined) listener.port = port;
    if (protocol !== undefined) listener.protocol = protocol;
    if (certificates) listener.certificates = certificates as Dict[];
    const sslPolicy = optionalString(input.SslPolicy);
    if (sslPolicy !== undefined) listener.sslPolicy = sslPolicy;
    const alpn = optionalList(input.AlpnPolicy);
    if (alpn) listener.alpnPolicy = alpn.map(String);
    if (actions) {
      listener.defaultRule.actions = actions;
      this.#associate(listener.loadBalancerArn, actions);
    }
    this.#emit({ type: 'listener', listenerArn: listener.arn, at: this.#now() });
    return { Listeners: [this.#toListener(listener)] };
  }

  #modifyRule(input: Dict): Dict {
    const ruleArn = requireString(input, 'RuleArn');
    const { listener, rule } = this.#requireRule(ruleArn);
    const rawConditions = optionalList(input.Conditions);
    const rawActions = optionalList(input.Actions);
    if (rule.priority === 'default' && rawConditions && rawConditions.length > 0) {
      throw new Elbv2Fault(
        'OperationNotPermitted',
        'Conditions cannot be specified for the default rule',
      );
    }
    const actions = rawActions
      ? this.#validateActions(listener.loadBalancerArn, rawActions, 'actions')
      : undefined;
    if (rawConditions) rule.conditions = rawConditions as Dict[];
    if (actions) {
      rule.actions = actions;
      this.#associate(listener.loadBalancerArn, actions);
    }
    this.#emit({ type: 'listener', listenerArn: listener.arn, at: this.#now() });
    return { Rules: [toRule(rule)] };
  }

  #describeTargetGroups(input: Dict): Dict {
    const arns = optionalList(input.TargetGroupArns);
    const names = optionalList(input.Names);
    const lbArn = optionalString(input.LoadBalancerArn);
    if ([arns, names, lbArn].filter((v) => v !== undefined).length > 1) {
      throw new Elbv2Fault(
        'ValidationError',
        'Only one of load balancer ARN, target group ARNs or names can be specified',
      );
    }
    let found = [...this.#targetGroups.values()];
    if (arns) {
      found = arns.map((arn) => this.#targetGroups.get(String(arn))).filter(isDefined);
      if (found.length !== arns.length) {
        throw new Elbv2Fault('TargetGroupNotFound', 'One or more target groups not found');
      }
    } else if (names) {
      found = found.filter((tg) => names.includes(tg.name));
      if (found.length !== names.length) {
        throw new Elbv2Fault('TargetGroupNotFound', 'One or more target groups not found');
      }
    } else if (lbArn) {
      this.#requireLoadBalancer(lbArn);
      found = found.filter((tg) => tg.loadBalancerArn === lbArn);
    }
    return paginate(found, input, 'TargetGroups', (tg) => this.#toTargetGroup(tg));
  }

  #describeTargetGroupAttributes(input: Dict): Dict {
    const tg = this.#requireTargetGroup(requireString(input, 'TargetGroupArn'));
    return {
      Attributes: [...tg.attributes].map(([Key, Value]) => ({ Key, Value })),
    };
  }

  #describeTargetHealth(input: Dict): Dict {
    const tg = this.#requireTargetGroup(requireString(input, 'TargetGroupArn'));
    const asked = optionalList(input.Targets);
    const descriptions: Dict[] = [];
    const refs = asked ? readTargets(input, tg) : [...tg.targets.values()];
    for (const ref of refs) {
      const target = tg.targets.get(targetKey(ref));
      const view = target
        ? this.#viewOf(tg, target)
        : {
            state: TargetHealthState.Unused,
            reason: reasons.notRegistered[0],
            description: reasons.notRegistered[1],
          };
      const health: Dict = { State: view.state };
      if (view.reason) health.Reason = view.reason;
      if (view.description) health.Description = view.description;
      descriptions.push({
        Target: { Id: ref.id, Port: ref.port },
        HealthCheckPort: String(ref.port),
        TargetHealth: health,
      });
    }
    return { TargetHealthDescriptions: descriptions };
  }

  #registerTargets(tg: TargetGroupRecord, refs: TargetRef[]): void {
    for (const ref of refs) {
      const key = targetKey(ref);
      const existing = tg.targets.get(key);
      if (existing && existing.state !== TargetHealthState.Draining) continue;
      if (existing) clearTimeout(existing.drainTimer);
      const target: TargetRecord = {
        id: ref.id,
        port: ref.port,
        state: TargetHealthState.Initial,
        passes: 0,
        failures: 0,
        inFlight: existing?.inFlight ?? 0,
        checked: false,
      };
      setState(target, TargetHealthState.Initial, reasons.registering);
      tg.targets.set(key, target);
      this.#emit({ type: 'registered', targetGroupArn: tg.arn, target: ref });
    }
  }

  #deregisterTargets(tg: TargetGroupRecord, refs: TargetRef[], lenient: boolean): void {
    const missing = refs.filter((ref) => !tg.targets.has(targetKey(ref)));
    if (missing.length > 0 && !lenient) {
      throw new Elbv2Fault(
        'InvalidTarget',
        `The following targets are not registered in target group '${tg.arn}': ${missing.map((ref) => `'${ref.id}:${ref.port}'`).join(', ')}`,
      );
    }
    for (const ref of refs) {
      const target = tg.targets.get(targetKey(ref));
      if (!target || target.state === TargetHealthState.Draining) continue;
      setState(target, TargetHealthState.Draining, reasons.draining);
      this.#emit({ type: 'health', targetGroupArn: tg.arn, target: ref, state: target.state });
      // ALB completes a deregistration at once when the target has nothing in flight, else
      // when the last request ends or the deregistration delay passes, whichever is first.
      if (target.inFlight === 0 || !this.#inUse(tg)) {
        this.#finishDeregistration(tg, target);
        continue;
      }
      const delayMs = Number(tg.attributes.get('deregistration_delay.timeout_seconds')) * 1000;
      target.drainTimer = setTimeout(() => this.#finishDeregistration(tg, target), delayMs);
    }
  }

  #finishDeregistration(tg: TargetGroupRecord, target: TargetRecord): void {
    clearTimeout(target.drainTimer);
    const key = targetKey(target);
    if (tg.targets.get(key) !== target) return;
    tg.targets.delete(key);
    this.#emit({
      type: 'deregistered',
      targetGroupArn: tg.arn,
      target: { id: target.id, port: target.port },
    });
  }

  /**
   * Checks and normalises a list of actions as ALB does, resolving each forward action's target
   * groups: they must exist, number at most 5, weigh 0..999, and belong to no other load
   * balancer. Returns actions in the shape Describe* reports them.
   */
  #validateActions(loadBalancerArn: string, raw: unknown[], field: string): Dict[] {
    if (raw.length === 0) {
      throw new Elbv2Fault(
        'ValidationError',
        `1 validation error detected: Value '[]' at '${field}' failed to satisfy constraint: Member must have length greater than or equal to 1`,
      );
    }
    const actions = raw.map((item, index) => {
      const action = (item ?? {}) as Dict;
      const type = optionalString(action.Type);
      if (!type || !actionTypes.includes(type)) {
        throw new Elbv2Fault(
          'ValidationError',
          `1 validation error detected: Value '${String(type)}' at '${field}.${index + 1}.member.type' failed to satisfy constraint: Member must satisfy enum value set: [${actionTypes.join(', ')}]`,
        );
      }
      return type === 'forward'
        ? this.#validateForward(loadBalancerArn, action, `${field}.${index + 1}.member`)
        : { ...action, ...(action.Order === undefined ? {} : { Order: Number(action.Order) }) };
    });
    const routing = actions.filter((a) => routingActionTypes.includes(String(a.Type)));
    if (routing.length !== 1) {
      throw new Elbv2Fault(
        'InvalidLoadBalancerAction',
        'A rule must include exactly one of the following actions: forward, redirect, fixed-response',
      );
    }
    return actions;
  }

  #validateForward(loadBalancerArn: string, action: Dict, path: string): Dict {
    const single = optionalString(action.TargetGroupArn);
    const config = (action.ForwardConfig ?? undefined) as Dict | undefined;
    const tuples = optionalList(config?.TargetGroups) ?? [];
    if (!single && tuples.length === 0) {
      throw new Elbv2Fault(
        'ValidationError',
        'A target group ARN or a forward config with at least one target group must be specified for a forward action',
      );
    }
    if (single && tuples.length > 0) {
      const only = tuples.length === 1 ? ((tuples[0] ?? {}) as Dict).TargetGroupArn : undefined;
      if (only !== single) {
        throw new Elbv2Fault(
          'ValidationError',
          'You cannot specify a target group ARN and a forward config that names other target groups',
        );
      }
    }
    if (tuples.length > maxTargetGroupsPerAction) {
      throw new Elbv2Fault(
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
              throw new Elbv2Fault(
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
        throw new Elbv2Fault(
          'ValidationError',
          `Target group '${group.arn}' cannot be specified more than once in a forward action`,
        );
      }
      seen.add(group.arn);
    }
    const missing = groups.filter((g) => !this.#targetGroups.has(g.arn)).map((g) => g.arn);
    if (missing.length > 0) {
      throw new Elbv2Fault(
        'TargetGroupNotFound',
        `Target groups '${missing.join(', ')}' not found`,
      );
    }
    const foreign = groups
      .filter((g) => {
        const owner = this.#targetGroups.get(g.arn)?.loadBalancerArn;
        return owner !== undefined && owner !== loadBalancerArn;
      })
      .map((g) => g.arn);
    if (foreign.length > 0) {
      throw new Elbv2Fault(
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
        throw new Elbv2Fault(
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

  /** A target group joins the load balancer whose listener or rule first forwards to it. */
  #associate(loadBalancerArn: string, actions: Dict[]): void {
    for (const action of actions) {
      for (const group of forwardTargets(action)) {
        const tg = this.#targetGroups.get(group.arn);
        if (!tg || tg.loadBalancerArn !== undefined) continue;
        tg.loadBalancerArn = loadBalancerArn;
      }
    }
  }

  /** A target group is in use when a listener or rule of its load balancer forwards to it. */
  #inUse(tg: TargetGroupRecord): boolean {
    for (const listener of this.#listeners.values()) {
      for (const rule of [listener.defaultRule, ...listener.rules]) {
        for (const action of rule.actions) {
          if (forwardTargets(action).some((g) => g.arn === tg.arn)) return true;
        }
      }
    }
    return false;
  }

  #viewOf(
    tg: TargetGroupRecord,
    target: TargetRecord,
  ): { state: TargetHealthState; reason?: string; description?: string } {
    if (target.state !== TargetHealthState.Draining && !this.#inUse(tg)) {
      return {
        state: TargetHealthState.Unused,
        reason: reasons.notInUse[0],
        description: reasons.notInUse[1],
      };
    }
    const view: { state: TargetHealthState; reason?: string; description?: string } = {
      state: target.state,
    };
    if (target.reason) view.reason = target.reason;
    if (target.description) view.description = target.description;
    return view;
  }

  #toLoadBalancer(lb: LoadBalancerRecord): Dict {
    return {
      LoadBalancerArn: lb.arn,
      DNSName: this.#dnsName(lb),
      CanonicalHostedZoneId: 'Z35SXDOTRQ7X7K',
      CreatedTime: lb.createdAt,
      LoadBalancerName: lb.name,
      Scheme: lb.scheme,
      VpcId: 'vpc-00000000000000000',
      State: { Code: 'active' },
      Type: 'application',
      AvailabilityZones: [
        { ZoneName: `${this.#region}a`, SubnetId: 'subnet-0000000000000000a' },
        { ZoneName: `${this.#region}b`, SubnetId: 'subnet-0000000000000000b' },
      ],
      SecurityGroups: ['sg-00000000000000000'],
      IpAddressType: 'ipv4',
    };
  }

  #toListener(listener: ListenerRecord): Dict {
    const shape: Dict = {
      ListenerArn: listener.arn,
      LoadBalancerArn: listener.loadBalancerArn,
      Port: listener.port,
      Protocol: listener.protocol,
      DefaultActions: listener.defaultRule.actions,
    };
    if (listener.certificates.length > 0) shape.Certificates = listener.certificates;
    if (listener.sslPolicy) shape.SslPolicy = listener.sslPolicy;
    if (listener.alpnPolicy.length > 0) shape.AlpnPolicy = listener.alpnPolicy;
    return shape;
  }

  #toTargetGroup(tg: TargetGroupRecord): Dict {
    return {
      TargetGroupArn: tg.arn,
      TargetGroupName: tg.name,
      Protocol: 'HTTP',
      Port: tg.port,
      VpcId: 'vpc-00000000000000000',
      HealthCheckProtocol: 'HTTP',
      HealthCheckPort: 'traffic-port',
      HealthCheckEnabled: true,
      HealthCheckIntervalSeconds: tg.healthCheck.intervalSeconds,
      HealthCheckTimeoutSeconds: tg.healthCheck.timeoutSeconds,
      HealthyThresholdCount: tg.healthCheck.healthyThresholdCount,
      UnhealthyThresholdCount: tg.healthCheck.unhealthyThresholdCount,
      HealthCheckPath: tg.healthCheck.path,
      Matcher: { HttpCode: tg.healthCheck.matcher },
      LoadBalancerArns: tg.loadBalancerArn ? [tg.loadBalancerArn] : [],
      TargetType: 'ip',
      ProtocolVersion: 'HTTP1',
      IpAddressType: 'ipv4',
    };
  }

  #findRuleOrUndefined(arn: string): RuleRecord | undefined {
    for (const listener of this.#listeners.values()) {
      if (listener.defaultRule.arn === arn) return listener.defaultRule;
      const rule = listener.rules.find((r) => r.arn === arn);
      if (rule) return rule;
    }
    return undefined;
  }

  /** A listener ARN names its default rule; a rule ARN names itself. */
  #findRule(arn: string): RuleRecord {
    const listener = this.#listeners.get(arn);
    if (listener) return listener.defaultRule;
    const rule = this.#findRuleOrUndefined(arn);
    if (!rule) throw new Error(`No listener or rule ${arn} in the local ELBv2`);
    return rule;
  }

  #requireRule(arn: string): { listener: ListenerRecord; rule: RuleRecord } {
    for (const listener of this.#listeners.values()) {
      const rule = [listener.defaultRule, ...listener.rules].find((r) => r.arn === arn);
      if (rule) return { listener, rule };
    }
    throw new Elbv2Fault('RuleNotFound', 'One or more rules not found');
  }

  #requireLoadBalancer(arn: string): LoadBalancerRecord {
    const lb = this.#loadBalancers.get(arn);
    if (!lb) throw new Elbv2Fault('LoadBalancerNotFound', 'One or more load balancers not found');
    return lb;
  }

  #requireListener(arn: string): ListenerRecord {
    const listener = this.#listeners.get(arn);
    if (!listener) throw new Elbv2Fault('ListenerNotFound', 'One or more listeners not found');
    return listener;
  }

  #requireTargetGroup(arn: string): TargetGroupRecord {
    const tg = this.#targetGroups.get(arn);
    if (!tg) throw new Elbv2Fault('TargetGroupNotFound', 'One or more target groups not found');
    return tg;
  }

  #emit(change: Elbv2Change): void {
    for (const subscriber of [...this.#subscribers]) subscriber(change);
  }

  #takeFault(operation: Elbv2FaultableOperation): boolean {
    const left = this.#faults.get(operation) ?? 0;
    if (left <= 0) return false;
    this.#faults.set(operation, left - 1);
    return true;
  }

  #arnPrefix(): string {
    return `arn:aws:elasticloadbalancing:${this.#region}:${this.#accountId}:`;
  }

  #ruleArn(lb: LoadBalancerRecord, listenerId: string, salt = 'default'): string {
    const ruleId = this.#newId(`rule/${listenerId}/${salt}`);
    return `${this.#arnPrefix()}listener-rule/app/${lb.name}/${lb.id}/${listenerId}/${ruleId}`;
  }

  #dnsName(lb: LoadBalancerRecord): string {
    const prefix = lb.scheme === 'internal' ? 'internal-' : '';
    return `${prefix}${lb.name}-${Number.parseInt(lb.id.slice(0, 8), 16)}.${this.#region}.elb.amazonaws.com`;
  }

  /** Ids are derived from names and creation order, so a seeded world has the same ARNs every run. */
  #newId(seed: string): string {
    this.#sequence += 1;
    return createHash('sha256').update(`${seed}#${this.#sequence}`).digest('hex').slice(0, 16);
  }

  #requestId(): string {
    const hex = createHash('sha256').update(`elbv2-request-${this.#requestCount}`).digest('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }
}

function setState(
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

function forwardAction(targets: ForwardTarget[]): Dict {
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

function forwardTargets(action: Dict | undefined): { arn: string; weight: number }[] {
  if (action?.Type !== 'forward') return [];
  const config = (action.ForwardConfig ?? {}) as Dict;
  const tuples = (config.TargetGroups ?? []) as Dict[];
  return tuples.map((t) => ({ arn: String(t.TargetGroupArn), weight: Number(t.Weight ?? 1) }));
}

function toRule(rule: RuleRecord): Dict {
  return {
    RuleArn: rule.arn,
    Priority: rule.priority,
    Conditions: rule.conditions,
    Actions: rule.actions,
    IsDefault: rule.priority === 'default',
  };
}

/** path-pattern, host-header and http-request-method conditions; any other field never matches. */
function ruleMatches(rule: RuleRecord, request: RouteRequest): boolean {
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

function checkName(name: string, kind: string): void {
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/.test(name)) {
    throw new Elbv2Fault(
      'ValidationError',
      `The ${kind} name '${name}' must have at most 32 alphanumeric characters or hyphens, and must not begin or end with a hyphen`,
    );
  }
}

function readTargets(input: Dict, tg: TargetGroupRecord): TargetRef[] {
  const targets = optionalList(input.Targets);
  if (!targets || targets.length === 0) {
    throw new Elbv2Fault(
      'ValidationError',
      "1 validation error detected: Value null at 'targets' failed to satisfy constraint: Member must not be null",
    );
  }
  return targets.map((item) => {
    const t = (item ?? {}) as Dict;
    const id = optionalString(t.Id);
    if (!id) throw new Elbv2Fault('ValidationError', 'A target ID must be specified');
    const port = t.Port === undefined ? tg.port : Number(t.Port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Elbv2Fault('ValidationError', `Port '${String(t.Port)}' is not valid`);
    }
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(id)) {
      throw new Elbv2Fault(
        'InvalidTarget',
        `The IP address '${id}' is not a valid IPv4 address (the target type of '${tg.name}' is ip)`,
      );
    }
    return { id, port };
  });
}

function targetKey(target: TargetRef): string {
  return `${target.id}:${target.port}`;
}

function paginate<T>(items: T[], input: Dict, key: string, toShape: (item: T) => Dict): Dict {
  const start = input.Marker === undefined ? 0 : Number(input.Marker);
  const pageSize = input.PageSize === undefined ? 400 : Number(input.PageSize);
  if (!Number.isInteger(start) || start < 0 || start > items.length) {
    throw new Elbv2Fault('ValidationError', 'The marker is not valid');
  }
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 400) {
    throw new Elbv2Fault(
      'ValidationError',
      `1 validation error detected: Value '${String(input.PageSize)}' at 'pageSize' failed to satisfy constraint: Member must have value less than or equal to 400`,
    );
  }
  const page = items.slice(start, start + pageSize);
  const result: Dict = { [key]: page.map(toShape) };
  if (start + pageSize < items.length) result.NextMarker = String(start + pageSize);
  return result;
}

/**
 * Turns awsQuery form fields (`DefaultActions.member.1.ForwardConfig.TargetGroups.member.2.Weight`)
 * into nested objects and arrays. Values stay strings, as on the wire; a bare `Key=` is an empty list.
 */
export function parseQuery(form: URLSearchParams): Dict {
  const root: Dict = {};
  for (const [key, value] of form) {
    if (key === 'Action' || key === 'Version') continue;
    const raw = key.split('.');
    const path: (string | number)[] = [];
    for (let i = 0; i < raw.length; i += 1) {
      const segment = raw[i] as string;
      const next = raw[i + 1];
      if (
        (segment === 'member' || segment === 'entry') &&
        next !== undefined &&
        /^\d+$/.test(next)
      ) {
        path.push(Number(next) - 1);
        i += 1;
      } else {
        path.push(segment);
      }
    }
    let node: Dict | unknown[] = root;
    for (let i = 0; i < path.length; i += 1) {
      const segment = path[i] as string | number;
      const last = i === path.length - 1;
      const container = node as Record<string | number, unknown>;
      if (last) {
        container[segment] = value === '' && typeof segment === 'string' ? [] : value;
        break;
      }
      const nextIsIndex = typeof path[i + 1] === 'number';
      let child = container[segment];
      if (child === undefined || typeof child !== 'object' || child === null) {
        child = nextIsIndex ? [] : {};
        container[segment] = child;
      }
      node = child as Dict | unknown[];
    }
  }
  return compact(root) as Dict;
}

function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => v !== undefined).map(compact);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, compact(v)]));
  }
  return value;
}

/** awsQuery XML: objects become elements, arrays become `<member>` lists, dates ISO 8601. */
function xmlElement(name: string, value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) {
    return `<${name}>${value.map((item) => xmlElement('member', item)).join('')}</${name}>`;
  }
  if (value instanceof Date) return `<${name}>${value.toISOString()}</${name}>`;
  if (typeof value === 'object') {
    const inner = Object.entries(value)
      .map(([key, child]) => xmlElement(key, child))
      .join('');
    return `<${name}>${inner}</${name}>`;
  }
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}

/** The awsQuery error document; the SDK maps `Code` to its typed exception (TargetGroupNotFound → TargetGroupNotFoundException). */
function xmlError(fault: Elbv2Fault, requestId: string): LocalResponse {
  const type = fault.status >= 500 ? 'Receiver' : 'Sender';
  return {
    status: fault.status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: `<?xml version="1.0" encoding="UTF-8"?><ErrorResponse xmlns="${xmlns}"><Error><Type>${type}</Type><Code>${fault.code}</Code><Message>${escapeXml(fault.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  };
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function optionalList(value: unknown): unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}

function requireString(input: Dict, field: string): string {
  const value = optionalString(input[field]);
  if (value === undefined) {
    const camel = field.charAt(0).toLowerCase() + field.slice(1);
    throw new Elbv2Fault(
      'ValidationError',
      `1 validation error detected: Value null at '${camel}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

function isDefined<T>(value: T | undefined): value is T {
  return value !== undefined;
}
