import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { deriveReleaseId } from '../../src/core/release-id.ts';
import { type GreenlightLocal, LocalNames } from '../../src/local/greenlight-local.ts';
import type { StoredMessage } from '../../src/local/slack-standin.ts';
import {
  aLambdaService,
  artifact,
  executionFor,
  lifecycleEvents,
  requestRelease,
  useLocalCloud,
  waitForHistory,
  waitForStep,
} from './local-release.ts';

// Release updates end to end: lifecycle events on the local bus reach the release-updates
// function through its rule, which posts and updates through the real Web API client against
// the local Slack stand-in. What the channel shows is read back from the stand-in.

const channel = 'C0UPDATES';
const withUpdates = (name: string, bakeSeconds: number) => {
  const fixture = aLambdaService(name, bakeSeconds);
  return { ...fixture, service: { ...fixture.service, updates: { channel } } };
};
// `faulty` bakes for a minute: its alarm must cut the bake short, long before that.
const fixtures = [withUpdates('good', 1), withUpdates('faulty', 60), aLambdaService('quiet')];
let local: GreenlightLocal;
let lambda: LambdaClient;

useLocalCloud(fixtures, (cloud) => {
  ({ local, lambda } = cloud);
});

const blocksText = (message: StoredMessage) => JSON.stringify(message.blocks);

/** The parent message of a release in the updates channel, and its replies in order. */
function threadOf(releaseId: string) {
  const parents = local.slack
    .messages(channel)
    .filter((m) => m.threadTs === undefined && blocksText(m).includes(`Release ${releaseId}`));
  expect(parents).toHaveLength(1);
  const parent = parents[0] as StoredMessage;
  return { parent, replies: local.slack.replies(channel, parent.ts) };
}

describe('release updates in Slack', () => {
  it('keeps one message per release, updated to its final state, with a reply per event', async () => {
    const eventId = await requestRelease(local, {
      service: 'good',
      version: '1.1.0',
      artifact: artifact('1.1.0'),
    });
    expect(await executionFor(local, eventId)).toMatchObject({ status: 'SUCCEEDED' });
    const releaseId = deriveReleaseId('good', '1.1.0', 1);

    const { parent, replies } = threadOf(releaseId);
    expect(parent.text).toBe('good 1.1.0: :white_check_mark: Finalized');
    // Updated in place once per event, never posted again.
    expect(parent.history.length).toBe(replies.length);
    const events = lifecycleEvents(local, releaseId).map((e) => e['detail-type']);
    expect(replies.map((r) => r.text)).toEqual([
      'good 1.1.0: :rocket: Started',
      'good 1.1.0: :large_green_circle: Green provisioned',
      'good 1.1.0: :arrow_right: 10% on green',
      'good 1.1.0: :arrow_right: 100% on green',
      'good 1.1.0: :white_check_mark: Finalized',
    ]);
    expect(events).toEqual([
      'Release Started',
      'Green Provisioned',
      'Traffic Shifted',
      'Traffic Shifted',
      'Release Finalized',
    ]);
    expect(local.cloud.eventBridge.failedDeliveries()).toEqual([]);
  });

  it("shows a rolled-back release with the failed gate's evidence in its thread", async () => {
    const releaseId = deriveReleaseId('faulty', '1.3.0', 1);
    const eventId = await requestRelease(local, {
      service: 'faulty',
      version: '1.3.0',
      artifact: artifact('1.3.0-faulty'),
    });
    await waitForStep(local, releaseId, 'bake');
    await waitForHistory(local, eventId, 'TaskSubmitted');
    await Promise.all(
      Array.from({ length: 20 }, () =>
        lambda.send(
          new InvokeCommand({
            FunctionName: 'faulty',
            Qualifier: 'live',
            Payload: JSON.stringify({ path: '/pay' }),
          }),
        ),
      ),
    );
    expect(await executionFor(local, eventId)).toMatchObject({ status: 'FAILED' });

    const { parent, replies } = threadOf(releaseId);
    expect(parent.text).toBe('faulty 1.3.0: :leftwards_arrow_with_hook: Rolled back');
    expect(replies.map((r) => r.text)).toEqual([
      'faulty 1.3.0: :rocket: Started',
      'faulty 1.3.0: :large_green_circle: Green provisioned',
      'faulty 1.3.0: :arrow_right: 10% on green',
      'faulty 1.3.0: :x: Gate failed',
      'faulty 1.3.0: :leftwards_arrow_with_hook: Rolled back',
    ]);
    const gate = replies[3] as StoredMessage;
    expect(blocksText(gate)).toContain('• alarm faulty-errors: ALARM');
  });

  it('posts nothing for a service without an updates channel, and no secret anywhere', async () => {
    const eventId = await requestRelease(local, {
      service: 'quiet',
      version: '1.1.0',
      artifact: artifact('1.1.0'),
    });
    expect(await executionFor(local, eventId)).toMatchObject({ status: 'SUCCEEDED' });
    const quiet = local.slack.messages().filter((m) => m.text.startsWith('quiet '));
    expect(quiet).toEqual([]);
    // A refused request (no such service) is no release: no thread, and nothing fails.
    const refused = await requestRelease(local, { service: 'nope', version: '1', artifact: {} });
    expect(await executionFor(local, refused)).toMatchObject({ status: 'FAILED' });
    expect(lifecycleEvents(local, refused).map((e) => e['detail-type'])).toEqual([
      'Release Rejected',
    ]);
    expect(local.cloud.eventBridge.failedDeliveries()).toEqual([]);

    const bodies = local.slack.calls.map((call) => call.rawBody).join('\n');
    expect(bodies).toContain('thread_ts');
    expect(bodies).not.toContain(LocalNames.slackBotToken);
    expect(bodies).not.toContain(LocalNames.slackSigningSecret);
    expect(bodies).not.toMatch(/xox[a-z]-|secretsmanager|taskToken/);
  });
});
