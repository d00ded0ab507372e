import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterEach, describe, expect, it } from 'vitest';
import { ReleaseRequestedDetailType } from '../../../src/core/release-event.ts';
import { releaseRulePattern } from '../../../src/core/release-rule.ts';
import { type LocalCloud, startLocalCloud } from '../../../src/local/cloud.ts';
import { type Endpoint, startEndpoint } from '../../../src/local/endpoint.ts';
import {
  type EventEnvelope,
  LocalEventBridge,
  putEventsEntrySize,
} from '../../../src/local/event-bus.ts';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function clientFor(url: string): EventBridgeClient {
  const client = new EventBridgeClient({
    endpoint: url,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'any', secretAccessKey: 'any' },
  });
  cleanups.push(async () => client.destroy());
  return client;
}

async function startBus(): Promise<{ bus: LocalEventBridge; client: EventBridgeClient }> {
  const bus = new LocalEventBridge({
    now: () => new Date('2025-03-01T12:00:00.250Z'),
    region: 'eu-west-1',
    accountId: '123456789012',
  });
  bus.createBus('greenlight');
  const endpoint: Endpoint = await startEndpoint([bus]);
  cleanups.push(endpoint.close);
  return { bus, client: clientFor(endpoint.url) };
}

const releaseEntry = {
  EventBusName: 'greenlight',
  Source: 'ci.github',
  DetailType: ReleaseRequestedDetailType,
  Detail: JSON.stringify({ schemaVersion: 1, service: 'checkout', version: 'v42' }),
};

