import { describe, expect, it } from 'vitest';
import { ReleaseUpdateNotReady } from '../../../src/core/errors.ts';
import { LifecycleEventType, ReleasePhase } from '../../../src/core/phases.ts';
import { StaticServiceRegistry } from '../../../src/core/registry.ts';
import type { LifecycleEnvelope } from '../../../src/core/release-updates.ts';
import { redactSecrets } from '../../../src/slack/release-update-messages.ts';
import { releaseUpdatesStep } from '../../../src/steps/release-updates.ts';
import { aService } from '../../support/builders.ts';
import {
  InMemoryReleaseUpdateThreads,
  RecordingSlackMessenger,
} from '../../support/release-update-fakes.ts';

const channel = 'C0DEPLOYS';
const releaseId = 'checkout-42-1';

function anEvent(
  detailType: LifecycleEventType,
  time: string,
  detail: Partial<LifecycleEnvelope['detail']> & Record<string, unknown> = {},
): LifecycleEnvelope {
  return {
    'detail-type': detailType,
    source: 'greenlight',
    time,
    detail: {
      releaseId,
      service: 'checkout',
      version: '42',
      phase: ReleasePhase.Shifting,
      reason: `${detailType} reason`,
      eventKey: `${releaseId}#${detailType}#${detail.greenPercent ?? ''}`,
      ...detail,
    },
  };
}

const started = anEvent(LifecycleEventType.ReleaseStarted, '2026-11-21T10:00:00Z', {
  phase: ReleasePhase.Provisioning,
});
const shifted10 = anEvent(LifecycleEventType.TrafficShifted, '2026-11-21T10:01:00Z', {
  greenPercent: 10,
});
const shifted100 = anEvent(LifecycleEventType.TrafficShifted, '2026-11-21T10:02:00Z', {
  greenPercent: 100,
});
const finalized = anEvent(LifecycleEventType.ReleaseFinalized, '2026-11-21T10:02:00Z', {
  phase: ReleasePhase.Finalized,
  greenPercent: 100,
  reason: 'Release finalized: green is live',
});

/** The value, or a failed test saying what was missing. */
function present<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`expected ${what}`);
  return value;
}

function setup(updates: { channel: string } | null = { channel }) {
  const threads = new InMemoryReleaseUpdateThreads();
  const slack = new RecordingSlackMessenger();
  const slept: number[] = [];
  const deps = {
    registry: new StaticServiceRegistry([aService(updates ? { updates } : {})]),
    threads,
    slack,
    sleep: async (ms: number) => {
      slept.push(ms);
    },
  };
  const run = (event: LifecycleEnvelope) => releaseUpdatesStep.run(event, deps);
  const text = (m: { message: { blocks: unknown[] } }) => JSON.stringify(m.message.blocks);
  return { threads, slack, slept, deps, run, text };
}

