import type { MigrationRunnerReply, MigrationRunnerRequest } from '../core/migration.ts';

/**
 * The fault matrix's migration runner, a local Lambda module (`localModule`): the runner
 * contract of src/core/migration.ts with its bookkeeping in memory, so that the matrix's
 * `migrated` scenario reaches the Migrate state and faults it like every other Task state. Its
 * plan is a nullable column, which the classifier accepts. Not the demo's runner (that one runs
 * SQL on the local PostgreSQL): here only the workflow's handling of the runner is under test.
 */
const applied = new Set<string>();

export function createHandler(): (event: unknown) => Promise<MigrationRunnerReply> {
  return async (event) => {
    const request = event as MigrationRunnerRequest;
    const id = request.migrationId;
    const status = () => (applied.has(id) ? 'applied' : 'pending') as 'applied' | 'pending';
    switch (request.action) {
      case 'plan':
        return {
          migrationId: id,
          status: status(),
          statements: ['ALTER TABLE orders ADD COLUMN note text'],
        };
      case 'apply': {
        const ran = !applied.has(id);
        applied.add(id);
        return { migrationId: id, status: 'applied', ran };
      }
      case 'revert': {
        const ran = applied.delete(id);
        return { migrationId: id, status: ran ? 'reverted' : status(), ran };
      }
      default:
        return { migrationId: id, status: status() };
    }
  };
}
