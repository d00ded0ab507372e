import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoReleaseQueue, queueSortKey } from '../../../src/aws/dynamo-release-queue.ts';
import type { CallbackOutcome, LockRequest } from '../../../src/core/ports.ts';
import type { LockPolicy } from '../../../src/core/service-config.ts';
import { useFreshLedgerTable } from '../../support/dynalite.ts';

const table = useFreshLedgerTable('queues');
let client: DynamoDBDocumentClient;
let tableName: string;
let queue: DynamoReleaseQueue;
/** Tokens answered, in order; a token in `dead` is refused as Step Functions would. */
let woken: { token: string; output: unknown }[];
let dead: Set<string>;
let running: Set<string>;

beforeEach(() => {
  ({ client, tableName } = table());
  woken = [];
  dead = new Set();
  running = new Set();
  queue = new DynamoReleaseQueue({
    client,
    tableName,
    callbacks: {
      succeed: async (token, output): Promise<CallbackOutcome> => {
        if (dead.has(token)) return { delivered: false, reason: 'TaskDoesNotExist' };
        woken.push({ token, output });
        return { delivered: true };
      },
      fail: async () => ({ delivered: true }),
    },
    executions: { isRunning: async (id) => running.has(id) },
    holderWithoutExecutionMs: 60_000,
  });
});

/** Release `id` of checkout, requested at second `second`, its execution running. */
function ask(id: string, second: number, policy: LockPolicy = 'queue', at = 100): LockRequest {
  running.add(`exec-${id}`);
  return {
    service: 'checkout',
    releaseId: id,
    executionId: `exec-${id}`,
    requestedAt: new Date(Date.UTC(2026, 10, 2, 9, 0, second)).toISOString(),
    at: new Date(Date.UTC(2026, 10, 2, 10, 0, at)).toISOString(),
    policy,
  };
}

async function holder(service = 'checkout'): Promise<string | undefined> {
  const result = await client.send(
    new GetCommand({ TableName: tableName, Key: { pk: `lock#${service}`, sk: 'lock' } }),
  );
  return result.Item?.holder as string | undefined;
}

async function queued(): Promise<string[]> {
  const result = await client.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :entry)',
      ExpressionAttributeValues: { ':pk': 'queue#checkout', ':entry': 'entry#' },
    }),
  );
  return (result.Items ?? []).map((item) => String(item.releaseId));
}

describe('queueSortKey', () => {
  it('orders by request time, then arrival, whatever the time was written like', () => {
    const keys = [
      queueSortKey('2026-11-02T09:00:02Z', 1),
      queueSortKey('2026-11-02T10:00:01+01:00', 7),
      queueSortKey('2026-11-02T09:00:01.000Z', 3),
      queueSortKey('2026-11-02T09:00:01Z', 12),
    ];
    expect([...keys].sort()).toEqual([keys[2], keys[1], keys[3], keys[0]]);
  });
});

describe('DynamoReleaseQueue.acquire', () => {
  it('takes a free lock and leaves nothing queued', async () => {
    expect(await queue.acquire(ask('a', 1))).toEqual({ kind: 'acquired' });
    expect(await holder()).toBe('a');
    expect(await queued()).toEqual([]);
  });

  it('queues the others in request order, not arrival order, and names the holder', async () => {
    await queue.acquire(ask('a', 1));
    expect(await queue.acquire(ask('d', 4))).toEqual({ kind: 'waiting', holder: 'a' });
    await queue.acquire(ask('b', 2));
    await queue.acquire(ask('c', 3));
    expect(await queued()).toEqual(['b', 'c', 'd']);
  });

  it('queues a release once however often it asks', async () => {
    await queue.acquire(ask('a', 1));
    await queue.acquire(ask('b', 2));
    await queue.acquire(ask('b', 2));
    expect(await queued()).toEqual(['b']);
  });

  it('confirms the lock to its holder when it asks again', async () => {
    await queue.acquire(ask('a', 1));
    expect(await queue.acquire(ask('a', 1))).toEqual({ kind: 'acquired' });
  });

  it('locks each service separately', async () => {
    await queue.acquire(ask('a', 1));
    expect(await queue.acquire({ ...ask('z', 1), service: 'billing' })).toEqual({
      kind: 'acquired',
    });
  });

  it('frees the lock of a holder whose execution ended and hands it to the first in line', async () => {
    await queue.acquire(ask('a', 1));
    await queue.acquire(ask('b', 2));
    await queue.park('checkout', 'b', 'token-b');
    running.delete('exec-a');

    expect(await queue.acquire(ask('c', 3))).toEqual({ kind: 'waiting', holder: 'b' });
    expect(await holder()).toBe('b');
    expect(woken.map((w) => w.token)).toEqual(['token-b']);
  });

  it('skips a dead head that never parked when handing the lock on', async () => {
    await queue.acquire(ask('a', 1));
    await queue.acquire(ask('b', 2));
    await queue.acquire(ask('c', 3));
    await queue.park('checkout', 'c', 'token-c');
    running.delete('exec-b');

    await queue.release('checkout', 'a');

    expect(await holder()).toBe('c');
    expect(woken.map((w) => w.token)).toEqual(['token-c']);
    expect(await queue.acquire(ask('c', 3))).toEqual({ kind: 'acquired' });
    expect(await queued()).toEqual([]);
  });

  it('frees the lock of a head that died after it was handed the lock, at the next ask', async () => {
    await queue.acquire(ask('a', 1));
    await queue.acquire(ask('b', 2));
    await queue.acquire(ask('c', 3));
    await queue.park('checkout', 'c', 'token-c');
    await queue.release('checkout', 'a');
    expect(await holder()).toBe('b');
    running.delete('exec-b');

    // c's wait timed out and it asks again: b's execution is gone, so c goes.
    expect(await queue.acquire(ask('c', 3))).toEqual({ kind: 'acquired' });
    expect(await queued()).toEqual([]);
  });

  it('frees a lock held without an execution only after the grace time', async () => {
    await queue.acquire({ ...ask('revert', 0), executionId: undefined, policy: 'reject' } as never);
    expect(await queue.acquire(ask('b', 2, 'queue', 130))).toEqual({
      kind: 'waiting',
      holder: 'revert',
    });
    expect(await queue.acquire(ask('b', 2, 'queue', 161))).toEqual({ kind: 'acquired' });
  });

  it('refuses at once under policy "reject" while the service is busy', async () => {
    await queue.acquire(ask('a', 1));
    expect(await queue.acquire(ask('b', 2, 'reject'))).toEqual({ kind: 'busy', holder: 'a' });
    expect(await queued()).toEqual([]);
  });
});

