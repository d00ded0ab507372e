import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  type DescribeTaskDefinitionCommandOutput,
  type ECSClient,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  type Service,
  type TaskDefinition,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  type Action,
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  ModifyRuleCommand,
  type TargetGroupAttribute,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  GreenProvisionFailed,
  IdleColourStillDraining,
  InvalidStepInput,
  TargetStateConflict,
} from '../core/errors.ts';
import type { TrafficTarget } from '../core/ports.ts';
import type { Colours, ReleaseSpec, TestEvidence } from '../core/records.ts';
import type { AlbListenerTargetConfig, AlbSlot, ServiceConfig } from '../core/service-config.ts';
import { canScaleDownIdle, minimumIdleSecondsOf, stickinessOf } from './alb/drain.ts';
import {
  findForward,
  isSameSplit,
  type ObservedForward,
  receivingTargets,
  shareOf,
  targetGroupName,
  type WeightedTargetGroup,
  weightsForGreenPercent,
  withForwardTo,
} from './alb/forward.ts';
import { assessGreenHealth } from './alb/green-health.ts';
import { runSmokeCheck, smokeChecksOf } from './alb/smoke.ts';
import {
  greenTaskDefinitionInput,
  isReleaseRevision,
  parseTaskDefinitionArn,
} from './alb/task-definition.ts';

export {
  canScaleDownIdle,
  type IdleScaleDownDecision,
  idleColourReleaseTime,
} from './alb/drain.ts';

/** ALB colours are slot names: which of the two target group + ECS service pairs is which. */
export type SlotName = 'a' | 'b';

export interface AlbListenerTargetOptions {
  elbv2: ElasticLoadBalancingV2Client;
  ecs: ECSClient;
  /**
   * An ECS client that sends each request once (`maxAttempts: 1`), for RegisterTaskDefinition.
   * That call has no client token: the SDK retrying it after a lost response would register a
   * second revision, where the step's own retry finds the first by its release tag.
   */
  ecsSingleAttempt: ECSClient;
  /** Smoke tests' HTTP client. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Pause between polls and smoke tries; injected so tests do not wait. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Milliseconds on a clock that only goes forward: the health deadline and test durations.
   * (The drain check takes the step's `now` as a parameter: it compares with ledger times.)
   * @default performance.now
   */
  now?: () => number;
}

/** Where a forward lives: a listener's default actions or one rule's actions. */
type ForwardSite = { kind: 'listener'; arn: string } | { kind: 'rule'; arn: string };

// Pauses between looks at green's health, the last repeating. On AWS tasks take tens of
// seconds to pass their checks; the first pauses are short so that a green that is quick to
// start is not kept waiting a whole interval.
const healthPollIntervalsMs = [500, 1_000, 2_000, 5_000] as const;
// Revisions newer than blue's that are looked at for this release's own, newest first. A retry
// comes right after the first attempt, so its revision is the newest; older ones are releases
// that failed before this one.
const reusableRevisionsChecked = 5;

/**
 * Blue-green behind an Application Load Balancer: two slots, each a target group filled by its
 * own ECS service. The slot the production listener (or rule) sends traffic to is blue; the
 * other becomes green with the release's image, is smoke-tested through a test listener that
 * forwards to green alone, then takes traffic by weighted forward. Every operation reads the
 * listener first and writes only what differs. ELBv2 has no revision ids to guard a write
 * with, so a read-then-write race with someone editing the listener by hand is not caught;
 * what we see that is not ours (a third target group, a split we did not make) is refused.
 */
export class AlbListenerTarget implements TrafficTarget {
  readonly #elbv2: ElasticLoadBalancingV2Client;
  readonly #ecs: ECSClient;
  readonly #ecsSingleAttempt: ECSClient;
  readonly #fetch: typeof fetch;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #now: () => number;

