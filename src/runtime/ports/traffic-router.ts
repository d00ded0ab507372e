import type { TrafficRouter } from '../../core/ports.ts';
import { AlbListenerRouter } from '../../targets/alb-listener-router.ts';
import { LambdaAliasTarget } from '../../targets/lambda-alias.ts';
import { elbv2Of } from '../clients/elbv2.ts';
import { lambdaOf } from '../clients/lambda.ts';
import type { TrafficRouting } from '../dependencies.ts';
import { byTargetKind, type Wiring } from '../wiring.ts';

const makeLambdaAlias = (wiring: Wiring) => new LambdaAliasTarget({ client: lambdaOf(wiring) });
const makeAlbRouter = (wiring: Wiring) => new AlbListenerRouter({ elbv2: elbv2Of(wiring) });

/**
 * Each service's target, to test green and move traffic, never to provision (Lambda; ELBv2). The ALB router is
 * made on first use: a stage with Lambda services only never builds an ELBv2 client.
 */
export function buildTrafficRouter(wiring: Wiring): TrafficRouting {
  return {
    targetFor: byTargetKind<TrafficRouter>(wiring, {
      'lambda-alias': makeLambdaAlias,
      'alb-listener': makeAlbRouter,
    }),
  };
}