describe('DynamoReleaseQueue.park', () => {
  it('stores the token and waits while another release holds the lock', async () => {
    await queue.acquire(ask('a', 1));
    await queue.acquire(ask('b', 2));
    await queue.park('checkout', 'b', 'token-b');
    expect(woken).toEqual([]);
  });

  it('wakes itself when the lock was handed to it before its token was stored', async () => {
    await queue.acquire(ask('a', 1));
    await queue.acquire(ask('b', 2));
    await queue.release('checkout', 'a');
    expect(woken).toEqual([]);

    await queue.park('checkout', 'b', 'token-b');
    expect(woken.map((w) => w.token)).toEqual(['token-b']);
  });
});

describe('DynamoReleaseQueue.release', () => {
  it('hands the lock to the earliest request and wakes it, one at a time', async () => {
    await queue.acquire(ask('a', 1));
    for (const [id, second] of [
      ['d', 4],
      ['b', 2],
      ['c', 3],
    ] as const) {
      await queue.acquire(ask(id, second));
      await queue.park('checkout', id, `token-${id}`);
    }

    await queue.release('checkout', 'a');
    expect(await holder()).toBe('b');
    expect(woken.map((w) => w.token)).toEqual(['token-b']);
    expect(await queue.acquire(ask('b', 2))).toEqual({ kind: 'acquired' });

    await queue.release('checkout', 'b');
    expect(woken.map((w) => w.token)).toEqual(['token-b', 'token-c']);
  });

  it('skips a dead head at once: its wake-up refused and its execution ended', async () => {
    await queue.acquire(ask('a', 1));
    for (const [id, second] of [
      ['b', 2],
      ['c', 3],
      ['d', 4],
    ] as const) {
      await queue.acquire(ask(id, second));
      await queue.park('checkout', id, `token-${id}`);
    }
    dead.add('token-b');
    running.delete('exec-b');
    dead.add('token-c');

    await queue.release('checkout', 'a');

    // b is gone; c's task did not take the token but its execution runs: it keeps its turn.
    expect(await holder()).toBe('c');
    expect(await queued()).toEqual(['c', 'd']);
    expect(await queue.acquire(ask('c', 3))).toEqual({ kind: 'acquired' });
  });

  it('wakes the new holder again when the step that handed the lock on is retried', async () => {
    await queue.acquire(ask('a', 1));
    await queue.acquire(ask('b', 2));
    await queue.park('checkout', 'b', 'token-b');
    await queue.release('checkout', 'a');
    await queue.release('checkout', 'a');
    expect(woken.map((w) => w.token)).toEqual(['token-b', 'token-b']);
    expect(await holder()).toBe('b');
  });

  it('takes a release that ended while it waited out of the queue, once however often asked', async () => {
    await queue.acquire(ask('a', 1));
    for (const [id, second] of [
      ['b', 2],
      ['c', 3],
    ] as const) {
      await queue.acquire(ask(id, second));
      await queue.park('checkout', id, `token-${id}`);
    }

    // b's workflow failed while parked (its rollback path ends in release).
    await queue.release('checkout', 'b');
    await queue.release('checkout', 'b');
    expect(await queued()).toEqual(['c']);
    expect(await holder()).toBe('a');

    // The hand-off goes straight to c: b is neither woken nor asked about.
    running.delete('exec-b');
    await queue.release('checkout', 'a');
    expect(await holder()).toBe('c');
    expect(woken.map((w) => w.token)).toEqual(['token-c']);
  });

  it('hands the lock on when a release fails just as the lock reached it', async () => {
    await queue.acquire(ask('a', 1));
    for (const [id, second] of [
      ['b', 2],
      ['c', 3],
    ] as const) {
      await queue.acquire(ask(id, second));
      await queue.park('checkout', id, `token-${id}`);
    }
    await queue.release('checkout', 'a');
    expect(await holder()).toBe('b');

    await queue.release('checkout', 'b');
    expect(await holder()).toBe('c');
    expect(await queued()).toEqual(['c']);
    expect(woken.map((w) => w.token)).toEqual(['token-b', 'token-c']);
  });

  it('frees the lock when nobody waits, and does nothing for a release that does not hold it', async () => {
    await queue.acquire(ask('a', 1));
    await queue.release('checkout', 'x');
    expect(await holder()).toBe('a');
    await queue.release('checkout', 'a');
    expect(await holder()).toBeUndefined();
    expect(await queue.acquire(ask('b', 2))).toEqual({ kind: 'acquired' });
  });

  it('records the live release with the one it replaced', async () => {
    await queue.acquire(ask('a', 1));
    const live = { releaseId: 'a', version: '1.1.0', requestedAt: '2026-11-02T09:00:01.000Z' };
    await queue.release('checkout', 'a', { live });
    await queue.acquire(ask('b', 2));
    const next = { releaseId: 'b', version: '1.2.0', requestedAt: '2026-11-02T09:00:02.000Z' };
    await queue.release('checkout', 'b', { live: next });

    expect(await queue.live('checkout')).toEqual(next);
    const item = await client.send(
      new GetCommand({ TableName: tableName, Key: { pk: 'queue#checkout', sk: 'live' } }),
    );
    expect(item.Item?.previous).toEqual(live);
  });
});

