import { describe, expect, it } from 'vitest';
import { SlackChannelProbe } from '../../../src/slack/channel-probe.ts';
import { SlackApiFailed } from '../../../src/slack/errors.ts';
import type { SlackChannelInfo } from '../../../src/slack/messenger.ts';

const answering = (answer: SlackChannelInfo | Error) =>
  new SlackChannelProbe({
    channelInfo: async () => {
      if (answer instanceof Error) throw answer;
      return answer;
    },
  });

describe('SlackChannelProbe', () => {
  it('passes a channel the bot can see and is in', async () => {
    expect(
      await answering({ id: 'C0RELEASES', name: 'releases', isMember: true }).reachable(
        'C0RELEASES',
      ),
    ).toEqual({ ok: true, detail: '#releases (C0RELEASES) is visible to the bot' });
  });

  it('passes a visible channel the bot is not in, and says posting needs chat:write.public', async () => {
    const result = await answering({ id: 'C0RELEASES', isMember: false }).reachable('C0RELEASES');
    expect(result.ok).toBe(true);
    expect(result.detail).toContain('chat:write.public');
  });

  it('fails channel_not_found and says how to fix it', async () => {
    const result = await answering(
      new SlackApiFailed('conversations.info', 'channel_not_found'),
    ).reachable('C0HIDDEN');
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(/^channel_not_found: .*invite the bot/);
  });

  it('leaves any other Slack failure to the plan', async () => {
    await expect(
      answering(new SlackApiFailed('conversations.info', 'invalid_auth')).reachable('C1'),
    ).rejects.toThrow(new SlackApiFailed('conversations.info', 'invalid_auth'));
  });
});