  constructor(options: AlbListenerTargetOptions) {
    this.#elbv2 = options.elbv2;
    this.#ecs = options.ecs;
    this.#ecsSingleAttempt = options.ecsSingleAttempt;
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#sleep =
      options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()));
    this.#now = options.now ?? (() => performance.now());
  }

  async provision(release: ReleaseSpec, service: ServiceConfig): Promise<Colours> {
    const target = albTargetOf(service);
    if (!('imageUri' in release.artifact)) {
      throw new GreenProvisionFailed(
        `Service ${service.name} runs on ECS and takes an image artifact ({ "imageUri": "<repository>:<tag>" }), not an S3 object`,
        { service: service.name, artifact: release.artifact },
      );
    }
    const imageUri = release.artifact.imageUri;
    const colours = await this.#readColours(target);
    const blue = target.slots[colours.blue];
    const green = target.slots[colours.green];

    // The test listener goes to green first: it is what makes ALB health-check green's target
    // group even when the production forward does not list it yet.
    await this.#forwardTestTo(target, green.targetGroupArn);

    const blueService = await this.#describeService(blue, GreenProvisionFailed);
    const desiredCount = blueService.desiredCount ?? 0;
    if (desiredCount < 1) {
      throw new GreenProvisionFailed(
        `Blue (slot ${colours.blue}, ECS service ${blue.ecs.service}) runs no tasks; green is sized like blue, so scale blue up first`,
        { slot: colours.blue, cluster: blue.ecs.cluster, service: blue.ecs.service },
      );
    }
    const taskDefinitionArn = await this.#greenTaskDefinition(
      release.releaseId,
      target,
      imageUri,
      blueService,
    );
    await this.#deployGreen(green, taskDefinitionArn, desiredCount);
    await this.#waitUntilHealthy(target, colours.green, taskDefinitionArn, desiredCount);
    return colours;
  }

  async test(
    _release: ReleaseSpec,
    service: ServiceConfig,
    colours: Colours,
  ): Promise<TestEvidence[]> {
    const target = albTargetOf(service);
    const slots = slotsOf(target, colours);
    await this.#forwardTestTo(target, slots.green.targetGroupArn);
    const runtime = { fetch: this.#fetch, sleep: this.#sleep, now: this.#now };
    const evidence: TestEvidence[] = [];
    for (const check of smokeChecksOf(target.smoke)) {
      evidence.push(await runSmokeCheck(target.testUrl, check, target.smoke, runtime));
    }
    return evidence;
  }

  async setGreenPercent(service: ServiceConfig, colours: Colours, percent: number): Promise<void> {
    return this.#split(service, colours, weightsForGreenPercent(percent));
  }

  async finalize(service: ServiceConfig, colours: Colours): Promise<void> {
    return this.#split(service, colours, weightsForGreenPercent(100));
  }

  async rollback(service: ServiceConfig, colours: Colours): Promise<void> {
    return this.#split(service, colours, weightsForGreenPercent(0));
  }

  async warnings(service: ServiceConfig, colours: Colours): Promise<string[]> {
    const target = albTargetOf(service);
    const slots = slotsOf(target, colours);
    const site = productionSite(target);
    const forward = await this.#readForward(site);
    const warnings: string[] = [];
    const group = forward.action.ForwardConfig?.TargetGroupStickinessConfig;
    if (group?.Enabled === true) {
      warnings.push(
        `Target group stickiness (${group.DurationSeconds ?? 0}s) on the production ${site.kind}: a client stays on the colour it first reached for up to ${group.DurationSeconds ?? 0}s after each weight change, so neither finalize nor a rollback moves it sooner`,
      );
    }
    const colourNotes = {
      blue: 'its sessions will move to green at finalize (some earlier, as weights shift)',
      green: 'sessions that reach green will move back to blue if the release rolls back',
    } as const;
    for (const colour of ['blue', 'green'] as const) {
      const slot = slots[colour];
      const stickiness = stickinessOf(await this.#targetGroupAttributes(slot.targetGroupArn));
      if (stickiness === undefined) continue;
      const cookie = stickiness.cookieName === undefined ? '' : ` ${stickiness.cookieName}`;
      warnings.push(
        `Sticky sessions (${stickiness.type}${cookie} for ${stickiness.durationSeconds}s) on ${targetGroupName(slot.targetGroupArn)} (${colour}): ${colourNotes[colour]}`,
      );
    }
    return warnings;
  }

  /**
   * How long `slot` must have been without traffic before its tasks may stop: the longest of
   * its target group's deregistration delay, its stickiness duration and the production
   * forward's group stickiness duration, whichever are on.
   */
  async minimumIdleSeconds(service: ServiceConfig, slot: SlotName): Promise<number> {
    const target = albTargetOf(service);
    const forward = await this.#readForward(productionSite(target));
    return this.#minimumIdleSeconds(target, slot, forward);
  }

  /**
   * Scales the idle slot's ECS service to zero, once it is safe: it takes no production traffic
   * and `minimumIdleSeconds` have passed between `lastTrafficAt` (when its weight went to 0)
   * and `now`.
   * Throws IdleColourStillDraining before then, TargetStateConflict if it still has traffic.
   */
  async scaleDownIdle(
    service: ServiceConfig,
    slot: SlotName,
    lastTrafficAt: Date,
    now: Date,
  ): Promise<void> {
    const target = albTargetOf(service);
    const idle = slotOf(target, slot);
    const forward = await this.#readForward(productionSite(target));
    const share = shareOf(forward.targets, idle.targetGroupArn);
    if (!(share === 0 || Number.isNaN(share))) {
      throw new TargetStateConflict(
        `Slot ${slot} (${targetGroupName(idle.targetGroupArn)}) still takes ${round(share * 100)}% of production traffic; it is not idle`,
        { slot, targetGroupArn: idle.targetGroupArn },
      );
    }
    const minimumIdleSeconds = await this.#minimumIdleSeconds(target, slot, forward);
    const decision = canScaleDownIdle(lastTrafficAt, minimumIdleSeconds, now);
    if (!decision.allowed) {
      throw new IdleColourStillDraining(`Slot ${slot}: ${decision.reason}`, {
        slot,
        notBefore: decision.notBefore.toISOString(),
        minimumIdleSeconds,
      });
    }
    const ecsService = await this.#describeService(idle, TargetStateConflict);
    if (ecsService.desiredCount === 0) return;
    await this.#ecs.send(
      new UpdateServiceCommand({
        cluster: idle.ecs.cluster,
        service: idle.ecs.service,
        desiredCount: 0,
      }),
    );
  }

  async #readColours(
    target: AlbListenerTargetConfig,
  ): Promise<{ blue: SlotName; green: SlotName }> {
    const site = productionSite(target);
    const forward = await this.#readForward(site);
    assertOnlySlots(target, site, forward);
    const receiving = receivingTargets(forward.targets);
    const [only] = receiving;
    if (receiving.length > 1) {
      throw new TargetStateConflict(
        `Production ${site.kind} ${site.arn} splits traffic between ${receiving.map(targetGroupName).join(' and ')}: a previous release left a split; finish or roll it back first`,
        { [`${site.kind}Arn`]: site.arn, targets: forward.targets },
      );
    }
    if (only === undefined) {
      throw new TargetStateConflict(
        `Production ${site.kind} ${site.arn} sends no traffic to either slot; point it at the slot that runs the service`,
        { [`${site.kind}Arn`]: site.arn, targets: forward.targets },
      );
    }
    return only === target.slots.a.targetGroupArn
      ? { blue: 'a', green: 'b' }
      : { blue: 'b', green: 'a' };
  }

  async #split(
    service: ServiceConfig,
    colours: Colours,
    weights: { blue: number; green: number },
  ): Promise<void> {
    const target = albTargetOf(service);
    const slots = slotsOf(target, colours);
    const site = productionSite(target);
    const forward = await this.#readForward(site);
    assertOnlySlots(target, site, forward);
    const desired: WeightedTargetGroup[] = [
      { targetGroupArn: slots.blue.targetGroupArn, weight: weights.blue },
      { targetGroupArn: slots.green.targetGroupArn, weight: weights.green },
    ];
    if (isSameSplit(forward.targets, desired)) return;
    await this.#writeActions(site, withForwardTo(forward, desired));
  }

  async #forwardTestTo(target: AlbListenerTargetConfig, greenTargetGroup: string): Promise<void> {
    const site = testSite(target);
    const forward = await this.#readForward(site);
    const receiving = receivingTargets(forward.targets);
    if (receiving.length === 1 && receiving[0] === greenTargetGroup) return;
    await this.#writeActions(
      site,
      withForwardTo(forward, [{ targetGroupArn: greenTargetGroup, weight: 1 }]),
    );
  }

  async #readForward(site: ForwardSite): Promise<ObservedForward> {
    const actions = await this.#readActions(site);
    const forward = findForward(actions);
    if (forward === undefined) {
      throw new TargetStateConflict(
        `${capitalize(site.kind)} ${site.arn} has no forward action (it has: ${actions.map((a) => a.Type).join(', ') || 'none'}); greenlight needs one that forwards to the slots' target groups`,
        { [`${site.kind}Arn`]: site.arn },
      );
    }
    return forward;
  }

  async #readActions(site: ForwardSite): Promise<Action[]> {
    if (site.kind === 'rule') {
      const { Rules } = await this.#elbv2.send(new DescribeRulesCommand({ RuleArns: [site.arn] }));
      const rule = Rules?.[0];
      if (rule === undefined) throw new TargetStateConflict(`Listener rule ${site.arn} not found`);
      return rule.Actions ?? [];
    }
    const { Listeners } = await this.#elbv2.send(
      new DescribeListenersCommand({ ListenerArns: [site.arn] }),
    );
    const listener = Listeners?.[0];
    if (listener === undefined) throw new TargetStateConflict(`Listener ${site.arn} not found`);
    return listener.DefaultActions ?? [];
  }

  async #writeActions(site: ForwardSite, actions: Action[]): Promise<void> {
    // Only the actions are sent: ModifyListener leaves every setting it is not given as it is.
    if (site.kind === 'rule') {
      await this.#elbv2.send(new ModifyRuleCommand({ RuleArn: site.arn, Actions: actions }));
    } else {
      await this.#elbv2.send(
        new ModifyListenerCommand({ ListenerArn: site.arn, DefaultActions: actions }),
      );
    }
  }

  async #targetGroupAttributes(targetGroupArn: string): Promise<TargetGroupAttribute[]> {
    const { Attributes } = await this.#elbv2.send(
      new DescribeTargetGroupAttributesCommand({ TargetGroupArn: targetGroupArn }),
    );
    return Attributes ?? [];
  }

  async #minimumIdleSeconds(
    target: AlbListenerTargetConfig,
    slot: SlotName,
    forward: ObservedForward,
  ): Promise<number> {
    const attributes = await this.#targetGroupAttributes(slotOf(target, slot).targetGroupArn);
    return minimumIdleSecondsOf(
      attributes,
      forward.action.ForwardConfig?.TargetGroupStickinessConfig,
    );
  }

  async #describeService(
    slot: AlbSlot,
    Failure: typeof GreenProvisionFailed | typeof TargetStateConflict,
  ): Promise<Service> {
    const { services, failures } = await this.#ecs.send(
      new DescribeServicesCommand({ cluster: slot.ecs.cluster, services: [slot.ecs.service] }),
    );
    const found = services?.[0];
    if (found === undefined || found.status !== 'ACTIVE') {
      const why = failures?.[0]?.reason ?? found?.status ?? 'MISSING';
      throw new Failure(
        `ECS service ${slot.ecs.service} in cluster ${slot.ecs.cluster} is not active (${why})`,
        { cluster: slot.ecs.cluster, service: slot.ecs.service },
      );
    }
    return found;
  }

  async #describeTaskDefinition(arn: string): Promise<DescribeTaskDefinitionCommandOutput> {
    const described = await this.#ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: arn, include: ['TAGS'] }),
    );
    if (described.taskDefinition === undefined) {
      throw new GreenProvisionFailed(`Task definition ${arn} not found`, { taskDefinition: arn });
    }
    return described;
  }

  /**
   * The release's revision: the one it registered on an earlier try (found by its tag), else a
   * new one made from blue's. Never registers twice for one release.
   */
  async #greenTaskDefinition(
    releaseId: string,
    target: AlbListenerTargetConfig,
    imageUri: string,
    blueService: Service,
  ): Promise<string> {
    const blueArn = blueService.taskDefinition;
    if (blueArn === undefined) {
      throw new GreenProvisionFailed(
        `Blue's ECS service ${blueService.serviceName ?? ''} has no task definition`,
      );
    }
    const blue = await this.#describeTaskDefinition(blueArn);
    const blueDefinition = blue.taskDefinition ?? {};
    assertRegistrable(target, blueDefinition, blueArn);
    const release = { containerName: target.containerName, imageUri, releaseId };
    for (const arn of await this.#newerRevisions(blueArn)) {
      const candidate = await this.#describeTaskDefinition(arn);
      if (isReleaseRevision(candidate.taskDefinition ?? {}, candidate.tags ?? [], release)) {
        return arn;
      }
    }
    const registered = await this.#ecsSingleAttempt.send(
      new RegisterTaskDefinitionCommand(
        greenTaskDefinitionInput(blueDefinition, blue.tags ?? [], release),
      ),
    );
    const arn = registered.taskDefinition?.taskDefinitionArn;
    if (arn === undefined) {
      throw new GreenProvisionFailed(`RegisterTaskDefinition for ${releaseId} returned no ARN`);
    }
    return arn;
  }

  /** Revisions of blue's family newer than blue's, newest first, at most a few. */
  async #newerRevisions(blueArn: string): Promise<string[]> {
    const blue = parseTaskDefinitionArn(blueArn);
    if (blue === undefined) return [];
    const listed = await this.#ecs.send(
      new ListTaskDefinitionsCommand({
        familyPrefix: blue.family,
        sort: 'DESC',
        maxResults: reusableRevisionsChecked,
      }),
    );
    // familyPrefix is documented as the full family name; the family check guards against
    // an implementation that treats it as a prefix.
    return (listed.taskDefinitionArns ?? []).filter((arn) => {
      const parsed = parseTaskDefinitionArn(arn);
      return parsed?.family === blue.family && parsed.revision > blue.revision;
    });
  }

  async #deployGreen(slot: AlbSlot, taskDefinitionArn: string, desiredCount: number) {
    const green = await this.#describeService(slot, GreenProvisionFailed);
    if (green.taskDefinition === taskDefinitionArn && green.desiredCount === desiredCount) return;
    await this.#ecs.send(
      new UpdateServiceCommand({
        cluster: slot.ecs.cluster,
        service: slot.ecs.service,
        taskDefinition: taskDefinitionArn,
        desiredCount,
      }),
    );
  }

  async #waitUntilHealthy(
    target: AlbListenerTargetConfig,
    slot: SlotName,
    taskDefinitionArn: string,
    desiredCount: number,
  ): Promise<void> {
    const green = slotOf(target, slot);
    const deadlineMs = target.healthyDeadlineSeconds * 1_000;
    const started = this.#now();
    for (let poll = 0; ; poll += 1) {
      const service = await this.#describeService(green, GreenProvisionFailed);
      const { TargetHealthDescriptions } = await this.#elbv2.send(
        new DescribeTargetHealthCommand({ TargetGroupArn: green.targetGroupArn }),
      );
      const health = assessGreenHealth({
        taskDefinitionArn,
        desiredCount,
        service,
        targets: TargetHealthDescriptions ?? [],
      });
      if (health.state === 'ready') return;
      const details = {
        slot,
        targetGroupArn: green.targetGroupArn,
        taskDefinitionArn,
        unhealthy: health.unhealthy,
      };
      const where = `Green (slot ${slot}, ${targetGroupName(green.targetGroupArn)})`;
      if (health.state === 'failed') {
        throw new GreenProvisionFailed(`${where}: ${health.summary}`, details);
      }
      if (this.#now() - started >= deadlineMs) {
        throw new GreenProvisionFailed(
          `${where} was not healthy within ${target.healthyDeadlineSeconds}s: ${health.summary}`,
          details,
        );
      }
      await this.#sleep(
        healthPollIntervalsMs[Math.min(poll, healthPollIntervalsMs.length - 1)] ?? 5_000,
      );
    }
  }
}

