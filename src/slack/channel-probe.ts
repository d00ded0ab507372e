import type { ApprovalChannelProbe } from '../core/plan.ts';
import { SlackApiFailed } from './errors.ts';
import type { SlackChannelInfo } from './messenger.ts';

/**
 * ApprovalChannelProbe over `conversations.info`. Slack's answer decides the check; a request
 * that never got an answer (network, rate limit) is left to the plan, which fails it as
 * "could not be reached".
 */
export class SlackChannelProbe implements ApprovalChannelProbe {
  readonly #slack: { channelInfo(channel: string): Promise<SlackChannelInfo> };

  constructor(slack: { channelInfo(channel: string): Promise<SlackChannelInfo> }) {
    this.#slack = slack;
  }

  async reachable(channel: string): Promise<{ ok: boolean; detail: string }> {
    let info: SlackChannelInfo;
    try {
      info = await this.#slack.channelInfo(channel);
    } catch (error) {
      if (error instanceof SlackApiFailed && error.slackError === 'channel_not_found') {
        return {
          ok: false,
          detail:
            'channel_not_found: the bot cannot see it; give the channel id (C…) and invite the bot (/invite @greenlight)',
        };
      }
      throw error;
    }
    const named = info.name === undefined ? info.id : `#${info.name} (${info.id})`;
    // With chat:write.public a bot may post to a public channel it is not in, so a non-member
    // is not a failure; it is said, since without that scope the post would be refused.
    return {
      ok: true,
      detail:
        info.isMember === false
          ? `${named} is visible; the bot is not a member, so posting needs chat:write.public or an invite`
          : `${named} is visible to the bot`,
    };
  }
}
