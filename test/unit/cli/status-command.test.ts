import { describe, expect, it } from 'vitest';
import { runStatusCommand } from '../../../src/cli/status-command.ts';
import { isInertText } from '../../../src/core/inert-text.ts';
import type { StepRecord } from '../../../src/core/records.ts';
import { IdleColourState } from '../../../src/core/records.ts';
import { anIdleColour, aReleaseRecord } from '../../support/builders.ts';
import { aContext, aStep, StoredLedger } from './fixtures.ts';

const rolledBack = aReleaseRecord({
  releaseId: 'checkout-1-4-2-a1-665d64bf8e',
  phase: 'RolledBack',
  reason: 'Alarm checkout-errors in ALARM',
  colours: { blue: '7', green: '8' },
  greenPercent: 0,
  stepIndex: 0,
  requestedAt: '2026-11-21T10:00:00Z',
  updatedAt: '2026-11-21T10:02:30Z',
});
const older = aReleaseRecord({
  releaseId: 'checkout-1-4-1-a1-0123456789',
  version: '1.4.1',
  phase: 'Finalized',
  reason: 'Completed blue-green update',
  greenPercent: 100,
  requestedAt: '2026-11-20T09:00:00Z',
  updatedAt: '2026-11-20T09:05:00Z',
});
const steps: StepRecord[] = [
  aStep({
    key: 'gate#0',
    at: '2026-11-21T10:02:00Z',
    phase: 'RollingBack',
    outcome: 'failed',
    reason: 'Alarm checkout-errors in ALARM',
    evidence: {
      alarms: [
        {
          name: 'checkout-errors',
          state: 'ALARM',
          reason: 'Threshold crossed',
          updatedAt: '2026-11-21T10:01:58Z',
        },
      ],
    },
  }),
  aStep({
    key: 'test',
    at: '2026-11-21T10:00:40Z',
    phase: 'Testing',
    reason: '1 test passed',
    evidence: {
      tests: [{ name: 'health', passed: true, statusCode: 200, detail: '', durationMs: 120 }],
    },
  }),
  aStep({
    key: 'shift#0',
    at: '2026-11-21T10:01:00Z',
    phase: 'Shifting',
    greenPercent: 10,
    reason: 'Traffic at 10%',
  }),
];

async function status(argv: string[], ledger: StoredLedger, env: Record<string, string> = {}) {
  const io = aContext(env);
  const code = await runStatusCommand(argv, io.context, () => ({ ledger }));
  return { code, ...io };
}

