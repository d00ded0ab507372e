import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { CommandRecord } from '../core/operator-command.ts';
import type { CommandLog } from '../core/ports.ts';

const commandKey = (commandId: string) => ({ pk: `command#${commandId}`, sk: 'meta' });

/** Operator command outcomes in the ledger table (pk `command#<id>`, sk `meta`). */
export class DynamoCommandLog implements CommandLog {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(options: { client: DynamoDBDocumentClient; tableName: string }) {
    this.#client = options.client;
    this.#tableName = options.tableName;
  }

  async record(record: CommandRecord): Promise<CommandRecord> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: { ...record, ...commandKey(record.commandId) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return record;
    } catch (error) {
      if (!(error instanceof Error && error.name === 'ConditionalCheckFailedException'))
        throw error;
      const stored = await this.get(record.commandId);
      if (!stored) throw error;
      return stored;
    }
  }

  async get(commandId: string): Promise<CommandRecord | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({
        TableName: this.#tableName,
        Key: commandKey(commandId),
        ConsistentRead: true,
      }),
    );
    if (!Item) return undefined;
    const { pk: _pk, sk: _sk, ...record } = Item;
    return record as CommandRecord;
  }
}
