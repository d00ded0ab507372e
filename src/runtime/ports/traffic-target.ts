import type { TrafficTarget } from '../../core/ports.ts';
import type { ServiceConfig } from '../../core/service-config.ts';
import { AlbListenerTarget } from '../../targets/alb-listener.ts';
import { LambdaAliasTarget } from '../../targets/lambda-alias.ts';
import { ecsOf } from '../clients/ecs.ts';
import { elbv2Of } from '../clients/elbv2.ts';
import { lambdaOf } from '../clients/lambda.ts';
import { byTargetKind, type Wiring } from '../wiring.ts';

const makeLambdaAlias = (wiring: Wiring) => new LambdaAliasTarget({ client: lambdaOf(wiring) });
const makeAlbTarget = (wiring: Wiring) =>
  new AlbListenerTarget({ elbv2: elbv2Of(wiring), ...ecsOf(wiring) });

/**
 * Each service's target with everything it can do, provisioning green included (Lambda; ELBv2
 * and ECS, made on first use: a stage with Lambda services only never builds them).
 */
export function buildTrafficTarget(wiring: Wiring): {
  targetFor(service: ServiceConfig): TrafficTarget;
} {
  return {
    targetFor: byTargetKind<TrafficTarget>(wiring, {
      'lambda-alias': makeLambdaAlias,
      'alb-listener': makeAlbTarget,
    }),
  };
}
