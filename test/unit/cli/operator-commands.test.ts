import type { PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import { runOperatorCommand } from '../../../src/cli/operator-commands.ts';
import type { CallerIdentitySource } from '../../../src/core/caller-identity.ts';
import type { CommandRecord } from '../../../src/core/operator-command.ts';
import type { CommandLog } from '../../../src/core/ports.ts';
import { aReleaseRecord } from '../../support/builders.ts';
import { aContext, StoredLedger } from './fixtures.ts';

const releaseId = 'checkout-1-4-2-a1-665d64bf8e';
const latest = aReleaseRecord({ releaseId, phase: 'Shifting', stepIndex: 0, greenPercent: 10 });

/** A command log whose outcome appears after `pollsBefore` reads, as the operator function writes it. */
class ScriptedCommandLog implements CommandLog {
  readonly reads: string[] = [];
  #outcome: Omit<CommandRecord, 'commandId'> | undefined;
  #pollsBefore: number;

  constructor(outcome: Omit<CommandRecord, 'commandId'> | undefined, pollsBefore = 0) {
    this.#outcome = outcome;
    this.#pollsBefore = pollsBefore;
  }

  async get(commandId: string): Promise<CommandRecord | undefined> {
    this.reads.push(commandId);
    if (this.reads.length <= this.#pollsBefore || !this.#outcome) return undefined;
    return { commandId, ...this.#outcome };
  }

  record(): never {
    throw new Error('the CLI never writes outcomes');
  }
}

const danaArn = 'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Ops_0a1b/dana@example.com';

/** STS as the CLI sees it: the principal of the credentials, asked once per command. */
class FixedIdentity implements CallerIdentitySource {
  calls = 0;
  readonly #arn: string | Error;

  constructor(arn: string | Error = danaArn) {
    this.#arn = arn;
  }

  async whoAmI() {
    this.calls += 1;
    if (this.#arn instanceof Error) throw this.#arn;
    return { arn: this.#arn, account: '123456789012', userId: 'AROAEXAMPLE:dana@example.com' };
  }
}

function clients(log: ScriptedCommandLog, identity = new FixedIdentity()) {
  const sent: PutEventsRequestEntry[] = [];
  return {
    sent,
    identity,
    connect: () => ({
      identity,
      ledger: new StoredLedger([latest]),
      commands: log,
      putEvents: async (entries: PutEventsRequestEntry[]) => {
        sent.push(...entries);
        return { FailedEntryCount: 0, Entries: [{ EventId: 'event-1' }] };
      },
    }),
  };
}

const applied = {
  command: 'pause',
  actor: 'dana',
  reason: 'latency',
  releaseId,
  outcome: 'applied',
  message: 'Paused by dana at 10% on green: latency',
  at: '2026-11-21T10:00:01Z',
} as const;

describe('runOperatorCommand', () => {
  it('puts an Operator Command on the bus with who and why, and prints its outcome', async () => {
    const log = new ScriptedCommandLog(applied, 2);
    const { sent, connect } = clients(log);
    const { context, out, sleeps } = aContext({ USER: 'dana' });

    const code = await runOperatorCommand(
      'pause',
      [releaseId, '--reason', 'latency'],
      context,
      connect,
    );

    expect(code).toBe(0);
    expect(sent).toEqual([
      {
        Source: 'greenlight.cli',
        DetailType: 'Operator Command',
        EventBusName: 'greenlight',
        Detail: JSON.stringify({
          schemaVersion: 1,
          command: 'pause',
          releaseId,
          actor: 'dana',
          reason: 'latency',
          principalArn: danaArn,
        }),
      },
    ]);
    expect(log.reads).toEqual(['event-1', 'event-1', 'event-1']);
    expect(sleeps).toEqual([1000, 1000]);
    expect(out).toEqual([
      'Pause: Paused by dana at 10% on green: latency',
      `Follow it with: greenlight status --release ${releaseId}`,
    ]);
  });

  it('asks STS who the caller is once, whatever --actor says, and sends that principal', async () => {
    const log = new ScriptedCommandLog(applied);
    const { sent, connect, identity } = clients(log);
    const { context } = aContext({ USER: 'dana' });

    await runOperatorCommand(
      'abort',
      [releaseId, '--actor', 'U0DEMOLEAD', '--reason', 'looks bad'],
      context,
      connect,
    );

    expect(identity.calls).toBe(1);
    expect(JSON.parse(sent[0]?.Detail ?? '{}')).toMatchObject({
      actor: 'U0DEMOLEAD',
      principalArn: danaArn,
    });
  });

  it('sends nothing when STS cannot say who the caller is (exit 1)', async () => {
    const log = new ScriptedCommandLog(applied);
    const expired = Object.assign(
      new Error('The security token included in the request is expired'),
      {
        name: 'ExpiredToken',
      },
    );
    const { sent, connect } = clients(log, new FixedIdentity(expired));
    const { context, err } = aContext({ USER: 'dana' });

    const code = await runOperatorCommand('pause', [releaseId], context, connect);

    expect(code).toBe(1);
    expect(sent).toEqual([]);
    expect(log.reads).toEqual([]);
    expect(err).toEqual([
      'greenlight pause: cannot tell who you are (STS GetCallerIdentity failed: ExpiredToken: The security token included in the request is expired); nothing was sent.',
    ]);
  });

  it('acts on the service’s latest release with --service, and exits 7 when refused', async () => {
    const log = new ScriptedCommandLog({
      ...applied,
      command: 'promote',
      outcome: 'refused',
      message: 'it was promoted already',
    });
    const { sent, connect } = clients(log);
    const { context, out } = aContext({ GITHUB_ACTOR: 'octocat' });

    const code = await runOperatorCommand('promote', ['--service', 'checkout'], context, connect);

    expect(code).toBe(7);
    expect(JSON.parse(sent[0]?.Detail ?? '{}')).toMatchObject({
      command: 'promote',
      releaseId,
      actor: 'octocat',
      reason: 'no reason given',
    });
    expect(out).toEqual(['Refused promote: it was promoted already']);
  });

  it('shows an outcome quoting an operator’s hostile reason with its escapes visible', async () => {
    const log = new ScriptedCommandLog({
      ...applied,
      message:
        'Paused by dana at 10% on green: \u001b[2J\u001b]8;;https://evil.example\u0007x\u202e',
    });
    const { connect } = clients(log);
    const { context, out } = aContext({ USER: 'dana' });

    await runOperatorCommand('pause', [releaseId], context, connect);

    expect(out[0]).toBe(
      'Pause: Paused by dana at 10% on green: \\u001b[2J\\u001b]8;;https://evil.example\\u0007x\\u202e',
    );
  });

  it('names the service for rollback and requires a reason', async () => {
    const { sent, connect } = clients(new ScriptedCommandLog({ ...applied, command: 'rollback' }));
    const { context, err } = aContext({ USER: 'dana' });

    expect(await runOperatorCommand('rollback', ['checkout'], context, connect)).toBe(2);
    expect(err[0]).toBe(
      'greenlight rollback: --reason is required for rollback: the ledger records why.',
    );
    expect(
      await runOperatorCommand('rollback', ['checkout', '--reason', 'errors'], context, connect),
    ).toBe(0);
    expect(JSON.parse(sent[0]?.Detail ?? '{}')).toEqual({
      schemaVersion: 1,
      command: 'rollback',
      service: 'checkout',
      actor: 'dana',
      reason: 'errors',
      principalArn: danaArn,
    });
  });

  it('sends --knowingly with abort and rollback, and refuses it on other commands', async () => {
    const { sent, connect } = clients(new ScriptedCommandLog({ ...applied, command: 'abort' }));
    const { context, err } = aContext({ USER: 'dana' });

    expect(
      await runOperatorCommand(
        'abort',
        [releaseId, '--reason', 'data fits blue', '--knowingly'],
        context,
        connect,
      ),
    ).toBe(0);
    expect(JSON.parse(sent[0]?.Detail ?? '{}')).toMatchObject({
      command: 'abort',
      releaseId,
      knowingly: true,
    });
    expect(await runOperatorCommand('pause', [releaseId, '--knowingly'], context, connect)).toBe(2);
    expect(err[0]).toBe('greenlight pause: --knowingly is for abort and rollback, not pause.');
    expect(sent).toHaveLength(1);
  });

  it('refuses to guess who asks, or which release, and sends nothing', async () => {
    const { sent, connect } = clients(new ScriptedCommandLog(applied));
    const { context, err } = aContext({});

    expect(await runOperatorCommand('pause', [releaseId], context, connect)).toBe(2);
    expect(
      await runOperatorCommand(
        'pause',
        [releaseId, '--service', 'checkout', '--actor', 'dana'],
        context,
        connect,
      ),
    ).toBe(2);
    expect(await runOperatorCommand('pause', ['a', 'b', '--actor', 'dana'], context, connect)).toBe(
      2,
    );
    expect(err.filter((line) => !line.startsWith('Run'))).toEqual([
      'greenlight pause: Say who asks: --actor WHO (or set $USER).',
      'greenlight pause: Give exactly one of RELEASE_ID or --service NAME.',
      'greenlight pause: Give one release id, not 2: a b.',
    ]);
    expect(sent).toEqual([]);
  });

  it('gives up after --timeout when no outcome is recorded, with exit code 6', async () => {
    const { connect } = clients(new ScriptedCommandLog(undefined));
    const { context, out } = aContext({ USER: 'dana' });

    const code = await runOperatorCommand(
      'resume',
      [releaseId, '--timeout', '3'],
      context,
      connect,
    );

    expect(code).toBe(6);
    expect(out.at(-1)).toMatch(/^Timed out: no outcome recorded for command event-1 within 3s/);
  });
});