describe('LocalEventBridge', () => {
  it('delivers a matching event to the rule target as an EventBridge envelope', async () => {
    const { bus, client } = await startBus();
    const delivered: EventEnvelope[] = [];
    bus.addRule({
      name: 'release-requested',
      busName: 'greenlight',
      pattern: releaseRulePattern,
      target: async (event) => {
        delivered.push(event);
      },
    });

    const response = await client.send(new PutEventsCommand({ Entries: [releaseEntry] }));

    expect(response.FailedEntryCount).toBe(0);
    expect(delivered).toEqual([
      {
        version: '0',
        id: response.Entries?.[0]?.EventId,
        'detail-type': 'Release Requested',
        source: 'ci.github',
        account: '123456789012',
        time: '2025-03-01T12:00:00Z',
        region: 'eu-west-1',
        resources: [],
        detail: { schemaVersion: 1, service: 'checkout', version: 'v42' },
      },
    ]);
  });

  it('stores a non-matching event without calling any target', async () => {
    const { bus, client } = await startBus();
    let calls = 0;
    bus.addRule({
      name: 'release-requested',
      busName: 'greenlight',
      pattern: releaseRulePattern,
      target: async () => {
        calls += 1;
      },
    });

    await client.send(
      new PutEventsCommand({
        Entries: [{ ...releaseEntry, Source: 'greenlight', DetailType: 'Release Finalized' }],
      }),
    );

    expect(calls).toBe(0);
    expect(bus.events('greenlight').map((event) => event['detail-type'])).toEqual([
      'Release Finalized',
    ]);
    expect(bus.events('default')).toEqual([]);
  });

  it('only delivers to rules on the bus the event was put on', async () => {
    const { bus, client } = await startBus();
    let calls = 0;
    bus.addRule({
      name: 'default-bus-rule',
      pattern: releaseRulePattern,
      target: async () => {
        calls += 1;
      },
    });

    await client.send(new PutEventsCommand({ Entries: [releaseEntry] }));

    expect(calls).toBe(0);
  });

  it('reports failed entries one by one and keeps the good ones', async () => {
    const { bus, client } = await startBus();
    const seen: string[] = [];
    bus.onEvent((stored) => seen.push(stored.event.source));

    const response = await client.send(
      new PutEventsCommand({
        Entries: [
          releaseEntry,
          { ...releaseEntry, EventBusName: 'nope' },
          { ...releaseEntry, Detail: '[1,2]' },
          { ...releaseEntry, Source: undefined },
          {
            ...releaseEntry,
            EventBusName: 'arn:aws:events:eu-west-1:123456789012:event-bus/greenlight',
            Source: 'ci.gitlab',
          },
        ],
      }),
    );

    expect(response.FailedEntryCount).toBe(3);
    expect(response.Entries?.map((entry) => entry.ErrorCode ?? 'ok')).toEqual([
      'ok',
      'ResourceNotFoundException',
      'MalformedDetail',
      'InvalidArgument',
      'ok',
    ]);
    expect(response.Entries?.[3]?.ErrorMessage).toMatch(/Source/);
    expect(seen).toEqual(['ci.github', 'ci.gitlab']);
    expect(bus.events()).toHaveLength(2);
  });

  it('takes entries of up to 256 KB as EventBridge counts them, and refuses a request over', async () => {
    const { bus, client } = await startBus();
    const entryOf = (bytes: number) => {
      const base = { ...releaseEntry, Detail: JSON.stringify({ pad: '' }) };
      const pad = 'é'.repeat((bytes - putEventsEntrySize(base)) / 2);
      const entry = { ...base, Detail: JSON.stringify({ pad }) };
      expect(putEventsEntrySize(entry)).toBe(bytes);
      return entry;
    };

    const largest = await client.send(new PutEventsCommand({ Entries: [entryOf(256 * 1024)] }));
    expect(largest.FailedEntryCount).toBe(0);

    const over = client.send(new PutEventsCommand({ Entries: [entryOf(256 * 1024 + 2)] }));
    await expect(over).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Total size of the entries in the request is over the limit.',
    });
    const together = client.send(
      new PutEventsCommand({ Entries: [entryOf(128 * 1024), entryOf(128 * 1024 + 2)] }),
    );
    await expect(together).rejects.toMatchObject({ name: 'ValidationException' });
    expect(bus.events('greenlight')).toHaveLength(1);
  });

  it('counts an entry as Source, DetailType, Detail and Resources in UTF-8, and 14 for Time', () => {
    expect(
      putEventsEntrySize({
        Source: 'ci',
        DetailType: 'Release Requested',
        Detail: '{"a":"é"}',
        Resources: ['arn:x', 'arn:yz'],
        Time: 1_700_000_000,
      }),
    ).toBe(2 + 17 + 10 + 5 + 6 + 14);
  });

  it('records a target that throws as a failed delivery without failing PutEvents', async () => {
    const { bus, client } = await startBus();
    bus.addRule({
      name: 'broken',
      busName: 'greenlight',
      pattern: releaseRulePattern,
      target: async () => {
        throw new Error('target down');
      },
    });

    const response = await client.send(new PutEventsCommand({ Entries: [releaseEntry] }));

    expect(response.FailedEntryCount).toBe(0);
    expect(bus.failedDeliveries().map((failure) => failure.rule)).toEqual(['broken']);
  });

  it('refuses a rule on a bus that does not exist', () => {
    const bus = new LocalEventBridge();

    expect(() =>
      bus.addRule({ name: 'r', busName: 'missing', pattern: {}, target: async () => {} }),
    ).toThrow(/createBus\("missing"\)/);
  });

  it('starts a release execution from PutEvents through the local cloud', async () => {
    const cloud: LocalCloud = await startLocalCloud({ port: 0 });
    cleanups.push(cloud.close);
    const received: unknown[] = [];
    cloud.stepFunctions.createStateMachine({
      name: 'release',
      definition: {
        StartAt: 'Register',
        States: {
          Register: {
            Type: 'Task',
            Resource: 'arn:aws:lambda:us-east-1:000000000000:function:register',
            End: true,
          },
        },
      },
      functions: {
        register: async (event: unknown) => {
          received.push(event);
          return { registered: true };
        },
      },
    });
    cloud.eventBridge.createBus('greenlight');
    cloud.eventBridge.addRule({
      name: 'release-requested',
      busName: 'greenlight',
      pattern: releaseRulePattern,
      target: async (event) => {
        cloud.stepFunctions.startExecution('release', event);
      },
    });

    const response = await clientFor(cloud.url).send(
      new PutEventsCommand({ Entries: [releaseEntry] }),
    );
    const [execution] = cloud.stepFunctions.listExecutions();
    const record = await cloud.stepFunctions.waitForExecution(execution?.executionArn as string);

    expect(record.status).toBe('SUCCEEDED');
    expect(received).toEqual([
      expect.objectContaining({
        id: response.Entries?.[0]?.EventId,
        'detail-type': 'Release Requested',
        detail: { schemaVersion: 1, service: 'checkout', version: 'v42' },
      }),
    ]);
  });
});
