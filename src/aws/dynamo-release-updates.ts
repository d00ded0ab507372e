import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ReleaseUpdateThreads } from '../core/ports.ts';
import type { ReleaseUpdateThread } from '../core/release-updates.ts';

export interface DynamoReleaseUpdateThreadsOptions {
  client: DynamoDBDocumentClient;
  /** The ledger table: the thread sits beside its release's item. */
  tableName: string;
}

const threadKey = (releaseId: string) => ({ pk: `release#${releaseId}`, sk: 'slack-updates' });

/** Release update threads as one item per release in the ledger table. */
export class DynamoReleaseUpdateThreads implements ReleaseUpdateThreads {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(options: DynamoReleaseUpdateThreadsOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
  }

  async get(releaseId: string): Promise<ReleaseUpdateThread | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({
        TableName: this.#tableName,
        Key: threadKey(releaseId),
        ConsistentRead: true,
      }),
    );
    return Item ? toThread(Item) : undefined;
  }

  async create(
    thread: ReleaseUpdateThread,
  ): Promise<{ created: boolean; thread: ReleaseUpdateThread }> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: { ...thread, ...threadKey(thread.releaseId) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { created: true, thread };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      const stored = await this.get(thread.releaseId);
      if (stored === undefined) throw error;
      return { created: false, thread: stored };
    }
  }

  async save(
    thread: ReleaseUpdateThread,
  ): Promise<{ saved: boolean; thread: ReleaseUpdateThread }> {
    const next = { ...thread, version: thread.version + 1 };
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: { ...next, ...threadKey(thread.releaseId) },
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':expected': thread.version },
        }),
      );
      return { saved: true, thread: next };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      return { saved: false, thread };
    }
  }
}

function toThread(item: Record<string, unknown>): ReleaseUpdateThread {
  const { pk: _pk, sk: _sk, ...thread } = item;
  return thread as unknown as ReleaseUpdateThread;
}

function isConditionFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}
