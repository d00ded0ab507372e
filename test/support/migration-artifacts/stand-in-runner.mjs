// A stand-in migration runner for the local cloud's end-to-end tests: the runner contract of
// src/core/migration.ts, with its "database" in memory. Loaded by the local Lambda as an
// artifact (a plain ESM module), in the test's own process, so its state lives on globalThis
// where the test scripts it and reads it (test/support/stand-in-runner.ts). Not the demo's
// runner: that one runs real SQL on PGlite.
const key = '__greenlightStandInRunner';

function state() {
  globalThis[key] ??= { migrations: {}, applied: new Set(), calls: [] };
  return globalThis[key];
}

export async function handler(request) {
  const s = state();
  const id = request.migrationId;
  s.calls.push(`${request.action} ${id}`);
  const migration = s.migrations[id] ?? { up: [] };
  const failure = migration.fail?.[request.action];
  if (failure?.hangMs) await new Promise((resolve) => setTimeout(resolve, failure.hangMs));
  if (failure?.errorType) {
    const error = new Error(failure.errorMessage);
    error.name = failure.errorType;
    throw error;
  }
  const status = () => (s.applied.has(id) ? 'applied' : 'pending');
  switch (request.action) {
    case 'status':
      return { migrationId: id, status: status() };
    case 'plan':
      return { migrationId: id, status: status(), statements: [...migration.up] };
    case 'apply': {
      const ran = !s.applied.has(id);
      s.applied.add(id);
      return {
        migrationId: id,
        status: 'applied',
        ran,
        evidence: { statements: migration.up.length },
      };
    }
    case 'revert': {
      const ran = s.applied.delete(id);
      return { migrationId: id, status: ran ? 'reverted' : status(), ran };
    }
    default:
      throw Object.assign(new Error(`unknown action ${request.action}`), { name: 'BadRequest' });
  }
}