function albTargetOf(service: ServiceConfig): AlbListenerTargetConfig {
  if (service.target.kind !== 'alb-listener') {
    throw new TypeError(
      `Service ${service.name} has a ${(service.target as { kind: string }).kind} target, not alb-listener`,
    );
  }
  return service.target;
}

function productionSite(target: AlbListenerTargetConfig): ForwardSite {
  return target.ruleArn === undefined
    ? { kind: 'listener', arn: target.listenerArn }
    : { kind: 'rule', arn: target.ruleArn };
}

function testSite(target: AlbListenerTargetConfig): ForwardSite {
  return target.testRuleArn === undefined
    ? { kind: 'listener', arn: target.testListenerArn }
    : { kind: 'rule', arn: target.testRuleArn };
}

function isSlotName(value: string): value is SlotName {
  return value === 'a' || value === 'b';
}

function slotOf(target: AlbListenerTargetConfig, slot: string): AlbSlot {
  if (!isSlotName(slot)) {
    throw new InvalidStepInput(
      `ALB colours are slot names "a" or "b", got ${JSON.stringify(slot)}`,
    );
  }
  return target.slots[slot];
}

function slotsOf(
  target: AlbListenerTargetConfig,
  colours: Colours,
): { blue: AlbSlot; green: AlbSlot } {
  if (colours.blue === colours.green) {
    throw new InvalidStepInput(`Blue and green are both slot ${colours.blue}`, { colours });
  }
  return { blue: slotOf(target, colours.blue), green: slotOf(target, colours.green) };
}

