import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SlackApiFailed } from '../../../src/slack/errors.ts';
import { slackRetry, WebApiSlackMessenger } from '../../../src/slack/messenger.ts';

/** A Slack Web API on 127.0.0.1 that answers each request with the next scripted reply. */
type Reply = (response: ServerResponse, request: IncomingMessage, body: string) => void;
let close: (() => Promise<void>) | undefined;

afterEach(async () => {
  await close?.();
  close = undefined;
});

async function aSlackApi(replies: Reply[]) {
  const received: { url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    request.on('end', () => {
      received.push({ url: request.url ?? '', headers: request.headers, body });
      const reply = replies[received.length - 1] ?? ok({});
      reply(response, request, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  const { port } = server.address() as AddressInfo;
  const waits: number[] = [];
  const messenger = new WebApiSlackMessenger({
    token: 'xoxb-secret',
    slackApiUrl: `http://127.0.0.1:${port}/api`,
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
  return { messenger, received, waits };
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Reply =>
  (response) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(body));
  };
const ok = (fields: Record<string, unknown>) => json(200, { ok: true, ...fields });
/** The connection dies before any answer, as on a network failure. */
const hangUp: Reply = (response) => {
  response.socket?.destroy();
};
const posted = ok({ channel: 'C0RELEASES', ts: '1.000001' });
const message = { text: 'hi', blocks: [] };

describe('WebApiSlackMessenger', () => {
  it('posts form-encoded with the blocks as JSON and the token only in the header', async () => {
    const { messenger, received } = await aSlackApi([posted]);
    const blocks = [{ type: 'section' as const, text: { type: 'mrkdwn' as const, text: 'x' } }];

    const ref = await messenger.postMessage('#releases', { text: 'hi', blocks });

    expect(ref).toEqual({ channel: 'C0RELEASES', ts: '1.000001' });
    const [request] = received;
    expect(request?.url).toBe('/api/chat.postMessage');
    expect(request?.headers.authorization).toBe('Bearer xoxb-secret');
    expect(request?.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(Object.fromEntries(new URLSearchParams(request?.body))).toEqual({
      channel: '#releases',
      text: 'hi',
      blocks: JSON.stringify(blocks),
      unfurl_links: 'false',
      unfurl_media: 'false',
    });
    expect(request?.body).not.toContain('xoxb-secret');
  });

  it('turns ok: false into SlackApiFailed with Slack’s error code', async () => {
    const { messenger } = await aSlackApi([json(200, { ok: false, error: 'channel_not_found' })]);

    await expect(messenger.postMessage('#nope', message)).rejects.toThrow(
      new SlackApiFailed('chat.postMessage', 'channel_not_found'),
    );
  });

  it('asks conversations.info for a channel and reads its id, name and membership', async () => {
    const { messenger, received } = await aSlackApi([
      ok({ channel: { id: 'C0RELEASES', name: 'releases', is_member: false, is_channel: true } }),
    ]);

    expect(await messenger.channelInfo('C0RELEASES')).toEqual({
      id: 'C0RELEASES',
      name: 'releases',
      isMember: false,
    });
    expect(received[0]?.url).toBe('/api/conversations.info');
    expect(Object.fromEntries(new URLSearchParams(received[0]?.body))).toEqual({
      channel: 'C0RELEASES',
    });
  });

  it('fails conversations.info as channel_not_found when the bot cannot see the channel', async () => {
    const { messenger } = await aSlackApi([json(200, { ok: false, error: 'channel_not_found' })]);

    await expect(messenger.channelInfo('C0HIDDEN')).rejects.toThrow(
      new SlackApiFailed('conversations.info', 'channel_not_found'),
    );
  });

  it('waits out a short Retry-After on 429 once, then sends again', async () => {
    const { messenger, received, waits } = await aSlackApi([
      json(429, { ok: false, error: 'ratelimited' }, { 'retry-after': '1' }),
      ok({ users: ['U0ONE'] }),
    ]);

    expect(await messenger.listUsergroupMembers('S0RELEASERS')).toEqual(['U0ONE']);
    expect(waits).toEqual([1000]);
    expect(received).toHaveLength(2);
  });

  it('leaves a long Retry-After to the workflow’s Retry: ratelimited at once', async () => {
    const { messenger, received, waits } = await aSlackApi([
      json(429, { ok: false, error: 'ratelimited' }, { 'retry-after': '30' }),
    ]);

    await expect(messenger.updateMessage({ channel: 'C1', ts: '1.1' }, message)).rejects.toThrow(
      new SlackApiFailed('chat.update', 'ratelimited'),
    );
    expect(waits).toEqual([]);
    expect(received).toHaveLength(1);
  });

  it('retries a failed request twice with backoff, then gives up with request_failed', async () => {
    const recovering = await aSlackApi([hangUp, hangUp, posted]);
    expect(await recovering.messenger.postMessage('C0RELEASES', message)).toMatchObject({
      ts: '1.000001',
    });
    expect(recovering.waits).toEqual([slackRetry.firstDelayMs, slackRetry.firstDelayMs * 2]);
    await close?.();

    const down = await aSlackApi([hangUp, hangUp, hangUp, posted]);
    await expect(down.messenger.postEphemeral('C1', 'U1', 'x')).rejects.toThrow(
      new SlackApiFailed('chat.postEphemeral', 'request_failed'),
    );
    expect(down.received).toHaveLength(3);
  });

  it('does not retry an HTTP error, and names its status', async () => {
    const { messenger, received } = await aSlackApi([json(503, { ok: false })]);

    await expect(messenger.postMessage('C1', message)).rejects.toThrow(
      new SlackApiFailed('chat.postMessage', 'http_503'),
    );
    expect(received).toHaveLength(1);
  });
});
