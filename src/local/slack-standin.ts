import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { signSlackRequest } from '../slack/signature.ts';
import { type Endpoint, startEndpoint } from './endpoint.ts';
import type { LocalRequest, LocalResponse, LocalService } from './http.ts';

/** A message as the stand-in keeps it: the current content and every earlier version. */
export interface StoredMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: SlackBlock[];
  /** The parent's ts when this is a thread reply (`thread_ts`). */
  threadTs?: string;
  /** Earlier versions, oldest first (chat.update pushes the replaced one). */
  history: { text: string; blocks: SlackBlock[] }[];
}

export interface EphemeralMessage {
  channel: string;
  user: string;
  text: string;
}

/** One Web API call as received: the raw body too, so tests can search it for secrets. */
export interface RecordedCall {
  method: string;
  rawBody: string;
  params: Record<string, unknown>;
  ok: boolean;
  error?: string;
}

export interface SlackUser {
  id: string;
  username?: string;
}

/** A signed interactivity request, as Slack POSTs it to the app's request URL. */
export interface InteractionRequest {
  headers: Record<string, string>;
  /** `payload=<url-encoded JSON>`. */
  body: string;
}

export interface InteractionReply {
  status: number;
  body: string;
}

export interface LocalSlackOptions {
  /** The bot token the app must send; anything else gets `invalid_auth`. */
  botToken: string;
  /** User group id → member user ids, for `usergroups.users.list`. */
  usergroups?: Record<string, string[]>;
  /**
   * Channel names (`#releases`, `releases`) → ids. When given, other channels get
   * `channel_not_found`; otherwise any channel is accepted and echoed back.
   */
  channels?: Record<string, string>;
  now?: () => Date;
  /** Where clicks go: the app's request URL, here a function so tests can call a handler. */
  interactivity?: {
    signingSecret: string;
    deliver(request: InteractionRequest): Promise<InteractionReply>;
  };
}

type SlackBlock = Record<string, unknown>;

/** Slack's answer to a failed call: HTTP 200 with `ok: false`, as the Web API does. */
class SlackApiError extends Error {
  readonly code: string;

  constructor(code: string) {
    super(code);
    this.code = code;
  }
}

const apiPath = /^\/api\/([a-zA-Z.]+)(?:\?.*)?$/;

/**
 * The part of Slack's Web API greenlight uses, for the local cloud and tests: chat.postMessage,
 * chat.update, chat.postEphemeral, conversations.info, usergroups.users.list and auth.test under `/api/`. It checks
 * the bot token and Block Kit's documented limits, keeps every message and call, and can click
 * a message's button the way Slack does: a form-encoded `payload`, signed with the signing
 * secret, sent to the interactivity endpoint. Point greenlight's WebApiSlackMessenger (or any
 * Slack client) at it with `slackApiUrl: 'http://127.0.0.1:PORT/api/'`.
 */
export class LocalSlack implements LocalService {
  readonly name = 'slack';
  readonly calls: RecordedCall[] = [];
  readonly ephemerals: EphemeralMessage[] = [];
  /** Every interactivity request sent by `click`, with the endpoint's reply. */
  readonly interactions: { request: InteractionRequest; reply: InteractionReply }[] = [];
  readonly #options: LocalSlackOptions;
  readonly #messages = new Map<string, StoredMessage>();
  #sequence = 0;

  constructor(options: LocalSlackOptions) {
    this.#options = options;
  }

  /** Messages in posting order, optionally of one channel. */
  messages(channel?: string): StoredMessage[] {
    return [...this.#messages.values()].filter(
      (message) => channel === undefined || message.channel === channel,
    );
  }

  message(channel: string, ts: string): StoredMessage | undefined {
    return this.#messages.get(key(channel, ts));
  }

  /** The replies in the thread of the message `ts`, in posting order. */
  replies(channel: string, ts: string): StoredMessage[] {
    return this.messages(channel).filter((message) => message.threadTs === ts);
  }

  async handle(request: LocalRequest): Promise<LocalResponse | undefined> {
    const match = apiPath.exec(request.url);
    if (!match || request.method !== 'POST') return undefined;
    const method = match[1] as string;
    const rawBody = request.body.toString('utf8');
    let params: Record<string, unknown> = {};
    try {
      params = parseParams(rawBody, String(request.headers['content-type'] ?? ''));
      this.#authorize(request, params);
      const result = this.#call(method, params);
      this.calls.push({ method, rawBody, params, ok: true });
      return json({ ok: true, ...result });
    } catch (error) {
      const code = error instanceof SlackApiError ? error.code : 'internal_error';
      this.calls.push({ method, rawBody, params, ok: false, error: code });
      return json({ ok: false, error: code });
    }
  }

