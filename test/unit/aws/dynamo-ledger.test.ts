import { DeleteCommand, type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoReleaseLedger } from '../../../src/aws/dynamo-ledger.ts';
import { echoEvent } from '../../../src/core/bound-rejection.ts';
import { InvalidTransition, ReleaseNotFound } from '../../../src/core/errors.ts';
import type { ReleaseRecord, StepRecord } from '../../../src/core/records.ts';
import { useFreshLedgerTable } from '../../support/dynalite.ts';

function aRelease(overrides: Partial<ReleaseRecord> = {}): ReleaseRecord {
  return {
    releaseId: 'checkout-1-4-2-a1',
    service: 'checkout',
    version: '1.4.2',
    attempt: 1,
    artifact: { s3: { bucket: 'artifacts-bucket', key: 'checkout/1.4.2.zip' } },
    strategy: 'canary',
    plan: [
      { index: 0, percent: 10, bakeSeconds: 300 },
      { index: 1, percent: 100, bakeSeconds: 0 },
    ],
    requestedAt: '2025-03-01T10:00:00.000Z',
    phase: 'Requested',
    reason: 'Release requested by ci',
    executionId: 'exec-1',
    greenPercent: 0,
    stepIndex: -1,
    updatedAt: '2025-03-01T10:00:00.000Z',
    ...overrides,
  };
}

function aStep(overrides: Partial<StepRecord> = {}): StepRecord {
  return {
    key: 'provision#0',
    step: 'provision',
    at: '2025-03-01T10:00:05.000Z',
    outcome: 'succeeded',
    reason: 'Green is version 8',
    phase: 'Provisioning',
    ...overrides,
  };
}

const table = useFreshLedgerTable('ledger');
let client: DynamoDBDocumentClient;
let tableName: string;
let ledger: DynamoReleaseLedger;

beforeEach(() => {
  ({ client, tableName } = table());
  ledger = new DynamoReleaseLedger({ client, tableName });
});

describe('DynamoReleaseLedger.createRelease', () => {
  it('creates the release and reads it back', async () => {
    const record = aRelease({ commit: 'abc1234' });

    expect(await ledger.createRelease(record)).toEqual({ created: true, record });
    expect(await ledger.getRelease(record.releaseId)).toEqual(record);
  });

  it('returns the first record with created false when the release already exists', async () => {
    const first = aRelease({ executionId: 'exec-1' });
    await ledger.createRelease(first);

    const second = await ledger.createRelease(aRelease({ executionId: 'exec-2' }));

    expect(second).toEqual({ created: false, record: first });
    expect((await ledger.getRelease(first.releaseId))?.executionId).toBe('exec-1');
  });

  it('drops undefined optional fields instead of failing', async () => {
    const record = aRelease();
    await ledger.createRelease({ ...record, actor: undefined } as unknown as ReleaseRecord);

    expect(await ledger.getRelease(record.releaseId)).toEqual(record);
  });

  it('heals a missing service index entry when the create is retried', async () => {
    const record = aRelease();
    await ledger.createRelease(record);
    await client.send(
      new DeleteCommand({
        TableName: tableName,
        Key: { pk: 'service#checkout', sk: `release#${record.requestedAt}#${record.releaseId}` },
      }),
    );
    expect(await ledger.listReleases('checkout', 10)).toEqual([]);

    await ledger.createRelease(record);

    expect(await ledger.listReleases('checkout', 10)).toEqual([record]);
  });
});

describe('DynamoReleaseLedger.getRelease', () => {
  it('returns undefined for an unknown release', async () => {
    expect(await ledger.getRelease('nope')).toBeUndefined();
  });
});

describe('DynamoReleaseLedger.updateRelease', () => {
  it('writes the patch and returns the whole new record when the phase is expected', async () => {
    const record = aRelease({ phase: 'Provisioning' });
    await ledger.createRelease(record);

    const updated = await ledger.updateRelease(
      record.releaseId,
      {
        phase: 'Testing',
        reason: 'Green is version 8',
        colours: { blue: '7', green: '8' },
        updatedAt: '2025-03-01T10:01:00.000Z',
      },
      ['Provisioning', 'Testing'],
    );

    const expected = {
      ...record,
      phase: 'Testing',
      reason: 'Green is version 8',
      colours: { blue: '7', green: '8' },
      updatedAt: '2025-03-01T10:01:00.000Z',
    };
    expect(updated).toEqual(expected);
    expect(await ledger.getRelease(record.releaseId)).toEqual(expected);
  });

  it('throws InvalidTransition naming the actual and expected phases when the phase moved on', async () => {
    const record = aRelease({ phase: 'Finalized' });
    await ledger.createRelease(record);

    const update = ledger.updateRelease(record.releaseId, { phase: 'RollingBack' }, [
      'Shifting',
      'Testing',
    ]);

    await expect(update).rejects.toThrow(InvalidTransition);
    await expect(update).rejects.toThrow(
      'Release checkout-1-4-2-a1 is Finalized, expected one of Shifting, Testing',
    );
    expect((await ledger.getRelease(record.releaseId))?.phase).toBe('Finalized');
  });

  it('throws ReleaseNotFound for an unknown release and creates nothing', async () => {
    await expect(
      ledger.updateRelease('ghost', { phase: 'Testing' }, ['Provisioning']),
    ).rejects.toThrow(ReleaseNotFound);
    expect(await ledger.getRelease('ghost')).toBeUndefined();
  });
});

