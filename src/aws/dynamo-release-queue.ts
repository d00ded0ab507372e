/**
 * The service lock with a queue: one release per service at a time, the others served in
 * request order and woken when the lock is handed to them.
 *
 * Design
 * ------
 * Order. A release waits in its service's queue under the sort key
 * `entry#<requestedAt>#<arrival>`: the request's time (the event's `time`, normalised to
 * `toISOString()` so that string order is time order), then an arrival number from a per-service
 * counter (UpdateItem ADD), for requests of the same second. A Query with `begins_with` and
 * `Limit: 1` reads the head: one read per hand-off, however long the queue or the service's
 * history (releases that left the queue are deleted from it). Nothing ever scans the releases.
 *
 * Items, all in the ledger table:
 * - `lock#S / lock`: `holder`, `holderExecution`, `acquiredAt`, and `handedBy` after a hand-off
 *   (the release that handed it on, so that a retry of that release's step wakes the new holder
 *   again instead of doing nothing).
 * - `queue#S / seq`: the arrival counter.
 * - `queue#S / entry#…`: a waiting release: `releaseId`, `executionId`, and `taskToken` once
 *   its workflow is parked on a `.waitForTaskToken` task.
 * - `queue#S / release#<id>`: where the release's entry is, and `supersededBy` once a newer
 *   request took its place. Makes queuing idempotent: a retried acquire finds its entry.
 * - `queue#S / live`: the release whose build serves (written at finalize), with the one before
 *   (live again when an operator reverts the newer one).
 *
 * Waking, not polling. The workflow asks once (AcquireLock); when not its turn it parks on a
 * callback task (WaitForLock) whose token `park` stores on its entry. Whoever frees the lock
 * (finalize, rollback, a refused or superseded release, an operator's revert: every caller of
 * `release`) hands it to the head in the same step: a conditional write of the lock's holder
 * from itself to the head, then SendTaskSuccess on the head's token. A head that had not stored
 * its token yet reads the lock right after storing it and wakes itself; both may happen, and
 * the second answer is refused by Step Functions and ignored. No transaction is needed (and
 * dynalite has none): each write is conditional on the state the previous one left, and every
 * write is safe to repeat.
 *
 * The lock freed with nobody waiting is deleted, then the head read again: a release that
 * queued between the read and the delete would otherwise sleep until its backstop. Either this
 * second read sees it (and hands it the free lock), or its own read of the lock comes after the
 * delete (and it takes the lock itself).
 *
 * A release that ends while it waits leaves the queue in `release`, which every ending calls
 * (the workflow's rollback path included), whether or not it holds the lock.
 *
 * A crash never leaves the queue stuck. A head whose wake-up Step Functions refuses and whose
 * execution has ended (DescribeExecution) is skipped by the hand-off itself: out of the queue,
 * and the lock goes on to the next. A holder whose execution has ended (stopped, failed
 * uncaught, or a head handed the lock after it died) holds nothing: every acquire that finds
 * the lock taken asks Step Functions (DescribeExecution) whether the holder's execution still
 * runs, and frees the lock on its behalf if not, skipping it in the queue. A parked release
 * also re-asks when its callback task times out (the workflow's `lockRecheckSeconds`), so a
 * dead holder is found within that time even when nobody new arrives. A holder without an
 * execution (an operator's revert) is stale after `holderWithoutExecutionMs`.
 *
 * Policies (the service's `lockPolicy`): `queue` as above; `supersede`: a new request ends every
 * older one still waiting (marked `supersededBy` and woken, so its workflow records Superseded
 * and ends), and is itself superseded when a newer one already waits, while the release under
 * way goes on; `reject`: a busy service refuses at once.
 *
 * Older than live: the step that takes the lock compares the release's request time with the
 * live release's (`live`) and refuses an older one unless the event allowed it; the lock is then
 * handed on at once. So a queue drained in any arrival order never ends on an older build.
 */
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type {
  ExecutionStatus,
  LiveRelease,
  LockOutcome,
  LockRequest,
  ServiceLock,
  TaskCallbacks,
} from '../core/ports.ts';

