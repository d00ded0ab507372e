import { teardownScheduleName, teardownTime } from '../core/idle-colour.ts';
import { ReleasePhase } from '../core/phases.ts';
import {
  type Colours,
  type IdleColourRecord,
  IdleColourState,
  type IdleCost,
  type ReleaseSpec,
} from '../core/records.ts';
import { alarmNamesOf, type ServiceConfig } from '../core/service-config.ts';
import { ReleaseEventType } from '../core/transitions.ts';
import type { TrafficRouting } from '../runtime/dependencies.ts';
import { type IdempotentStep, logger } from '../runtime/step-handler.ts';
import type { TeardownStepDependencies } from '../runtime/teardown-dependencies.ts';
import {
  type AdvanceDependencies,
  advanceRelease,
  assertCanAdvance,
  loadRelease,
  stepRecord,
} from './advance-release.ts';
import { ColouredReleaseInput } from './inputs.ts';
import { serviceOf } from './service.ts';

export interface ReleaseOutcome {
  phase: string;
  reason: string;
}

/**
 * All traffic on green with no split left behind; frees the service for its next release.
 * Blue stays warm for the service's warm window, so that a rollback is one switch back, and a
 * one-time schedule tears it down when the window ends.
 */
export const finalizeStep: IdempotentStep<
  { release: ReleaseSpec; colours: Colours },
  ReleaseOutcome,
  AdvanceDependencies &
    Pick<TeardownStepDependencies, 'registry' | 'bakes' | 'teardowns' | 'idleColoursFor'> &
    TrafficRouting
> = {
  name: 'finalize',
  input: ColouredReleaseInput,
  idempotencyKey: ({ release }) => ({ releaseId: release.releaseId, step: 'finalize', index: 0 }),
  run: async ({ release, colours }, deps) => {
    const service = await serviceOf(deps, release.service);
    const record = await loadRelease(deps, release.releaseId);
    assertCanAdvance(record, { type: ReleaseEventType.Finalized });
    await deps.targetFor(service).finalize(service, colours);
    await deps.bakes.unwatch(release.releaseId, alarmNamesOf(service));
    const idle = await keepWarm(deps, service, release.releaseId, colours);
    await deps.ledger.recordStep(
      release.releaseId,
      stepRecord(deps, {
        key: 'finalize',
        step: 'finalize',
        outcome: 'succeeded',
        phase: ReleasePhase.Finalized,
        greenPercent: 100,
        reason: `All traffic on green; blue ${idle.colour} kept warm for ${service.warmWindowSeconds}s. ${idle.reason}`,
      }),
    );
    const final = await advanceRelease(
      deps,
      record,
      { type: ReleaseEventType.Finalized },
      {
        patch: { idle },
        detail: { idleColour: idle.colour, teardownAt: idle.teardownAt },
      },
    );
    return { phase: final.phase, reason: final.reason };
  },
};

/**
 * Blue's warm window: what it costs while it runs and the schedule that ends it. Neither may
 * fail a release whose traffic is already all on green: a cost that cannot be read is
 * recorded as unknown, and a schedule that cannot be made is recorded (and logged as a fault)
 * for the daily sweeper, which tears down idle colours whose window has passed.
 */
async function keepWarm(
  deps: Pick<TeardownStepDependencies, 'now' | 'teardowns' | 'idleColoursFor'>,
  service: ServiceConfig,
  releaseId: string,
  colours: Colours,
): Promise<IdleColourRecord> {
  const idleSince = deps.now();
  const wanted = teardownTime(idleSince, service.warmWindowSeconds);
  const warm = {
    colour: colours.blue,
    live: colours.green,
    idleSince: idleSince.toISOString(),
    state: IdleColourState.Warm,
    cost: await costOf(deps, service, colours.blue),
  };
  if (deps.teardowns === undefined) {
    return {
      ...warm,
      teardownAt: wanted.toISOString(),
      reason: `No teardown scheduled (greenlight's environment names no schedule group); the daily sweeper tears blue down after ${wanted.toISOString()}`,
    };
  }
  const name = teardownScheduleName(releaseId);
  try {
    const scheduled = await deps.teardowns.schedule({
      name,
      at: wanted,
      target: { service: service.name, releaseId, colour: colours.blue },
    });
    return {
      ...warm,
      teardownAt: scheduled.at.toISOString(),
      schedule: scheduled.name,
      reason: `Teardown scheduled for ${scheduled.at.toISOString()} (${scheduled.name})`,
    };
  } catch (error) {
    logger.error('Could not schedule the idle colour teardown', { error: error as Error });
    return {
      ...warm,
      teardownAt: wanted.toISOString(),
      reason: `Could not schedule the teardown (${describe(error)}); the daily sweeper tears blue down after ${wanted.toISOString()}`,
    };
  }
}

async function costOf(
  deps: Pick<TeardownStepDependencies, 'idleColoursFor'>,
  service: ServiceConfig,
  colour: string,
): Promise<IdleCost> {
  try {
    return await deps.idleColoursFor(service).cost(service, colour);
  } catch (error) {
    return { basis: `unknown: ${describe(error)}` };
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
