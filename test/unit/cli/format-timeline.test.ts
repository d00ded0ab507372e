import { describe, expect, it } from 'vitest';
import {
  formatBar,
  formatDuration,
  formatForwardOnly,
  formatMigration,
  formatStep,
  formatTimeline,
  shouldUseColor,
} from '../../../src/cli/format-timeline.ts';
import { isInertText } from '../../../src/core/inert-text.ts';
import { aReleaseRecord } from '../../support/builders.ts';
import { aStep } from './fixtures.ts';

const plain = { color: false };

describe('formatBar', () => {
  it.each([
    [0, '[--------------------] 0% green'],
    [10, '[##------------------] 10% green'],
    [50, '[##########----------] 50% green'],
    [12.5, '[###-----------------] 12.5% green'],
    [100, '[####################] 100% green'],
    [140, '[####################] 100% green'],
  ])('renders %d% as %s', (percent, bar) => {
    expect(formatBar(percent)).toBe(bar);
  });
});

describe('formatDuration', () => {
  it.each([
    [850, '850ms'],
    [42_000, '42s'],
    [125_000, '2m05s'],
    [3_720_000, '1h02m'],
    [-1, '?'],
  ])('renders %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('shouldUseColor', () => {
  it('uses colour only on a terminal', () => {
    expect(shouldUseColor({}, true)).toBe(true);
    expect(shouldUseColor({}, false)).toBe(false);
  });

  it('never uses colour when NO_COLOR is set, even on a terminal', () => {
    expect(shouldUseColor({ NO_COLOR: '1' }, true)).toBe(false);
  });

  it('ignores an empty NO_COLOR, as no-color.org asks', () => {
    expect(shouldUseColor({ NO_COLOR: '' }, true)).toBe(true);
  });
});

describe('formatStep', () => {
  const failed = aStep({
    key: 'test',
    at: '2026-11-21T10:00:40Z',
    outcome: 'failed',
    reason: 'health failed',
    evidence: {
      tests: [
        {
          name: 'health',
          passed: false,
          statusCode: 500,
          detail: 'statusCode: expected 200',
          durationMs: 95,
        },
      ],
      error: { name: 'GreenTestFailed', message: '1 of 1 tests failed' },
    },
  });

  it('writes the time, time since the previous step, outcome, reason and evidence', () => {
    expect(formatStep(failed, '2026-11-21T10:00:00Z', plain)).toEqual([
      '  10:00:40 +40s    test           failed    health failed',
      '      test health: failed (status 500, 95ms) - statusCode: expected 200',
      '      GreenTestFailed: 1 of 1 tests failed',
    ]);
  });

  it('says who decided under the step: the typed name and the AWS principal vouching for it', () => {
    const approval = aStep({
      key: 'approval#before-shift',
      at: '2026-11-21T10:01:00Z',
      reason: 'Approved by dana via cli at 2026-11-21T10:01:00Z',
      identity: {
        source: 'aws-sts',
        actor: 'dana',
        principalArn: 'arn:aws:sts::123456789012:assumed-role/Leads/dana@example.com',
        approver: 'U0DANA',
      },
    });
    const click = aStep({
      key: 'approval#before-finalize',
      at: '2026-11-21T10:02:00Z',
      reason: 'Approved by lee (U0LEE) via slack',
      identity: { source: 'slack-signature', actor: 'lee', slackUserId: 'U0LEE' },
    });

    expect(formatStep(approval, undefined, plain)).toEqual([
      '  10:01:00         approval       succeeded Approved by dana via cli at 2026-11-21T10:01:00Z',
      '      by dana, AWS principal arn:aws:sts::123456789012:assumed-role/Leads/dana@example.com (STS GetCallerIdentity), deciding as approver U0DANA',
    ]);
    expect(formatStep(click, undefined, plain)[1]).toBe(
      '      by lee (U0LEE), Slack user (request signature verified)',
    );
  });

  it('shows a typed name that carries escape sequences as inert text', () => {
    const step = aStep({
      key: 'operator#event-1',
      at: '2026-11-21T10:01:00Z',
      identity: {
        source: 'aws-sts',
        actor: 'dana\u001b[2J\u001b]8;;https://evil.example\u0007',
        principalArn: 'arn:aws:iam::123456789012:user/dana',
      },
    });

    const [, who] = formatStep(step, undefined, plain);

    expect(who).toBe(
      '      by dana\\u001b[2J\\u001b]8;;https://evil.example\\u0007, AWS principal arn:aws:iam::123456789012:user/dana (STS GetCallerIdentity)',
    );
    expect(isInertText(who ?? '')).toBe(true);
  });

  it('colours the outcome only when asked', () => {
    const [line] = formatStep(failed, undefined, { color: true });
    expect(line).toContain('\u001b[31mfailed   \u001b[0m');
    expect(formatStep(failed, undefined, plain).join('\n')).not.toContain('\u001b');
  });

  it('lists field issues of a rejected release', () => {
    const rejected = aStep({
      key: 'register',
      at: '2026-11-21T10:00:01Z',
      phase: 'Rejected',
      outcome: 'failed',
      reason: 'Unknown service',
      evidence: { issues: [{ path: 'detail.service', message: 'is not registered' }] },
    });
    expect(formatStep(rejected, undefined, plain)[1]).toBe(
      '      detail.service: is not registered',
    );
  });

  it('lists the warnings a target gave at provisioning', () => {
    const provisioned = aStep({
      key: 'provision',
      at: '2026-11-21T10:00:20Z',
      outcome: 'succeeded',
      reason: 'Green is slot b; blue stays slot a',
      evidence: { warnings: ['Sticky sessions on shop-a (blue): they move to green at finalize'] },
    });
    expect(formatStep(provisioned, undefined, plain).slice(1)).toEqual([
      '      warning Sticky sessions on shop-a (blue): they move to green at finalize',
    ]);
  });
});

describe('formatStep for migrations', () => {
  it('shows a plan’s statements and its refused classification', () => {
    const classified = aStep({
      key: 'migrate-classify',
      step: 'migrate',
      at: '2026-11-21T10:00:20Z',
      outcome: 'failed',
      reason: 'Refused expand 0002_rename (1 statements): renames a column blue reads',
      evidence: {
        migration: {
          migrationId: '0002_rename',
          kind: 'expand',
          reply: { status: 'pending', statements: ['ALTER TABLE orders RENAME total TO amount'] },
          classification: {
            verdict: 'refused',
            reasons: ['renames a column blue reads'],
            statements: 1,
            refused: [
              {
                index: 0,
                text: 'ALTER TABLE orders RENAME total TO amount',
                effects: ['renames-column'],
              },
            ],
          },
        },
      },
    });
    expect(formatStep(classified, undefined, plain).slice(1)).toEqual([
      '      sql ALTER TABLE orders RENAME total TO amount',
      '      classified 1 statements: refused',
      '        #1 renames-column: ALTER TABLE orders RENAME total TO amount',
    ]);
  });

  it('shows the runner’s own error type', () => {
    const failed = aStep({
      key: 'migrate-apply',
      step: 'migrate',
      at: '2026-11-21T10:00:30Z',
      outcome: 'failed',
      reason: 'Migration runner apply of 0004 failed',
      evidence: {
        migration: {
          migrationId: '0004',
          kind: 'expand',
          action: 'apply',
          error: {
            name: 'MigrationRunnerFailed',
            message: 'PgError: deadlock',
            errorType: 'PgError',
          },
        },
      },
    });
    expect(formatStep(failed, undefined, plain).slice(1)).toEqual([
      '      MigrationRunnerFailed (PgError): PgError: deadlock',
    ]);
  });
});

describe('formatForwardOnly', () => {
  const forwardOnly = { migrationId: '0009_drop_note', since: '2026-11-21T10:00:00Z' };

  it('says a held release is held and what an operator can do', () => {
    const held = aReleaseRecord({ phase: 'Held', forwardOnly });
    expect(formatForwardOnly(held)).toBe(
      `forward-only since irreversible 0009_drop_note ran at 2026-11-21T10:00:00Z; HELD with traffic where it was: "greenlight promote ${held.releaseId}" finalizes, "greenlight abort ${held.releaseId} --knowingly --reason ..." rolls back to code the data may not fit`,
    );
  });

  it('says who rolled it back knowingly, and nothing for a release that is not forward-only', () => {
    const knowing = { by: 'dana', at: '2026-11-21T10:05:00Z', reason: 'data fits blue' };
    expect(
      formatForwardOnly(
        aReleaseRecord({
          phase: 'RolledBack',
          forwardOnly: { ...forwardOnly, rolledBackKnowingly: knowing },
        }),
      ),
    ).toMatch(/; rolled back knowingly by dana at 2026-11-21T10:05:00Z: data fits blue$/);
    expect(formatForwardOnly(aReleaseRecord())).toBeUndefined();
  });
});

describe('formatMigration', () => {
  const contract = { id: '0202_drop', kind: 'contract' as const, completes: '0201_add' };

  it('says when a pending contract will be applied', () => {
    const finalized = aReleaseRecord({
      phase: 'Finalized',
      migration: contract,
      idle: {
        colour: '1',
        live: '2',
        idleSince: '2026-11-21T10:00:00Z',
        teardownAt: '2026-11-21T10:15:00Z',
        state: 'warm',
        reason: 'warm for a rollback',
      },
    });
    expect(formatMigration(finalized)).toBe(
      'contract 0202_drop (completes 0201_add): pending, applied when blue 1 is torn down at 2026-11-21T10:15:00Z',
    );
  });

  it('says a contract of a release that did not finalize was never applied', () => {
    const rolledBack = aReleaseRecord({ phase: 'RolledBack', migration: contract });
    expect(formatMigration(rolledBack)).toBe(
      'contract 0202_drop (completes 0201_add): never applied, the release ended RolledBack',
    );
  });

  it('says where an applied migration stands, and nothing without one', () => {
    const applied = aReleaseRecord({
      migration: contract,
      migrationState: {
        id: '0202_drop',
        kind: 'contract',
        status: 'applied',
        at: '2026-11-21T10:15:01Z',
        reason: 'Contract 0202_drop applied',
      },
    });
    expect(formatMigration(applied)).toBe(
      'contract 0202_drop (completes 0201_add): applied at 2026-11-21T10:15:01Z - Contract 0202_drop applied',
    );
    expect(formatMigration(aReleaseRecord())).toBeUndefined();
  });
});

describe('formatStep for gates', () => {
  it('shows a held gate with each metric gate’s verdict, window, holds and queries', () => {
    const held = aStep({
      key: 'gate#0#hold#2',
      step: 'gate',
      at: '2026-11-21T10:06:00Z',
      outcome: 'held',
      greenPercent: 10,
      reason: 'Holding 60s',
      evidence: {
        alarms: [
          {
            name: 'checkout-errors',
            state: 'OK',
            reason: '',
            updatedAt: '2026-11-21T10:00:00Z',
            namespace: 'AWS/Lambda',
            metric: 'Errors',
            dimensions: { FunctionName: 'checkout', Resource: 'checkout:live' },
          },
        ],
        metrics: [
          {
            gate: 'errors',
            metric: 'error-rate',
            verdict: 'inconclusive',
            reason: 'green had 12 of the 100 samples needed in the last 300s',
            green: { value: 0, samples: 12 },
            blue: { value: 0, samples: 108 },
            threshold: { maxAboveBlue: 1, minSamples: 100 },
            window: { start: '2026-11-21T10:01:00Z', end: '2026-11-21T10:06:00Z' },
            queries: [
              {
                id: 'green_failures',
                colour: 'green',
                namespace: 'AWS/Lambda',
                metric: 'Errors',
                dimensions: { ExecutedVersion: '8' },
                stat: 'Sum',
                datapoints: 0,
              },
              {
                id: 'green_requests',
                colour: 'green',
                namespace: 'AWS/Lambda',
                metric: 'Invocations',
                dimensions: { ExecutedVersion: '8' },
                stat: 'Sum',
                value: 12,
                datapoints: 1,
              },
            ],
            holds: 1,
            heldSeconds: 60,
          },
        ],
      },
    });

    expect(formatStep(held, '2026-11-21T10:05:00Z', plain)).toEqual([
      '  10:06:00 +1m00s  gate           held      [##------------------] 10% green Holding 60s',
      '      alarm checkout-errors (AWS/Lambda Errors{FunctionName=checkout, Resource=checkout:live}): OK',
      '      metric errors (error-rate): inconclusive - green had 12 of the 100 samples needed in the last 300s',
      '        window 10:01:00-10:06:00, held 1x, 60s',
      '        green AWS/Lambda Errors{ExecutedVersion=8} Sum = no data (0 datapoints)',
      '        green AWS/Lambda Invocations{ExecutedVersion=8} Sum = 12 (1 datapoint)',
    ]);
    expect(formatStep(held, undefined, { color: true })[0]).toContain(
      '\u001b[33mheld     \u001b[0m',
    );
  });
});

describe('formatTimeline', () => {
  it('orders steps by time and measures each from the one before', () => {
    const lines = formatTimeline(
      [
        aStep({ key: 'shift#1', at: '2026-11-21T10:06:00Z', greenPercent: 100 }),
        aStep({ key: 'shift#0', at: '2026-11-21T10:01:00Z', greenPercent: 50 }),
      ],
      '2026-11-21T10:00:00Z',
      plain,
    );
    expect(lines).toEqual([
      '  10:01:00 +1m00s  shift          succeeded [##########----------] 50% green done',
      '  10:06:00 +5m00s  shift          succeeded [####################] 100% green done',
    ]);
  });
});
