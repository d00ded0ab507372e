import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoApprovalStore, DynamoReplayGuard } from '../../../src/aws/dynamo-approvals.ts';
import { ApprovalNotFound } from '../../../src/core/errors.ts';
import type { ApprovalRecord } from '../../../src/core/records.ts';
import { useFreshLedgerTable } from '../../support/dynalite.ts';

function anApproval(overrides: Partial<ApprovalRecord> = {}): ApprovalRecord {
  return {
    approvalId: 'checkout-1-4-2-a1-before-shift',
    releaseId: 'checkout-1-4-2-a1',
    service: 'checkout',
    version: '1.4.2',
    stage: 'before-shift',
    taskToken: 'token-1',
    status: 'pending',
    requestedAt: '2026-11-21T10:00:00.000Z',
    expiresAt: '2026-11-22T10:00:00.000Z',
    ...overrides,
  };
}

const approve = {
  status: 'approved',
  by: 'U0DANA',
  at: '2026-11-21T10:05:00.000Z',
  via: 'slack',
} as const;

const table = useFreshLedgerTable('ledger');
let client: DynamoDBDocumentClient;
let tableName: string;
let store: DynamoApprovalStore;

beforeEach(() => {
  ({ client, tableName } = table());
  store = new DynamoApprovalStore({ client, tableName });
});

describe('DynamoApprovalStore', () => {
  it('stores an approval under approval#<id> / meta and reads it back', async () => {
    const approval = anApproval();

    expect(await store.create(approval)).toEqual(approval);
    expect(await store.get(approval.approvalId)).toEqual(approval);
    const { Item } = await client.send(
      new GetCommand({
        TableName: tableName,
        Key: { pk: `approval#${approval.approvalId}`, sk: 'meta' },
      }),
    );
    expect(Item?.taskToken).toBe('token-1');
  });

  it('returns the stored approval when created again, never overwriting it', async () => {
    await store.create(anApproval());

    expect(await store.create(anApproval({ taskToken: 'token-2' }))).toEqual(anApproval());
  });

  it('records the first decision and answers later ones with it', async () => {
    await store.create(anApproval());

    const first = await store.decide('checkout-1-4-2-a1-before-shift', approve);
    const second = await store.decide('checkout-1-4-2-a1-before-shift', {
      status: 'rejected',
      by: 'U0OTHER',
      at: '2026-11-21T10:05:01.000Z',
      via: 'slack',
      reason: 'too late',
    });

    const decided = anApproval({
      status: 'approved',
      decidedBy: 'U0DANA',
      decidedAt: '2026-11-21T10:05:00.000Z',
      decidedVia: 'slack',
    });
    expect(first).toEqual({ decided: true, record: decided });
    expect(second).toEqual({ decided: false, record: decided });
  });

  it('keeps the AWS principal of a command-line decision beside who decided', async () => {
    await store.create(anApproval());
    const principalArn = 'arn:aws:sts::123456789012:assumed-role/Releasers/dana@example.com';

    const result = await store.decide('checkout-1-4-2-a1-before-shift', {
      ...approve,
      by: 'dana',
      via: 'cli',
      principalArn,
    });

    expect(result.record).toMatchObject({ decidedBy: 'dana', decidedVia: 'cli', principalArn });
    expect(await store.get('checkout-1-4-2-a1-before-shift')).toMatchObject({ principalArn });
  });

  it('lets exactly one of concurrent decisions win', async () => {
    await store.create(anApproval());

    const results = await Promise.all(
      ['U1', 'U2', 'U3', 'U4', 'U5'].map((by) =>
        store.decide('checkout-1-4-2-a1-before-shift', { ...approve, by }),
      ),
    );

    expect(results.filter((result) => result.decided)).toHaveLength(1);
    const winner = results.find((result) => result.decided)?.record.decidedBy;
    expect(results.every((result) => result.record.decidedBy === winner)).toBe(true);
  });

  it('throws ApprovalNotFound when deciding an approval that does not exist', async () => {
    await expect(store.decide('nope-before-shift', approve)).rejects.toBeInstanceOf(
      ApprovalNotFound,
    );
    await expect(
      store.attachMessage('nope-before-shift', { channel: 'C', ts: '1.1' }),
    ).rejects.toBeInstanceOf(ApprovalNotFound);
  });

  it('attaches the Slack message', async () => {
    await store.create(anApproval());
    await store.attachMessage('checkout-1-4-2-a1-before-shift', {
      channel: 'C0RELEASES',
      ts: '1.000001',
    });

    expect((await store.get('checkout-1-4-2-a1-before-shift'))?.slack).toEqual({
      channel: 'C0RELEASES',
      ts: '1.000001',
    });
  });

  it('renews the token of a pending approval, and not of a decided one', async () => {
    await store.create(anApproval());

    const renewed = await store.renewTaskToken('checkout-1-4-2-a1-before-shift', 'token-2');
    expect([renewed.renewed, renewed.record.taskToken]).toEqual([true, 'token-2']);

    await store.decide('checkout-1-4-2-a1-before-shift', approve);
    const late = await store.renewTaskToken('checkout-1-4-2-a1-before-shift', 'token-3');
    expect([late.renewed, late.record.taskToken, late.record.status]).toEqual([
      false,
      'token-2',
      'approved',
    ]);
  });
});

describe('DynamoReplayGuard', () => {
  const now = new Date('2026-11-21T10:00:00Z');
  const later = new Date('2026-11-21T10:11:00Z');

  it('remembers a key once until it expires, with the expiry in the ttl attribute', async () => {
    const guard = new DynamoReplayGuard({ client, tableName });
    const expiresAt = new Date('2026-11-21T10:10:00Z');

    expect(await guard.remember('v0=abc', expiresAt, now)).toBe(true);
    expect(await guard.remember('v0=abc', expiresAt, now)).toBe(false);
    expect(await guard.remember('v0=other', expiresAt, now)).toBe(true);
    const { Item } = await client.send(
      new GetCommand({ TableName: tableName, Key: { pk: 'slack-request#v0=abc', sk: 'meta' } }),
    );
    expect(Item).toEqual({
      pk: 'slack-request#v0=abc',
      sk: 'meta',
      ttl: expiresAt.getTime() / 1000,
    });
    // TTL deletion lags (dynalite never deletes): an expired entry is overwritten.
    expect(await guard.remember('v0=abc', new Date('2026-11-21T10:21:00Z'), later)).toBe(true);
  });

  it('lets exactly one of concurrent writers remember a key', async () => {
    const guards = [1, 2, 3, 4].map(() => new DynamoReplayGuard({ client, tableName }));
    const results = await Promise.all(
      guards.map((guard) => guard.remember('v0=same', new Date('2026-11-21T10:10:00Z'), now)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});
