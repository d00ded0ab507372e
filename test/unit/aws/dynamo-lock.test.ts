import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoServiceLock } from '../../../src/aws/dynamo-lock.ts';
import { useFreshLedgerTable } from '../../support/dynalite.ts';

const table = useFreshLedgerTable('locks');
let client: DynamoDBDocumentClient;
let tableName: string;
let lock: DynamoServiceLock;

beforeEach(() => {
  ({ client, tableName } = table());
  lock = new DynamoServiceLock({ client, tableName });
});

async function readLock(service: string) {
  const result = await client.send(
    new GetCommand({ TableName: tableName, Key: { pk: `lock#${service}`, sk: 'lock' } }),
  );
  return result.Item;
}

describe('DynamoServiceLock.acquire', () => {
  it('takes a free lock and records who holds it since when', async () => {
    expect(await lock.acquire('checkout', 'release-a', '2025-03-01T10:00:00.000Z')).toEqual({
      acquired: true,
      holder: 'release-a',
    });
    expect(await readLock('checkout')).toMatchObject({
      holder: 'release-a',
      acquiredAt: '2025-03-01T10:00:00.000Z',
    });
  });

  it('refuses a second release and names the holder', async () => {
    await lock.acquire('checkout', 'release-a', '2025-03-01T10:00:00.000Z');

    expect(await lock.acquire('checkout', 'release-b', '2025-03-01T10:00:01.000Z')).toEqual({
      acquired: false,
      holder: 'release-a',
    });
    expect((await readLock('checkout'))?.holder).toBe('release-a');
  });

  it('confirms the lock to its holder when it asks again', async () => {
    await lock.acquire('checkout', 'release-a', '2025-03-01T10:00:00.000Z');

    expect(await lock.acquire('checkout', 'release-a', '2025-03-01T10:00:02.000Z')).toEqual({
      acquired: true,
      holder: 'release-a',
    });
  });

  it('locks each service separately', async () => {
    await lock.acquire('checkout', 'release-a', '2025-03-01T10:00:00.000Z');

    expect(await lock.acquire('billing', 'release-b', '2025-03-01T10:00:00.000Z')).toEqual({
      acquired: true,
      holder: 'release-b',
    });
  });
});

describe('DynamoServiceLock.release', () => {
  it('frees the lock for the next release when the holder releases it', async () => {
    await lock.acquire('checkout', 'release-a', '2025-03-01T10:00:00.000Z');

    await lock.release('checkout', 'release-a');

    expect(await readLock('checkout')).toBeUndefined();
    expect((await lock.acquire('checkout', 'release-b', '2025-03-01T10:05:00.000Z')).acquired).toBe(
      true,
    );
  });

  it('does nothing when another release asks to free it', async () => {
    await lock.acquire('checkout', 'release-a', '2025-03-01T10:00:00.000Z');

    await lock.release('checkout', 'release-b');

    expect((await readLock('checkout'))?.holder).toBe('release-a');
  });

  it('does nothing when the lock is already free', async () => {
    await expect(lock.release('checkout', 'release-a')).resolves.toBeUndefined();
  });
});
