import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoReleaseLedger } from '../../../src/aws/dynamo-ledger.ts';
import { ledgerTableInput } from '../../../src/aws/dynamo-tables.ts';
import { EventBridgeLifecycleEvents } from '../../../src/aws/eventbridge-events.ts';
import { StaticServiceRegistry } from '../../../src/core/registry.ts';
import { type Endpoint, startEndpoint } from '../../../src/local/endpoint.ts';
import { LocalEventBridge, putEventsEntrySize } from '../../../src/local/event-bus.ts';
import type { StepDependencies } from '../../../src/runtime/dependencies.ts';
import { registerStep } from '../../../src/steps/register.ts';
import { aReleaseEvent, aService, type ReleaseRequestedEvent } from '../../support/builders.ts';
import { type RunningDynalite, startDynalite } from '../../support/dynalite.ts';

// Register with hostile inputs, against the real ledger adapter on dynalite (which refuses items
// over DynamoDB's 400 KB, as DynamoDB does) and the real lifecycle publisher on the local bus
// (which refuses PutEvents requests over 256 KB, as EventBridge does). Whatever the event, the
// rejection must be recorded and announced, and the step must end with InvalidReleaseEvent.

const now = new Date('2026-11-21T10:00:00.000Z');
const executionId = 'arn:aws:states:eu-west-1:123456789012:execution:greenlight-release:exec-1';
/** PutEvents' limit on entries, and DynamoDB's on items: 256 KB and 400 KB (1 KB = 1,024 B). */
const putEventsLimit = 256 * 1024;
const itemLimit = 400 * 1024;
/** The Source and DetailType CI puts the Release Requested event with, for its entry size. */
const ciSource = 'ci.checkout';

let dynalite: RunningDynalite;
let endpoint: Endpoint;
let bus: LocalEventBridge;
let documents: DynamoDBDocumentClient;
let deps: StepDependencies;

