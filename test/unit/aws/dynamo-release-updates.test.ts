import { describe, expect, it } from 'vitest';
import { DynamoReleaseLedger } from '../../../src/aws/dynamo-ledger.ts';
import { DynamoReleaseUpdateThreads } from '../../../src/aws/dynamo-release-updates.ts';
import type { ReleaseUpdateThread } from '../../../src/core/release-updates.ts';
import { useFreshLedgerTable } from '../../support/dynalite.ts';

const table = useFreshLedgerTable('updates');

function aThread(overrides: Partial<ReleaseUpdateThread> = {}): ReleaseUpdateThread {
  return {
    releaseId: 'checkout-1-4-2-a1',
    channel: 'C0DEPLOYS',
    claimedBy: 'checkout-1-4-2-a1#register',
    latest: {
      key: 'checkout-1-4-2-a1#register',
      detailType: 'Release Started',
      time: '2025-03-01T10:00:00Z',
      rank: 1,
      releaseId: 'checkout-1-4-2-a1',
      service: 'checkout',
      version: '1.4.2',
      phase: 'Provisioning',
      reason: 'Release started',
    },
    replied: [],
    version: 0,
    ...overrides,
  };
}

function threads() {
  return new DynamoReleaseUpdateThreads(table());
}

describe('DynamoReleaseUpdateThreads', () => {
  it('creates a thread once; a second create returns the stored one', async () => {
    const store = threads();
    expect(await store.create(aThread())).toEqual({ created: true, thread: aThread() });
    const second = await store.create(aThread({ claimedBy: 'someone-else' }));
    expect(second).toEqual({ created: false, thread: aThread() });
    expect(await store.get('checkout-1-4-2-a1')).toEqual(aThread());
  });

  it('saves only over the version it read', async () => {
    const store = threads();
    await store.create(aThread());
    const first = await store.save(aThread({ ts: '1700000000.000001' }));
    expect(first).toMatchObject({ saved: true, thread: { version: 1 } });
    const stale = await store.save(aThread({ replied: ['late'] }));
    expect(stale.saved).toBe(false);
    expect(await store.get('checkout-1-4-2-a1')).toMatchObject({
      ts: '1700000000.000001',
      replied: [],
      version: 1,
    });
  });

  it('sits beside its release in the ledger without touching the release or its steps', async () => {
    const store = threads();
    const ledger = new DynamoReleaseLedger(table());
    await store.create(aThread());
    expect(await ledger.getRelease('checkout-1-4-2-a1')).toBeUndefined();
    expect(await ledger.listSteps('checkout-1-4-2-a1')).toEqual([]);
  });
});
