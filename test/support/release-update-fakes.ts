import type { ReleaseUpdateThreads } from '../../src/core/ports.ts';
import type { ReleaseUpdateThread } from '../../src/core/release-updates.ts';
import type { SlackMessage, SlackMessageRef, SlackMessenger } from '../../src/slack/messenger.ts';

/** Threads in a map, with the conditional writes of the DynamoDB adapter. */
export class InMemoryReleaseUpdateThreads implements ReleaseUpdateThreads {
  readonly items = new Map<string, ReleaseUpdateThread>();
  /** Runs before each save: a test can slip in another writer's save here. */
  beforeSave: (() => Promise<void>) | undefined;

  async get(releaseId: string): Promise<ReleaseUpdateThread | undefined> {
    const item = this.items.get(releaseId);
    return item === undefined ? undefined : structuredClone(item);
  }

  async create(thread: ReleaseUpdateThread) {
    const stored = this.items.get(thread.releaseId);
    if (stored) return { created: false, thread: structuredClone(stored) };
    this.items.set(thread.releaseId, structuredClone(thread));
    return { created: true, thread };
  }

  async save(thread: ReleaseUpdateThread) {
    const hook = this.beforeSave;
    this.beforeSave = undefined;
    await hook?.();
    const stored = this.items.get(thread.releaseId);
    if (stored?.version !== thread.version) return { saved: false, thread };
    const next = { ...thread, version: thread.version + 1 };
    this.items.set(thread.releaseId, structuredClone(next));
    return { saved: true, thread: next };
  }
}

export interface RecordedSlackMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  message: SlackMessage;
  /** Earlier contents, oldest first. */
  history: SlackMessage[];
}

/** A SlackMessenger that keeps messages as Slack would show them, ts counting up. */
export class RecordingSlackMessenger implements SlackMessenger {
  readonly messages: RecordedSlackMessage[] = [];
  readonly calls: string[] = [];
  #next = 1;

  async postMessage(
    channel: string,
    message: SlackMessage,
    options: { threadTs?: string } = {},
  ): Promise<SlackMessageRef> {
    this.calls.push(options.threadTs ? 'reply' : 'post');
    const ts = `1700000000.${String(this.#next++).padStart(6, '0')}`;
    this.messages.push({
      channel,
      ts,
      ...(options.threadTs ? { threadTs: options.threadTs } : {}),
      message,
      history: [],
    });
    return { channel, ts };
  }

  async updateMessage(ref: SlackMessageRef, message: SlackMessage): Promise<void> {
    this.calls.push('update');
    const stored = this.messages.find((m) => m.channel === ref.channel && m.ts === ref.ts);
    if (!stored) throw new Error(`message_not_found ${ref.ts}`);
    stored.history.push(stored.message);
    stored.message = message;
  }

  async postEphemeral(): Promise<void> {
    throw new Error('not used by release updates');
  }

  async listUsergroupMembers(): Promise<string[]> {
    throw new Error('not used by release updates');
  }

  parents(): RecordedSlackMessage[] {
    return this.messages.filter((m) => m.threadTs === undefined);
  }

  replies(ts: string): RecordedSlackMessage[] {
    return this.messages.filter((m) => m.threadTs === ts);
  }
}
