import type { KnownBlock } from './blocks.ts';
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
  /** With `threadTs`, a reply in the thread of that message (`thread_ts`). */
  postMessage(
    channel: string,
    message: SlackMessage,
    options?: { threadTs?: string },
  ): Promise<SlackMessageRef>;
  updateMessage(ref: SlackMessageRef, message: SlackMessage): Promise<void>;
  /** A message only `user` sees, in `channel`. */
  postEphemeral(channel: string, user: string, text: string): Promise<void>;
  /** User ids in a user group (`usergroups.users.list`, scope `usergroups:read`). */
  listUsergroupMembers(usergroup: string): Promise<string[]>;
}

/** What `conversations.info` says of a channel the bot can see (only `greenlight plan` asks). */
export interface SlackChannelInfo {
  id: string;
  name?: string;
  /** Absent for channels where Slack does not say (an IM, for one). */
  isMember?: boolean;
}

export interface WebApiSlackMessengerOptions {
  /** Bot token (`xoxb-…`); sent only in the Authorization header. */
  token: string;
  /**
   * Where the Web API is; the local Slack stand-in's `http://127.0.0.1:PORT/api/`.
   * @default 'https://slack.com/api/'
   */
  slackApiUrl?: string;
  /** How the client waits between attempts; tests pass one that only records. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * A Lambda has seconds, not the half hour @slack/web-api's WebClient retries for by default:
 * a failed request (no answer, connection reset, timeout) is tried twice more after 200 and
 * 400 ms, and a 429 whose Retry-After fits in `maxRateLimitWaitMs` is waited out once. Anything
 * longer goes to the workflow's Retry as SlackApiFailed(`ratelimited`), which waits with
 * backoff without paying for a sleeping Lambda. Slack's "Rate limits" page
 * (docs.slack.dev/apis/web-api/rate-limits): a rate-limited call answers HTTP 429 with a
 * Retry-After header in seconds.
 */
export const slackRetry = {
  requestRetries: 2,
  firstDelayMs: 200,
  maxRateLimitWaitMs: 1000,
  timeoutMs: 5000,
} as const;

interface SlackResponse {
  ok?: boolean;
  error?: string;
  [field: string]: unknown;
}

/**
 * SlackMessenger over Slack's Web API with fetch: the five methods greenlight calls, in place
 * of @slack/web-api, which cost every Slack handler ~65 KB and its cold import. Requests are
 * form-encoded with objects as JSON, as WebClient sends them (every Web API method takes this
 * form; not every one takes a JSON body), the token in the Authorization header only.
 */
export class WebApiSlackMessenger implements SlackMessenger {
  readonly #token: string;
  readonly #apiUrl: string;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: WebApiSlackMessengerOptions) {
    this.#token = options.token;
    const url = options.slackApiUrl ?? 'https://slack.com/api/';
    this.#apiUrl = url.endsWith('/') ? url : `${url}/`;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async postMessage(
    channel: string,
    message: SlackMessage,
    options: { threadTs?: string } = {},
  ): Promise<SlackMessageRef> {
    const result = await this.#call('chat.postMessage', {
      channel,
      thread_ts: options.threadTs,
      text: message.text,
      blocks: message.blocks,
      unfurl_links: false,
      unfurl_media: false,
    });
    if (typeof result.ts !== 'string' || typeof result.channel !== 'string' || !result.ts) {
      throw new SlackApiFailed('chat.postMessage', 'no_ts');
    }
    return { channel: result.channel, ts: result.ts };
  }

  async updateMessage(ref: SlackMessageRef, message: SlackMessage): Promise<void> {
    await this.#call('chat.update', {
      channel: ref.channel,
      ts: ref.ts,
      text: message.text,
      blocks: message.blocks,
    });
  }

  async postEphemeral(channel: string, user: string, text: string): Promise<void> {
    await this.#call('chat.postEphemeral', { channel, user, text });
  }

  async listUsergroupMembers(usergroup: string): Promise<string[]> {
    const result = await this.#call('usergroups.users.list', { usergroup });
    return Array.isArray(result.users) ? result.users.filter((u) => typeof u === 'string') : [];
  }

  /**
   * Slack's "conversations.info" page (docs.slack.dev/reference/methods/conversations.info):
   * with the bot token it answers `ok: false, error: channel_not_found` when the bot cannot see
   * the channel, which surfaces here as SlackApiFailed('conversations.info', 'channel_not_found').
   */
  async channelInfo(channel: string): Promise<SlackChannelInfo> {
    const result = await this.#call('conversations.info', { channel });
    const info = result.channel;
    if (
      typeof info !== 'object' ||
      info === null ||
      typeof (info as { id?: unknown }).id !== 'string'
    ) {
      throw new SlackApiFailed('conversations.info', 'invalid_response');
    }
    const { id, name, is_member: isMember } = info as Record<string, unknown>;
    return {
      id: id as string,
      ...(typeof name === 'string' ? { name } : {}),
      ...(typeof isMember === 'boolean' ? { isMember } : {}),
    };
  }

  /** One Web API call; any failure becomes SlackApiFailed with Slack's error code only. */
  async #call(method: string, params: Record<string, unknown>): Promise<SlackResponse> {
    const body = formEncode(params);
    let requestFailures = 0;
    let rateLimitWaited = false;
    for (;;) {
      let response: Response;
      try {
        response = await fetch(`${this.#apiUrl}${method}`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${this.#token}`,
            'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
          },
          body,
          signal: AbortSignal.timeout(slackRetry.timeoutMs),
        });
      } catch {
        // The error names the URL at most, never the token; only a code leaves here anyway.
        if (requestFailures >= slackRetry.requestRetries) {
          throw new SlackApiFailed(method, 'request_failed');
        }
        await this.#sleep(slackRetry.firstDelayMs * 2 ** requestFailures);
        requestFailures += 1;
        continue;
      }
      if (response.status === 429) {
        await response.body?.cancel();
        const waitMs = retryAfterMs(response.headers.get('retry-after'));
        if (rateLimitWaited || waitMs === undefined || waitMs > slackRetry.maxRateLimitWaitMs) {
          throw new SlackApiFailed(method, 'ratelimited');
        }
        rateLimitWaited = true;
        await this.#sleep(waitMs);
        continue;
      }
      if (response.status !== 200) {
        await response.body?.cancel();
        throw new SlackApiFailed(method, `http_${response.status}`);
      }
      let result: SlackResponse;
      try {
        result = (await response.json()) as SlackResponse;
      } catch {
        throw new SlackApiFailed(method, 'invalid_response');
      }
      // Slack answers a refused call with HTTP 200 and `ok: false`, the reason in `error`.
      if (result.ok !== true) {
        throw new SlackApiFailed(
          method,
          typeof result.error === 'string' ? result.error : 'unknown_error',
        );
      }
      return result;
    }
  }
}

/** Retry-After in seconds (Slack sends whole seconds), as milliseconds; undefined if absent. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null || !/^\d+$/.test(header.trim())) return undefined;
  return Number(header.trim()) * 1000;
}

/** `application/x-www-form-urlencoded`, objects and arrays as JSON, as Slack's clients send. */
function formEncode(params: Record<string, unknown>): string {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    form.set(
      key,
      typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value),
    );
  }
  return form.toString();
}
