// The end-to-end tests' migration runner as an ECS task: the local ECS runs this module as the
// container's process (src/local/ecs/one-off-tasks.ts), once per request. It honours the
// runner contract of src/core/migration.ts: reads GREENLIGHT_MIGRATION_REQUEST, prints one
// `GREENLIGHT_MIGRATION_REPLY <json>` line on stdout and exits 0. Its bookkeeping is a JSON file
// (STAND_IN_STATE), since every task is a new process. A migration id containing "fails" fails
// its apply (exit 1); one containing "hangs" never finishes its apply.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

const statePath = process.env.STAND_IN_STATE;
const request = JSON.parse(process.env.GREENLIGHT_MIGRATION_REQUEST ?? '{}');
const state =
  statePath && existsSync(statePath)
    ? JSON.parse(readFileSync(statePath, 'utf8'))
    : { applied: [], calls: [] };
// Written aside, then renamed: a test reading the file never sees half of it.
const save = () => {
  if (!statePath) return;
  writeFileSync(`${statePath}.${process.pid}`, JSON.stringify(state));
  renameSync(`${statePath}.${process.pid}`, statePath);
};
const { action, migrationId: id } = request;

state.calls.push(`${action} ${id}`);
save();
console.log(`stand-in runner: ${action} ${id} for ${request.releaseId}`);

if (request.greenlight !== 1) {
  console.error(`unknown protocol version ${request.greenlight}`);
  process.exit(2);
}
if (action === 'apply' && id.includes('fails')) {
  console.log('ERROR: deadlock detected while applying');
  console.error('PgError: deadlock detected');
  process.exit(1);
}
if (action === 'apply' && id.includes('hangs')) {
  console.log('waiting for a lock on orders...');
  setInterval(() => {}, 60_000);
} else {
  const applied = state.applied.includes(id);
  const column = id.replace(/^\d+_/, '').replace(/[^a-z0-9_]/gi, '_');
  let reply;
  if (action === 'plan') {
    reply = {
      status: applied ? 'applied' : 'pending',
      statements: [`ALTER TABLE orders ADD COLUMN ${column} text`],
    };
  } else if (action === 'apply') {
    if (!applied) state.applied.push(id);
    reply = { status: 'applied', ran: !applied, evidence: { runner: 'ecs-task' } };
  } else if (action === 'revert') {
    state.applied = state.applied.filter((each) => each !== id);
    reply = { status: applied ? 'reverted' : 'pending', ran: applied };
  } else {
    reply = { status: applied ? 'applied' : 'pending' };
  }
  save();
  console.log(`GREENLIGHT_MIGRATION_REPLY ${JSON.stringify({ migrationId: id, ...reply })}`);
}
