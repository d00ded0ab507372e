import { IdleColourStillDraining, InvalidStepInput, TeardownDeferred } from '../core/errors.ts';
import { coloursInFlight, decideTeardown, lastTrafficAt } from '../core/idle-colour.ts';
import { LifecycleEventType, ReleasePhase } from '../core/phases.ts';
import type { TeardownTarget } from '../core/ports.ts';
import {
  type IdleColourRecord,
  IdleColourState,
  type MigrationState,
  type ReleaseRecord,
} from '../core/records.ts';
import type { StepInvocation } from '../runtime/step-handler.ts';
import type { TeardownStepDependencies } from '../runtime/teardown-dependencies.ts';
import { loadRelease, stepRecord } from './advance-release.ts';
import { applyContract } from './apply-contract.ts';
import { serviceOf } from './service.ts';

export interface TeardownOutcome {
  releaseId: string;
  colour: string;
  /** `deferred` leaves the colour warm for a later try; the others are final. */
  /** `claimed`: another teardown holds the colour (see IdleTeardownClaim); this one did nothing. */
  outcome: 'torn-down' | 'live-again' | 'deferred' | 'settled' | 'not-idle' | 'claimed';
  reason: string;
  actions: string[];
}

/** Who asked: the release's one-time schedule, or the daily sweeper finding it left behind. */
export type TeardownTrigger = 'schedule' | 'sweeper';

/** What tearing an idle colour down works through; no lock, no bakes, no traffic moved. */
export type IdleTeardownDependencies = Pick<
  TeardownStepDependencies,
  'registry' | 'ledger' | 'events' | 'now' | 'idleColoursFor' | 'migrations'
>;

// Releases in flight are a service's newest; this many cover any realistic queue.
const releasesLookedAt = 20;

// How long a teardown's claim on an idle colour holds. Far longer than the teardown (1 minute)
// and sweeper (5 minutes) functions may run (stacks/functions.ts timeoutOf), so a lease never
// ends under a holder still at work; short enough that the next sweep takes over from a
// teardown that crashed and was not retried.
export const teardownLeaseMs = 15 * 60_000;

/**
 * Who claims an idle colour: the trigger and the Lambda request id. Lambda keeps the request id
 * across its own retries of an asynchronous invocation (Scheduler invokes asynchronously), so a
 * retry is the same claimant and takes over its own claim; two deliveries of a schedule, or the
 * schedule and the sweeper, are two invocations with two ids. AWS Lambda Developer Guide, "How
 * Lambda handles errors and retries with asynchronous invocation"
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html) and the
 * Knowledge Center's "lambda-function-duplicate-invocations": duplicates with the same request
 * id are Lambda's retries.
 */
export function teardownClaimant(
  via: TeardownTrigger,
  invocation: StepInvocation | undefined,
): string {
  // A handler always has a context; only a step run by hand could come without one.
  if (invocation === undefined || invocation.awsRequestId === '') {
    throw new InvalidStepInput(`A ${via} teardown needs a Lambda request id to claim by`);
  }
  return `${via}:${invocation.awsRequestId}`;
}

/**
 * Tears down the idle colour a finalized release left warm, unless it has become live again or
 * a release in flight may use it (then it records why and does nothing). Every outcome lands in
 * the release's timeline and its `idle` record; a teardown publishes Idle Colour Torn Down.
 *
 * Safe to repeat: a settled colour is left as recorded, and the target reads before it writes.
 * Ordering as in advanceRelease: AWS first, then the event, then the ledger (the commit
 * point), so a retry after a crash redoes the effects, which then find nothing left to do.
 * Before all of them the teardown claims the colour for `claimant` (teardownClaimant): two
 * teardowns racing both find it warm, and only the one holding the claim acts and publishes.
 */
