import { ECSClient } from '@aws-sdk/client-ecs';
import type { Wiring } from '../wiring.ts';

const makeEcs = () => new ECSClient({});
const makeEcsSingleAttempt = () => new ECSClient({ maxAttempts: 1 });

/** The ECS clients of one wiring, made on first use: a stage with no ALB service never does. */
export function ecsOf(wiring: Wiring): { ecs: ECSClient; ecsSingleAttempt: ECSClient } {
  return { ecs: wiring.shared(makeEcs), ecsSingleAttempt: wiring.shared(makeEcsSingleAttempt) };
}