describe('DynamoReleaseLedger.claimIdleTeardown', () => {
  const warm: NonNullable<ReleaseRecord['idle']> = {
    colour: '3',
    live: '4',
    idleSince: '2025-03-01T11:00:00.000Z',
    teardownAt: '2025-03-01T11:15:00.000Z',
    state: 'warm',
    reason: 'Teardown scheduled for 2025-03-01T11:15:00.000Z',
  };
  const finalized = aRelease({ phase: 'Finalized', idle: warm });
  const id = finalized.releaseId;
  const first = { by: 'schedule:request-1', until: '2025-03-01T11:30:00.000Z' };
  const second = { by: 'sweeper:request-2', until: '2025-03-01T11:35:00.000Z' };

  it('claims a warm unclaimed colour and keeps the rest of the idle record', async () => {
    await ledger.createRelease(finalized);

    const claim = await ledger.claimIdleTeardown(id, first, '2025-03-01T11:15:00.000Z');

    expect(claim).toEqual({
      claimed: true,
      record: { ...finalized, idle: { ...warm, claim: first } },
    });
    expect(await ledger.getRelease(id)).toEqual(claim.record);
  });

  it('refuses another claimant while the lease holds, and answers with the holder', async () => {
    await ledger.createRelease(finalized);
    await ledger.claimIdleTeardown(id, first, '2025-03-01T11:15:00.000Z');

    const refused = await ledger.claimIdleTeardown(id, second, '2025-03-01T11:20:00.000Z');

    expect(refused.claimed).toBe(false);
    expect(refused.record.idle?.claim).toEqual(first);
    expect((await ledger.getRelease(id))?.idle?.claim).toEqual(first);
  });

  it('lets one of two concurrent claimants win', async () => {
    await ledger.createRelease(finalized);

    const claims = await Promise.all([
      ledger.claimIdleTeardown(id, first, '2025-03-01T11:15:00.000Z'),
      ledger.claimIdleTeardown(id, second, '2025-03-01T11:15:00.000Z'),
    ]);

    expect(claims.filter((claim) => claim.claimed)).toHaveLength(1);
  });

  it('grants the holder its claim again, with the new lease', async () => {
    await ledger.createRelease(finalized);
    await ledger.claimIdleTeardown(id, first, '2025-03-01T11:15:00.000Z');
    const renewed = { ...first, until: '2025-03-01T11:33:00.000Z' };

    const retry = await ledger.claimIdleTeardown(id, renewed, '2025-03-01T11:18:00.000Z');

    expect(retry.claimed).toBe(true);
    expect(retry.record.idle?.claim).toEqual(renewed);
  });

  it('hands an expired lease to another claimant', async () => {
    await ledger.createRelease(finalized);
    await ledger.claimIdleTeardown(id, first, '2025-03-01T11:15:00.000Z');

    const before = await ledger.claimIdleTeardown(id, second, '2025-03-01T11:29:59.999Z');
    const after = await ledger.claimIdleTeardown(id, second, '2025-03-01T11:30:00.000Z');

    expect(before.claimed).toBe(false);
    expect(after).toMatchObject({ claimed: true, record: { idle: { claim: second } } });
  });

  it('refuses a colour that is no longer warm, or a release that is not finalized', async () => {
    const tornDown = { ...finalized, idle: { ...warm, state: 'torn-down' as const } };
    const rolledBack = aRelease({ releaseId: 'checkout-1-4-3-b2', phase: 'RolledBack' });
    await ledger.createRelease(tornDown);
    await ledger.createRelease(rolledBack);

    const settled = await ledger.claimIdleTeardown(id, first, '2025-03-01T11:15:00.000Z');
    const notIdle = await ledger.claimIdleTeardown(
      rolledBack.releaseId,
      first,
      '2025-03-01T11:15:00.000Z',
    );

    expect(settled).toEqual({ claimed: false, record: tornDown });
    expect(notIdle).toEqual({ claimed: false, record: rolledBack });
  });

  it('throws ReleaseNotFound for an unknown release and creates nothing', async () => {
    await expect(
      ledger.claimIdleTeardown('missing', first, '2025-03-01T11:15:00.000Z'),
    ).rejects.toThrow(ReleaseNotFound);
    expect(await ledger.getRelease('missing')).toBeUndefined();
  });
});