export interface DynamoReleaseQueueOptions {
  client: DynamoDBDocumentClient;
  /** The ledger table: locks and queues live beside the releases they order. */
  tableName: string;
  /** Wakes a parked release (SendTaskSuccess). */
  callbacks: TaskCallbacks;
  /** Tells a stale holder from a live one. */
  executions: ExecutionStatus;
  /** @default 900_000 (15 minutes) */
  holderWithoutExecutionMs?: number;
}

type Key = { pk: string; sk: string };
const lockKey = (service: string): Key => ({ pk: `lock#${service}`, sk: 'lock' });
const queuePk = (service: string) => `queue#${service}`;
const counterKey = (service: string): Key => ({ pk: queuePk(service), sk: 'seq' });
const pointerKey = (service: string, releaseId: string): Key => ({
  pk: queuePk(service),
  sk: `release#${releaseId}`,
});
const liveKey = (service: string): Key => ({ pk: queuePk(service), sk: 'live' });
const entryPrefix = 'entry#';
// Sorts after every entry key ('$' follows '#') and before the queue's other items.
const entryEnd = 'entry$';

/** `entry#<time>#<arrival>`: string order is (request time, arrival) order. */
export function queueSortKey(requestedAt: string, arrival: number): string {
  return `${entryPrefix}${new Date(requestedAt).toISOString()}#${String(arrival).padStart(12, '0')}`;
}

interface LockItem {
  holder: string;
  holderExecution?: string;
  acquiredAt: string;
  handedBy?: string;
}
interface Entry {
  sk: string;
  releaseId: string;
  executionId?: string;
  taskToken?: string;
}
interface Pointer {
  entry: string;
  supersededBy?: string;
}

// Each turn of acquire's loop follows a write that someone else's write beat, or a stale
// holder freed; past these it waits its turn (its recheck comes back).
const maxRounds = 8;
// Dead heads one hand-off skips; the rest are skipped by the next acquire or hand-off.
const maxSkips = 25;

export class DynamoReleaseQueue implements ServiceLock {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #callbacks: TaskCallbacks;
  readonly #executions: ExecutionStatus;
  readonly #holderWithoutExecutionMs: number;

  constructor(options: DynamoReleaseQueueOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#callbacks = options.callbacks;
    this.#executions = options.executions;
    this.#holderWithoutExecutionMs = options.holderWithoutExecutionMs ?? 900_000;
  }

