import { ReleasePhase } from '../core/phases.ts';
import * as z from '../core/zod.ts';
import type { Step } from '../runtime/step-handler.ts';
import { type InterruptDependencies, interruptBake } from './interrupt-bake.ts';

/** The part of a "CloudWatch Alarm State Change" event greenlight reads. */
const AlarmStateChangeEvent = z.lazy(() =>
  z.object({
    'detail-type': z.literal('CloudWatch Alarm State Change'),
    source: z.string(),
    detail: z.object({
      alarmName: z.string().check(z.minLength(1)),
      state: z.object({
        value: z.string(),
        reason: z._default(z.string(), ''),
        timestamp: z.string(),
      }),
    }),
  }),
);
type AlarmStateChangeEvent = z.infer<typeof AlarmStateChangeEvent>;

export interface AlarmEventOutcome {
  alarmName: string;
  interrupted: string[];
  ignored: { releaseId: string; why: string }[];
}

/**
 * Cuts short every bake that watches an alarm which has just entered ALARM. Invoked by the
 * EventBridge rule for CloudWatch Alarm State Change events, at least once per change; the
 * bake's conditional settle makes a repeated event a no-op.
 */
export const alarmEventStep: Step<AlarmStateChangeEvent, AlarmEventOutcome, InterruptDependencies> =
  {
    name: 'alarm-event',
    input: AlarmStateChangeEvent,
    run: async ({ detail }, deps) => {
      const outcome: AlarmEventOutcome = {
        alarmName: detail.alarmName,
        interrupted: [],
        ignored: [],
      };
      if (detail.state.value !== 'ALARM') return outcome;
      for (const releaseId of await deps.bakes.watchers(detail.alarmName)) {
        const [bake, release] = await Promise.all([
          deps.bakes.get(releaseId),
          deps.ledger.getRelease(releaseId),
        ]);
        if (bake?.status !== 'baking' || release?.phase !== ReleasePhase.Shifting) {
          outcome.ignored.push({ releaseId, why: `not baking (${release?.phase ?? 'unknown'})` });
          continue;
        }
        const result = await interruptBake(deps, {
          releaseId,
          stepIndex: bake.stepIndex,
          firing: [
            {
              name: detail.alarmName,
              state: 'ALARM',
              reason: detail.state.reason,
              updatedAt: detail.state.timestamp,
            },
          ],
          reason: `Alarm ${detail.alarmName} entered ALARM: ${detail.state.reason}`,
        });
        if (result === 'interrupted') outcome.interrupted.push(releaseId);
        else outcome.ignored.push({ releaseId, why: 'bake already settled' });
      }
      return outcome;
    },
  };
