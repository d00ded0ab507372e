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
  GreenProvisionFailed,
  IdleColourStillDraining,
  TargetStateConflict,
} from '../core/errors.ts';
import type { PlanCheck, TargetInspection, TargetInspector } from '../core/plan.ts';
import type { TrafficTarget } from '../core/ports.ts';
import type { Colours, ReleaseSpec } from '../core/records.ts';
import type { AlbListenerTargetConfig, AlbSlot, ServiceConfig } from '../core/service-config.ts';
import { canScaleDownIdle } from './alb/drain.ts';
import { shareOf, targetGroupName } from './alb/forward.ts';
import { assessGreenHealth } from './alb/green-health.ts';
import {
  greenTaskDefinitionInput,
  isReleaseRevision,
  parseTaskDefinitionArn,
} from './alb/task-definition.ts';
import {
  AlbListenerRouter,
  type AlbListenerRouterOptions,
  albTargetOf,
  productionSite,
  type SlotName,
  slotOf,
  testSite,
} from './alb-listener-router.ts';

export {
  canScaleDownIdle,
  type IdleScaleDownDecision,
  idleColourReleaseTime,
} from './alb/drain.ts';
export type { SlotName } from './alb-listener-router.ts';

export interface AlbSlotScalerOptions extends AlbListenerRouterOptions {
  ecs: ECSClient;
}

export interface AlbListenerTargetOptions extends AlbSlotScalerOptions {
  /**
   * An ECS client that sends each request once (`maxAttempts: 1`), for RegisterTaskDefinition.
   * That call has no client token: the SDK retrying it after a lost response would register a
   * second revision, where the step's own retry finds the first by its release tag.
   */
  ecsSingleAttempt: ECSClient;
}

/**
 * An ALB service's listener router plus the scale-down of its idle slot's ECS service: what an
 * idle colour's teardown needs, without the code that provisions green.
 */
export class AlbSlotScaler extends AlbListenerRouter {
  protected readonly ecs: ECSClient;

  constructor(options: AlbSlotScalerOptions) {
    super(options);
    this.ecs = options.ecs;
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
    const forward = await this.readForward(productionSite(target));
    const share = shareOf(forward.targets, idle.targetGroupArn);
    if (!(share === 0 || Number.isNaN(share))) {
      throw new TargetStateConflict(
        `Slot ${slot} (${targetGroupName(idle.targetGroupArn)}) still takes ${round(share * 100)}% of production traffic; it is not idle`,
        { slot, targetGroupArn: idle.targetGroupArn },
      );
    }
    const minimumIdleSeconds = await this.minimumIdleSecondsOf(target, slot, forward);
    const decision = canScaleDownIdle(lastTrafficAt, minimumIdleSeconds, now);
    if (!decision.allowed) {
      throw new IdleColourStillDraining(`Slot ${slot}: ${decision.reason}`, {
        slot,
        notBefore: decision.notBefore.toISOString(),
        minimumIdleSeconds,
      });
    }
    const ecsService = await this.describeService(idle, TargetStateConflict);
    if (ecsService.desiredCount === 0) return;
    await this.ecs.send(
      new UpdateServiceCommand({
        cluster: idle.ecs.cluster,
        service: idle.ecs.service,
        desiredCount: 0,
      }),
    );
  }

