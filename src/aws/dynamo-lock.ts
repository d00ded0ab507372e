import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import type { ServiceLock } from '../core/ports.ts';

export interface DynamoServiceLockOptions {
  client: DynamoDBDocumentClient;
  /** The ledger table: locks live beside the releases they guard. */
  tableName: string;
}

const lockKey = (service: string) => ({ pk: `lock#${service}`, sk: 'lock' });
// The lock can be freed between our refused put and our read; try again a few times.
const acquireAttempts = 3;

/** One release per service: a conditional write that only a free lock or its holder passes. */
export class DynamoServiceLock implements ServiceLock {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(options: DynamoServiceLockOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
  }

  async acquire(
    service: string,
    releaseId: string,
    at: string,
  ): Promise<{ acquired: boolean; holder: string }> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#client.send(
          new PutCommand({
            TableName: this.#tableName,
            Item: { ...lockKey(service), service, holder: releaseId, acquiredAt: at },
            ConditionExpression: 'attribute_not_exists(pk) OR holder = :me',
            ExpressionAttributeValues: { ':me': releaseId },
          }),
        );
        return { acquired: true, holder: releaseId };
      } catch (error) {
        if (!(error instanceof Error && error.name === 'ConditionalCheckFailedException')) {
          throw error;
        }
      }
      const current = await this.#client.send(
        new GetCommand({ TableName: this.#tableName, Key: lockKey(service), ConsistentRead: true }),
      );
      const holder = current.Item?.holder;
      if (typeof holder === 'string') return { acquired: false, holder };
      if (attempt >= acquireAttempts) {
        throw new Error(`Lock of ${service} kept changing while ${releaseId} tried to take it`);
      }
    }
  }

  async release(service: string, releaseId: string): Promise<void> {
    try {
      await this.#client.send(
        new DeleteCommand({
          TableName: this.#tableName,
          Key: lockKey(service),
          ConditionExpression: 'holder = :me',
          ExpressionAttributeValues: { ':me': releaseId },
        }),
      );
    } catch (error) {
      // Someone else holds it, or nobody does: either way it is not ours to free.
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return;
      throw error;
    }
  }
}
