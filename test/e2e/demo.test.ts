import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runApprovalDemo } from '../../src/local/approval-demo.ts';
import { DemoShop } from '../../src/local/data-plane/local-alb.ts';
import { runDemo } from '../../src/local/demo.ts';
import { ShopMigrationId } from '../../src/local/demo-database.ts';
import { type GreenlightLocal, startGreenlightLocal } from '../../src/local/greenlight-local.ts';
import {
  type MigrationDemoOutcome,
  migrationDemo,
  runMigrationDemo,
} from '../../src/local/migration-demo.ts';
import { runnerStatus } from './shop-migrations.ts';

// What `npm start` shows a newcomer, checked: the demo registry, artifacts and alarms as shipped,
// with the shop's real PostgreSQL (PGlite over the wire protocol) and its real migration runner.
let local: GreenlightLocal;
let result: MigrationDemoOutcome;
const migrationLines: string[] = [];
const migrationText = () => migrationLines.join('\n');

beforeAll(async () => {
  local = await startGreenlightLocal({ database: true });
});

afterAll(async () => {
  await local?.close();
});

describe('runDemo', () => {
  it('finalizes the good releases and rolls back the broken and the faulty ones, printing timelines', async () => {
    const lines: string[] = [];
    const outcomes = await runDemo(local, (line) => lines.push(line), { color: false });

    expect(outcomes.map((o) => [o.service, o.version, o.release.phase])).toEqual([
      ['checkout', '1.1.0', 'Finalized'],
      ['checkout', '1.2.0', 'RolledBack'],
      ['checkout', '1.3.0', 'RolledBack'],
      ['shop', '1.1.0', 'Finalized'],
      ['shop', '1.3.0', 'RolledBack'],
    ]);
    // Rolled back by its alarm: the alarm's event cuts the bake short, or, on a machine too
    // loaded for the alarm to fire within the demo's short bake, the gate check after it does
    // (lambda-release and alb-release hold the event's path, with bakes only an alarm ends;
    // backstop.test.ts the gate check's).
    expect(outcomes[4]?.release.reason).toMatch(
      /AlarmGateFailed: Alarm shop-target-5xx (entered|in) ALARM/,
    );
    expect(outcomes[1]?.release.reason).toContain('GreenTestFailed');
    expect(outcomes[2]?.release.reason).toMatch(
      /AlarmGateFailed: Alarm checkout-errors (entered|in) ALARM/,
    );
    const text = lines.join('\n');
    expect(text).toContain('[##------------------] 10% green');
    expect(text).toMatch(/users saw {2}\d+ requests: .*, 0 dropped/);
    // The good release's blue is torn down by its schedule before the demo moves on.
    expect(outcomes[0]?.release.idle).toMatchObject({ colour: '1', state: 'torn-down' });
    expect(text).toContain(
      'teardown       succeeded [####################] 100% green Idle colour 1 torn down at the end of its warm window: Deleted version 1 (beyond the newest 1)',
    );
    // Each release has one message in the updates channel, updated to where it ended: the good
    // one through its blue's teardown, the faulty one rolled back.
    expect(text).toMatch(
      /slack {6}C0DEPLOYS: "checkout 1\.1\.0: :broom: Idle colour 1 torn down" \(updated \d+x, 6 replies in thread\)/,
    );
    expect(text).toContain('"checkout 1.3.0: :leftwards_arrow_with_hook: Rolled back"');
    expect(text).toContain('"shop 1.3.0: :leftwards_arrow_with_hook: Rolled back"');
    expect(local.lambda.describe('checkout').alias).toMatchObject({ version: '2', weights: {} });
    expect(local.lambda.describe('checkout').versions).not.toContain('1');
    // Under HTTP load through the listener: no request failed, 5xx only from the faulty green.
    const shopLoads = text.match(/users saw {2}\d+ requests, \d+ failed: .*/g) ?? [];
    expect(shopLoads).toHaveLength(2);
    expect(shopLoads[0]).toMatch(/, 0 failed: shop-a 1\.0\.0 \d+ ok, shop-b 1\.1\.0 \d+ ok$/);
    expect(shopLoads[1]).toMatch(
      /, 0 failed: shop-a 1\.3\.0-5xx \d+ ok \/ \d+ 5xx, shop-b 1\.1\.0 \d+ ok$/,
    );
    // The shop's blue slot, priced from its running Fargate tasks while warm, is torn down by its
    // schedule before the next release (with the database, the shop keeps blue warm for 2 s).
    expect(outcomes[3]?.release.idle).toMatchObject({
      colour: 'a',
      live: 'b',
      state: 'torn-down',
    });
    expect(outcomes[3]?.release.idle?.cost?.basis).toContain('Fargate');
    const shop = local.shop;
    expect(shop && local.alb.elbv2.weightsOf(shop.listenerArn)).toEqual({
      [shop?.slots.a.targetGroupArn ?? '']: 0,
      [shop?.slots.b.targetGroupArn ?? '']: 100,
    });
  });

  it('runs the approval demo to the end by itself: the stand-in approver clicks Approve', async () => {
    const lines: string[] = [];
    const outcome = await runApprovalDemo(local, (line) => lines.push(line), { color: false });

    expect(outcome.release.phase).toBe('Finalized');
    expect(lines.join('\n')).toContain('lead (U0DEMOLEAD) clicks Approve: HTTP 200');
    expect(local.lambda.describe('payments').alias).toMatchObject({ version: '2', weights: {} });
  });
});

