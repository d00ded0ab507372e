import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { Wiring } from '../wiring.ts';

const makeElbv2 = () => new ElasticLoadBalancingV2Client({});

/** The ELBv2 client of one wiring, made on first use: a stage with no ALB service never does. */
export function elbv2Of(wiring: Wiring): ElasticLoadBalancingV2Client {
  return wiring.shared(makeElbv2);
}