describe('DynamoReleaseQueue.release of a reverted release', () => {
  it('makes the release live before it live again, once', async () => {
    const a = { releaseId: 'a', version: '1.1.0', requestedAt: '2026-11-02T09:00:01.000Z' };
    const b = { releaseId: 'b', version: '1.2.0', requestedAt: '2026-11-02T09:00:02.000Z' };
    await queue.acquire(ask('a', 1));
    await queue.release('checkout', 'a', { live: a });
    await queue.acquire(ask('b', 2));
    await queue.release('checkout', 'b', { live: b });

    await queue.acquire(ask('b', 2, 'reject'));
    await queue.release('checkout', 'b', { reverted: true });
    expect(await queue.live('checkout')).toEqual(a);
    // A retry of the revert's release finds b no longer live and changes nothing.
    await queue.release('checkout', 'b', { reverted: true });
    expect(await queue.live('checkout')).toEqual(a);
  });

  it('leaves no live release when the reverted one had none before it', async () => {
    await queue.acquire(ask('a', 1));
    const a = { releaseId: 'a', version: '1.1.0', requestedAt: '2026-11-02T09:00:01.000Z' };
    await queue.release('checkout', 'a', { live: a });
    await queue.release('checkout', 'a', { reverted: true });
    expect(await queue.live('checkout')).toBeUndefined();
  });
});

describe('DynamoReleaseQueue under policy "supersede"', () => {
  it('ends the older releases still waiting and wakes them; the holder goes on', async () => {
    await queue.acquire(ask('a', 1, 'supersede'));
    await queue.acquire(ask('b', 2, 'supersede'));
    await queue.park('checkout', 'b', 'token-b');
    await queue.acquire(ask('c', 3, 'supersede'));
    await queue.park('checkout', 'c', 'token-c');

    expect(await queue.acquire(ask('d', 4, 'supersede'))).toEqual({ kind: 'waiting', holder: 'a' });
    expect(await queued()).toEqual(['d']);
    expect(await holder()).toBe('a');
    expect(woken.map((w) => w.token)).toEqual(['token-b', 'token-c']);
    expect(await queue.acquire(ask('b', 2, 'supersede'))).toEqual({ kind: 'superseded', by: 'c' });
    expect(await queue.acquire(ask('c', 3, 'supersede'))).toEqual({ kind: 'superseded', by: 'd' });
  });

  it('supersedes a request that arrives after a newer one already waits', async () => {
    await queue.acquire(ask('a', 1, 'supersede'));
    await queue.acquire(ask('c', 3, 'supersede'));
    expect(await queue.acquire(ask('b', 2, 'supersede'))).toEqual({ kind: 'superseded', by: 'c' });
    expect(await queued()).toEqual(['c']);
  });

  it('wakes a superseded release that parks after the verdict', async () => {
    await queue.acquire(ask('a', 1, 'supersede'));
    await queue.acquire(ask('b', 2, 'supersede'));
    await queue.acquire(ask('c', 3, 'supersede'));
    await queue.park('checkout', 'b', 'token-b');
    expect(woken.map((w) => w.token)).toEqual(['token-b']);
  });
});