export async function tearDownIdleColour(
  deps: IdleTeardownDependencies,
  target: TeardownTarget,
  via: TeardownTrigger,
  claimant: string,
): Promise<TeardownOutcome> {
  const service = await serviceOf(deps, target.service);
  const release = await loadRelease(deps, target.releaseId);
  const result = (outcome: TeardownOutcome['outcome'], reason: string, actions: string[] = []) => ({
    releaseId: release.releaseId,
    colour: target.colour,
    outcome,
    reason,
    actions,
  });
  const read = release.idle;
  if (release.phase !== ReleasePhase.Finalized || read === undefined) {
    // A schedule can outlive its release's finalize: a finalize that failed after scheduling
    // ends in a rollback, and then blue is live again.
    return result(
      'not-idle',
      `Release ${release.releaseId} is ${release.phase}, not finalized with a warm colour: nothing to tear down`,
    );
  }
  if (read.colour !== target.colour) {
    throw new InvalidStepInput(
      `Release ${release.releaseId} left ${read.colour} idle, not ${target.colour}`,
      { releaseId: release.releaseId, idle: read.colour, asked: target.colour },
    );
  }
  if (read.state !== IdleColourState.Warm) {
    return result('settled', `Already ${read.state}: ${read.reason}`, read.actions ?? []);
  }

  const now = deps.now();
  const claim = await deps.ledger.claimIdleTeardown(
    release.releaseId,
    { by: claimant, until: new Date(now.getTime() + teardownLeaseMs).toISOString() },
    now.toISOString(),
  );
  const claimed = claim.record.idle;
  if (!claim.claimed) {
    // Lost to another teardown: it settled the colour since the read above, or holds it now.
    if (claim.record.phase !== ReleasePhase.Finalized || claimed === undefined) {
      return result('not-idle', `Release ${release.releaseId} is ${claim.record.phase} now`);
    }
    if (claimed.state !== IdleColourState.Warm) {
      return result(
        'settled',
        `Already ${claimed.state}: ${claimed.reason}`,
        claimed.actions ?? [],
      );
    }
    return result(
      'claimed',
      `Idle colour ${read.colour} is already being torn down by ${claimed.claim?.by ?? 'another teardown'} (claimed until ${claimed.claim?.until ?? 'unknown'})`,
    );
  }
  // What settles the colour leaves no claim behind: the work it stood for is done.
  const { claim: _held, ...idle } = claimed ?? read;

  const colours = deps.idleColoursFor(service);
  const others = (await deps.ledger.listReleases(service.name, releasesLookedAt)).filter(
    (other) => other.releaseId !== release.releaseId,
  );
  const decision = decideTeardown({
    idle,
    now: deps.now(),
    takesTraffic: await colours.takesTraffic(service, idle.colour),
    releases: others,
  });
  const by = via === 'schedule' ? 'at the end of its warm window' : 'by the daily sweeper';
  switch (decision.action) {
    case 'settled':
      return result('settled', decision.reason);
    case 'defer': {
      await record(deps, release, {
        key: 'teardown-deferred',
        outcome: 'skipped',
        reason: `Teardown of ${idle.colour} deferred: ${decision.reason}`,
      });
      await settle(deps, release, { ...idle, reason: `Deferred: ${decision.reason}` });
      return result('deferred', decision.reason);
    }
    case 'leave-live': {
      const reason = `Teardown of ${idle.colour} skipped: ${decision.reason}`;
      await record(deps, release, { key: 'teardown', outcome: 'skipped', reason });
      await settle(deps, release, {
        ...idle,
        state: IdleColourState.LiveAgain,
        reason: decision.reason,
        settledAt: deps.now().toISOString(),
      });
      return result('live-again', decision.reason);
    }
    case 'tear-down': {
      let actions: string[];
      try {
        actions = await colours.tearDown(service, idle.colour, {
          idleSince: lastTrafficAt(idle, others),
          now: deps.now(),
          protectedColours: new Set([...coloursInFlight(others), idle.live]),
        });
      } catch (error) {
        // The ALB target refuses while the slot may still serve draining or sticky requests.
        if (!(error instanceof IdleColourStillDraining)) throw error;
        const reason = `Teardown of ${idle.colour} deferred: ${error.message}`;
        await record(deps, release, { key: 'teardown-deferred', outcome: 'skipped', reason });
        await settle(deps, release, { ...idle, reason: `Deferred: ${error.message}` });
        throw new TeardownDeferred(reason, {
          releaseId: release.releaseId,
          colour: idle.colour,
          ...error.details,
        });
      }
      // The colour is gone: nothing that could be rolled back to needs the old schema now.
      const migrationState = await applyContract(deps, service, release);
      const what = actions.length > 0 ? actions.join('; ') : 'nothing was left running';
      const contract = migrationState ? `; ${migrationState.reason}` : '';
      const reason = `Idle colour ${idle.colour} torn down ${by}: ${what}${contract}`;
      await deps.events.publish([
        {
          detailType: LifecycleEventType.IdleColourTornDown,
          detail: {
            eventKey: `${release.releaseId}#teardown`,
            releaseId: release.releaseId,
            service: release.service,
            version: release.version,
            phase: release.phase,
            reason,
            colour: idle.colour,
            live: idle.live,
            actions,
            via,
          },
        },
      ]);
      await record(deps, release, { key: 'teardown', outcome: 'succeeded', reason });
      await settle(
        deps,
        release,
        {
          ...idle,
          state: IdleColourState.TornDown,
          reason: `${decision.reason}: ${what}`,
          settledAt: deps.now().toISOString(),
          actions,
        },
        migrationState,
      );
      return result('torn-down', reason, actions);
    }
  }
}

async function record(
  deps: Pick<TeardownStepDependencies, 'ledger' | 'now'>,
  release: ReleaseRecord,
  entry: { key: string; outcome: 'succeeded' | 'skipped'; reason: string },
): Promise<void> {
  await deps.ledger.recordStep(
    release.releaseId,
    stepRecord(deps, {
      ...entry,
      step: 'teardown',
      phase: release.phase,
      greenPercent: release.greenPercent,
    }),
  );
}

/** Finalized is terminal, so the release's phase is the condition; the idle record is the news. */
async function settle(
  deps: Pick<TeardownStepDependencies, 'ledger'>,
  release: ReleaseRecord,
  idle: IdleColourRecord,
  migrationState?: MigrationState,
): Promise<void> {
  await deps.ledger.updateRelease(
    release.releaseId,
    migrationState ? { idle, migrationState } : { idle },
    [ReleasePhase.Finalized],
  );
}
