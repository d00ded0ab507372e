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
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { InvalidStepInput, TargetStateConflict } from '../core/errors.ts';
import type { TrafficRouter } from '../core/ports.ts';
import type { Colours, ReleaseSpec, TestEvidence } from '../core/records.ts';
import type { AlbListenerTargetConfig, AlbSlot, ServiceConfig } from '../core/service-config.ts';
import { minimumIdleSecondsOf, stickinessOf } from './alb/drain.ts';
import {
  findForward,
  isSameSplit,
  type ObservedForward,
  receivingTargets,
  targetGroupName,
  type WeightedTargetGroup,
  weightsForGreenPercent,
  withForwardTo,
} from './alb/forward.ts';
import { runSmokeCheck, smokeChecksOf } from './alb/smoke.ts';

/** ALB colours are slot names: which of the two target group + ECS service pairs is which. */
export type SlotName = 'a' | 'b';

export interface AlbListenerRouterOptions {
  elbv2: ElasticLoadBalancingV2Client;
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
export type ForwardSite = { kind: 'listener'; arn: string } | { kind: 'rule'; arn: string };

/**
 * An ALB service once green exists: smoke-tests green through the test listener and moves
 * production traffic between the slots' target groups by weighted forward. ELBv2 only, so the
 * steps after provisioning load no ECS client; AlbListenerTarget adds what needs ECS
 * (provisioning green, scaling an idle slot down).
 *
 * Every operation reads the listener first and writes only what differs. ELBv2 has no
 * revision ids to guard a write with, so a read-then-write race with someone editing the
 * listener by hand is not caught; what we see that is not ours (a third target group, a split
 * we did not make) is refused.
 */
export class AlbListenerRouter implements TrafficRouter {
  readonly #elbv2: ElasticLoadBalancingV2Client;
  readonly #fetch: typeof fetch;
  protected readonly sleep: (ms: number) => Promise<void>;
  protected readonly now: () => number;

  constructor(options: AlbListenerRouterOptions) {
    this.#elbv2 = options.elbv2;
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.sleep =
      options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()));
    this.now = options.now ?? (() => performance.now());
  }

  test(release: ReleaseSpec, service: ServiceConfig, colours: Colours): Promise<TestEvidence[]> {
    return this.testColour(release, service, colours, 'green');
  }

  /**
   * The smoke checks through the test listener, forwarded to the colour's slot first. Testing
   * blue leaves the test listener on blue's slot; testing green (TestGreen, after a migration)
   * forwards it back, as the forward is reconciled to the slot asked for each time.
   */
  async testColour(
    _release: ReleaseSpec,
    service: ServiceConfig,
    colours: Colours,
    colour: keyof Colours,
  ): Promise<TestEvidence[]> {
    const target = albTargetOf(service);
    const slots = slotsOf(target, colours);
    await this.forwardTestTo(target, slots[colour].targetGroupArn);
    const runtime = { fetch: this.#fetch, sleep: this.sleep, now: this.now };
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
    const forward = await this.readForward(site);
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
    const forward = await this.readForward(productionSite(target));
    return this.minimumIdleSecondsOf(target, slot, forward);
  }

  protected async readColours(
    target: AlbListenerTargetConfig,
  ): Promise<{ blue: SlotName; green: SlotName }> {
    const site = productionSite(target);
    const forward = await this.readForward(site);
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
    const forward = await this.readForward(site);
    assertOnlySlots(target, site, forward);
    const desired: WeightedTargetGroup[] = [
      { targetGroupArn: slots.blue.targetGroupArn, weight: weights.blue },
      { targetGroupArn: slots.green.targetGroupArn, weight: weights.green },
    ];
    if (isSameSplit(forward.targets, desired)) return;
    await this.#writeActions(site, withForwardTo(forward, desired));
  }

  protected async forwardTestTo(
    target: AlbListenerTargetConfig,
    greenTargetGroup: string,
  ): Promise<void> {
    const site = testSite(target);
    const forward = await this.readForward(site);
    const receiving = receivingTargets(forward.targets);
    if (receiving.length === 1 && receiving[0] === greenTargetGroup) return;
    await this.#writeActions(
      site,
      withForwardTo(forward, [{ targetGroupArn: greenTargetGroup, weight: 1 }]),
    );
  }

  protected async readForward(site: ForwardSite): Promise<ObservedForward> {
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

  protected async minimumIdleSecondsOf(
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

  protected async targetHealth(targetGroupArn: string): Promise<TargetHealthDescription[]> {
    const { TargetHealthDescriptions } = await this.#elbv2.send(
      new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }),
    );
    return TargetHealthDescriptions ?? [];
  }
}

export function albTargetOf(service: ServiceConfig): AlbListenerTargetConfig {
  if (service.target.kind !== 'alb-listener') {
    throw new TypeError(
      `Service ${service.name} has a ${(service.target as { kind: string }).kind} target, not alb-listener`,
    );
  }
  return service.target;
}

export function productionSite(target: AlbListenerTargetConfig): ForwardSite {
  return target.ruleArn === undefined
    ? { kind: 'listener', arn: target.listenerArn }
    : { kind: 'rule', arn: target.ruleArn };
}

export function testSite(target: AlbListenerTargetConfig): ForwardSite {
  return target.testRuleArn === undefined
    ? { kind: 'listener', arn: target.testListenerArn }
    : { kind: 'rule', arn: target.testRuleArn };
}

function isSlotName(value: string): value is SlotName {
  return value === 'a' || value === 'b';
}

export function slotOf(target: AlbListenerTargetConfig, slot: string): AlbSlot {
  if (!isSlotName(slot)) {
    throw new InvalidStepInput(
      `ALB colours are slot names "a" or "b", got ${JSON.stringify(slot)}`,
    );
  }
  return target.slots[slot];
}

export function slotsOf(
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

function capitalize(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}
