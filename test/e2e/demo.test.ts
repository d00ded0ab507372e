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
    // The shop's blue slot stays warm (an hour), priced from its running Fargate tasks.
    expect(outcomes[3]?.release.idle).toMatchObject({ colour: 'a', live: 'b', state: 'warm' });
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
