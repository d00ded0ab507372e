import { ReleaseUpdateNotReady } from '../core/errors.ts';
import type { ReleaseUpdateThreads } from '../core/ports.ts';
import type { ServiceRegistryReader } from '../core/registry.ts';
import {
  isNewerUpdate,
  LifecycleEnvelope,
  type ReleaseUpdate,
  type ReleaseUpdateThread,
  releaseUpdateOf,
} from '../core/release-updates.ts';
import type { Step } from '../runtime/step-handler.ts';
import type { SlackMessenger } from '../slack/messenger.ts';
import {
  releaseUpdateParentMessage,
  releaseUpdateReply,
} from '../slack/release-update-messages.ts';

export interface ReleaseUpdatesDependencies {
  registry: ServiceRegistryReader;
  threads: ReleaseUpdateThreads;
  slack: SlackMessenger;
  /** How a delivery waits for another to post the parent; tests pass one that only records. */
  sleep?: (ms: number) => Promise<void>;
}

export interface ReleaseUpdatesOutcome {
  releaseId: string;
  /** `no-channel`: the service names no updates channel (or is no longer registered). */
  outcome: 'no-channel' | 'updated';
  /** Whether this delivery posted the event's thread reply (false on a redelivery). */
  replied: boolean;
  /** Whether the parent message now shows this event (false when a newer one is shown). */
  shown: boolean;
}

// Another delivery of the same release holds the claim to post the parent: a Slack call takes
// well under a second, so a few short looks cover it; past them, Lambda retries the event.
const parentWaits = [100, 200, 400, 800];
// Concurrent saves of one thread: each retry re-reads and re-applies.
const saveAttempts = 5;

/**
 * Keeps a release's Slack thread in step with its lifecycle events: the first event posts the
 * parent message, every event adds one thread reply and moves the parent forward (never
 * back: see isNewerUpdate). Invoked by the EventBridge rule on greenlight's own events, at
 * least once per event: an event whose key the thread has already replied to posts nothing
 * new and only refreshes the parent.
 *
 * Slack's chat.postMessage has no idempotency key: a handler that dies after posting and
 * before saving posts that one message again when the event is redelivered.
 */
export const releaseUpdatesStep: Step<
  LifecycleEnvelope,
  ReleaseUpdatesOutcome,
  ReleaseUpdatesDependencies
> = {
  name: 'release-updates',
  input: LifecycleEnvelope,
  run: async (envelope, deps) => {
    const update = releaseUpdateOf(envelope);
    const service = await deps.registry.find(update.service);
    const channel = service?.updates?.channel;
    if (channel === undefined) {
      return { releaseId: update.releaseId, outcome: 'no-channel', replied: false, shown: false };
    }
    let thread = await threadWithParent(deps, update, channel);
    const ts = thread.ts as string;
    const replied = !thread.replied.includes(update.key);
    if (replied) {
      await deps.slack.postMessage(thread.channel, releaseUpdateReply(update), { threadTs: ts });
    }
    thread = await changeThread(deps, thread, (current) => {
      const seen = current.replied.includes(update.key);
      const newer = isNewerUpdate(update, current.latest);
      if (seen && !newer) return undefined;
      return {
        ...current,
        replied: seen ? current.replied : [...current.replied, update.key],
        latest: newer ? update : current.latest,
      };
    });
    // Always: a redelivery after a crash between save and update repairs the parent.
    await deps.slack.updateMessage(
      { channel: thread.channel, ts },
      releaseUpdateParentMessage(thread.latest),
    );
    return {
      releaseId: update.releaseId,
      outcome: 'updated',
      replied,
      shown: thread.latest.key === update.key,
    };
  },
};

/** The release's thread with its parent message posted: by this delivery if it claims it. */
async function threadWithParent(
  deps: ReleaseUpdatesDependencies,
  update: ReleaseUpdate,
  channel: string,
): Promise<ReleaseUpdateThread> {
  let thread =
    (await deps.threads.get(update.releaseId)) ??
    (
      await deps.threads.create({
        releaseId: update.releaseId,
        channel,
        claimedBy: update.key,
        latest: update,
        replied: [],
        version: 0,
      })
    ).thread;
  if (thread.ts !== undefined) return thread;
  if (thread.claimedBy === update.key) {
    const ref = await deps.slack.postMessage(
      thread.channel,
      releaseUpdateParentMessage(thread.latest),
    );
    return changeThread(deps, thread, (current) => ({
      ...current,
      channel: ref.channel,
      ts: ref.ts,
    }));
  }
  const sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  for (const ms of parentWaits) {
    await sleep(ms);
    thread = (await deps.threads.get(update.releaseId)) ?? thread;
    if (thread.ts !== undefined) return thread;
  }
  throw new ReleaseUpdateNotReady(
    `The update thread of release ${update.releaseId} has no parent message yet: event ${update.key} waits for its redelivery`,
    { releaseId: update.releaseId, eventKey: update.key },
  );
}

/**
 * Applies `change` to the stored thread with a conditional save, re-reading and re-applying
 * when another delivery saved first. `change` returning undefined means nothing to write.
 */
async function changeThread(
  deps: ReleaseUpdatesDependencies,
  thread: ReleaseUpdateThread,
  change: (current: ReleaseUpdateThread) => ReleaseUpdateThread | undefined,
): Promise<ReleaseUpdateThread> {
  let current = thread;
  for (let attempt = 0; attempt < saveAttempts; attempt++) {
    const next = change(current);
    if (next === undefined) return current;
    const result = await deps.threads.save(next);
    if (result.saved) return result.thread;
    current = (await deps.threads.get(thread.releaseId)) ?? current;
  }
  throw new ReleaseUpdateNotReady(
    `The update thread of release ${thread.releaseId} changed under ${saveAttempts} saves in a row`,
    { releaseId: thread.releaseId },
  );
}