// Last, as `npm start` runs it: the shop already has a finalized release (1.1.0, from runDemo),
// the build a late rollback brings back. Run the whole file, not this describe alone.
describe('runMigrationDemo', () => {
  beforeAll(async () => {
    result = await runMigrationDemo(local, (line) => migrationLines.push(line), { color: false });
  }, 240_000);

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
    expect(await runnerStatus(local, ShopMigrationId.RenameNote)).toBe('pending');
    const steps = await local.ledger.listSteps(refused?.releaseId ?? '');
    expect(steps.map((s) => s.key)).not.toContain('migrate-apply');
    expect(migrationText()).toContain('sql ALTER TABLE orders RENAME COLUMN note TO gift_message');
    expect(migrationText()).toContain(
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
    expect(migrationText()).toContain('sql ALTER TABLE orders ADD COLUMN gift_message text');
    expect(migrationText()).toMatch(
      /migrate +succeeded After expand shop-001-add-gift-message: blue \([ab]\) passed its 4 tests again/,
    );
    expect(migrationText()).toContain('test POST /orders: passed (status 201');
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
    expect(migrationText()).toContain(`Rollback of ${expanded?.releaseId} requested by demo`);
  });

  it('applies the contract at the teardown of the last colour running older code', async () => {
    const contract = result.outcomes[3]?.release;
    expect(contract?.migrationState).toMatchObject({
      id: ShopMigrationId.DropNote,
      status: 'applied',
    });
    expect(contract?.idle?.state).toBe('torn-down');
    expect(result.contractStatus).toBe('applied');
    expect(await runnerStatus(local, ShopMigrationId.DropNote, 'contract')).toBe('applied');
    const steps = await local.ledger.listSteps(contract?.releaseId ?? '');
    expect(steps.map((s) => `${s.key}:${s.outcome}`)).toEqual(
      expect.arrayContaining(['contract-plan:succeeded', 'contract-apply:succeeded']),
    );
    expect(migrationText()).toContain('sql ALTER TABLE orders DROP COLUMN note');
  });

  it('then refuses a rollback: the build before needs the column the contract dropped', () => {
    expect(result.refusedRollback.outcome).toBe('refused');
    expect(result.refusedRollback.message).toContain(
      `applied contract ${ShopMigrationId.DropNote}`,
    );
    expect(migrationText()).toMatch(/greenlight rollback shop: refused: .*fix forward/);
  });
});
