import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalSlack, startLocalSlack } from '../../../src/local/slack-standin.ts';
import { SlackApiFailed } from '../../../src/slack/errors.ts';
import { WebApiSlackMessenger } from '../../../src/slack/messenger.ts';

const botToken = 'xoxb-local-test-token';
let running: Awaited<ReturnType<typeof startLocalSlack>>;
let slack: LocalSlack;
let messenger: WebApiSlackMessenger;

beforeAll(async () => {
  running = await startLocalSlack({
    botToken,
    usergroups: { S0RELEASERS: ['U0ONE', 'U0TWO'] },
    channels: { releases: 'C0RELEASES' },
    now: () => new Date('2026-11-21T10:00:00Z'),
  });
  slack = running.slack;
  messenger = new WebApiSlackMessenger({ token: botToken, slackApiUrl: running.apiUrl });
});

afterAll(async () => {
  await running.close();
});

const blocks = [{ type: 'section' as const, text: { type: 'mrkdwn' as const, text: 'hello' } }];

describe('LocalSlack with greenlight’s Web API client', () => {
  it('posts a message, resolves the channel name to its id and keeps it', async () => {
    const ref = await messenger.postMessage('#releases', { text: 'hi', blocks });

    expect(ref).toEqual({ channel: 'C0RELEASES', ts: '1795255200.000001' });
    expect(slack.message('C0RELEASES', ref.ts)).toMatchObject({ text: 'hi', blocks, history: [] });
    expect(slack.calls.at(-1)).toMatchObject({ method: 'chat.postMessage', ok: true });
  });

  it('updates a message and keeps the replaced version', async () => {
    const ref = await messenger.postMessage('C0RELEASES', { text: 'one', blocks });
    await messenger.updateMessage(ref, { text: 'two', blocks });

    expect(slack.message(ref.channel, ref.ts)).toMatchObject({
      text: 'two',
      history: [{ text: 'one', blocks }],
    });
  });

  it('threads a reply under its parent (thread_ts) and refuses a parent it does not hold', async () => {
    const parent = await messenger.postMessage('C0RELEASES', { text: 'parent', blocks });
    const reply = await messenger.postMessage(
      'C0RELEASES',
      { text: 'reply', blocks },
      { threadTs: parent.ts },
    );

    expect(slack.calls.at(-1)?.params.thread_ts).toBe(parent.ts);
    expect(slack.replies('C0RELEASES', parent.ts)).toMatchObject([
      { ts: reply.ts, text: 'reply', threadTs: parent.ts },
    ]);
    expect(slack.message('C0RELEASES', parent.ts)?.threadTs).toBeUndefined();
    await expect(
      messenger.postMessage('C0RELEASES', { text: 'x', blocks }, { threadTs: '1.000009' }),
    ).rejects.toThrow(new SlackApiFailed('chat.postMessage', 'thread_not_found'));
  });

  it('lists user group members and refuses unknown groups', async () => {
    expect(await messenger.listUsergroupMembers('S0RELEASERS')).toEqual(['U0ONE', 'U0TWO']);
    await expect(messenger.listUsergroupMembers('S0NOPE')).rejects.toThrow(
      new SlackApiFailed('usergroups.users.list', 'no_such_subteam'),
    );
  });

  it('answers conversations.info for the channels it knows, by id or name', async () => {
    expect(await messenger.channelInfo('C0RELEASES')).toEqual({
      id: 'C0RELEASES',
      name: 'releases',
      isMember: true,
    });
    expect(await messenger.channelInfo('#releases')).toMatchObject({ id: 'C0RELEASES' });
    await expect(messenger.channelInfo('C0UNKNOWN')).rejects.toThrow(
      new SlackApiFailed('conversations.info', 'channel_not_found'),
    );
  });

  it('records ephemeral messages', async () => {
    await messenger.postEphemeral('C0RELEASES', 'U0ONE', 'only you');
    expect(slack.ephemerals.at(-1)).toEqual({
      channel: 'C0RELEASES',
      user: 'U0ONE',
      text: 'only you',
    });
  });

  it('answers invalid_auth to another token and not_authed to none, like Slack', async () => {
    const wrong = new WebApiSlackMessenger({ token: 'xoxb-wrong', slackApiUrl: running.apiUrl });
    await expect(wrong.postMessage('C0RELEASES', { text: 'x', blocks })).rejects.toThrow(
      'Slack chat.postMessage failed: invalid_auth',
    );
    const anonymous = await fetch(`${running.apiUrl}auth.test`, { method: 'POST', body: '' });
    expect(await anonymous.json()).toEqual({ ok: false, error: 'not_authed' });
  });

  it('refuses unknown channels, missing messages and blocks beyond Block Kit limits', async () => {
    await expect(messenger.postMessage('#random', { text: 'x', blocks })).rejects.toThrow(
      'channel_not_found',
    );
    await expect(
      messenger.updateMessage({ channel: 'C0RELEASES', ts: '1.000999' }, { text: 'x', blocks }),
    ).rejects.toThrow('message_not_found');
    await expect(
      messenger.postMessage('C0RELEASES', {
        text: 'x',
        blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }],
      }),
    ).rejects.toThrow('invalid_blocks');
  });

  it('never receives the bot token in a body: it travels in the Authorization header', () => {
    expect(slack.calls.length).toBeGreaterThan(0);
    for (const call of slack.calls) expect(call.rawBody).not.toContain(botToken);
  });
});
