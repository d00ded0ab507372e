import { AlarmGateFailed } from '../core/errors.ts';
import { decideGate } from '../core/gate.ts';
import type { Colours, ReleaseSpec, WeightStep } from '../core/records.ts';
import { alarmNamesOf } from '../core/service-config.ts';
import * as z from '../core/zod.ts';
import type { StepDependencies } from '../runtime/dependencies.ts';
import type { Step } from '../runtime/step-handler.ts';
import { abortedError, isAborted, loadRelease } from './advance-release.ts';
import { ColoursSchema, ReleaseSpecSchema, WeightStepSchema } from './inputs.ts';
import { type InterruptDependencies, interruptBake } from './interrupt-bake.ts';
import { serviceOf } from './service.ts';

const BakeTickInput = z.lazy(() =>
  z.object({
    release: ReleaseSpecSchema,
    colours: ColoursSchema,
    step: WeightStepSchema,
    pollSeconds: z.int().check(z.gte(1), z.lte(3600)),
  }),
);

export interface BakeTick {
  done: boolean;
  waitSeconds: number;
}

/**
 * One look at the gates during a polled bake. The first tick starts the bake; each tick
 * checks the alarms and says how long to wait before the next one. No idempotency key: the
 * answer depends on the time and on the alarms, which is the point.
 */
export const bakeTickStep: Step<
  { release: ReleaseSpec; colours: Colours; step: WeightStep; pollSeconds: number },
  BakeTick,
  // A polled bake has no callback token, but interruptBake answers one when there is.
  InterruptDependencies & Pick<StepDependencies, 'registry' | 'alarms'>
> = {
  name: 'bake-tick',
  input: BakeTickInput,
  run: async ({ release, step, pollSeconds }, deps) => {
    const service = await serviceOf(deps, release.service);
    const now = deps.now();
    const bake = await deps.bakes.begin({
      releaseId: release.releaseId,
      service: service.name,
      stepIndex: step.index,
      alarms: alarmNamesOf(service),
      startedAt: now.toISOString(),
      endsAt: new Date(now.getTime() + step.bakeSeconds * 1000).toISOString(),
      status: 'baking',
    });
    const record = await loadRelease(deps, release.releaseId);
    if (isAborted(record)) throw abortedError(record);
    // Promoted: the bake is over now, and the gate check that follows looks once more.
    if (record.control?.promoted || bake.status === 'ended') return { done: true, waitSeconds: 0 };
    const names = alarmNamesOf(service);
    const gate = decideGate(names, await deps.alarms.describe(names));
    if (!gate.passed) {
      await interruptBake(deps, {
        releaseId: release.releaseId,
        stepIndex: step.index,
        firing: gate.firing,
        reason: gate.reason,
      });
      throw new AlarmGateFailed(gate.reason, { step: step.index, alarms: gate.firing });
    }
    const remainingMs = Date.parse(bake.endsAt) - now.getTime();
    if (remainingMs <= 0) return { done: true, waitSeconds: 0 };
    return {
      done: false,
      waitSeconds: Math.max(1, Math.min(pollSeconds, Math.ceil(remainingMs / 1000))),
    };
  },
};
