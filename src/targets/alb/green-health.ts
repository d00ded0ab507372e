import type { Service } from '@aws-sdk/client-ecs';
import type { TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';

/** What one look at green's ECS service and target group says. */
export type GreenHealth =
  | { state: 'ready'; summary: string }
  | { state: 'waiting'; summary: string; unhealthy: string[] }
  | { state: 'failed'; summary: string; unhealthy: string[] };

export interface GreenHealthObservation {
  /** The task definition revision green must run. */
  taskDefinitionArn: string;
  desiredCount: number;
  service: Service;
  targets: readonly TargetHealthDescription[];
}

// Targets on their way out get no new requests, so they neither count nor hold green back.
const leaving: ReadonlySet<string> = new Set(['draining', 'unhealthy.draining']);

/**
 * Green is ready when ECS has finished rolling the service onto the release's revision and
 * the target group holds exactly `desiredCount` live targets, all healthy. Counting targets
 * alone is not enough: a warm green still running the previous revision has that many healthy
 * targets before ECS has replaced a single task.
 */
export function assessGreenHealth(observation: GreenHealthObservation): GreenHealth {
  const { taskDefinitionArn, desiredCount, service } = observation;
  const live = observation.targets.filter(
    (target) => !leaving.has(target.TargetHealth?.State ?? ''),
  );
  const unhealthy = live
    .filter((target) => target.TargetHealth?.State !== 'healthy')
    .map(describeTarget);
  const healthyCount = live.length - unhealthy.length;
  const targetsSummary = `${healthyCount} of ${desiredCount} targets healthy${
    live.length > desiredCount ? ` (${live.length} registered)` : ''
  }${unhealthy.length > 0 ? `: ${unhealthy.join('; ')}` : ''}`;

  const deployments = service.deployments;
  const failed = deployments?.find(
    (d) => d.taskDefinition === taskDefinitionArn && d.rolloutState === 'FAILED',
  );
  if (failed !== undefined) {
    return {
      state: 'failed',
      summary: `ECS deployment of ${taskDefinitionArn} failed: ${failed.rolloutStateReason ?? 'no reason given'}; ${targetsSummary}`,
      unhealthy,
    };
  }

  const rolledOut =
    service.taskDefinition === taskDefinitionArn &&
    (deployments === undefined ||
      (deployments.length === 1 &&
        deployments[0]?.taskDefinition === taskDefinitionArn &&
        deployments[0]?.runningCount === desiredCount));
  if (rolledOut && unhealthy.length === 0 && live.length === desiredCount) {
    return { state: 'ready', summary: `${desiredCount} of ${desiredCount} targets healthy` };
  }
  const rollout = rolledOut
    ? ''
    : `; ECS still rolling out (${(deployments ?? [])
        .map(
          (d) =>
            `${d.status ?? '?'} ${d.taskDefinition ?? '?'} ${d.runningCount ?? 0}/${d.desiredCount ?? 0} running`,
        )
        .join(', ')})`;
  return { state: 'waiting', summary: `${targetsSummary}${rollout}`, unhealthy };
}

function describeTarget(target: TargetHealthDescription): string {
  const id = `${target.Target?.Id ?? '?'}${target.Target?.Port === undefined ? '' : `:${target.Target.Port}`}`;
  const health = target.TargetHealth;
  const why = [health?.Reason, health?.Description].filter((part) => part !== undefined);
  return `${id} ${health?.State ?? 'unknown'}${why.length > 0 ? ` (${why.join(': ')})` : ''}`;
}