  protected async describeService(
    slot: AlbSlot,
    Failure: typeof GreenProvisionFailed | typeof TargetStateConflict,
  ): Promise<Service> {
    const { services, failures } = await this.ecs.send(
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
}

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
 * forwards to green alone, then takes traffic by weighted forward (AlbListenerRouter).
 */
export class AlbListenerTarget extends AlbSlotScaler implements TrafficTarget, TargetInspector {
  readonly #ecsSingleAttempt: ECSClient;

  constructor(options: AlbListenerTargetOptions) {
    super(options);
    this.#ecsSingleAttempt = options.ecsSingleAttempt;
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
    const colours = await this.readColours(target);
    const blue = target.slots[colours.blue];
    const green = target.slots[colours.green];

    // The test listener goes to green first: it is what makes ALB health-check green's target
    // group even when the production forward does not list it yet.
    await this.forwardTestTo(target, green.targetGroupArn);

    const blueService = await this.describeService(blue, GreenProvisionFailed);
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

  /**
   * What provision would find, read only: the production forward reaches one slot and nothing
   * else, the test listener forwards, both target groups and both ECS services exist, and blue
   * runs the registered task family with the container and roles a green revision needs.
   */
  async inspect(service: ServiceConfig): Promise<TargetInspection> {
    const target = albTargetOf(service);
    const checks: PlanCheck[] = [];
    const attempt = async <T>(check: string, read: () => Promise<T>, ok: (value: T) => string) => {
      try {
        const value = await read();
        checks.push({ check, ok: true, detail: ok(value) });
        return value;
      } catch (error) {
        checks.push({ check, ok: false, detail: describeError(error) });
        return undefined;
      }
    };
    const production = productionSite(target);
    const colours = await attempt(
      `production ${production.kind}`,
      () => this.readColours(target),
      (c) => `forwards to slot ${c.blue} (blue); green would be slot ${c.green}`,
    );
    const test = testSite(target);
    await attempt(
      `test ${test.kind}`,
      () => this.readForward(test),
      () => 'has a forward action',
    );
    for (const slot of ['a', 'b'] as const) {
      const { targetGroupArn } = target.slots[slot];
      await attempt(
        `target group ${slot}`,
        () => this.targetHealth(targetGroupArn),
        (targets) =>
          `${targetGroupName(targetGroupArn)}, ${targets.length} registered target${targets.length === 1 ? '' : 's'}`,
      );
    }
    const services: Partial<Record<SlotName, Service | undefined>> = {};
    for (const slot of ['a', 'b'] as const) {
      services[slot] = await attempt(
        `ECS service ${slot}`,
        () => this.describeService(target.slots[slot], TargetStateConflict),
        (s) => `${s.serviceName ?? target.slots[slot].ecs.service}: ${s.desiredCount ?? 0} desired`,
      );
    }
    const blueService = colours && services[colours.blue];
    const blueArn = blueService?.taskDefinition;
    if (blueArn !== undefined) {
      await attempt(
        'task family',
        async () => {
          const blue = (await this.#describeTaskDefinition(blueArn)).taskDefinition ?? {};
          assertRegistrable(target, blue, blueArn);
          if (!(blue.containerDefinitions ?? []).some((c) => c.name === target.containerName)) {
            throw new GreenProvisionFailed(
              `Blue's task definition ${blueArn} has no container "${target.containerName}" (the service's "containerName")`,
            );
          }
        },
        () =>
          `blue runs ${blueArn.slice(blueArn.lastIndexOf('/') + 1)} with container ${target.containerName}`,
      );
    } else if (blueService !== undefined) {
      checks.push({
        check: 'task family',
        ok: false,
        detail: "blue's ECS service has no task definition",
      });
    }
    if (blueService !== undefined && (blueService.desiredCount ?? 0) < 1) {
      checks.push({
        check: 'blue runs tasks',
        ok: false,
        detail: 'blue runs no tasks; green is sized like blue, so scale blue up first',
      });
    }
    return colours === undefined ? { checks } : { checks, colours };
  }

  async #describeTaskDefinition(arn: string): Promise<DescribeTaskDefinitionCommandOutput> {
    const described = await this.ecs.send(
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
    const listed = await this.ecs.send(
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
    const green = await this.describeService(slot, GreenProvisionFailed);
    if (green.taskDefinition === taskDefinitionArn && green.desiredCount === desiredCount) return;
    await this.ecs.send(
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
    const started = this.now();
    for (let poll = 0; ; poll += 1) {
      const service = await this.describeService(green, GreenProvisionFailed);
      const health = assessGreenHealth({
        taskDefinitionArn,
        desiredCount,
        service,
        targets: await this.targetHealth(green.targetGroupArn),
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
      if (this.now() - started >= deadlineMs) {
        throw new GreenProvisionFailed(
          `${where} was not healthy within ${target.healthyDeadlineSeconds}s: ${health.summary}`,
          details,
        );
      }
      await this.sleep(
        healthPollIntervalsMs[Math.min(poll, healthPollIntervalsMs.length - 1)] ?? 5_000,
      );
    }
  }
}

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

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
