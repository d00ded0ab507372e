import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runApprovalDemo } from '../../src/local/approval-demo.ts';
import { runDemo } from '../../src/local/demo.ts';
import { type GreenlightLocal, startGreenlightLocal } from '../../src/local/greenlight-local.ts';

// What `npm start` shows a newcomer, checked: the demo registry, artifacts and alarms as shipped.
let local: GreenlightLocal;

beforeAll(async () => {
  local = await startGreenlightLocal();
});

afterAll(async () => {
  await local?.close();
});

describe('runDemo', () => {
  it('finalizes the good release and rolls back the broken and the faulty one, printing timelines', async () => {
    const lines: string[] = [];
    const outcomes = await runDemo(local, (line) => lines.push(line), { color: false });

    expect(outcomes.map((o) => [o.version, o.release.phase])).toEqual([
      ['1.1.0', 'Finalized'],
      ['1.2.0', 'RolledBack'],
      ['1.3.0', 'RolledBack'],
    ]);
    expect(outcomes[1]?.release.reason).toContain('GreenTestFailed');
    expect(outcomes[2]?.release.reason).toContain(
      'AlarmGateFailed: Alarm checkout-errors entered ALARM',
    );
    const text = lines.join('\n');
    expect(text).toContain('[##------------------] 10% green');
    expect(text).toMatch(/users saw {2}\d+ requests: .*, 0 dropped/);
    expect(local.lambda.describe('checkout').alias).toMatchObject({ version: '2', weights: {} });
  });

  it('runs the approval demo to the end by itself: the stand-in approver clicks Approve', async () => {
    const lines: string[] = [];
    const outcome = await runApprovalDemo(local, (line) => lines.push(line), { color: false });

    expect(outcome.release.phase).toBe('Finalized');
    expect(lines.join('\n')).toContain('lead (U0DEMOLEAD) clicks Approve: HTTP 200');
    expect(local.lambda.describe('payments').alias).toMatchObject({ version: '2', weights: {} });
  });
});