  /**
   * Clicks the button `actionId` of a stored message as `user`, like Slack: builds the
   * block_actions payload from the message, signs it, and delivers it to the interactivity
   * endpoint. `timestamp` (Unix seconds) defaults to now, for tests of stale requests. Buttons
   * of earlier versions of the message count, as a client may still show one.
   */
  async click(input: {
    channel: string;
    ts: string;
    actionId: string;
    user: SlackUser;
    timestamp?: number;
  }): Promise<InteractionReply & { request: InteractionRequest }> {
    const interactivity = this.#options.interactivity;
    if (!interactivity) throw new Error('LocalSlack has no interactivity endpoint to click into');
    const message = this.message(input.channel, input.ts);
    if (!message) throw new Error(`No message ${input.ts} in ${input.channel}`);
    // A client may still show an earlier version (two people clicking at once, a double click
    // before the update arrives): its buttons can be clicked too.
    const found = [message.blocks, ...message.history.map((version) => version.blocks).reverse()]
      .map((blocks) => findButton(blocks, input.actionId))
      .find((button) => button !== undefined);
    if (!found) throw new Error(`Message ${input.ts} has no button "${input.actionId}"`);
    const payload = blockActionsPayload(
      message,
      found.block,
      found.button,
      input.user,
      this.#now(),
    );
    const request = signedInteraction(
      interactivity.signingSecret,
      payload,
      input.timestamp ?? Math.floor(this.#now().getTime() / 1000),
    );
    const reply = await interactivity.deliver(request);
    this.interactions.push({ request, reply });
    return { ...reply, request };
  }

  #call(method: string, params: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return {
          url: 'http://127.0.0.1/',
          team: 'greenlight-local',
          user: 'greenlight',
          team_id: 'T0LOCAL',
          user_id: 'U0GREENLIGHT',
          bot_id: 'B0GREENLIGHT',
        };
      case 'chat.postMessage': {
        const channel = this.#channel(params.channel);
        const content = messageContent(params);
        const threadTs = typeof params.thread_ts === 'string' ? params.thread_ts : undefined;
        // The stand-in is stricter than it need be: a reply must name a message it holds.
        if (threadTs !== undefined && !this.#messages.has(key(channel, threadTs))) {
          throw new SlackApiError('thread_not_found');
        }
        const ts = this.#nextTs();
        this.#messages.set(key(channel, ts), {
          channel,
          ts,
          ...content,
          ...(threadTs === undefined ? {} : { threadTs }),
          history: [],
        });
        return {
          channel,
          ts,
          message: { type: 'message', ts, bot_id: 'B0GREENLIGHT', ...content },
        };
      }
      case 'chat.update': {
        const channel = this.#channel(params.channel);
        const ts = requireString(params.ts, 'message_not_found');
        const stored = this.#messages.get(key(channel, ts));
        if (!stored) throw new SlackApiError('message_not_found');
        const content = messageContent(params);
        stored.history.push({ text: stored.text, blocks: stored.blocks });
        stored.text = content.text;
        stored.blocks = content.blocks;
        return { channel, ts, text: content.text, message: { ...content } };
      }
      case 'chat.postEphemeral': {
        const channel = this.#channel(params.channel);
        const user = requireString(params.user, 'user_not_in_channel');
        const text = typeof params.text === 'string' ? params.text : '';
        if (!text && params.blocks === undefined) throw new SlackApiError('no_text');
        this.ephemerals.push({ channel, user, text });
        return { message_ts: this.#nextTs() };
      }
      case 'conversations.info': {
        // Like Slack, by id or (here also) name; a channel it does not know is channel_not_found.
        const id = this.#channel(params.channel);
        const names = Object.entries(this.#options.channels ?? {});
        const name = names.find(([, known]) => known === id)?.[0] ?? id.replace(/^#/, '');
        return { channel: { id, name: name.replace(/^#/, ''), is_member: true } };
      }
      case 'usergroups.users.list': {
        const group = requireString(params.usergroup, 'no_such_subteam');
        const users = this.#options.usergroups?.[group];
        if (!users) throw new SlackApiError('no_such_subteam');
        return { users: [...users] };
      }
      default:
        throw new SlackApiError('unknown_method');
    }
  }

  #authorize(request: LocalRequest, params: Record<string, unknown>): void {
    const header = request.headers.authorization;
    const token =
      typeof header === 'string' && header.startsWith('Bearer ')
        ? header.slice('Bearer '.length)
        : typeof params.token === 'string'
          ? params.token
          : undefined;
    if (token === undefined) throw new SlackApiError('not_authed');
    if (token !== this.#options.botToken) throw new SlackApiError('invalid_auth');
  }

  #channel(value: unknown): string {
    const channel = requireString(value, 'channel_not_found');
    const known = this.#options.channels;
    if (!known) return channel;
    const byName = known[channel] ?? known[channel.replace(/^#/, '')];
    if (byName) return byName;
    if (Object.values(known).includes(channel)) return channel;
    throw new SlackApiError('channel_not_found');
  }

  #nextTs(): string {
    this.#sequence += 1;
    return `${Math.floor(this.#now().getTime() / 1000)}.${String(this.#sequence).padStart(6, '0')}`;
  }

  #now(): Date {
    return this.#options.now?.() ?? new Date();
  }
}

/** Starts a LocalSlack on its own loopback port; `apiUrl` is what WebApiSlackMessenger's `slackApiUrl` takes. */
export async function startLocalSlack(
  options: LocalSlackOptions,
): Promise<{ slack: LocalSlack; apiUrl: string; endpoint: Endpoint; close(): Promise<void> }> {
  const slack = new LocalSlack(options);
  const endpoint = await startEndpoint([slack]);
  return { slack, apiUrl: `${endpoint.url}/api/`, endpoint, close: () => endpoint.close() };
}

/** A block_actions payload signed the way Slack signs it (v0, HMAC-SHA256). */
export function signedInteraction(
  signingSecret: string,
  payload: unknown,
  timestamp: number,
): InteractionRequest {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  return {
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': signSlackRequest(signingSecret, String(timestamp), body),
    },
    body,
  };
}

/** The event a Lambda function URL hands its handler for `request` (base64 body if asked). */
export function functionUrlEvent(
  request: InteractionRequest,
  options: { base64?: boolean; now?: Date } = {},
): LambdaFunctionURLEvent {
  const now = options.now ?? new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: { ...request.headers, host: 'local.lambda-url.us-east-1.on.aws' },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName: 'local.lambda-url.us-east-1.on.aws',
      domainPrefix: 'local',
      http: {
        method: 'POST',
        path: '/',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: request.headers['user-agent'] ?? '',
      },
      requestId: `local-${now.getTime()}`,
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: options.base64 ? Buffer.from(request.body, 'utf8').toString('base64') : request.body,
    isBase64Encoded: options.base64 ?? false,
  };
}