describe('DynamoReleaseLedger.recordStep', () => {
  it('keeps one entry when the same step key is recorded twice', async () => {
    const record = aRelease();
    await ledger.createRelease(record);

    await ledger.recordStep(record.releaseId, aStep({ outcome: 'started' }));
    await ledger.recordStep(record.releaseId, aStep({ outcome: 'succeeded' }));

    expect(await ledger.listSteps(record.releaseId)).toEqual([aStep({ outcome: 'succeeded' })]);
  });

  it('lists steps by time, then key, with their evidence', async () => {
    const record = aRelease();
    await ledger.createRelease(record);
    const gate = aStep({
      key: 'gate#0',
      step: 'gate',
      at: '2025-03-01T10:10:00.000Z',
      phase: 'Shifting',
      greenPercent: 10,
      evidence: {
        alarms: [
          {
            name: 'checkout-errors',
            state: 'OK',
            reason: 'Threshold not crossed',
            updatedAt: '2025-03-01T10:09:00.000Z',
          },
        ],
      },
    });
    const testB = aStep({ key: 'test#1', step: 'test', at: '2025-03-01T10:01:00.000Z' });
    const testA = aStep({ key: 'test#0', step: 'test', at: '2025-03-01T10:01:00.000Z' });
    const provision = aStep();

    for (const step of [gate, testB, provision, testA]) {
      await ledger.recordStep(record.releaseId, step);
    }

    expect(await ledger.listSteps(record.releaseId)).toEqual([provision, testA, testB, gate]);
  });
});

describe('DynamoReleaseLedger.listReleases', () => {
  it('lists a service releases newest first, up to the limit, and no other service', async () => {
    const oldest = aRelease({
      releaseId: 'checkout-1-0-0-a1',
      requestedAt: '2025-01-01T00:00:00.000Z',
    });
    const newest = aRelease({
      releaseId: 'checkout-1-2-0-a1',
      requestedAt: '2025-03-01T00:00:00.000Z',
    });
    const middle = aRelease({
      releaseId: 'checkout-1-1-0-a1',
      requestedAt: '2025-02-01T00:00:00.000Z',
    });
    const other = aRelease({
      releaseId: 'billing-2-0-0-a1',
      service: 'billing',
      requestedAt: '2025-04-01T00:00:00.000Z',
    });
    for (const record of [oldest, newest, other, middle]) await ledger.createRelease(record);

    expect(await ledger.listReleases('checkout', 10)).toEqual([newest, middle, oldest]);
    expect(await ledger.listReleases('checkout', 2)).toEqual([newest, middle]);
    expect(await ledger.listReleases('payments', 10)).toEqual([]);
  });

  it('shows the current state of each release, not the state it was created with', async () => {
    const record = aRelease({ phase: 'Provisioning' });
    await ledger.createRelease(record);
    await ledger.updateRelease(record.releaseId, { phase: 'Testing' }, ['Provisioning']);

    expect((await ledger.listReleases('checkout', 1))[0]?.phase).toBe('Testing');
  });
});

describe('DynamoReleaseLedger.recordRejection', () => {
  it('stores the step and the echoed event under the event id', async () => {
    const step = aStep({
      key: 'register#0',
      step: 'register',
      phase: 'Rejected',
      outcome: 'failed',
    });
    const raw = { 'detail-type': 'Release Requested', detail: { service: 'Checkout!' } };

    await ledger.recordRejection('event-123', step, echoEvent(raw));

    const stored = await client.send(
      new GetCommand({ TableName: tableName, Key: { pk: 'rejected#event-123', sk: 'meta' } }),
    );
    expect(stored.Item).toEqual({
      pk: 'rejected#event-123',
      sk: 'meta',
      eventId: 'event-123',
      step,
      raw: JSON.stringify(raw),
      rawBytes: JSON.stringify(raw).length,
      rawTruncated: false,
    });
  });

  it('stores a cut echo with the size of the whole event', async () => {
    const raw = { detail: { junk: 'x'.repeat(100_000) } };

    await ledger.recordRejection('event-big', aStep(), echoEvent(raw));

    const stored = await client.send(
      new GetCommand({ TableName: tableName, Key: { pk: 'rejected#event-big', sk: 'meta' } }),
    );
    expect(stored.Item?.raw).toHaveLength(32 * 1024);
    expect(stored.Item).toMatchObject({ rawBytes: 100_022, rawTruncated: true });
  });

  it('gives the rejection back by event id, and nothing for an event it never refused', async () => {
    const step = aStep({ key: 'rejected', step: 'register', phase: 'Rejected', outcome: 'failed' });
    await ledger.recordRejection('event-456', step, echoEvent({}));

    expect(await ledger.getRejection('event-456')).toEqual(step);
    expect(await ledger.getRejection('event-never-sent')).toBeUndefined();
  });
});
