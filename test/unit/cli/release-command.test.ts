import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  detectCi,
  type PutEvents,
  putEventsWith,
  runReleaseCommand,
} from '../../../src/cli/release-command.ts';
import { deriveReleaseId } from '../../../src/core/release-id.ts';
import { aReleaseRecord } from '../../support/builders.ts';
import { aContext, aStep, type LedgerFrame, ScriptedLedger } from './fixtures.ts';

const releaseId = deriveReleaseId('checkout', '1.4.2', 1);
const validArgs = [
  '--service',
  'checkout',
  '--version',
  '1.4.2',
  '--image',
  'registry.example.com/checkout:1.4.2',
];

function acceptingPutEvents(): PutEvents & ReturnType<typeof vi.fn> {
  return vi.fn(async () => ({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-1' }] }));
}

async function run(
  argv: string[],
  options: { env?: Record<string, string>; frames?: LedgerFrame[]; putEvents?: PutEvents } = {},
) {
  const io = aContext(options.env ?? {});
  const putEvents = options.putEvents ?? acceptingPutEvents();
  const ledger = new ScriptedLedger(options.frames ?? [{}]);
  const connect = vi.fn(() => ({ ledger, putEvents }));
  const code = await runReleaseCommand(argv, io.context, connect);
  return { code, ...io, putEvents, connect };
}

function sentDetail(putEvents: PutEvents): Record<string, unknown> {
  const [[entries]] = (putEvents as ReturnType<typeof vi.fn>).mock.calls as [
    [{ Detail: string }[]],
  ];
  return JSON.parse(entries[0]?.Detail ?? 'null');
}

describe('runReleaseCommand', () => {
  const eventBridge = mockClient(EventBridgeClient);
  afterEach(() => eventBridge.reset());

  it('sends exactly one Release Requested entry on the bus and prints both ids', async () => {
    eventBridge
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-42' }] });
    const putEvents = putEventsWith(new EventBridgeClient({ region: 'eu-west-1' }));

    const { code, out } = await run(
      [
        '--service',
        'checkout',
        '--version',
        '1.4.2',
        '--s3',
        's3://greenlight-artifacts/checkout/1.4.2.zip?versionId=v%2B7',
        '--commit',
        '3f9c2a1e',
        '--actor',
        'dana',
        '--strategy',
        'canary',
        '--bus',
        'shop-bus',
      ],
      { env: { USER: 'someone-else' }, putEvents },
    );

    expect(code).toBe(0);
    const calls = eventBridge.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(1);
    const [entry, ...others] = calls[0]?.args[0].input.Entries ?? [];
    expect(others).toEqual([]);
    expect({ ...entry, Detail: JSON.parse(entry?.Detail ?? 'null') }).toEqual({
      Source: 'greenlight.cli',
      DetailType: 'Release Requested',
      EventBusName: 'shop-bus',
      Detail: {
        schemaVersion: 1,
        service: 'checkout',
        version: '1.4.2',
        artifact: {
          s3: { bucket: 'greenlight-artifacts', key: 'checkout/1.4.2.zip', objectVersion: 'v+7' },
        },
        commit: '3f9c2a1e',
        actor: 'dana',
        strategy: 'canary',
        attempt: 1,
      },
    });
    expect(out).toContain('  event id    evt-42');
    expect(out).toContain(`  release id  ${releaseId}`);
  });

  it('sends as a CI team with --team or GREENLIGHT_TEAM, the flag first', async () => {
    const sources = async (argv: string[], env: Record<string, string>) => {
      const { code, putEvents } = await run([...validArgs, ...argv], { env });
      expect(code).toBe(0);
      const [[entries]] = (putEvents as ReturnType<typeof vi.fn>).mock.calls as [
        [{ Source: string }[]],
      ];
      return entries.map((entry) => entry.Source);
    };
    expect(await sources(['--team', 'payments'], {})).toEqual(['greenlight.ci.payments']);
    expect(await sources([], { GREENLIGHT_TEAM: 'search' })).toEqual(['greenlight.ci.search']);
    expect(await sources(['--team', 'payments'], { GREENLIGHT_TEAM: 'search' })).toEqual([
      'greenlight.ci.payments',
    ]);
    expect(await sources([], { GREENLIGHT_TEAM: '' })).toEqual(['greenlight.cli']);
  });

  it('refuses a team name no config could declare, sending nothing', async () => {
    const { code, err, putEvents } = await run([...validArgs, '--team', 'Payments.x']);
    expect(code).toBe(2);
    expect(err.join('\n')).toContain('--team (or GREENLIGHT_TEAM) must be a team of ci.teams');
    expect(putEvents).not.toHaveBeenCalled();
  });

  it('derives the release id from the attempt it sends', async () => {
    const { out } = await run([...validArgs, '--attempt', '2', '--json']);
    expect(out).toEqual([
      JSON.stringify({
        type: 'requested',
        eventId: 'evt-1',
        releaseId: deriveReleaseId('checkout', '1.4.2', 2),
      }),
    ]);
  });

  it('asks for a deliberate downgrade only with --allow-older', async () => {
    const plain = await run(validArgs);
    expect(sentDetail(plain.putEvents)).not.toHaveProperty('allowOlder');
    const older = await run([...validArgs, '--allow-older']);
    expect(older.code).toBe(0);
    expect(sentDetail(older.putEvents)).toMatchObject({ allowOlder: true });
  });

  it('takes the bus from GREENLIGHT_BUS when no --bus is given', async () => {
    const { putEvents } = await run(validArgs, { env: { GREENLIGHT_BUS: 'ci-bus' } });
    expect(vi.mocked(putEvents).mock.calls[0]?.[0][0]?.EventBusName).toBe('ci-bus');
  });

  it('prints every field issue, sends nothing and exits 2 when the detail is invalid', async () => {
    const { code, err, connect, putEvents } = await run([
      '--service',
      'Checkout',
      '--version',
      '1.4.2',
      '--image',
      'not-an-image',
      '--ci-provider',
      'github',
      '--ci-run-url',
      'ftp://ci.example.com/1',
    ]);

    expect(code).toBe(2);
    expect(putEvents).not.toHaveBeenCalled();
    expect(connect).not.toHaveBeenCalled();
    expect(err[0]).toBe('greenlight release: invalid release request, nothing was sent:');
    expect(err.slice(1).map((line) => line.split(':')[0]?.trim())).toEqual([
      '--service',
      '--image',
      '--ci-run-url',
    ]);
    expect(err[1]).toContain('lowercase letters, digits and dashes');
  });

  it('exits 2 and names the closest flag when a flag is unknown', async () => {
    const { code, err, connect } = await run(['--servise', 'checkout']);
    expect(code).toBe(2);
    expect(connect).not.toHaveBeenCalled();
    expect(err).toEqual([
      'greenlight release: Unknown option --servise. Did you mean --service?',
      'Run "greenlight release --help" for usage.',
    ]);
  });

  it.each([
    [['--service', 'checkout', '--version', '1'], 'Give exactly one artifact'],
    [[...validArgs, '--s3', 's3://bucket/key'], 'Give exactly one artifact'],
    [['--version', '1', '--image', 'r.io/a:1'], '--service is required'],
    [[...validArgs, '--timeout', '60'], 'only apply with --wait'],
    [[...validArgs, '--ci-provider', 'jenkins'], 'give both or neither'],
    [['--service', 'a', '--version', '1', '--s3', 'https://bucket/key'], '--s3 must look like'],
  ])('exits 2 without sending for %j', async (argv, message) => {
    const { code, err, putEvents } = await run(argv);
    expect(code).toBe(2);
    expect(err[0]).toContain(message);
    expect(putEvents).not.toHaveBeenCalled();
  });

  it('exits 1 when EventBridge reports a failed entry', async () => {
    const putEvents = vi.fn(async () => ({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'NotAuthorized', ErrorMessage: 'Not allowed to put on shop-bus' }],
    }));
    const { code, err, out } = await run(validArgs, { putEvents });
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err).toEqual([
      'greenlight release: EventBridge did not accept the event: NotAuthorized: Not allowed to put on shop-bus',
    ]);
  });

  it('prints the usage and sends nothing for --help', async () => {
    const { code, out, connect } = await run(['--help']);
    expect(code).toBe(0);
    expect(out[0]).toMatch(/^Usage: greenlight release --service NAME/);
    expect(out[0]).toContain('3  rolled back');
    expect(connect).not.toHaveBeenCalled();
  });

  describe('CI metadata', () => {
    it('fills actor, commit and the run URL from GitHub Actions', async () => {
      const { putEvents } = await run(validArgs, {
        env: {
          GITHUB_ACTOR: 'dana',
          GITHUB_SHA: '3f9c2a1e8b7d4c6f',
          GITHUB_SERVER_URL: 'https://github.com',
          GITHUB_REPOSITORY: 'acme/checkout',
          GITHUB_RUN_ID: '42',
          USER: 'runner',
        },
      });
      expect(sentDetail(putEvents)).toMatchObject({
        actor: 'dana',
        commit: '3f9c2a1e8b7d4c6f',
        ci: {
          provider: 'github-actions',
          runUrl: 'https://github.com/acme/checkout/actions/runs/42',
        },
      });
    });

    it('fills actor and the job URL from GitLab', async () => {
      const { putEvents } = await run(validArgs, {
        env: {
          GITLAB_USER_LOGIN: 'lee',
          CI_JOB_URL: 'https://gitlab.example.com/acme/checkout/-/jobs/7',
          USER: 'runner',
        },
      });
      expect(sentDetail(putEvents)).toMatchObject({
        actor: 'lee',
        ci: { provider: 'gitlab', runUrl: 'https://gitlab.example.com/acme/checkout/-/jobs/7' },
      });
    });

    it('lets flags win over the detected CI and falls back to $USER', async () => {
      const { putEvents } = await run(
        [...validArgs, '--ci-provider', 'jenkins', '--ci-run-url', 'https://ci.example.com/9'],
        { env: { CI_JOB_URL: 'https://gitlab.example.com/-/jobs/7', USER: 'runner' } },
      );
      expect(sentDetail(putEvents)).toMatchObject({
        actor: 'runner',
        ci: { provider: 'jenkins', runUrl: 'https://ci.example.com/9' },
      });
    });

    it('detects nothing outside CI', () => {
      expect(detectCi({ GITHUB_REPOSITORY: 'acme/checkout' })).toBeUndefined();
    });
  });

  describe('--wait', () => {
    const registered = aReleaseRecord({
      releaseId,
      requestedAt: '2026-11-21T10:00:00Z',
      updatedAt: '2026-11-21T10:00:01Z',
    });
    const register = aStep({
      key: 'register',
      at: '2026-11-21T10:00:01Z',
      phase: 'Requested',
      reason: 'Release registered',
    });
    const provision = aStep({
      key: 'provision',
      at: '2026-11-21T10:00:31Z',
      reason: 'Green is version 8',
    });
    const shift = aStep({
      key: 'shift#0',
      at: '2026-11-21T10:01:00Z',
      phase: 'Shifting',
      greenPercent: 10,
      reason: 'Traffic at 10%',
    });
    const finalize = aStep({
      key: 'finalize',
      at: '2026-11-21T10:03:00Z',
      phase: 'Finalized',
      reason: 'All traffic on green',
    });
    const gate = aStep({
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
    });

    it('prints each step once, in order, and exits 0 when the release is Finalized', async () => {
      const { code, out, sleeps } = await run([...validArgs, '--wait', '--poll-interval', '2'], {
        frames: [
          {},
          { release: { ...registered, phase: 'Provisioning' }, steps: [register] },
          {
            release: { ...registered, phase: 'Shifting', greenPercent: 10 },
            steps: [shift, register, provision],
          },
          {
            release: { ...registered, phase: 'Shifting', greenPercent: 10 },
            steps: [register, provision, shift],
          },
          {
            release: {
              ...registered,
              phase: 'Finalized',
              reason: 'Completed blue-green update',
              greenPercent: 100,
              updatedAt: '2026-11-21T10:03:00Z',
            },
            steps: [register, provision, shift, finalize],
          },
        ],
      });

      expect(code).toBe(0);
      expect(sleeps).toEqual([2000, 2000, 2000, 2000]);
      expect(out.slice(3)).toEqual([
        `Waiting for ${releaseId} (up to 3600s)...`,
        '  10:00:01 +1s     register       succeeded Release registered',
        '  10:00:31 +30s    provision      succeeded Green is version 8',
        '  10:01:00 +29s    shift          succeeded [##------------------] 10% green Traffic at 10%',
        '  10:03:00 +2m00s  finalize       succeeded All traffic on green',
        'Finalized: Completed blue-green update ([####################] 100% green, took 3m00s)',
      ]);
    });

    it('exits 3 with the gate evidence when the release is RolledBack', async () => {
      const { code, out } = await run([...validArgs, '--wait'], {
        frames: [
          { release: { ...registered, phase: 'Shifting' }, steps: [register, shift] },
          {
            release: {
              ...registered,
              phase: 'RolledBack',
              reason: 'Alarm checkout-errors in ALARM',
              updatedAt: '2026-11-21T10:02:30Z',
            },
            steps: [register, shift, gate],
          },
        ],
      });
      expect(code).toBe(3);
      expect(out.slice(-3)).toEqual([
        '  10:02:00 +1m00s  gate           failed    Alarm checkout-errors in ALARM',
        '      alarm checkout-errors: ALARM - Threshold crossed',
        'RolledBack: Alarm checkout-errors in ALARM ([--------------------] 0% green, took 2m30s)',
      ]);
    });

    it("shows once that the release waits for the service's lock", async () => {
      const waiting = aStep({
        key: 'lock',
        at: '2026-11-21T10:00:02Z',
        phase: 'Requested',
        outcome: 'started',
        reason: 'Queued: lock held by checkout-1-4-1-a1-0123456789',
      });
      const { out } = await run([...validArgs, '--wait'], {
        frames: [
          { release: registered, steps: [register, waiting] },
          { release: registered, steps: [register, waiting] },
          {
            release: { ...registered, phase: 'Aborted', reason: 'Aborted by dana' },
            steps: [register, waiting],
          },
        ],
      });
      expect(out.filter((line) => line.includes('lock'))).toEqual([
        "  waiting for checkout's lock (held by checkout-1-4-1-a1-0123456789)",
      ]);
    });

    it('exits 4 with the field-level reasons when the workflow rejected the event', async () => {
      const rejection = {
        key: 'rejected',
        step: 'register',
        at: '2026-11-21T10:00:01.000Z',
        outcome: 'failed' as const,
        phase: 'Rejected' as const,
        reason: 'Release event rejected: detail.service: service "checkout" is not registered',
        evidence: {
          issues: [{ path: 'detail.service', message: 'service "checkout" is not registered' }],
        },
      };
      const { code, out, sleeps } = await run([...validArgs, '--wait', '--poll-interval', '5'], {
        frames: [{}, { rejections: { 'evt-1': rejection } }],
      });
      expect(code).toBe(4);
      expect(sleeps).toEqual([5000]);
      expect(out.slice(-2)).toEqual([
        'Rejected: Release event rejected: detail.service: service "checkout" is not registered',
        '  detail.service: service "checkout" is not registered',
      ]);
    });

    it('shows a bounded rejection inertly, with how many issues it left out', async () => {
      const rejection = {
        key: 'rejected',
        step: 'register',
        at: '2026-11-21T10:00:01.000Z',
        outcome: 'failed' as const,
        phase: 'Rejected' as const,
        reason:
          'Release event rejected: detail.\u001b[2J: is not a known field; …and 3,980 more issues',
        evidence: {
          issues: [{ path: 'detail.\u001b[2J', message: 'is not a known field' }],
          issuesOmitted: 3980,
        },
      };
      const { code, out } = await run([...validArgs, '--wait'], {
        frames: [{ rejections: { 'evt-1': rejection } }],
      });
      expect(code).toBe(4);
      expect(out.slice(-3)).toEqual([
        'Rejected: Release event rejected: detail.\\u001b[2J: is not a known field; …and 3,980 more issues',
        '  detail.\\u001b[2J: is not a known field',
        '  …and 3980 more issues not recorded',
      ]);
    });

    it('exits 6 when no release record appears before the timeout', async () => {
      const { code, out, sleeps } = await run([
        ...validArgs,
        '--wait',
        '--timeout',
        '12',
        '--poll-interval',
        '5',
      ]);
      expect(code).toBe(6);
      expect(sleeps).toEqual([5000, 5000, 2000]);
      expect(out.at(-1)).toMatch(/^Timed out after 12s: no release record appeared/);
    });

    it('prints JSON lines with --json', async () => {
      const finalized = { ...registered, phase: 'Finalized' as const, greenPercent: 100 };
      const { code, out } = await run([...validArgs, '--wait', '--json'], {
        frames: [{ release: finalized, steps: [register, finalize] }],
      });
      expect(code).toBe(0);
      expect(out.map((line) => JSON.parse(line))).toEqual([
        { type: 'requested', eventId: 'evt-1', releaseId },
        { type: 'step', releaseId, step: register },
        { type: 'step', releaseId, step: finalize },
        { type: 'finished', release: finalized, exitCode: 0 },
      ]);
    });
  });
});