describe('runStatusCommand', () => {
  const ledger = () =>
    new StoredLedger([rolledBack, older], { [rolledBack.releaseId]: steps, [older.releaseId]: [] });

  it('shows phase, reason, colours, traffic and the timeline in time order for a release', async () => {
    const { code, out } = await status(['--release', rolledBack.releaseId], ledger());
    expect(code).toBe(0);
    expect(out).toEqual([
      'checkout 1.4.2 (attempt 1)  checkout-1-4-2-a1-665d64bf8e',
      '  phase      RolledBack  Alarm checkout-errors in ALARM',
      '  traffic    [--------------------] 0% green',
      '  colours    blue 7 -> green 8',
      '  strategy   canary (10% -> 100%)',
      '  requested  2026-11-21T10:00:00Z by dana@example.com, commit 3f9c2a1e8b7d',
      '  took       2m30s (ended 2026-11-21T10:02:30Z)',
      '  ci         github-actions https://github.com/acme/checkout/actions/runs/42',
      '',
      'Timeline',
      '  10:00:40 +40s    test           succeeded 1 test passed',
      '      test health: passed (status 200, 120ms)',
      '  10:01:00 +20s    shift          succeeded [##------------------] 10% green Traffic at 10%',
      '  10:02:00 +1m00s  gate           failed    Alarm checkout-errors in ALARM',
      '      alarm checkout-errors: ALARM - Threshold crossed',
    ]);
  });

  it('prints {release, steps} with steps in time order with --json', async () => {
    const { code, out } = await status(['--release', rolledBack.releaseId, '--json'], ledger());
    expect(code).toBe(0);
    expect(JSON.parse(out.join('\n'))).toEqual({
      release: rolledBack,
      steps: [steps[1], steps[2], steps[0]],
    });
  });

  it('exits 1 with a message when the release is unknown', async () => {
    const { code, out, err } = await status(
      ['--release', 'nope-a1-0000000000', '--ledger-table', 'shop-ledger'],
      ledger(),
    );
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err[0]).toContain('no release nope-a1-0000000000 in ledger table shop-ledger');
  });

  it("lists a service's releases newest first, then the newest one's timeline", async () => {
    const stored = ledger();
    const { code, out } = await status(['--service', 'checkout', '--limit', '5'], stored);
    expect(code).toBe(0);
    expect(stored.listed).toEqual([{ service: 'checkout', limit: 5 }]);
    expect(out.slice(0, 4)).toEqual([
      'checkout: last 2 release(s), newest first',
      '  2026-11-21 10:00 1.4.2        a1   RolledBack         0% green Alarm checkout-errors in ALARM',
      '  2026-11-20 09:00 1.4.1        a1   Finalized        100% green Completed blue-green update',
      '',
    ]);
    expect(out[4]).toBe('checkout 1.4.2 (attempt 1)  checkout-1-4-2-a1-665d64bf8e');
    expect(out.at(-1)).toBe('      alarm checkout-errors: ALARM - Threshold crossed');
  });

  it('prints {service, releases} with --json', async () => {
    const { code, out } = await status(['--service', 'checkout', '--json'], ledger());
    expect(code).toBe(0);
    expect(JSON.parse(out.join('\n'))).toEqual({
      service: 'checkout',
      releases: [rolledBack, older],
      warmWindow: null,
    });
  });

  describe('the idle colour', () => {
    const finalized = aReleaseRecord({
      releaseId: 'checkout-1-4-3-a1-1111111111',
      version: '1.4.3',
      phase: 'Finalized',
      reason: 'All traffic on green; release finalized',
      colours: { blue: '3', green: '4' },
      greenPercent: 100,
      requestedAt: '2026-11-21T09:50:00Z',
      updatedAt: '2026-11-21T10:00:00Z',
      idle: anIdleColour({
        cost: { hourlyUsd: 0.03, basis: 'provisioned concurrency 2 x 128 MB' },
      }),
    });
    const withIdle = () =>
      new StoredLedger([rolledBack, finalized], {
        [rolledBack.releaseId]: steps,
        [finalized.releaseId]: [],
      });

    it('shows when blue goes and what it costs until then', async () => {
      const { out } = await status(['--release', finalized.releaseId], withIdle());
      expect(out[4]).toBe(
        '  idle       blue 3 warm until 2026-11-21T10:15:00.000Z: Teardown scheduled for 2026-11-21T10:15:00.000Z; while it runs ~$0.0300/h (provisioned concurrency 2 x 128 MB)',
      );
    });

    it('shows when blue was torn down and what was done', async () => {
      const tornDown = {
        ...finalized,
        idle: anIdleColour({
          state: IdleColourState.TornDown,
          settledAt: '2026-11-21T10:15:01.000Z',
          reason: 'Removed provisioned concurrency 2 from version 3',
        }),
      };
      const { out } = await status(
        ['--release', finalized.releaseId],
        new StoredLedger([tornDown]),
      );
      expect(out[4]).toBe(
        '  idle       blue 3 torn down at 2026-11-21T10:15:01.000Z: Removed provisioned concurrency 2 from version 3',
      );
    });

    it("says whether the service's last finalized release still rolls back in one switch", async () => {
      const { out } = await status(['--service', 'checkout'], withIdle());
      expect(out[3]).toBe(
        '  warm window of 1.4.3: rollback is one switch - Blue 3 is warm until 2026-11-21T10:15:00.000Z (900s left): a rollback is one switch back',
      );
    });

    it('gives the warm window with --json for an operator rollback to read', async () => {
      const { out } = await status(['--service', 'checkout', '--json'], withIdle());
      expect(JSON.parse(out.join('\n')).warmWindow).toEqual({
        releaseId: finalized.releaseId,
        open: true,
        colours: { blue: '3', green: '4' },
        state: 'warm',
        teardownAt: '2026-11-21T10:15:00.000Z',
        reason:
          'Blue 3 is warm until 2026-11-21T10:15:00.000Z (900s left): a rollback is one switch back',
      });
    });
  });

  it('exits 1 when the service has no releases', async () => {
    const { code, err } = await status(['--service', 'payments'], ledger());
    expect(code).toBe(1);
    expect(err[0]).toContain('no releases of payments');
  });

  describe('with text from a hostile event', () => {
    // Clear the screen, draw an OSC 8 hyperlink, return to the line start and write over it,
    // reverse the text that follows, and a C1 CSI: every field below carries some of it.
    const attack =
      '\u001b[2J\u001b[H\u001b]8;;https://evil.example\u0007docs\u001b]8;;\u0007\r\u202eexe.\u009b2J';
    const hostile = aReleaseRecord({
      releaseId: rolledBack.releaseId,
      actor: `dana${attack}`,
      reason: `Rejected: ${attack}`,
      strategy: `canary${attack}`,
      commit: `3f9c2a1e${attack}`,
      ci: { provider: `gh${attack}`, runUrl: `https://ci.example/${attack}` },
      colours: { blue: `7${attack}`, green: '8' },
      idle: anIdleColour({ reason: `warm ${attack}` }),
      phase: 'RolledBack',
    });
    const hostileSteps = [
      aStep({
        key: 'gate#0',
        at: '2026-11-21T10:02:00Z',
        reason: `gate ${attack}`,
        evidence: {
          alarms: [
            {
              name: `errors${attack}`,
              state: 'ALARM',
              reason: attack,
              updatedAt: '2026-11-21T10:01:58Z',
              dimensions: { [`k${attack}`]: attack },
              namespace: attack,
              metric: attack,
            },
          ],
          tests: [{ name: attack, passed: false, detail: attack, durationMs: 1 }],
          issues: [{ path: `detail.${attack}`, message: attack }],
          issuesOmitted: 3,
          warnings: [attack],
          error: { name: 'GreenTestFailed', message: attack },
        },
      }),
    ];
    /** Greenlight's own colours, the one escape sequence a line may hold. */
    const withoutOurColours = (line: string) =>
      ['0', '1', '2', '31', '32', '33', '36'].reduce(
        (text, code) => text.replaceAll(`\u001b[${code}m`, ''),
        line,
      );

    it('shows every field with its control and bidi characters as escapes', async () => {
      const stored = new StoredLedger([hostile], { [hostile.releaseId]: hostileSteps });
      const { out } = await status(['--release', hostile.releaseId], stored);

      expect(out.filter((line) => !isInertText(line))).toEqual([]);
      expect(out.join('\n')).toContain(
        'by dana\\u001b[2J\\u001b[H\\u001b]8;;https://evil.example\\u0007docs',
      );
      expect(out.join('\n')).toContain('\\u202eexe.\\u009b2J');
      expect(out).toContain('      …and 3 more issues not recorded');
    });

    it('does the same in a service listing, and colours only what greenlight colours', async () => {
      const stored = new StoredLedger([hostile], { [hostile.releaseId]: hostileSteps });
      const io = aContext({});
      io.context.isTty = true;
      await runStatusCommand(['--service', 'checkout'], io.context, () => ({ ledger: stored }));

      expect(io.out.filter((line) => !isInertText(withoutOurColours(line)))).toEqual([]);
      expect(io.out.join('\n')).toContain('\u001b[31mRolledBack');
    });

    it('keeps --json exact: the stored text, escaped only as JSON escapes it', async () => {
      const stored = new StoredLedger([hostile], { [hostile.releaseId]: hostileSteps });
      const { out } = await status(['--release', hostile.releaseId, '--json'], stored);

      expect(JSON.parse(out.join('\n')).release.actor).toBe(hostile.actor);
      expect(out.join('\n')).not.toContain('\u001b');
    });
  });

  it('colours the phase on a terminal unless NO_COLOR is set', async () => {
    const colored = aContext({});
    colored.context.isTty = true;
    await runStatusCommand(['--release', rolledBack.releaseId], colored.context, () => ({
      ledger: ledger(),
    }));
    expect(colored.out[1]).toContain('\u001b[31mRolledBack\u001b[0m');

    const plain = aContext({ NO_COLOR: '1' });
    plain.context.isTty = true;
    await runStatusCommand(['--release', rolledBack.releaseId], plain.context, () => ({
      ledger: ledger(),
    }));
    expect(plain.out.join('\n')).not.toContain('\u001b[');
  });

  it.each([
    [[], 'Give exactly one of --release ID or --service NAME.'],
    [['--release', 'a', '--service', 'b'], 'Give exactly one of --release ID or --service NAME.'],
    [
      ['--service', 'checkout', '--limit', '0'],
      '--limit must be a whole number from 1 to 100, got "0".',
    ],
    [['--release', 'a', '--limit', '3'], '--limit only applies with --service.'],
    [['--releas', 'a'], 'Unknown option --releas. Did you mean --release?'],
  ])('exits 2 for %j', async (argv, message) => {
    const { code, err } = await status(argv, ledger());
    expect(code).toBe(2);
    expect(err).toEqual([
      `greenlight status: ${message}`,
      'Run "greenlight status --help" for usage.',
    ]);
  });
});
