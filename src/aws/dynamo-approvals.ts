import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ApprovalNotFound } from '../core/errors.ts';
import type { RenewableApprovalStore, ReplayGuard } from '../core/ports.ts';
import type { ApprovalRecord, ApprovalStatus } from '../core/records.ts';

export interface DynamoApprovalStoreOptions {
  /** Built with `marshallOptions.removeUndefinedValues: true`: records have optional fields. */
  client: DynamoDBDocumentClient;
  /** The ledger table: approvals live beside the releases they belong to. */
  tableName: string;
}

const approvalKey = (approvalId: string) => ({ pk: `approval#${approvalId}`, sk: 'meta' });

/**
 * Approvals in the ledger table (pk `approval#<id>`, sk `meta`). Every write is conditional:
 * creating never overwrites, and a decision lands only on a pending approval, so the first of
 * two concurrent clicks (or a click racing the timeout) wins and the other learns who did.
 */
export class DynamoApprovalStore implements RenewableApprovalStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(options: DynamoApprovalStoreOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
  }

  async create(record: ApprovalRecord): Promise<ApprovalRecord> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: { ...record, ...approvalKey(record.approvalId) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return record;
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      return this.#require(record.approvalId);
    }
  }

  async get(approvalId: string): Promise<ApprovalRecord | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({
        TableName: this.#tableName,
        Key: approvalKey(approvalId),
        ConsistentRead: true,
      }),
    );
    return Item ? toApproval(Item) : undefined;
  }

  async decide(
    approvalId: string,
    decision: {
      status: Exclude<ApprovalStatus, 'pending'>;
      by: string;
      at: string;
      via: string;
      reason?: string;
      principalArn?: string;
    },
  ): Promise<{ decided: boolean; record: ApprovalRecord }> {
    const values: Record<string, unknown> = {
      ':status': decision.status,
      ':by': decision.by,
      ':at': decision.at,
      ':via': decision.via,
      ':pending': 'pending' satisfies ApprovalStatus,
    };
    const sets = ['#status = :status', 'decidedBy = :by', 'decidedAt = :at', 'decidedVia = :via'];
    if (decision.reason !== undefined) {
      values[':reason'] = decision.reason;
      sets.push('#reason = :reason');
    }
    if (decision.principalArn !== undefined) {
      values[':principal'] = decision.principalArn;
      sets.push('principalArn = :principal');
    }
    try {
      const { Attributes } = await this.#client.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: approvalKey(approvalId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: '#status = :pending',
          ExpressionAttributeNames: {
            '#status': 'status',
            ...(decision.reason === undefined ? {} : { '#reason': 'reason' }),
          },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      if (!Attributes) throw notFound(approvalId);
      return { decided: true, record: toApproval(Attributes) };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      // Missing items fail the condition too (no status): tell the two apart.
      return { decided: false, record: await this.#require(approvalId) };
    }
  }

  async attachMessage(approvalId: string, slack: { channel: string; ts: string }): Promise<void> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: approvalKey(approvalId),
          UpdateExpression: 'SET slack = :slack',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':slack': { channel: slack.channel, ts: slack.ts } },
        }),
      );
    } catch (error) {
      if (isConditionFailed(error)) throw notFound(approvalId);
      throw error;
    }
  }

  async renewTaskToken(
    approvalId: string,
    taskToken: string,
  ): Promise<{ renewed: boolean; record: ApprovalRecord }> {
    try {
      const { Attributes } = await this.#client.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: approvalKey(approvalId),
          UpdateExpression: 'SET taskToken = :token',
          ConditionExpression: '#status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':token': taskToken, ':pending': 'pending' },
          ReturnValues: 'ALL_NEW',
        }),
      );
      if (!Attributes) throw notFound(approvalId);
      return { renewed: true, record: toApproval(Attributes) };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      return { renewed: false, record: await this.#require(approvalId) };
    }
  }

  async #require(approvalId: string): Promise<ApprovalRecord> {
    const record = await this.get(approvalId);
    if (!record) throw notFound(approvalId);
    return record;
  }
}

export interface DynamoReplayGuardOptions {
  client: DynamoDBDocumentClient;
  tableName: string;
  /**
   * The table's TTL attribute (epoch seconds), so DynamoDB deletes old entries. Expiry is also
   * checked on write: TTL deletion lags by up to days, and dynalite never deletes.
   * @default 'ttl'
   */
  ttlAttribute?: string;
}

/**
 * Seen request signatures in the ledger table (pk `slack-request#<signature>`, sk `meta`),
 * written with a conditional put so that the same request is accepted once across every
 * Lambda instance.
 */
export class DynamoReplayGuard implements ReplayGuard {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #ttlAttribute: string;

  constructor(options: DynamoReplayGuardOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#ttlAttribute = options.ttlAttribute ?? 'ttl';
  }

  async remember(key: string, expiresAt: Date, now: Date): Promise<boolean> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: {
            pk: `slack-request#${key}`,
            sk: 'meta',
            [this.#ttlAttribute]: Math.ceil(expiresAt.getTime() / 1000),
          },
          ConditionExpression: 'attribute_not_exists(pk) OR #ttl < :now',
          ExpressionAttributeNames: { '#ttl': this.#ttlAttribute },
          ExpressionAttributeValues: { ':now': Math.floor(now.getTime() / 1000) },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }
}

function toApproval(item: Record<string, unknown>): ApprovalRecord {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest as unknown as ApprovalRecord;
}

function isConditionFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

function notFound(approvalId: string): ApprovalNotFound {
  return new ApprovalNotFound(`Approval ${approvalId} is not in the ledger`, { approvalId });
}
