import { ErrorName } from '../core/errors.ts';
import { decideGate } from '../core/gate.ts';
import { ReleasePhase } from '../core/phases.ts';
import type { Colours, ReleaseSpec, WeightStep } from '../core/records.ts';
import { alarmNamesOf } from '../core/service-config.ts';
import * as z from '../core/zod.ts';
import type { StepDependencies } from '../runtime/dependencies.ts';
import type { Step } from '../runtime/step-handler.ts';
import { isAborted, loadRelease, stepRecord } from './advance-release.ts';
import { ColoursSchema, ReleaseSpecSchema, WeightStepSchema } from './inputs.ts';
import { type InterruptDependencies, interruptBake } from './interrupt-bake.ts';
import { serviceOf } from './service.ts';

const StartBakeInput = z.lazy(() =>
  z.object({
    release: ReleaseSpecSchema,
    colours: ColoursSchema,
    step: WeightStepSchema,
    taskToken: z.string().check(z.minLength(1)),
  }),
);

export interface BakeStarted {
  bakingUntil: string;
}

/**
 * Starts an event-driven bake: stores the workflow's callback token, watches the service's
 * gate alarms, and checks them once right away, because an alarm that fired between the
 * weight change and now sent its event before there was a bake to cut short.
 *
 * No idempotency key: each invocation carries a new token that must be stored; `begin` keeps
 * the bake's start and end when the same bake is started again.
 */
export const startBakeStep: Step<
  { release: ReleaseSpec; colours: Colours; step: WeightStep; taskToken: string },
  BakeStarted,
  InterruptDependencies & Pick<StepDependencies, 'registry' | 'alarms'>
> = {
  name: 'start-bake',
  input: StartBakeInput,
  run: async ({ release, step, taskToken }, deps) => {
    const service = await serviceOf(deps, release.service);
    const names = alarmNamesOf(service);
    const now = deps.now();
    const bake = await deps.bakes.begin({
      releaseId: release.releaseId,
      service: service.name,
      stepIndex: step.index,
      taskToken,
      alarms: names,
      startedAt: now.toISOString(),
      endsAt: new Date(now.getTime() + step.bakeSeconds * 1000).toISOString(),
      status: 'baking',
    });
    // An operator's promote or abort that landed before this bake's token was stored: the
    // operator found no bake to end, so this one ends itself. (One landing after `begin` finds
    // the token.)
    const record = await loadRelease(deps, release.releaseId);
    const aborted = isAborted(record);
    if (aborted || record.control?.promoted) {
      await deps.bakes.settle(
        release.releaseId,
        step.index,
        aborted ? 'interrupted' : 'ended',
        record.reason,
      );
      await deps.callbacks.fail(
        taskToken,
        aborted ? ErrorName.OperatorAborted : ErrorName.OperatorPromoted,
        record.reason,
      );
      return { bakingUntil: bake.endsAt };
    }
    // The wait entered again after the bake already ran its course: EndBake answered the old
    // token, and nobody else would answer this one, so the watch would wait out its day-long
    // timeout with traffic split and the lock held. Two ways in: a retry after start-bake's
    // answer was lost (the fault matrix: WatchGates x response-lost), and a wait entered again
    // after an answer the ledger did not back (verify-callback). Answer it as EndBake would.
    if (bake.status === 'ended') {
      await deps.callbacks.succeed(taskToken, {
        bakedSeconds: step.bakeSeconds,
        settledNow: false,
      });
      return { bakingUntil: bake.endsAt };
    }
    await deps.bakes.watch(release.releaseId, names);
    const alarms = await deps.alarms.describe(names);
    const gate = decideGate(names, alarms);
    if (!gate.passed || bake.status === 'interrupted') {
      await interruptBake(deps, {
        releaseId: release.releaseId,
        stepIndex: step.index,
        firing: gate.firing,
        reason: bake.reason ?? gate.reason,
      });
      return { bakingUntil: bake.endsAt };
    }
    // Written once the first look passed: from here on an alarm reaches the bake as an event.
    await deps.ledger.recordStep(
      release.releaseId,
      stepRecord(deps, {
        key: `bake#${step.index}`,
        step: 'bake',
        outcome: 'started',
        phase: ReleasePhase.Shifting,
        greenPercent: step.percent,
        reason: `Baking step ${step.index + 1} until ${bake.endsAt}; an alarm cuts it short (${names.join(', ') || 'no alarms'})`,
      }),
    );
    return { bakingUntil: bake.endsAt };
  },
};
