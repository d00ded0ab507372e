import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { EventBridgeLifecycleEvents } from '../../../src/aws/eventbridge-events.ts';
import type { LifecycleEvent } from '../../../src/core/records.ts';

const eventbridge = mockClient(EventBridgeClient);
let pauses: number[];

beforeEach(() => {
  eventbridge.reset();
  pauses = [];
});

function publisher() {
  return new EventBridgeLifecycleEvents({
    client: new EventBridgeClient({ region: 'us-east-1' }),
    busName: 'greenlight-ci',
    sleep: async (ms) => {
      pauses.push(ms);
    },
  });
}

function anEvent(overrides: Partial<LifecycleEvent['detail']> = {}): LifecycleEvent {
  return {
    detailType: 'Traffic Shifted',
    detail: {
      releaseId: 'checkout-1-4-2-a1',
      service: 'checkout',
      version: '1.4.2',
      phase: 'Shifting',
      reason: '10% of traffic on green',
      greenPercent: 10,
      ...overrides,
    },
  };
}

function sentEntries() {
  return eventbridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries);
}

describe('EventBridgeLifecycleEvents.publish', () => {
  it('puts each event with source greenlight on the bus', async () => {
    eventbridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
    const event = anEvent();

    await publisher().publish([event]);

    expect(sentEntries()).toEqual([
      [
        {
          Source: 'greenlight',
          DetailType: 'Traffic Shifted',
          Detail: JSON.stringify(event.detail),
          EventBusName: 'greenlight-ci',
        },
      ],
    ]);
  });

  it('sends at most 10 entries per call', async () => {
    eventbridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
    const events = Array.from({ length: 23 }, (_, i) => anEvent({ reason: `event ${i}` }));

    await publisher().publish(events);

    expect(sentEntries().map((entries) => entries?.length)).toEqual([10, 10, 3]);
    expect(
      sentEntries()
        .flat()
        .map((entry) => JSON.parse(entry?.Detail ?? '').reason),
    ).toEqual(events.map((event) => event.detail.reason));
  });

  it('retries only the failed entries, backing off', async () => {
    eventbridge
      .on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 1,
        Entries: [
          { EventId: '1' },
          { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' },
          { EventId: '3' },
        ],
      })
      .resolvesOnce({ FailedEntryCount: 0, Entries: [{ EventId: '2' }] });
    const events = [
      anEvent({ reason: 'one' }),
      anEvent({ reason: 'two' }),
      anEvent({ reason: 'three' }),
    ];

    await publisher().publish(events);

    expect(
      sentEntries().map((entries) => entries?.map((e) => JSON.parse(e.Detail ?? '').reason)),
    ).toEqual([['one', 'two', 'three'], ['two']]);
    expect(pauses).toEqual([100]);
  });

  it('throws naming the error codes when entries keep failing', async () => {
    eventbridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
    });

    await expect(publisher().publish([anEvent()])).rejects.toThrow(
      'EventBridge refused 1 lifecycle event(s) on bus greenlight-ci after 4 attempts: Traffic Shifted: InternalFailure (try again)',
    );
    expect(sentEntries()).toHaveLength(4);
    expect(pauses).toEqual([100, 200, 400]);
  });

  it('calls nothing for no events', async () => {
    await publisher().publish([]);
    expect(eventbridge.calls()).toHaveLength(0);
  });
});
