import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { EventEcho } from '../core/bound-rejection.ts';
import { InvalidTransition, ReleaseNotFound } from '../core/errors.ts';
import { ReleasePhase } from '../core/phases.ts';
import type { ReleaseLedger } from '../core/ports.ts';
import {
  IdleColourState,
  type IdleTeardownClaim,
  type ReleaseRecord,
  type StepRecord,
} from '../core/records.ts';

export interface DynamoReleaseLedgerOptions {
  /** Built with `marshallOptions.removeUndefinedValues: true`: records have optional fields. */
  client: DynamoDBDocumentClient;
  tableName: string;
}

type Key = { pk: string; sk: string };

// Item keys of the single-table layout. The service index's sort key starts with the ISO
// request time so that a reverse query lists a service's releases newest first.
const releaseKey = (releaseId: string): Key => ({ pk: `release#${releaseId}`, sk: 'meta' });
const stepKey = (releaseId: string, key: string): Key => ({
  pk: `release#${releaseId}`,
  sk: `step#${key}`,
});
const serviceIndexKey = (record: ReleaseRecord): Key => ({
  pk: `service#${record.service}`,
  sk: `release#${record.requestedAt}#${record.releaseId}`,
});
const rejectionKey = (eventId: string): Key => ({ pk: `rejected#${eventId}`, sk: 'meta' });

// BatchGetItem takes at most 100 keys per call.
const keysPerBatchGet = 100;
const batchGetAttempts = 5;

export class DynamoReleaseLedger implements ReleaseLedger {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(options: DynamoReleaseLedgerOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
  }

