import { type KnownBlock, LogLevel, type Logger as SlackLogger, WebClient } from '@slack/web-api';
import { SlackApiFailed } from './errors.ts';

/** A Slack message as greenlight builds it: fallback text for notifications, plus blocks. */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

export interface SlackMessageRef {
  channel: string;
  ts: string;
}

/** The Slack Web API methods greenlight uses, and nothing else. */
export interface SlackMessenger {
  postMessage(channel: string, message: SlackMessage): Promise<SlackMessageRef>;
  updateMessage(ref: SlackMessageRef, message: SlackMessage): Promise<void>;
  /** A message only `user` sees, in `channel`. */
  postEphemeral(channel: string, user: string, text: string): Promise<void>;
  /** User ids in a user group (`usergroups.users.list`, scope `usergroups:read`). */
  listUsergroupMembers(usergroup: string): Promise<string[]>;
}

export interface WebApiSlackMessengerOptions {
  /** Bot token (`xoxb-…`); sent only in the Authorization header. */
  token: string;
  /**
   * Where the Web API is; the local Slack stand-in's `http://127.0.0.1:PORT/api/`.
   * @default 'https://slack.com/api/'
   */
  slackApiUrl?: string;
}

// WebClient's default retries for about 30 minutes; a Lambda has seconds. Two quick retries,
// then the error goes to the workflow's Retry, which waits with backoff without paying for it.
const retryConfig = { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 1000 };

/** SlackMessenger over the official @slack/web-api client. */
export class WebApiSlackMessenger implements SlackMessenger {
  readonly #client: WebClient;

  constructor(options: WebApiSlackMessengerOptions) {
    this.#client = new WebClient(options.token, {
      ...(options.slackApiUrl === undefined ? {} : { slackApiUrl: options.slackApiUrl }),
      retryConfig,
      // WebClient logs request bodies at debug level; keep its chatter out of our logs.
      logLevel: LogLevel.ERROR,
      logger: quietLogger,
      timeout: 5000,
      rejectRateLimitedCalls: true,
    });
  }

  async postMessage(channel: string, message: SlackMessage): Promise<SlackMessageRef> {
    const result = await call('chat.postMessage', () =>
      this.#client.chat.postMessage({
        channel,
        text: message.text,
        blocks: message.blocks,
        unfurl_links: false,
        unfurl_media: false,
      }),
    );
    if (!result.ts || !result.channel) throw new SlackApiFailed('chat.postMessage', 'no_ts');
    return { channel: result.channel, ts: result.ts };
  }

  async updateMessage(ref: SlackMessageRef, message: SlackMessage): Promise<void> {
    await call('chat.update', () =>
      this.#client.chat.update({
        channel: ref.channel,
        ts: ref.ts,
        text: message.text,
        blocks: message.blocks,
      }),
    );
  }

  async postEphemeral(channel: string, user: string, text: string): Promise<void> {
    await call('chat.postEphemeral', () =>
      this.#client.chat.postEphemeral({ channel, user, text }),
    );
  }

  async listUsergroupMembers(usergroup: string): Promise<string[]> {
    const result = await call('usergroups.users.list', () =>
      this.#client.usergroups.users.list({ usergroup }),
    );
    return result.users ?? [];
  }
}

/** Runs one Web API call; any failure becomes SlackApiFailed with Slack's error code only. */
async function call<T>(method: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new SlackApiFailed(method, slackErrorCode(error));
  }
}

function slackErrorCode(error: unknown): string {
  if (typeof error !== 'object' || error === null) return 'unknown_error';
  const data = (error as { data?: { error?: unknown } }).data;
  if (typeof data?.error === 'string') return data.error;
  const code = (error as { code?: unknown }).code;
  // WebAPIHTTPError and WebAPIRequestError carry the request in their fields; only the code leaves.
  return typeof code === 'string' ? code : 'unknown_error';
}

const quietLogger: SlackLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};
