import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveReleaseId } from '../../src/core/release-id.ts';
import { DemoShop } from '../../src/local/data-plane/local-alb.ts';
import { DemoDatabase, ShopMigrationId } from '../../src/local/demo-database.ts';
import { type GreenlightLocal, startGreenlightLocal } from '../../src/local/greenlight-local.ts';
import {
  type MigrationDemoOutcome,
  migrationDemo,
  runMigrationDemo,
} from '../../src/local/migration-demo.ts';
import { eventually } from '../support/eventually.ts';
import { requestRelease, waitForPhase } from './local-release.ts';

// The migration story `npm start` tells, on the real PostgreSQL (PGlite over the wire protocol)
// and the shop's real runner (`shop-migrations`), through the real workflow: each step's
// outcome, the ledger's evidence, the runner's own bookkeeping and what the shop's colours run.
let local: GreenlightLocal;
let lines: string[];
let result: MigrationDemoOutcome;

beforeAll(async () => {
  local = await startGreenlightLocal({ database: true });
  // As in `npm start`, the shop has a finalized release before the story (1.1.0 over 1.0.0),
  // whose blue is torn down by its schedule: the build a late rollback brings back.
  await requestRelease(local, {
    service: 'shop',
    version: '1.1.0',
    artifact: { imageUri: DemoShop.image('1.1.0') },
  });
  const first = await waitForPhase(local, deriveReleaseId('shop', '1.1.0', 1));
  expect(first.phase).toBe('Finalized');
  await eventually(
    async () =>
      (await local.ledger.getRelease(first.releaseId))?.idle?.state === 'torn-down' || undefined,
    { what: 'shop 1.1.0’s blue torn down at the end of its 5 s warm window', timeoutMs: 30_000 },
  );
  lines = [];
  result = await runMigrationDemo(local, (line) => lines.push(line), { color: false });
}, 240_000);

afterAll(async () => {
  await local?.close();
});

const text = () => lines.join('\n');

async function runnerStatus(migrationId: string, kind = 'expand'): Promise<string> {
  const lambda = new LambdaClient(local.clientConfig);
  try {
    const reply = await lambda.send(
      new InvokeCommand({
        FunctionName: DemoDatabase.runnerFunction,
        Payload: JSON.stringify({
          greenlight: 1,
          action: 'status',
          migrationId,
          kind,
          service: 'shop',
          releaseId: 'test',
        }),
      }),
    );
    return (JSON.parse(Buffer.from(reply.Payload ?? []).toString()) as { status: string }).status;
  } finally {
    lambda.destroy();
  }
}

describe('the migration demo', () => {
  it('ends each step as expected', () => {
    expect(result.outcomes.map((o) => [o.version, o.release.phase])).toEqual([
      [migrationDemo.breaking.version, 'RolledBack'],
      [migrationDemo.expand.version, 'Finalized'],
      [migrationDemo.lateRollback.version, 'Finalized'],
      [migrationDemo.contract.version, 'Finalized'],
    ]);
  });

  it('refuses the breaking expand before anything ran, with the classifier’s reason', async () => {
    const refused = result.outcomes[0]?.release;
    expect(refused?.reason).toMatch(
      /^All traffic back on blue \(green had 0%\) after MigrationRefused: Expand shop-002-rename-note-to-gift-message refused before anything ran: .*renames-column \[renaming-column\]: renames orders\.note to gift_message/,
    );
    expect(result.refusedStatus).toBe('pending');
    expect(await runnerStatus(ShopMigrationId.RenameNote)).toBe('pending');
    const steps = await local.ledger.listSteps(refused?.releaseId ?? '');
    expect(steps.map((s) => s.key)).not.toContain('migrate-apply');
    expect(text()).toContain('sql ALTER TABLE orders RENAME COLUMN note TO gift_message');
    expect(text()).toContain(
      'runner     shop-002-rename-note-to-gift-message: pending (never applied)',
    );
  });

  it('applies the expand with blue re-tested through the database, and prints its timeline', async () => {
    const expanded = result.outcomes[1]?.release;
    expect(expanded?.migrationState).toMatchObject({
      id: ShopMigrationId.AddGiftMessage,
      status: 'applied',
    });
    const steps = await local.ledger.listSteps(expanded?.releaseId ?? '');
    expect(steps.map((s) => `${s.key}:${s.outcome}`)).toEqual(
      expect.arrayContaining([
        'migrate-plan:succeeded',
        'migrate-classify:succeeded',
        'migrate-apply:succeeded',
        'migrate-blue-test:succeeded',
      ]),
    );
    // Blue's re-test wrote and read an order through the database with blue's (1.1.0) code.
    const blueTest = steps.find((s) => s.key === 'migrate-blue-test');
    expect(JSON.stringify(blueTest?.evidence)).toContain('POST /orders');
    expect(text()).toContain('sql ALTER TABLE orders ADD COLUMN gift_message text');
    expect(text()).toMatch(
      /migrate +succeeded After expand shop-001-add-gift-message: blue \([ab]\) passed its 4 tests again/,
    );
    expect(text()).toContain('test POST /orders: passed (status 201');
  });

  it('re-provisions blue after the warm window as a rollback release through tests and gates', async () => {
    const expanded = result.outcomes[1]?.release;
    const rollback = result.outcomes[2]?.release;
    expect(result.rollback).toMatchObject({
      outcome: 'applied',
      newReleaseId: rollback?.releaseId,
    });
    expect(rollback).toMatchObject({
      version: '1.1.0',
      attempt: 2,
      rollbackOf: expanded?.releaseId,
      artifact: { imageUri: DemoShop.image('1.1.0') },
    });
    const steps = (await local.ledger.listSteps(rollback?.releaseId ?? '')).map((s) => s.step);
    expect(steps).toEqual(
      expect.arrayContaining(['register', 'provision', 'test', 'gate', 'finalize']),
    );
    // Not the migration again: the expand stays applied, and 1.1.0 works on it.
    expect(steps).not.toContain('migrate');
    expect(text()).toContain(`Rollback of ${expanded?.releaseId} requested by demo`);
  });

  it('applies the contract at the teardown of the last colour running older code', async () => {
    const contract = result.outcomes[3]?.release;
    expect(contract?.migrationState).toMatchObject({
      id: ShopMigrationId.DropNote,
      status: 'applied',
    });
    expect(contract?.idle?.state).toBe('torn-down');
    expect(result.contractStatus).toBe('applied');
    expect(await runnerStatus(ShopMigrationId.DropNote, 'contract')).toBe('applied');
    const steps = await local.ledger.listSteps(contract?.releaseId ?? '');
    expect(steps.map((s) => `${s.key}:${s.outcome}`)).toEqual(
      expect.arrayContaining(['contract-plan:succeeded', 'contract-apply:succeeded']),
    );
    expect(text()).toContain('sql ALTER TABLE orders DROP COLUMN note');
  });

  it('then refuses a rollback: the build before needs the column the contract dropped', () => {
    expect(result.refusedRollback.outcome).toBe('refused');
    expect(result.refusedRollback.message).toContain(
      `applied contract ${ShopMigrationId.DropNote}`,
    );
    expect(text()).toMatch(/greenlight rollback shop: refused: .*fix forward/);
  });
});
