import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { BakeStore } from '../core/ports.ts';
import type { BakeRecord } from '../core/records.ts';

const bakeKey = (releaseId: string) => ({ pk: `release#${releaseId}`, sk: 'bake' });
const watchKey = (alarmName: string, releaseId: string) => ({
  pk: `watch#${alarmName}`,
  sk: `release#${releaseId}`,
});

/** Bakes and alarm watches on the ledger table (single-table design, see dynamo-ledger.ts). */
export class DynamoBakeStore implements BakeStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(options: { client: DynamoDBDocumentClient; tableName: string }) {
    this.#client = options.client;
    this.#tableName = options.tableName;
  }

  async begin(bake: BakeRecord): Promise<BakeRecord> {
    const current = await this.get(bake.releaseId);
    if (current?.stepIndex === bake.stepIndex) {
      if (bake.taskToken === undefined || current.taskToken === bake.taskToken) return current;
      // A retried invocation of the same bake: a new wait, so a new token; same start and end.
      const { Attributes } = await this.#client.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: bakeKey(bake.releaseId),
          UpdateExpression: 'SET taskToken = :token',
          ConditionExpression: 'stepIndex = :index',
          ExpressionAttributeValues: { ':token': bake.taskToken, ':index': bake.stepIndex },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toBake(Attributes);
    }
    await this.#client.send(
      new PutCommand({ TableName: this.#tableName, Item: { ...bakeKey(bake.releaseId), ...bake } }),
    );
    return bake;
  }

  async get(releaseId: string): Promise<BakeRecord | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.#tableName, Key: bakeKey(releaseId), ConsistentRead: true }),
    );
    return Item ? toBake(Item) : undefined;
  }

  async settle(
    releaseId: string,
    stepIndex: number,
    status: 'ended' | 'interrupted',
    reason: string,
  ): Promise<{ changed: boolean; record: BakeRecord | undefined }> {
    try {
      const { Attributes } = await this.#client.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: bakeKey(releaseId),
          UpdateExpression: 'SET #status = :status, reason = :reason',
          ConditionExpression: 'stepIndex = :index AND #status = :baking',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':status': status,
            ':reason': reason,
            ':index': stepIndex,
            ':baking': 'baking',
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { changed: true, record: toBake(Attributes) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return { changed: false, record: await this.get(releaseId) };
    }
  }

  async watch(releaseId: string, alarms: readonly string[]): Promise<void> {
    await this.#writeWatches(alarms, (alarm) => ({
      PutRequest: { Item: { ...watchKey(alarm, releaseId), releaseId, alarmName: alarm } },
    }));
  }

  async unwatch(releaseId: string, alarms: readonly string[]): Promise<void> {
    await this.#writeWatches(alarms, (alarm) => ({
      DeleteRequest: { Key: watchKey(alarm, releaseId) },
    }));
  }

  async watchers(alarmName: string): Promise<string[]> {
    const ids: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.#client.send(
        new QueryCommand({
          TableName: this.#tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `watch#${alarmName}` },
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      for (const item of page.Items ?? []) ids.push(String(item.releaseId));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return ids;
  }

  async #writeWatches(
    alarms: readonly string[],
    request: (alarm: string) => Record<string, unknown>,
  ): Promise<void> {
    // BatchWrite takes 25 requests at a time and may hand some back unprocessed.
    for (let i = 0; i < alarms.length; i += 25) {
      let pending: Record<string, unknown>[] | undefined = alarms.slice(i, i + 25).map(request);
      for (let attempt = 0; pending && pending.length > 0 && attempt < 5; attempt += 1) {
        const { UnprocessedItems } = await this.#client.send(
          new BatchWriteCommand({ RequestItems: { [this.#tableName]: pending as never } }),
        );
        pending = UnprocessedItems?.[this.#tableName] as Record<string, unknown>[] | undefined;
      }
      if (pending && pending.length > 0) {
        throw new Error(`Could not write ${pending.length} alarm watches after 5 attempts`);
      }
    }
  }
}

function toBake(item: Record<string, unknown> | undefined): BakeRecord {
  const { pk: _pk, sk: _sk, ...bake } = item ?? {};
  return bake as unknown as BakeRecord;
}