// Block Kit limits from docs.slack.dev/reference/block-kit (blocks and elements).
const limits = {
  blocks: 50,
  blockId: 255,
  headerText: 150,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  actionId: 255,
  buttonValue: 2000,
} as const;

function messageContent(params: Record<string, unknown>): { text: string; blocks: SlackBlock[] } {
  const text = typeof params.text === 'string' ? params.text : '';
  let blocks: unknown = params.blocks ?? [];
  if (typeof blocks === 'string') {
    try {
      blocks = JSON.parse(blocks);
    } catch {
      throw new SlackApiError('invalid_blocks_format');
    }
  }
  if (!Array.isArray(blocks)) throw new SlackApiError('invalid_blocks_format');
  if (!text && blocks.length === 0) throw new SlackApiError('no_text');
  validateBlocks(blocks);
  return { text, blocks: blocks as SlackBlock[] };
}

function validateBlocks(blocks: unknown[]): void {
  const invalid = () => new SlackApiError('invalid_blocks');
  if (blocks.length > limits.blocks) throw invalid();
  for (const block of blocks) {
    if (typeof block !== 'object' || block === null) throw invalid();
    const b = block as Record<string, unknown>;
    if (b.block_id !== undefined && !within(b.block_id, limits.blockId)) throw invalid();
    switch (b.type) {
      case 'header':
        if (!isText(b.text, 'plain_text', limits.headerText)) throw invalid();
        break;
      case 'section': {
        const fields = b.fields;
        if (b.text === undefined && fields === undefined) throw invalid();
        if (b.text !== undefined && !isText(b.text, undefined, limits.sectionText)) throw invalid();
        if (fields !== undefined) {
          if (!Array.isArray(fields) || fields.length > limits.sectionFields) throw invalid();
          if (!fields.every((field) => isText(field, undefined, limits.fieldText))) throw invalid();
        }
        break;
      }
      case 'context': {
        const elements = b.elements;
        if (
          !Array.isArray(elements) ||
          elements.length === 0 ||
          elements.length > limits.contextElements
        )
          throw invalid();
        break;
      }
      case 'actions': {
        const elements = b.elements;
        if (
          !Array.isArray(elements) ||
          elements.length === 0 ||
          elements.length > limits.actionsElements
        )
          throw invalid();
        const ids = new Set<string>();
        for (const element of elements as Record<string, unknown>[]) {
          if (element.type !== 'button') continue;
          if (!isText(element.text, 'plain_text', limits.buttonText)) throw invalid();
          if (!within(element.action_id, limits.actionId)) throw invalid();
          if (element.value !== undefined && !within(element.value, limits.buttonValue))
            throw invalid();
          if (ids.has(element.action_id as string)) throw invalid();
          ids.add(element.action_id as string);
        }
        break;
      }
      case 'divider':
        break;
      default:
        throw invalid();
    }
  }
}