  async acquire(request: LockRequest): Promise<LockOutcome> {
    const { service, releaseId } = request;
    for (let round = 0; round < maxRounds; round++) {
      // Superseded first: a release superseded as the lock reached it must hand the lock on.
      let pointer = await this.#pointer(service, releaseId);
      if (pointer?.supersededBy !== undefined) {
        return { kind: 'superseded', by: pointer.supersededBy };
      }
      const lock = await this.#lock(service);
      if (lock?.holder === releaseId) {
        await this.#leaveQueue(service, releaseId);
        return { kind: 'acquired' };
      }
      if (pointer === undefined) {
        if (request.policy === 'reject') {
          const busy = lock?.holder ?? (await this.#head(service))?.releaseId;
          if (busy !== undefined) return { kind: 'busy', holder: busy };
        }
        pointer = await this.#enqueue(request);
        if (request.policy === 'supersede') {
          const newer = await this.#supersedeAround(service, releaseId, pointer.entry);
          if (newer !== undefined) return { kind: 'superseded', by: newer };
        }
      }
      if (lock !== undefined) {
        if (await this.#isStale(lock, request.at)) {
          await this.#freeFor(service, lock.holder);
          continue;
        }
        return { kind: 'waiting', holder: lock.holder };
      }
      const head = await this.#head(service);
      if (head === undefined) continue;
      if (head.releaseId !== releaseId) {
        // Free, and someone earlier is first: its wake-up was lost or is under way.
        if (await this.#putLockIfFree(service, head, request.at)) await this.#wake(service, head);
        return { kind: 'waiting', holder: head.releaseId };
      }
      if (await this.#putLockIfFree(service, head, request.at)) {
        await this.#leaveQueue(service, releaseId);
        return { kind: 'acquired' };
      }
    }
    const lock = await this.#lock(service);
    if (lock?.holder !== releaseId) return { kind: 'waiting', holder: lock?.holder ?? 'none' };
    await this.#leaveQueue(service, releaseId);
    return { kind: 'acquired' };
  }

  async park(service: string, releaseId: string, taskToken: string): Promise<void> {
    const pointer = await this.#pointer(service, releaseId);
    let stored = false;
    if (pointer !== undefined && pointer.supersededBy === undefined) {
      try {
        await this.#client.send(
          new UpdateCommand({
            TableName: this.#tableName,
            Key: { pk: queuePk(service), sk: pointer.entry },
            UpdateExpression: 'SET taskToken = :token',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeValues: { ':token': taskToken },
          }),
        );
        stored = true;
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
      }
    }
    // Read after storing the token: a hand-off that came before it could not wake us.
    const lock = stored ? await this.#lock(service) : undefined;
    if (stored && lock !== undefined && lock.holder !== releaseId) return;
    await this.#callbacks.succeed(taskToken, { woken: 'parked' });
  }

  async release(
    service: string,
    releaseId: string,
    options: { live?: LiveRelease; reverted?: true } = {},
  ): Promise<void> {
    if (options.live !== undefined) await this.#recordLive(service, options.live);
    if (options.reverted === true) await this.#restorePreviousLive(service, releaseId);
    // A release that ends while it waits (it failed, or failed just as the lock reached it)
    // leaves the queue first, so no hand-off picks it, and one that reads the head after this
    // skips it without the wake-up and DescribeExecution it would otherwise cost. Safe to
    // repeat: nothing is left to delete the second time.
    await this.#leaveQueue(service, releaseId);
    const lock = await this.#lock(service);
    if (lock === undefined) return;
    if (lock.holder !== releaseId) {
      // Our own hand-off whose wake-up may have been lost: wake the holder again.
      if (lock.handedBy === releaseId) {
        const entry = await this.#entryOf(service, lock.holder);
        if (entry !== undefined) await this.#wake(service, entry);
      }
      return;
    }
    await this.#handOff(service, releaseId, lock.acquiredAt);
  }

  async live(service: string): Promise<LiveRelease | undefined> {
    const result = await this.#client.send(
      new GetCommand({ TableName: this.#tableName, Key: liveKey(service), ConsistentRead: true }),
    );
    const item = result.Item;
    if (item === undefined) return undefined;
    return {
      releaseId: String(item.releaseId),
      version: String(item.version),
      requestedAt: String(item.requestedAt),
    };
  }

  /**
   * Hands the lock `from` holds to the head of the queue, or frees it. A head whose wake-up is
   * refused and whose execution has ended is dead: it leaves the queue and the lock goes on to
   * the next, so a crashed waiter never holds up the ones behind it.
   */
  async #handOff(service: string, from: string, at: string): Promise<void> {
    let holder = from;
    for (let skipped = 0; skipped <= maxSkips; skipped++) {
      const head = await this.#head(service);
      if (head === undefined) {
        await this.#deleteLockOf(service, holder);
        // Someone may have queued between the read and the delete (see the design above).
        const late = await this.#head(service);
        if (late !== undefined && (await this.#putLockIfFree(service, late, at))) {
          await this.#wake(service, late);
        }
        return;
      }
      if (!(await this.#moveLock(service, holder, head, at))) return;
      // Read again: the head may have stored its token since the query.
      const entry = (await this.#entryOf(service, head.releaseId)) ?? head;
      if (await this.#wake(service, entry)) return;
      // Not woken: either it has not parked yet or is between two asks (it finds the lock
      // itself), or its execution ended.
      if (entry.executionId === undefined) return;
      if (await this.#executions.isRunning(entry.executionId)) return;
      await this.#leaveQueue(service, entry.releaseId);
      holder = entry.releaseId;
    }
  }

  /** Frees the lock of a stale holder: out of the queue too (a dead head), then hand-off. */
  async #freeFor(service: string, holder: string): Promise<void> {
    await this.#leaveQueue(service, holder);
    const lock = await this.#lock(service);
    if (lock?.holder === holder) await this.#handOff(service, holder, lock.acquiredAt);
  }

  async #isStale(lock: LockItem, at: string): Promise<boolean> {
    if (lock.holderExecution === undefined) {
      return Date.parse(at) - Date.parse(lock.acquiredAt) > this.#holderWithoutExecutionMs;
    }
    return !(await this.#executions.isRunning(lock.holderExecution));
  }

  /** Whether the release's parked task took the wake-up; false without a token stored. */
  async #wake(service: string, entry: Entry): Promise<boolean> {
    if (entry.taskToken === undefined) return false;
    const outcome = await this.#callbacks.succeed(entry.taskToken, { woken: 'lock', service });
    return outcome.delivered;
  }

  async #enqueue(request: LockRequest): Promise<Pointer> {
    const { service, releaseId } = request;
    const counter = await this.#client.send(
      new UpdateCommand({
        TableName: this.#tableName,
        Key: counterKey(service),
        UpdateExpression: 'ADD next_arrival :one',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const arrival = Number(counter.Attributes?.next_arrival);
    const pointer: Pointer = { entry: queueSortKey(request.requestedAt, arrival) };
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: { ...pointerKey(service, releaseId), ...pointer },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      // Our own earlier attempt queued us: keep that place.
      return (await this.#pointer(service, releaseId)) ?? pointer;
    }
    await this.#client.send(
      new PutCommand({
        TableName: this.#tableName,
        Item: {
          pk: queuePk(service),
          sk: pointer.entry,
          releaseId,
          ...(request.executionId === undefined ? {} : { executionId: request.executionId }),
          queuedAt: request.at,
        },
      }),
    );
    return pointer;
  }

  /**
   * Policy "supersede": ends every older release still waiting, or, when a newer one waits
   * already, this one. Returns the newer release when this one is superseded.
   */
  async #supersedeAround(
    service: string,
    releaseId: string,
    mine: string,
  ): Promise<string | undefined> {
    // BETWEEN, not `>`: the queue's other items (live, release#, seq) sort after the entries.
    const newer = await this.#query(
      service,
      'sk BETWEEN :mine AND :end',
      { ':mine': mine, ':end': entryEnd },
      2,
    );
    const first = newer.items.find((entry) => entry.releaseId !== releaseId);
    if (first !== undefined) {
      await this.#supersede(service, { sk: mine, releaseId }, first.releaseId);
      return first.releaseId;
    }
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.#query(
        service,
        'sk BETWEEN :from AND :mine',
        { ':from': entryPrefix, ':mine': mine },
        50,
        start,
      );
      for (const entry of page.items) {
        if (entry.releaseId !== releaseId) await this.#supersede(service, entry, releaseId);
      }
      start = page.next;
    } while (start !== undefined);
    return undefined;
  }

  async #supersede(service: string, entry: Entry, by: string): Promise<void> {
    await this.#client.send(
      new UpdateCommand({
        TableName: this.#tableName,
        Key: pointerKey(service, entry.releaseId),
        UpdateExpression: 'SET supersededBy = :by',
        ExpressionAttributeValues: { ':by': by },
      }),
    );
    await this.#client.send(
      new DeleteCommand({
        TableName: this.#tableName,
        Key: { pk: queuePk(service), sk: entry.sk },
      }),
    );
    if (entry.taskToken !== undefined) {
      await this.#callbacks.succeed(entry.taskToken, { woken: 'superseded', by });
    }
  }

  async #recordLive(service: string, live: LiveRelease): Promise<void> {
    const before = await this.live(service);
    if (before?.releaseId === live.releaseId) return;
    await this.#client.send(
      new PutCommand({
        TableName: this.#tableName,
        Item: { ...liveKey(service), ...live, ...(before ? { previous: before } : {}) },
      }),
    );
  }

  /** The release live before `releaseId` is live again; only one step back is kept. */
  async #restorePreviousLive(service: string, releaseId: string): Promise<void> {
    const result = await this.#client.send(
      new GetCommand({ TableName: this.#tableName, Key: liveKey(service), ConsistentRead: true }),
    );
    const item = result.Item;
    if (item?.releaseId !== releaseId) return;
    const previous = item.previous as LiveRelease | undefined;
    if (previous === undefined) {
      await this.#client.send(
        new DeleteCommand({
          TableName: this.#tableName,
          Key: liveKey(service),
          ConditionExpression: 'releaseId = :me',
          ExpressionAttributeValues: { ':me': releaseId },
        }),
      );
      return;
    }
    await this.#client.send(
      new PutCommand({
        TableName: this.#tableName,
        Item: { ...liveKey(service), ...previous },
        ConditionExpression: 'releaseId = :me',
        ExpressionAttributeValues: { ':me': releaseId },
      }),
    );
  }

  async #lock(service: string): Promise<LockItem | undefined> {
    const result = await this.#client.send(
      new GetCommand({ TableName: this.#tableName, Key: lockKey(service), ConsistentRead: true }),
    );
    const item = result.Item;
    if (item === undefined || typeof item.holder !== 'string') return undefined;
    return item as unknown as LockItem;
  }

  async #putLockIfFree(service: string, holder: Entry, at: string): Promise<boolean> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: {
            ...lockKey(service),
            service,
            holder: holder.releaseId,
            ...(holder.executionId === undefined ? {} : { holderExecution: holder.executionId }),
            acquiredAt: at,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  /** `from` → `to`, only while `from` holds it. False when someone else moved it first. */
  async #moveLock(service: string, from: string, to: Entry, at: string): Promise<boolean> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: {
            ...lockKey(service),
            service,
            holder: to.releaseId,
            ...(to.executionId === undefined ? {} : { holderExecution: to.executionId }),
            acquiredAt: at,
            handedBy: from,
          },
          ConditionExpression: 'holder = :from',
          ExpressionAttributeValues: { ':from': from },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  async #deleteLockOf(service: string, holder: string): Promise<void> {
    try {
      await this.#client.send(
        new DeleteCommand({
          TableName: this.#tableName,
          Key: lockKey(service),
          ConditionExpression: 'holder = :me',
          ExpressionAttributeValues: { ':me': holder },
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }

  async #pointer(service: string, releaseId: string): Promise<Pointer | undefined> {
    const result = await this.#client.send(
      new GetCommand({
        TableName: this.#tableName,
        Key: pointerKey(service, releaseId),
        ConsistentRead: true,
      }),
    );
    const item = result.Item;
    if (item === undefined) return undefined;
    return {
      entry: String(item.entry),
      ...(typeof item.supersededBy === 'string' ? { supersededBy: item.supersededBy } : {}),
    };
  }

  async #entryOf(service: string, releaseId: string): Promise<Entry | undefined> {
    const pointer = await this.#pointer(service, releaseId);
    if (pointer === undefined) return undefined;
    const result = await this.#client.send(
      new GetCommand({
        TableName: this.#tableName,
        Key: { pk: queuePk(service), sk: pointer.entry },
        ConsistentRead: true,
      }),
    );
    return result.Item === undefined ? undefined : toEntry(result.Item);
  }

  /** Out of the queue: its entry, then its pointer (a retried acquire finds the lock first). */
  async #leaveQueue(service: string, releaseId: string): Promise<void> {
    const pointer = await this.#pointer(service, releaseId);
    if (pointer === undefined) return;
    await this.#client.send(
      new DeleteCommand({
        TableName: this.#tableName,
        Key: { pk: queuePk(service), sk: pointer.entry },
      }),
    );
    if (pointer.supersededBy === undefined) {
      await this.#client.send(
        new DeleteCommand({ TableName: this.#tableName, Key: pointerKey(service, releaseId) }),
      );
    }
  }

  async #head(service: string): Promise<Entry | undefined> {
    const page = await this.#query(
      service,
      'begins_with(sk, :prefix)',
      { ':prefix': entryPrefix },
      1,
    );
    return page.items[0];
  }

  async #query(
    service: string,
    skCondition: string,
    values: Record<string, unknown>,
    limit: number,
    start?: Record<string, unknown>,
  ): Promise<{ items: Entry[]; next?: Record<string, unknown> }> {
    const result = await this.#client.send(
      new QueryCommand({
        TableName: this.#tableName,
        KeyConditionExpression: `pk = :pk AND ${skCondition}`,
        ExpressionAttributeValues: { ':pk': queuePk(service), ...values },
        ConsistentRead: true,
        Limit: limit,
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      }),
    );
    const items = (result.Items ?? [])
      .filter((item) => String(item.sk).startsWith(entryPrefix))
      .map(toEntry);
    return {
      items,
      ...(result.LastEvaluatedKey === undefined ? {} : { next: result.LastEvaluatedKey }),
    };
  }
}

function toEntry(item: Record<string, unknown>): Entry {
  return {
    sk: String(item.sk),
    releaseId: String(item.releaseId),
    ...(typeof item.executionId === 'string' ? { executionId: item.executionId } : {}),
    ...(typeof item.taskToken === 'string' ? { taskToken: item.taskToken } : {}),
  };
}

function isConditionFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}
