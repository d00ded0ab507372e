import type { IdleColours } from '../../core/ports.ts';
import type { ServiceConfig } from '../../core/service-config.ts';
import { AlbIdleColours } from '../../targets/alb-idle.ts';
import { AlbSlotScaler } from '../../targets/alb-listener.ts';
import { LambdaIdleColours } from '../../targets/lambda-idle.ts';
import { ecsOf } from '../clients/ecs.ts';
import { elbv2Of } from '../clients/elbv2.ts';
import { lambdaOf } from '../clients/lambda.ts';
import { byTargetKind, type Wiring } from '../wiring.ts';

const makeLambdaIdle = (wiring: Wiring) => new LambdaIdleColours({ client: lambdaOf(wiring) });
const makeAlbIdle = (wiring: Wiring) => {
  const elbv2 = elbv2Of(wiring);
  const { ecs } = ecsOf(wiring);
  return new AlbIdleColours({ elbv2, ecs, listener: new AlbSlotScaler({ elbv2, ecs }) });
};

/**
 * Each service's idle colour: what it costs while warm, tearing it down (Lambda; ELBv2 and
 * ECS, made on first use).
 */
export function buildIdleColours(wiring: Wiring): {
  idleColoursFor(service: ServiceConfig): IdleColours;
} {
  return {
    idleColoursFor: byTargetKind<IdleColours>(wiring, {
      'lambda-alias': makeLambdaIdle,
      'alb-listener': makeAlbIdle,
    }),
  };
}
