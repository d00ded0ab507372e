import { createHash } from 'node:crypto';
import { AwsFault } from '../aws-protocol/fault.ts';
import { LostResponses, lostResponseMessage } from '../aws-protocol/lost-responses.ts';
import { parseQuery } from '../aws-protocol/query.ts';
import type { LocalRequest, LocalResponse, LocalService } from '../http.ts';
import {
  checkName,
  elbv2Fault,
  optionalList,
  optionalString,
  paginate,
  readTargets,
  requireString,
  routingActionTypes,
  validateActions,
} from './rules.ts';
import {
  defaultHealthCheck,
  forwardAction,
  forwardTargets,
  isDefined,
  reasons,
  ruleMatches,
  setState,
  targetKey,
} from './state.ts';
import {
  type CreateListenerInput,
  type CreateLoadBalancerInput,
  type CreateRuleInput,
  type CreateTargetGroupInput,
  type Dict,
  type Elbv2Change,
  Elbv2FaultableOperation,
  type HealthCheckJob,
  type HealthCheckResult,
  type ListenerRecord,
  type LoadBalancerRecord,
  type LocalElbv2Options,
  type RouteAction,
  type RouteRequest,
  type RuleRecord,
  type TargetGroupRecord,
  type TargetHealthSnapshot,
  TargetHealthState,
  type TargetLease,
  type TargetRecord,
  type TargetRef,
} from './types.ts';
import { apiVersion, toRule, xmlError, xmlResult } from './wire.ts';

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
 *
 * Its seams: wire.ts (the awsQuery codec), rules.ts (what ALB's API refuses), state.ts (health
 * states, forward actions and rule matching); this class holds the model and ties them.
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
  readonly #lost = new LostResponses(Elbv2FaultableOperation);
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
      throw elbv2Fault('DuplicateLoadBalancerName', 'A load balancer with the same name exists');
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
      throw elbv2Fault('DuplicateTargetGroupName', 'A target group with the same name exists');
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
        throw elbv2Fault('DuplicateListener', 'A listener already exists on this port');
      }
    }
    const actions = validateActions(
      this.#targetGroups,
      lb.arn,
      [forwardAction(input.forward)],
      'defaultActions',
    );
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
      throw elbv2Fault('PriorityInUse', `Priority '${input.priority}' is currently in use`);
    }
    const conditions: Dict[] = [];
    if (input.pathPatterns) {
      conditions.push({ Field: 'path-pattern', PathPatternConfig: { Values: input.pathPatterns } });
    }
    if (input.hostHeaders) {
      conditions.push({ Field: 'host-header', HostHeaderConfig: { Values: input.hostHeaders } });
    }
    const actions = validateActions(
      this.#targetGroups,
      lb.arn,
      [forwardAction(input.forward)],
      'actions',
    );
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
    this.#lost.lose(operation, times);
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
      if (this.#lost.take(action)) {
        return xmlError(elbv2Fault('InternalFailure', lostResponseMessage, 500), requestId);
      }
      return xmlResult(action, result, requestId);
    } catch (error) {
      if (error instanceof AwsFault) return xmlError(error, requestId);
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
        throw elbv2Fault(
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
        throw elbv2Fault('LoadBalancerNotFound', 'One or more load balancers not found');
      }
    } else if (names) {
      found = found.filter((lb) => names.includes(lb.name));
      if (found.length !== names.length) {
        throw elbv2Fault('LoadBalancerNotFound', 'One or more load balancers not found');
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
        throw elbv2Fault(
          'ValidationError',
          'Listener ARNs and a load balancer ARN cannot be specified at the same time',
        );
      }
      found = arns.map((arn) => this.#listeners.get(String(arn))).filter(isDefined);
      if (found.length !== arns.length) {
        throw elbv2Fault('ListenerNotFound', 'One or more listeners not found');
      }
    } else if (lbArn) {
      this.#requireLoadBalancer(lbArn);
      found = [...this.#listeners.values()].filter((l) => l.loadBalancerArn === lbArn);
    } else {
      throw elbv2Fault(
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
        throw elbv2Fault('RuleNotFound', 'One or more rules not found');
      }
    } else if (listenerArn) {
      const listener = this.#requireListener(listenerArn);
      found = [...listener.rules, listener.defaultRule];
    } else {
      throw elbv2Fault('ValidationError', 'You must specify either listener or rule ARNs');
    }
    return paginate(found, input, 'Rules', (rule) => toRule(rule));
  }

  #modifyListener(input: Dict): Dict {
    const listener = this.#requireListener(requireString(input, 'ListenerArn'));
    // Validate everything before changing anything: a rejected call leaves the listener as it was.
    const port = input.Port === undefined ? undefined : Number(input.Port);
    if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) {
      throw elbv2Fault(
        'ValidationError',
        `1 validation error detected: Value '${String(input.Port)}' at 'port' failed to satisfy constraint: Member must have value less than or equal to 65535`,
      );
    }
    const protocol = optionalString(input.Protocol);
    if (protocol !== undefined && protocol !== 'HTTP' && protocol !== 'HTTPS') {
      throw elbv2Fault(
        'UnsupportedProtocol',
        `Protocol '${protocol}' is not supported by an Application Load Balancer`,
      );
    }
    if (port !== undefined && port !== listener.port) {
      for (const other of this.#listeners.values()) {
        if (other.loadBalancerArn === listener.loadBalancerArn && other.port === port) {
          throw elbv2Fault('DuplicateListener', 'A listener already exists on this port');
        }
      }
    }
    const certificates = optionalList(input.Certificates);
    if (
      (protocol ?? listener.protocol) === 'HTTPS' &&
      (certificates ?? listener.certificates).length === 0
    ) {
      throw elbv2Fault(
        'CertificateNotFound',
        'A certificate must be specified for HTTPS listeners',
      );
    }
    const rawActions = optionalList(input.DefaultActions);
    const actions = rawActions
      ? validateActions(this.#targetGroups, listener.loadBalancerArn, rawActions, 'defaultActions')
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
      throw elbv2Fault(
        'OperationNotPermitted',
        'Conditions cannot be specified for the default rule',
      );
    }
    const actions = rawActions
      ? validateActions(this.#targetGroups, listener.loadBalancerArn, rawActions, 'actions')
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
      throw elbv2Fault(
        'ValidationError',
        'Only one of load balancer ARN, target group ARNs or names can be specified',
      );
    }
    let found = [...this.#targetGroups.values()];
    if (arns) {
      found = arns.map((arn) => this.#targetGroups.get(String(arn))).filter(isDefined);
      if (found.length !== arns.length) {
        throw elbv2Fault('TargetGroupNotFound', 'One or more target groups not found');
      }
    } else if (names) {
      found = found.filter((tg) => names.includes(tg.name));
      if (found.length !== names.length) {
        throw elbv2Fault('TargetGroupNotFound', 'One or more target groups not found');
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
      throw elbv2Fault(
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
    throw elbv2Fault('RuleNotFound', 'One or more rules not found');
  }

  #requireLoadBalancer(arn: string): LoadBalancerRecord {
    const lb = this.#loadBalancers.get(arn);
    if (!lb) throw elbv2Fault('LoadBalancerNotFound', 'One or more load balancers not found');
    return lb;
  }

  #requireListener(arn: string): ListenerRecord {
    const listener = this.#listeners.get(arn);
    if (!listener) throw elbv2Fault('ListenerNotFound', 'One or more listeners not found');
    return listener;
  }

  #requireTargetGroup(arn: string): TargetGroupRecord {
    const tg = this.#targetGroups.get(arn);
    if (!tg) throw elbv2Fault('TargetGroupNotFound', 'One or more target groups not found');
    return tg;
  }

  #emit(change: Elbv2Change): void {
    for (const subscriber of [...this.#subscribers]) subscriber(change);
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
