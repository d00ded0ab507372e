import { MigrationRunnerFailed } from '../core/errors.ts';
import { MigrationAction, MigrationKind, MigrationStatus } from '../core/migration.ts';
import type { MigrationState, ReleaseRecord } from '../core/records.ts';
import type { ServiceConfig } from '../core/service-config.ts';
import type { IdleTeardownDependencies } from './idle-teardown.ts';
import { messageOf, runnerCall } from './migration-runner-calls.ts';

/**
 * Applies the contract a release carries, once its idle colour (the code before this release,
 * the last that could be rolled back to) is torn down: nothing that still needs the old schema
 * can run again. `plan` then `apply`, each recorded in the release's timeline; the runner does
 * nothing on a second `apply`, and a contract already recorded as applied is not asked again.
 *
 * Not classified: a contract drops and renames by nature, and Register already made sure no
 * colour older than its expand runs. A runner failure is thrown (after its timeline entry), so
 * the teardown's Scheduler retry, or the next daily sweep, tries again.
 *
 * Returns the release's new migration state, or undefined when it carries no contract.
 */
export async function applyContract(
  deps: Pick<IdleTeardownDependencies, 'ledger' | 'now' | 'migrations'>,
  service: ServiceConfig,
  release: ReleaseRecord,
): Promise<MigrationState | undefined> {
  const migration = release.migration;
  if (migration?.kind !== MigrationKind.Contract) return undefined;
  if (release.migrationState?.status === 'applied') return release.migrationState;
  if (service.migrations === undefined) {
    throw new MigrationRunnerFailed(
      `Contract ${migration.id} of release ${release.releaseId} waits: service ${service.name} no longer registers a migration runner (migrations.runner)`,
    );
  }
  const call = runnerCall(deps, service.migrations, release, migration, {
    step: 'contract',
    phase: release.phase,
    greenPercent: release.greenPercent,
  });
  const plan = await call.ask(MigrationAction.Plan, 'contract-plan');
  let applied: Awaited<ReturnType<typeof call.ask>>;
  try {
    applied = await call.ask(MigrationAction.Apply, 'contract-apply');
  } catch (error) {
    throw new MigrationRunnerFailed(
      `Contract ${migration.id} was not applied at the teardown (tried again with it): ${messageOf(error)}`,
      { cause: messageOf(error) },
    );
  }
  if (applied.status !== MigrationStatus.Applied) {
    throw new MigrationRunnerFailed(
      `Migration runner answered apply of contract ${migration.id} with status "${applied.status}", not "applied"`,
    );
  }
  return {
    id: migration.id,
    kind: migration.kind,
    status: 'applied',
    at: deps.now().toISOString(),
    reason: `Contract ${migration.id} applied once idle colour ${release.idle?.colour ?? ''} was torn down (${plan.statements?.length ?? 0} statements${applied.ran === false ? '; the runner had it applied already' : ''})`,
  };
}