beforeAll(async () => {
  dynalite = await startDynalite();
  const dynamo = new DynamoDBClient({
    endpoint: dynalite.endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await dynamo.send(new CreateTableCommand(ledgerTableInput('ledger')));
  documents = DynamoDBDocumentClient.from(dynamo, {
    marshallOptions: { removeUndefinedValues: true },
  });
  bus = new LocalEventBridge({ now: () => now, region: 'eu-west-1' });
  bus.createBus('greenlight');
  endpoint = await startEndpoint([bus]);
  const eventBridge = new EventBridgeClient({
    endpoint: endpoint.url,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  deps = {
    config: {
      ledgerTable: 'ledger',
      idempotencyTable: 'idempotency',
      busName: 'greenlight',
      registryTable: 'unused',
      idempotencyTtlSeconds: 3600,
    },
    registry: new StaticServiceRegistry([aService()]),
    ledger: new DynamoReleaseLedger({ client: documents, tableName: 'ledger' }),
    events: new EventBridgeLifecycleEvents({
      client: eventBridge,
      busName: 'greenlight',
      sleep: async () => undefined,
    }),
    dynamo,
    now: () => now,
  } as unknown as StepDependencies;
});

afterAll(async () => {
  deps?.dynamo.destroy();
  await endpoint?.close();
  await dynalite?.close();
});

/** The entry CI would have put on the bus for `event`, measured as EventBridge measures it. */
function entrySizeOf(event: ReleaseRequestedEvent): number {
  return putEventsEntrySize({
    Source: ciSource,
    DetailType: event['detail-type'],
    Detail: JSON.stringify(event.detail),
  });
}

/** Pads `detail` with one unknown field so that CI's entry is exactly `bytes` long. */
function eventOfEntrySize(
  id: string,
  bytes: number,
  detail: Record<string, unknown>,
): ReleaseRequestedEvent {
  const base = aReleaseEvent({ ...detail, padding: '' }, { id, source: ciSource });
  const padding = 'p'.repeat(bytes - entrySizeOf(base));
  const event = aReleaseEvent({ ...detail, padding }, { id, source: ciSource });
  expect(entrySizeOf(event)).toBe(bytes);
  return event;
}

/** Runs Register on `event` and checks what every rejection must leave behind. */
async function expectRecordedRejection(event: ReleaseRequestedEvent) {
  const eventId = event.id;
  await expect(registerStep.run({ event, executionId }, deps)).rejects.toMatchObject({
    name: 'InvalidReleaseEvent',
  });

  const { Item: item } = await documents.send(
    new GetCommand({ TableName: 'ledger', Key: { pk: `rejected#${eventId}`, sk: 'meta' } }),
  );
  expect(item).toBeDefined();
  // dynalite enforces the item limit itself; far below it is what the bounds promise.
  expect(Buffer.byteLength(JSON.stringify(item))).toBeLessThan(itemLimit / 4);
  const rejection = await deps.ledger.getRejection(eventId);
  expect(rejection).toMatchObject({ step: 'register', outcome: 'failed', phase: 'Rejected' });

  const announced = bus
    .events('greenlight')
    .filter((e) => e.source === 'greenlight' && e.detail.eventId === eventId);
  expect(announced.map((e) => e['detail-type'])).toEqual(['Release Rejected']);
  const [published] = announced;
  const size = putEventsEntrySize({
    Source: 'greenlight',
    DetailType: 'Release Rejected',
    Detail: JSON.stringify(published?.detail),
  });
  expect(size).toBeLessThan(putEventsLimit / 4);
  return { rejection, detail: published?.detail ?? {}, item };
}

describe('register, with hostile sizes', () => {
  it('records and announces an event with 4,000 unknown fields (38 KB)', async () => {
    const unknown = Object.fromEntries(Array.from({ length: 4000 }, (_, i) => [`f${i}`, 1]));
    const event = aReleaseEvent(unknown, { id: 'event-many-fields', source: ciSource });
    expect(entrySizeOf(event)).toBeGreaterThan(38_000);

    const { rejection, detail } = await expectRecordedRejection(event);

    expect(rejection?.evidence?.issues).toHaveLength(20);
    expect(rejection?.evidence?.issues?.[0]).toEqual({
      path: 'detail.f0',
      message: 'is not a known field; remove it or fix its spelling',
    });
    expect(rejection?.evidence?.issuesOmitted).toBe(3980);
    expect(rejection?.reason).toMatch(/; …and 3,980 more issues$/);
    expect(detail).toMatchObject({ issuesOmitted: 3980, service: 'checkout' });
    expect(detail.issues).toHaveLength(20);
  });

  it('records and announces an event whose imageUri is 130 KB', async () => {
    const imageUri = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/${'a'.repeat(130 * 1024)}:1.0.0`;
    const event = aReleaseEvent({ artifact: { imageUri } }, { id: 'event-long-uri' });

    const { rejection } = await expectRecordedRejection(event);

    expect(rejection?.evidence?.issues).toEqual([
      { path: 'detail.artifact.imageUri', message: expect.stringMatching(/255 characters/) },
    ]);
  });

  it('records and announces the largest event EventBridge accepts, in unknown fields', async () => {
    // Long multi-byte field names: few characters, many bytes, every one an issue echoing it.
    const name = (i: number) => `${i}-${'é'.repeat(2_000)}`;
    const unknown = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [name(i), 'x']));
    const event = eventOfEntrySize('event-largest', putEventsLimit, {
      ...unknown,
      actor: `\u001b]8;;https://evil.example\u0007${'a'.repeat(20_000)}`,
    });

    const { rejection, detail, item } = await expectRecordedRejection(event);

    expect(rejection?.evidence?.issues).toHaveLength(20);
    const [first] = rejection?.evidence?.issues ?? [];
    expect(first?.path).toMatch(/^detail\.actor$|^detail\.\d+-é+…/);
    // 60 long names and the padding are unknown; the actor is too long and not printable.
    expect(detail.issuesOmitted).toBe(60 + 1 + 2 - 20);
    expect(item).toMatchObject({
      rawBytes: Buffer.byteLength(JSON.stringify(event)),
      rawTruncated: true,
    });
  });

  it('records an event that is not an object at all', async () => {
    const event = 'x'.repeat(200_000) as unknown as ReleaseRequestedEvent;
    await expect(registerStep.run({ event, executionId }, deps)).rejects.toMatchObject({
      name: 'InvalidReleaseEvent',
    });
    expect(await deps.ledger.getRejection('exec-1')).toMatchObject({ outcome: 'failed' });
  });
});

describe('register, for a CI team', () => {
  it('records and announces a release from a team’s source for a service of no team', async () => {
    const event = aReleaseEvent(
      {},
      { id: '7f1c0b9e-team-source', source: 'greenlight.ci.payments' },
    );
    const { detail } = await expectRecordedRejection(event);
    expect(detail.issues).toEqual([
      {
        path: 'source',
        message: expect.stringContaining('service "checkout" belongs to no team'),
      },
    ]);
  });
});