/** Refuses a forward that reaches anything but the two slots: someone else changed it. */
function assertOnlySlots(
  target: AlbListenerTargetConfig,
  site: ForwardSite,
  forward: ObservedForward,
): void {
  const ours = new Set([target.slots.a.targetGroupArn, target.slots.b.targetGroupArn]);
  const strangers = forward.targets.filter((t) => !ours.has(t.targetGroupArn));
  if (strangers.length > 0) {
    throw new TargetStateConflict(
      `Production ${site.kind} ${site.arn} forwards to ${strangers.map((t) => targetGroupName(t.targetGroupArn)).join(', ')}, which is neither slot's target group; someone else changed it`,
      { [`${site.kind}Arn`]: site.arn, targets: forward.targets },
    );
  }
}

/**
 * Green's revision may only be registered where the stack allows it: in the registered family,
 * passing only the registered roles. Refused here, with the fix, rather than by IAM.
 */
function assertRegistrable(
  target: AlbListenerTargetConfig,
  blue: TaskDefinition,
  blueArn: string,
): void {
  const family = blue.family ?? parseTaskDefinitionArn(blueArn)?.family;
  if (family !== target.taskDefinitionFamily) {
    throw new GreenProvisionFailed(
      `Blue runs task definition ${blueArn} of family ${family ?? '?'}, but the service is registered with "taskDefinitionFamily": "${target.taskDefinitionFamily}"; register the family blue runs`,
      { taskDefinition: blueArn, taskDefinitionFamily: target.taskDefinitionFamily },
    );
  }
  const roles = [blue.taskRoleArn, blue.executionRoleArn].filter(
    (role): role is string => role !== undefined && role !== '',
  );
  const unlisted = roles.filter((role) => !target.passRoles.includes(role));
  if (unlisted.length > 0) {
    throw new GreenProvisionFailed(
      `Blue's task definition ${blueArn} names ${unlisted.join(' and ')}, which green's revision must pass on; add ${unlisted.length === 1 ? 'it' : 'them'} to the service's "passRoles" so that greenlight may pass ${unlisted.length === 1 ? 'it' : 'them'} (iam:PassRole)`,
      { taskDefinition: blueArn, roles: unlisted },
    );
  }
}

function capitalize(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
