import { ReleasePhase } from '../core/phases.ts';
import { ReleaseEventType } from '../core/transitions.ts';
import type { Step } from '../runtime/step-handler.ts';
import {
  type AdvanceDependencies,
  advanceRelease,
  loadRelease,
  stepRecord,
} from './advance-release.ts';
import { ReleaseInput } from './inputs.ts';

export interface LockOutcome {
  acquired: boolean;
  holder: string;
}

/**
 * Takes the service's lock, or reports who holds it so the workflow waits and asks again (the
 * queue policy). No idempotency key: the answer changes while the other release runs, and the
 * lock's conditional write already makes a repeat harmless.
 */
export const acquireLockStep: Step<
  { release: { releaseId: string; service: string } },
  LockOutcome,
  AdvanceDependencies
> = {
  name: 'acquire-lock',
  input: ReleaseInput,
  run: async ({ release }, deps) => {
    const now = deps.now().toISOString();
    const lock = await deps.lock.acquire(release.service, release.releaseId, now);
    if (!lock.acquired) {
      // One timeline entry per holder, however many times the workflow polls.
      await deps.ledger.recordStep(
        release.releaseId,
        stepRecord(deps, {
          key: `lock-wait#${lock.holder}`,
          step: 'lock',
          outcome: 'started',
          phase: ReleasePhase.Requested,
          reason: `Waiting for ${release.service}'s lock, held by ${lock.holder}`,
        }),
      );
      return lock;
    }
    const record = await loadRelease(deps, release.releaseId);
    await advanceRelease(deps, record, { type: ReleaseEventType.LockAcquired });
    await deps.ledger.recordStep(
      release.releaseId,
      stepRecord(deps, {
        key: 'lock',
        step: 'lock',
        outcome: 'succeeded',
        phase: ReleasePhase.Provisioning,
        reason: `Took ${release.service}'s lock`,
      }),
    );
    return lock;
  },
};