function isText(value: unknown, type: 'plain_text' | 'mrkdwn' | undefined, max: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const text = value as Record<string, unknown>;
  if (text.type !== 'plain_text' && text.type !== 'mrkdwn') return false;
  if (type !== undefined && text.type !== type) return false;
  return typeof text.text === 'string' && text.text.length >= 1 && text.text.length <= max;
}

function within(value: unknown, max: number): boolean {
  return typeof value === 'string' && value.length >= 1 && value.length <= max;
}

function findButton(
  blocks: SlackBlock[],
  actionId: string,
): { block: SlackBlock; button: Record<string, unknown> } | undefined {
  for (const block of blocks) {
    if (block.type !== 'actions' || !Array.isArray(block.elements)) continue;
    for (const element of block.elements as Record<string, unknown>[]) {
      if (element.action_id === actionId) return { block, button: element };
    }
  }
  return undefined;
}

function blockActionsPayload(
  message: StoredMessage,
  block: SlackBlock,
  button: Record<string, unknown>,
  user: SlackUser,
  now: Date,
): Record<string, unknown> {
  const actionTs = (now.getTime() / 1000).toFixed(6);
  return {
    type: 'block_actions',
    user: {
      id: user.id,
      username: user.username ?? user.id.toLowerCase(),
      name: user.username ?? user.id.toLowerCase(),
      team_id: 'T0LOCAL',
    },
    api_app_id: 'A0GREENLIGHT',
    token: 'verification-token-unused',
    container: {
      type: 'message',
      message_ts: message.ts,
      channel_id: message.channel,
      is_ephemeral: false,
    },
    trigger_id: `${message.ts}.local`,
    team: { id: 'T0LOCAL', domain: 'greenlight-local' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: message.channel, name: message.channel.replace(/^#/, '') },
    message: { type: 'message', ts: message.ts, text: message.text, blocks: message.blocks },
    state: { values: {} },
    response_url: 'http://127.0.0.1/slack/response-url-unused',
    actions: [
      {
        action_id: button.action_id,
        block_id: block.block_id ?? 'actions',
        text: button.text,
        value: button.value,
        ...(button.style === undefined ? {} : { style: button.style }),
        type: 'button',
        action_ts: actionTs,
      },
    ],
  };
}

function parseParams(rawBody: string, contentType: string): Record<string, unknown> {
  if (contentType.includes('application/json')) {
    try {
      const parsed: unknown = JSON.parse(rawBody || '{}');
      if (typeof parsed === 'object' && parsed !== null) return parsed as Record<string, unknown>;
    } catch {
      // falls through to invalid_json
    }
    throw new SlackApiError('invalid_json');
  }
  return Object.fromEntries(new URLSearchParams(rawBody));
}

function requireString(value: unknown, error: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new SlackApiError(error);
  return value;
}

function key(channel: string, ts: string): string {
  return `${channel}/${ts}`;
}

function json(body: unknown): LocalResponse {
  return {
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
  };
}
