import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../../src/cli/exit-codes.ts';
import { parsePlanArgs, runPlanCommand } from '../../../src/cli/plan-command.ts';
import { isInertText } from '../../../src/core/inert-text.ts';
import type { PlanPorts, TargetInspection } from '../../../src/core/plan.ts';
import type { AlarmEvidence } from '../../../src/core/records.ts';
import { StaticServiceRegistry } from '../../../src/core/registry.ts';
import { aService, aTime } from '../../support/builders.ts';
import { aContext } from './fixtures.ts';

const alarm: AlarmEvidence = {
  name: 'checkout-errors',
  state: 'OK',
  reason: '',
  updatedAt: aTime,
  namespace: 'AWS/Lambda',
  metric: 'Errors',
  dimensions: { FunctionName: 'checkout', ExecutedVersion: '8' },
};

function fakePorts(inspection: TargetInspection, alarms: AlarmEvidence[] = [alarm]) {
  const seen: { options?: unknown; now?: number } = {};
  const connect = (options: unknown, _env: unknown, now: () => number): PlanPorts => {
    seen.options = options;
    seen.now = now();
    return {
      registry: new StaticServiceRegistry([
        aService({
          approval: { type: 'slack', channel: 'C0RELEASES', approvers: ['U024BE7LH'] },
          warmWindowSeconds: 3600,
        }),
      ]),
      inspectorFor: () => ({ inspect: async () => inspection }),
      idleCost: async () => ({ hourlyUsd: 0.0741, basis: 'provisioned concurrency 5 x 1024 MB' }),
      alarms: { describe: async () => alarms },
      metrics: { query: async () => [] },
      now: new Date(now()),
    };
  };
  return { connect, seen };
}

const ready: TargetInspection = {
  checks: [{ check: 'alias checkout:live', ok: true, detail: 'exists' }],
  colours: { blue: '7', green: '8' },
};

describe('greenlight plan', () => {
  it('prints the checks and the plan, and exits 0 when every check passes', async () => {
    const { context, out } = aContext();
    const { connect, seen } = fakePorts(ready);
    const code = await runPlanCommand(
      [
        '--service',
        'checkout',
        '--version',
        '1.4.2',
        '--s3',
        's3://greenlight-artifacts/checkout/1.4.2.zip',
        '--registry-table',
        'reg',
      ],
      context,
      connect,
    );
    expect(code).toBe(ExitCode.Finalized);
    expect(seen).toEqual({
      options: expect.objectContaining({ registryTable: 'reg' }),
      now: Date.parse(aTime),
    });
    expect(out).toEqual([
      'Plan for checkout 1.4.2 (strategy canary)',
      '',
      'Checks:',
      '  ok    registry: checkout is registered',
      '  ok    strategy: canary (canary), 2 steps',
      '  ok    alias checkout:live: exists',
      '  ok    artifact: s3://greenlight-artifacts/checkout/1.4.2.zip is from an artifact source of checkout (whether it can be read is not checked)',
      '  ok    alarm checkout-errors: OK, watches green',
      '  ok    approval channel C0RELEASES: not checked: no SLACK_BOT_TOKEN; set it to ask Slack whether the bot can post there',
      '',
      'Blue is 7; green would be 8.',
      'Steps:',
      '  1. 10% on green, bake 1m00s',
      '  2. 100% on green, no bake',
      '  about 1m00s of bakes, plus provisioning and tests',
      '',
      'Gates:',
      '  alarm checkout-errors (watches green)',
      '',
      'Approval: Slack C0RELEASES (before-shift) by U024BE7LH; after 24h00m without a decision: reject',
      'Warm window: blue stays warm 1h00m after finalize, costing ~$0.0741/h (provisioned concurrency 5 x 1024 MB)',
      '',
      'Ready: every check passed.',
    ]);
  });

  it('exits 9 when a check fails, with --json as machines read it', async () => {
    const { context, out } = aContext();
    const code = await runPlanCommand(
      ['--service', 'checkout', '--json'],
      context,
      fakePorts(ready, []).connect,
    );
    expect(code).toBe(ExitCode.NotReady);
    const plan = JSON.parse(out.join('\n'));
    expect(plan.ok).toBe(false);
    expect(plan.checks).toContainEqual({
      check: 'alarm checkout-errors',
      ok: false,
      detail: expect.stringContaining('does not exist'),
    });
    expect(plan.steps).toEqual([
      { index: 0, weight: 10, bakeSeconds: 60, approxSeconds: 60 },
      { index: 1, weight: 100, bakeSeconds: 0, approxSeconds: 0 },
    ]);
  });

  it('makes text from AWS inert before printing it', async () => {
    const { context, out } = aContext();
    const hostile: TargetInspection = {
      checks: [
        { check: 'alias checkout:live', ok: false, detail: 'gone\u001b]8;;https://evil\u0007' },
      ],
    };
    const code = await runPlanCommand(
      ['--service', 'checkout'],
      context,
      fakePorts(hostile).connect,
    );
    expect(code).toBe(ExitCode.NotReady);
    expect(out.every(isInertText)).toBe(true);
    expect(out.at(-1)).toBe('Not ready: 1 check failed; a release now would fail.');
  });

  it('refuses a line without --service as a usage error, sending nothing', async () => {
    const { context, err } = aContext();
    let connected = false;
    const code = await runPlanCommand(['--version', '1'], context, () => {
      connected = true;
      throw new Error('not reached');
    });
    expect(code).toBe(ExitCode.Usage);
    expect(connected).toBe(false);
    expect(err[0]).toBe('greenlight plan: Give the service to plan for with --service NAME.');
  });

  it('refuses two artifacts', async () => {
    const { context, err } = aContext();
    const code = await runPlanCommand(
      ['--service', 'checkout', '--s3', 's3://b/k', '--image', 'repo:1'],
      context,
      fakePorts(ready).connect,
    );
    expect(code).toBe(ExitCode.Usage);
    expect(err[0]).toContain('Give at most one artifact');
  });

  it('reads the registry table from the environment', () => {
    expect(
      parsePlanArgs(['--service', 'checkout'], { GREENLIGHT_REGISTRY_TABLE: 'stage-registry' }),
    ).toMatchObject({ service: 'checkout', shared: { registryTable: 'stage-registry' } });
  });
});