  async createRelease(record: ReleaseRecord): Promise<{ created: boolean; record: ReleaseRecord }> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: { ...record, ...releaseKey(record.releaseId) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      const existing = await this.getRelease(record.releaseId);
      if (existing === undefined) throw error;
      // Re-put the index entry: a crash between the two puts would otherwise leave the
      // release invisible to listReleases forever.
      await this.#putServiceIndex(existing);
      return { created: false, record: existing };
    }
    await this.#putServiceIndex(record);
    return { created: true, record };
  }

  async getRelease(releaseId: string): Promise<ReleaseRecord | undefined> {
    const result = await this.#client.send(
      new GetCommand({
        TableName: this.#tableName,
        Key: releaseKey(releaseId),
        ConsistentRead: true,
      }),
    );
    return result.Item ? toRelease(result.Item) : undefined;
  }

  async updateRelease(
    releaseId: string,
    patch: Partial<Omit<ReleaseRecord, 'releaseId'>>,
    expectedPhases: readonly ReleasePhase[],
  ): Promise<ReleaseRecord> {
    const assignments = Object.entries(patch).filter(
      ([name, value]) => value !== undefined && name !== 'releaseId',
    );
    if (assignments.length === 0 || expectedPhases.length === 0) {
      // Nothing to write (or nothing could match): still answer as a write would have.
      const current = await this.getRelease(releaseId);
      if (current === undefined) throw notFound(releaseId);
      if (!expectedPhases.includes(current.phase))
        throw wrongPhase(releaseId, current, expectedPhases);
      return current;
    }
    const names: Record<string, string> = { '#phase': 'phase' };
    const values: Record<string, unknown> = {};
    const sets = assignments.map(([name, value], i) => {
      // One placeholder per attribute: `phase` is both set and checked.
      const placeholder = name === 'phase' ? '#phase' : `#a${i}`;
      names[placeholder] = name;
      values[`:a${i}`] = value;
      return `${placeholder} = :a${i}`;
    });
    const expected = expectedPhases.map((phase, i) => {
      values[`:p${i}`] = phase;
      return `:p${i}`;
    });
    try {
      const result = await this.#client.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: releaseKey(releaseId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: `attribute_exists(pk) AND #phase IN (${expected.join(', ')})`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      if (!result.Attributes) throw notFound(releaseId);
      return toRelease(result.Attributes);
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      const current = await this.getRelease(releaseId);
      if (current === undefined) throw notFound(releaseId);
      throw wrongPhase(releaseId, current, expectedPhases);
    }
  }

  async claimIdleTeardown(
    releaseId: string,
    claim: IdleTeardownClaim,
    now: string,
  ): Promise<{ claimed: boolean; record: ReleaseRecord }> {
    try {
      // `until` and `now` are both toISOString() (same length, UTC), so comparing them as
      // strings compares the times. A comparison with a missing attribute is false, hence the
      // attribute_not_exists for an unclaimed colour.
      // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html
      const result = await this.#client.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: releaseKey(releaseId),
          UpdateExpression: 'SET #idle.#claim = :claim',
          ConditionExpression:
            'attribute_exists(pk) AND #phase = :finalized AND #idle.#state = :warm AND ' +
            '(attribute_not_exists(#idle.#claim) OR #idle.#claim.#by = :by OR #idle.#claim.#until <= :now)',
          ExpressionAttributeNames: {
            '#phase': 'phase',
            '#idle': 'idle',
            '#state': 'state',
            '#claim': 'claim',
            '#by': 'by',
            '#until': 'until',
          },
          ExpressionAttributeValues: {
            ':claim': { by: claim.by, until: claim.until },
            ':finalized': ReleasePhase.Finalized,
            ':warm': IdleColourState.Warm,
            ':by': claim.by,
            ':now': now,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      if (!result.Attributes) throw notFound(releaseId);
      return { claimed: true, record: toRelease(result.Attributes) };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      // ReturnValuesOnConditionCheckFailure would save this read, but dynalite ignores it.
      const current = await this.getRelease(releaseId);
      if (current === undefined) throw notFound(releaseId);
      return { claimed: false, record: current };
    }
  }

  async recordStep(releaseId: string, step: StepRecord): Promise<void> {
    // Last write wins on the same key: a retried step rewrites its entry, never adds one.
    await this.#client.send(
      new PutCommand({
        TableName: this.#tableName,
        Item: { ...step, ...stepKey(releaseId, step.key) },
      }),
    );
  }

  async listSteps(releaseId: string): Promise<StepRecord[]> {
    const items = await this.#queryAll({
      pk: releaseKey(releaseId).pk,
      skPrefix: 'step#',
      forward: true,
    });
    return items
      .map((item) => stripKey(item) as unknown as StepRecord)
      .sort((a, b) => compareText(a.at, b.at) || compareText(a.key, b.key));
  }

  async listReleases(service: string, limit: number): Promise<ReleaseRecord[]> {
    if (limit <= 0) return [];
    const index = await this.#client.send(
      new QueryCommand({
        TableName: this.#tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': `service#${service}`, ':prefix': 'release#' },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    const releaseIds = (index.Items ?? []).map((item) => String(item.releaseId));
    const found = new Map<string, ReleaseRecord>();
    for (let start = 0; start < releaseIds.length; start += keysPerBatchGet) {
      const keys = releaseIds.slice(start, start + keysPerBatchGet).map(releaseKey);
      for (const item of await this.#batchGet(keys)) {
        const record = toRelease(item);
        found.set(record.releaseId, record);
      }
    }
    return releaseIds.flatMap((id) => {
      const record = found.get(id);
      return record ? [record] : [];
    });
  }

  async recordRejection(eventId: string, step: StepRecord, event: EventEcho): Promise<void> {
    await this.#client.send(
      new PutCommand({
        TableName: this.#tableName,
        Item: {
          ...rejectionKey(eventId),
          eventId,
          step,
          raw: event.json,
          rawBytes: event.bytes,
          rawTruncated: event.truncated,
        },
      }),
    );
  }

  async getRejection(eventId: string): Promise<StepRecord | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({
        TableName: this.#tableName,
        Key: rejectionKey(eventId),
        ConsistentRead: true,
      }),
    );
    return (Item?.step as StepRecord | undefined) ?? undefined;
  }

  async #putServiceIndex(record: ReleaseRecord): Promise<void> {
    await this.#client.send(
      new PutCommand({
        TableName: this.#tableName,
        Item: {
          ...serviceIndexKey(record),
          releaseId: record.releaseId,
          requestedAt: record.requestedAt,
        },
      }),
    );
  }

  async #queryAll(query: {
    pk: string;
    skPrefix: string;
    forward: boolean;
  }): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.#client.send(
        new QueryCommand({
          TableName: this.#tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': query.pk, ':prefix': query.skPrefix },
          ScanIndexForward: query.forward,
          ConsistentRead: true,
          ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  async #batchGet(keys: Key[]): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let pending: Record<string, unknown>[] = keys;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= batchGetAttempts) {
        throw new Error(
          `BatchGetItem on ${this.#tableName} left ${pending.length} keys unprocessed`,
        );
      }
      const result = await this.#client.send(
        new BatchGetCommand({ RequestItems: { [this.#tableName]: { Keys: pending } } }),
      );
      items.push(...(result.Responses?.[this.#tableName] ?? []));
      pending = result.UnprocessedKeys?.[this.#tableName]?.Keys ?? [];
    }
    return items;
  }
}

function toRelease(item: Record<string, unknown>): ReleaseRecord {
  return stripKey(item) as unknown as ReleaseRecord;
}

function stripKey(item: Record<string, unknown>): Record<string, unknown> {
  const { pk: _pk, sk: _sk, ...rest } = item;
  return rest;
}

function isConditionFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

function notFound(releaseId: string): ReleaseNotFound {
  return new ReleaseNotFound(`Release ${releaseId} is not in the ledger`, { releaseId });
}

function wrongPhase(
  releaseId: string,
  current: ReleaseRecord,
  expectedPhases: readonly ReleasePhase[],
): InvalidTransition {
  return new InvalidTransition(
    `Release ${releaseId} is ${current.phase}, expected ${expectedPhases.length === 1 ? '' : 'one of '}${expectedPhases.join(', ') || '(none)'}`,
    { releaseId, actual: current.phase, expected: [...expectedPhases] },
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
