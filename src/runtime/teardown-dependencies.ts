import type { IdleColours, MigrationRunner, TeardownScheduler } from '../core/ports.ts';
import type { ServiceConfig } from '../core/service-config.ts';
import { type StepDependencies, stepPorts } from './dependencies.ts';
import { buildIdleColours } from './ports/idle-colours.ts';
import { buildMigrationRunner } from './ports/migration-runner.ts';
import { buildTeardownScheduler } from './ports/teardown-scheduler.ts';
import { composeDependencies, type Environment } from './wiring.ts';

/**
 * What finalize, teardown and the sweeper may work through: the step ports plus idle colours
 * and the migration runners (the migrate step works through these too).
 */
export interface TeardownStepDependencies extends StepDependencies {
  /**
   * Undefined where greenlight's environment names no schedule group: finalize then records
   * that no teardown was scheduled, and the daily sweeper tears the idle colour down.
   */
  teardowns: TeardownScheduler | undefined;
  idleColoursFor(service: ServiceConfig): IdleColours;
  /** The services' migration runners: a release's contract is applied at its teardown. */
  migrations: MigrationRunner;
}

/** All of them, built from the environment, for tests and the local cloud. */
export function createTeardownDependencies(
  env: Environment = process.env,
): TeardownStepDependencies {
  return composeDependencies(
    env,
    ...stepPorts,
    buildTeardownScheduler,
    buildIdleColours,
    buildMigrationRunner,
  );
}
