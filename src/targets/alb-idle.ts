import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  type ECSClient,
} from '@aws-sdk/client-ecs';
import {
  type Action,
  DescribeListenersCommand,
  DescribeRulesCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { TargetStateConflict } from '../core/errors.ts';
import { estimateFargateCost } from '../core/idle-cost.ts';
import type { IdleColours } from '../core/ports.ts';
import type { IdleCost } from '../core/records.ts';
import type { AlbListenerTargetConfig, AlbSlot, ServiceConfig } from '../core/service-config.ts';
import { findForward, shareOf } from './alb/forward.ts';
import type { AlbSlotScaler, SlotName } from './alb-listener.ts';

/**
 * The idle colour of an ALB service is a slot: a target group and the ECS service that fills
 * it. It costs what its running Fargate tasks cost; tearing it down scales that ECS service to
 * zero through the listener target's drain-safe scale-down, which refuses while the slot
 * still takes traffic or may still serve draining and sticky requests.
 */
export class AlbIdleColours implements IdleColours {
  readonly #elbv2: ElasticLoadBalancingV2Client;
  readonly #ecs: ECSClient;
  readonly #listener: Pick<AlbSlotScaler, 'scaleDownIdle'>;

  constructor(options: {
    elbv2: ElasticLoadBalancingV2Client;
    ecs: ECSClient;
    listener: Pick<AlbSlotScaler, 'scaleDownIdle'>;
  }) {
    this.#elbv2 = options.elbv2;
    this.#ecs = options.ecs;
    this.#listener = options.listener;
  }

  async takesTraffic(service: ServiceConfig, slot: string): Promise<boolean> {
    const target = albTargetOf(service);
    const forward = findForward(await this.#productionActions(target));
    if (forward === undefined) return false;
    const share = shareOf(forward.targets, slotOf(target, slot).targetGroupArn);
    return share > 0;
  }

  async cost(service: ServiceConfig, slot: string): Promise<IdleCost> {
    const found = await this.#describeService(slotOf(albTargetOf(service), slot));
    const tasks = found?.desiredCount ?? 0;
    if (found?.taskDefinition === undefined || tasks === 0) {
      return estimateFargateCost({ tasks: 0 });
    }
    const { taskDefinition } = await this.#ecs.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: found.taskDefinition }),
    );
    return estimateFargateCost({
      tasks,
      cpu: taskDefinition?.cpu,
      memory: taskDefinition?.memory,
      architecture: taskDefinition?.runtimePlatform?.cpuArchitecture,
    });
  }

  async tearDown(
    service: ServiceConfig,
    slot: string,
    options: { idleSince: Date; now: Date; protectedColours: ReadonlySet<string> },
  ): Promise<string[]> {
    const idle = slotOf(albTargetOf(service), slot);
    if (options.protectedColours.has(slot)) return [];
    const before = await this.#describeService(idle);
    if ((before?.desiredCount ?? 0) === 0) return [];
    await this.#listener.scaleDownIdle(service, slot as SlotName, options.idleSince, options.now);
    return [
      `Scaled ECS service ${idle.ecs.service} (slot ${slot}) from ${before?.desiredCount} tasks to 0`,
    ];
  }

  async #productionActions(target: AlbListenerTargetConfig): Promise<Action[]> {
    if (target.ruleArn !== undefined) {
      const { Rules } = await this.#elbv2.send(
        new DescribeRulesCommand({ RuleArns: [target.ruleArn] }),
      );
      return Rules?.[0]?.Actions ?? [];
    }
    const { Listeners } = await this.#elbv2.send(
      new DescribeListenersCommand({ ListenerArns: [target.listenerArn] }),
    );
    return Listeners?.[0]?.DefaultActions ?? [];
  }

  async #describeService(slot: AlbSlot) {
    const { services } = await this.#ecs.send(
      new DescribeServicesCommand({ cluster: slot.ecs.cluster, services: [slot.ecs.service] }),
    );
    const found = services?.[0];
    return found?.status === 'ACTIVE' ? found : undefined;
  }
}

function albTargetOf(service: ServiceConfig): AlbListenerTargetConfig {
  if (service.target.kind !== 'alb-listener') {
    throw new TypeError(
      `Service ${service.name} has a ${service.target.kind} target, not alb-listener`,
    );
  }
  return service.target;
}

function slotOf(target: AlbListenerTargetConfig, slot: string): AlbSlot {
  if (slot !== 'a' && slot !== 'b') {
    throw new TargetStateConflict(`ALB colours are slots "a" or "b", got ${JSON.stringify(slot)}`);
  }
  return target.slots[slot];
}
