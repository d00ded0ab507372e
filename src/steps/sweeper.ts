import { ReleasePhase } from '../core/phases.ts';
import { IdleColourState } from '../core/records.ts';
import * as z from '../core/zod.ts';
import { logger, type Step } from '../runtime/step-handler.ts';
import {
  type IdleTeardownDependencies,
  type TeardownOutcome,
  tearDownIdleColour,
  teardownClaimant,
} from './idle-teardown.ts';

export interface SweepOutcome {
  /** Idle colours found warm past their window, and what became of each. */
  swept: TeardownOutcome[];
  failed: { releaseId: string; colour: string; error: string }[];
}

// The newest releases of each service: idle colours older than these were left behind by
// releases whose own idle colour took their place (a service has one idle colour at a time).
const releasesLookedAt = 25;

/**
 * Runs daily: finds idle colours still warm after their window (a schedule that was lost or a
 * teardown that kept failing) and tears each down the same way its schedule would have. One
 * failure does not stop the others; each is retried the next day.
 */
export const sweeperStep: Step<unknown, SweepOutcome, IdleTeardownDependencies> = {
  name: 'sweeper',
  // The scheduled event carries nothing the sweep needs.
  input: z.unknown(),
  run: async (_event, deps, invocation) => {
    // One claimant for the whole sweep: its retry picks up the colours it had claimed.
    const claimant = teardownClaimant('sweeper', invocation);
    const now = deps.now().getTime();
    const outcome: SweepOutcome = { swept: [], failed: [] };
    for (const service of await deps.registry.list()) {
      const releases = await deps.ledger.listReleases(service.name, releasesLookedAt);
      const leftBehind = releases
        .filter(
          (release) =>
            release.phase === ReleasePhase.Finalized &&
            release.idle?.state === IdleColourState.Warm &&
            Date.parse(release.idle.teardownAt) <= now,
        )
        .reverse();
      for (const release of leftBehind) {
        const colour = release.idle?.colour ?? '';
        try {
          outcome.swept.push(
            await tearDownIdleColour(
              deps,
              { service: service.name, releaseId: release.releaseId, colour },
              'sweeper',
              claimant,
            ),
          );
        } catch (error) {
          const message =
            error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          logger.warn('Sweeper could not tear down an idle colour', {
            releaseId: release.releaseId,
            colour,
            error: error as Error,
          });
          outcome.failed.push({ releaseId: release.releaseId, colour, error: message });
        }
      }
    }
    return outcome;
  },
};