describe('releaseUpdatesStep', () => {
  it('does nothing for a service without an updates channel', async () => {
    const { run, slack, threads } = setup(null);
    expect(await run(started)).toMatchObject({ outcome: 'no-channel' });
    expect(slack.calls).toEqual([]);
    expect(threads.items.size).toBe(0);
  });

  it('posts one parent message, then updates it in place with a reply per event', async () => {
    const { run, slack, text } = setup();
    for (const event of [started, shifted10, shifted100, finalized]) await run(event);

    const [first, ...others] = slack.parents();
    expect(others).toEqual([]);
    const parent = present(first, 'a parent message');
    expect(parent.channel).toBe(channel);
    expect(text(parent)).toContain('Finalized');
    expect(parent.message.text).toBe('checkout 42: :white_check_mark: Finalized');
    const replies = slack.replies(parent.ts).map((m) => m.message.text);
    expect(replies).toEqual([
      'checkout 42: :rocket: Started',
      'checkout 42: :arrow_right: 10% on green',
      'checkout 42: :arrow_right: 100% on green',
      'checkout 42: :white_check_mark: Finalized',
    ]);
    expect(slack.calls).toEqual([
      'post',
      'reply',
      'update',
      ...Array(3).fill(['reply', 'update']).flat(),
    ]);
  });

  it('updates rather than posts again when an event is redelivered', async () => {
    const { run, slack, threads } = setup();
    await run(started);
    await run(shifted10);
    const again = await run(shifted10);

    expect(again).toMatchObject({ outcome: 'updated', replied: false, shown: true });
    expect(slack.parents()).toHaveLength(1);
    expect(slack.replies(present(slack.parents()[0], 'a parent message').ts)).toHaveLength(2);
    expect(slack.calls.at(-1)).toBe('update');
    expect(threads.items.get(releaseId)?.replied).toEqual([
      started.detail.eventKey,
      shifted10.detail.eventKey,
    ]);
  });

  it('never moves the parent back for an event that arrives late', async () => {
    const { run, slack, text } = setup();
    await run(started);
    await run(finalized);
    const late = await run(shifted10);

    expect(late).toMatchObject({ replied: true, shown: false });
    const parent = present(slack.parents()[0], 'a parent message');
    expect(text(parent)).toContain('Finalized');
    expect(parent.history.every((m) => !JSON.stringify(m).includes('10% on green'))).toBe(true);
  });

  it('orders two events of one second by how far along they are', async () => {
    const { run, slack } = setup();
    await run(started);
    await run(finalized);
    await run(shifted100); // same second as finalized, delivered after it
    expect(slack.parents()[0]?.message.text).toBe('checkout 42: :white_check_mark: Finalized');
  });

  it("shows a failed gate's evidence in its reply and a rollback in the parent", async () => {
    const { run, slack, text } = setup();
    await run(started);
    await run(
      anEvent(LifecycleEventType.GateFailed, '2026-11-21T10:01:30Z', {
        phase: ReleasePhase.RollingBack,
        greenPercent: 10,
        reason: 'Gate failed at 10%',
        alarms: [
          {
            name: 'checkout-errors',
            state: 'ALARM',
            reason: 'Threshold Crossed: 1 datapoint [7.0] > 5.0',
          },
        ],
        missing: ['checkout-latency'],
        metrics: [{ gate: 'errors-vs-blue', verdict: 'fail', reason: 'green 4% vs blue 0.1%' }],
      }),
    );
    await run(
      anEvent(LifecycleEventType.ReleaseRolledBack, '2026-11-21T10:01:40Z', {
        phase: ReleasePhase.RolledBack,
        greenPercent: 0,
      }),
    );

    const parent = present(slack.parents()[0], 'a parent message');
    expect(text(parent)).toContain('Rolled back');
    const gate = present(slack.replies(parent.ts)[1], 'the gate reply');
    expect(text(gate)).toContain(
      '• alarm checkout-errors: ALARM, Threshold Crossed: 1 datapoint [7.0] &gt; 5.0',
    );
    expect(text(gate)).toContain('• alarm checkout-latency: missing');
    expect(text(gate)).toContain('• metric gate errors-vs-blue: fail, green 4% vs blue 0.1%');
  });

  it('escapes what Slack would act on in fields from outside', async () => {
    const { run, slack, text } = setup();
    await run(
      anEvent(LifecycleEventType.ReleaseStarted, started.time, {
        version: '<!channel> @here <https://evil|docs>',
      }),
    );
    const parent = present(slack.parents()[0], 'a parent message');
    expect(text(parent)).not.toMatch(/<!channel>|<https:|@here/);
    expect(text(parent)).toContain('&lt;!channel&gt;');
  });

  it('never shows a token, secret ARN or task token, wherever it hides in the event', async () => {
    const { run, slack } = setup();
    const taskToken = `AQB${'x9Yz'.repeat(60)}`;
    const secretArn =
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:greenlight/slack-AbCdEf';
    await run(
      anEvent(LifecycleEventType.ReleaseStarted, started.time, {
        reason: `token xoxb-1234-5678-abcdEFGH read from ${secretArn}, task ${taskToken}`,
        taskToken,
        botToken: 'xoxb-1234-5678-abcdEFGH',
      }),
    );
    await run(
      anEvent(LifecycleEventType.GateFailed, '2026-11-21T10:01:00Z', {
        alarms: [{ name: 'a', state: 'ALARM', reason: `xapp-1-A0-123-abc ${taskToken}` }],
      }),
    );
    const everything = JSON.stringify(slack.messages);
    expect(slack.messages.length).toBe(3);
    for (const secret of ['xoxb-', 'xapp-', 'secretsmanager', taskToken.slice(0, 60)]) {
      expect(everything).not.toContain(secret);
    }
    expect(everything).toContain('[redacted]');
  });

  it('waits for another delivery to post the parent, then replies in its thread', async () => {
    const { run, threads, slack, slept } = setup();
    await threads.create({
      releaseId,
      channel,
      claimedBy: 'someone-else',
      latest: (await import('../../../src/core/release-updates.ts')).releaseUpdateOf(started),
      replied: [],
      version: 0,
    });
    const parent = await slack.postMessage(channel, { text: 'parent', blocks: [] });
    let looks = 0;
    const original = threads.get.bind(threads);
    threads.get = async (id) => {
      looks += 1;
      // The claimant saves the parent's ts while this delivery waits.
      if (looks === 3)
        await threads.save({ ...present(await original(id), 'the thread'), ts: parent.ts });
      return original(id);
    };
    await run(shifted10);
    expect(slept).toEqual([100, 200]);
    expect(slack.replies(parent.ts)).toHaveLength(1);
  });

  it('gives up with ReleaseUpdateNotReady when the parent never appears', async () => {
    const { run, threads, slack } = setup();
    await threads.create({
      releaseId,
      channel,
      claimedBy: 'someone-else',
      latest: (await import('../../../src/core/release-updates.ts')).releaseUpdateOf(started),
      replied: [],
      version: 0,
    });
    await expect(run(shifted10)).rejects.toBeInstanceOf(ReleaseUpdateNotReady);
    expect(slack.calls).toEqual([]);
  });

  it("keeps another delivery's reply when both save at once", async () => {
    const { run, threads, slack } = setup();
    await run(started);
    threads.beforeSave = async () => {
      const current = present(await threads.get(releaseId), 'the thread');
      await threads.save({ ...current, replied: [...current.replied, 'other#event'] });
    };
    await run(shifted10);
    expect(threads.items.get(releaseId)?.replied).toEqual([
      started.detail.eventKey,
      'other#event',
      shifted10.detail.eventKey,
    ]);
    expect(slack.parents()[0]?.message.text).toBe('checkout 42: :arrow_right: 10% on green');
  });
});

describe('redactSecrets', () => {
  it('leaves ordinary release text alone', () => {
    const text = 'Alarm checkout-errors entered ALARM: Threshold Crossed at 2026-11-21T10:01:29Z';
    expect(redactSecrets(text)).toBe(text);
  });
});
