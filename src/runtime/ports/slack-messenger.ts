import { parseSlackConfig } from '../../slack/config.ts';
import { type SlackMessenger, WebApiSlackMessenger } from '../../slack/messenger.ts';
import type { Wiring } from '../wiring.ts';

/** Approval messages in Slack (its Web API). */
export function buildSlackMessenger(wiring: Wiring): { slack: SlackMessenger } {
  const slack = parseSlackConfig(wiring.env);
  return {
    slack: new WebApiSlackMessenger({
      token: slack.botToken,
      ...(slack.slackApiUrl === undefined ? {} : { slackApiUrl: slack.slackApiUrl }),
    }),
  };
}
