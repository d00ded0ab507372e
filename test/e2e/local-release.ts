import type { PutMetricAlarmCommandInput } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll } from 'vitest';
import { TerminalPhases } from '../../src/core/phases.ts';
import type { ReleaseRecord } from '../../src/core/records.ts';
import type { ReleaseRequestedV1Input } from '../../src/core/release-event.ts';
import {
  buildReleaseRequestEntry,
  type ReleaseRequestDetail,
} from '../../src/core/release-request-entry.ts';
import type { ServiceConfigInput } from '../../src/core/service-config.ts';
import { DemoArtifactBucket, lambdaErrorsAlarm } from '../../src/local/demo-registry.ts';
import {
  type GreenlightLocal,
  type GreenlightLocalOptions,
  startGreenlightLocal,
} from '../../src/local/greenlight-local.ts';
import type { SeedFunctionInput } from '../../src/local/lambda/types.ts';
import { eventually } from '../support/eventually.ts';

/** A Lambda service for end-to-end tests: its own function, alias `live` and errors alarm. */
export function aLambdaService(
  name: string,
  bakeSeconds = 1,
): {
  service: ServiceConfigInput;
  fn: SeedFunctionInput;
  alarm: PutMetricAlarmCommandInput;
} {
  return {
    service: {
      name,
      target: { kind: 'lambda-alias', functionName: name, alias: 'live' },
      strategies: { canary: { type: 'canary', percent: 10, bakeSeconds } },
      defaultStrategy: 'canary',
      artifacts: { s3Buckets: [DemoArtifactBucket] },
      // The alarm watches the alias (blue and green together): service-wide, on purpose.
      alarms: [{ name: `${name}-errors`, scope: 'service' }],
      tests: [{ name: 'health', payload: { path: '/health' }, expect: { statusCode: 200 } }],
    },
    fn: { functionName: name, alias: 'live', artifact: artifact('1.0.0') },
    alarm: lambdaErrorsAlarm(name),
  };
}

/** A Lambda service of an e2e file: its registration, function and (optional) alarm. */
export interface LambdaFixture {
  service: ServiceConfigInput;
  fn: SeedFunctionInput;
  alarm?: PutMetricAlarmCommandInput;
}

/** An e2e file's local cloud and the clients its tests read it with. */
export interface LocalCloudUnderTest {
  local: GreenlightLocal;
  lambda: LambdaClient;
  sfn: SFNClient;
  dynamo: DynamoDBClient;
  events: EventBridgeClient;
}

/**
 * Registers an e2e file's hooks: before its tests, a local cloud with the Lambda services of
 * `fixtures` (retries 10 ms apart, unless `options` say otherwise) and its clients, handed to
 * `started` for the file's own variables; after them, all of it closed.
 */
export function useLocalCloud(
  fixtures: readonly LambdaFixture[],
  started: (cloud: LocalCloudUnderTest) => void,
  options: GreenlightLocalOptions = {},
): void {
  let cloud: LocalCloudUnderTest | undefined;
  beforeAll(async () => {
    const local = await startGreenlightLocal({
      retryIntervalMs: 10,
      services: fixtures.map((f) => f.service),
      functions: fixtures.map((f) => f.fn),
      alarms: fixtures.flatMap((f) => (f.alarm ? [f.alarm] : [])),
      ...options,
    });
    const config = local.clientConfig;
    cloud = {
      local,
      lambda: new LambdaClient(config),
      sfn: new SFNClient(config),
      dynamo: new DynamoDBClient(config),
      events: new EventBridgeClient(config),
    };
    started(cloud);
  });
  afterAll(async () => {
    if (cloud === undefined) return;
    for (const client of [cloud.lambda, cloud.sfn, cloud.dynamo, cloud.events]) client.destroy();
    await cloud.local.close();
  });
}

/** The Slack approval of a gated fixture: its fields, over the channel and approvers every test uses. */
type SlackApprovalInput = Extract<ServiceConfigInput['approval'], { type: 'slack' }>;

/** The channel gated fixtures ask in, and the approver the tests click as. */
export const approvalChannel = 'C0RELEASES';
export const approver = { id: 'U0DANA', username: 'dana' };

/**
 * aLambdaService (1 s bakes) whose releases wait for a Slack approval before traffic moves, in
 * `approvalChannel` by `approver` unless `approval` says otherwise.
 */
export function aGatedLambdaService(
  name: string,
  approval: Partial<Omit<SlackApprovalInput, 'type'>> = {},
): ReturnType<typeof aLambdaService> {
  const fixture = aLambdaService(name, 1);
  fixture.service.approval = {
    type: 'slack',
    channel: approvalChannel,
    approvers: [approver.id],
    ...approval,
  };
  return fixture;
}

/** A demo artifact by its version: `1.1.0`, `1.2.0-broken`, `1.3.0-faulty`, ... */
export function artifact(version: string): { s3: { bucket: string; key: string } } {
  return { s3: { bucket: DemoArtifactBucket, key: `checkout/${version}.zip` } };
}

/**
 * Puts a Release Requested event on the local bus the way CI does; returns the event id. `time`
 * is the event's time (PutEvents `Time`, whole seconds on the bus): the order CI built them in.
 */
export async function requestRelease(
  local: GreenlightLocal,
  detail: Partial<ReleaseRequestedV1Input> | Record<string, unknown>,
  time?: Date,
): Promise<string> {
  const [eventId] = await requestReleases(local, [{ detail, ...(time ? { time } : {}) }]);
  return eventId as string;
}

/** Several Release Requested events in one PutEvents call, as a burst of CI runs; their ids. */
export async function requestReleases(
  local: GreenlightLocal,
  requests: readonly {
    detail: Partial<ReleaseRequestedV1Input> | Record<string, unknown>;
    time?: Date;
  }[],
): Promise<string[]> {
  const client = new EventBridgeClient(local.clientConfig);
  try {
    const result = await client.send(
      new PutEventsCommand({
        // Deliberately unvalidated: tests send bad details to see the workflow reject them.
        Entries: requests.map(({ detail, time }) =>
          buildReleaseRequestEntry({
            bus: 'greenlight',
            source: 'greenlight.test',
            detail: detail as ReleaseRequestDetail,
            ...(time ? { time } : {}),
          }),
        ),
      }),
    );
    const ids = (result.Entries ?? []).map((entry) => entry.EventId);
    if (result.FailedEntryCount !== 0 || ids.length !== requests.length || ids.some((id) => !id))
      throw new Error(`PutEvents failed: ${JSON.stringify(result)}`);
    return ids as string[];
  } finally {
    client.destroy();
  }
}

/** The execution the bus started for an event, once it has ended. */
export async function executionFor(local: GreenlightLocal, eventId: string) {
  const sfn = local.cloud.stepFunctions;
  const started = sfn
    .listExecutions()
    .find((execution) => (JSON.parse(execution.input) as { id?: string }).id === eventId);
  if (!started) throw new Error(`No execution was started for event ${eventId}`);
  return sfn.waitForExecution(started.executionArn);
}

/**
 * Polls the execution the bus started for an event until its history has an event of `type`
 * (`TaskSubmitted`: a callback task's function has returned and the task waits on its token).
 */
export async function waitForHistory(
  local: GreenlightLocal,
  eventId: string,
  type: string,
  timeoutMs = 30_000,
): Promise<void> {
  const sfn = local.cloud.stepFunctions;
  await eventually(
    () => {
      const execution = sfn
        .listExecutions()
        .find((e) => (JSON.parse(e.input) as { id?: string }).id === eventId);
      return execution && sfn.getHistory(execution.executionArn).some((h) => h.type === type)
        ? true
        : undefined;
    },
    { what: `${type} in the execution for event ${eventId}`, timeoutMs },
  );
}

/** Polls the ledger until the release is in `phases` (or any terminal phase). */
export async function waitForPhase(
  local: GreenlightLocal,
  releaseId: string,
  phases: ReadonlySet<string> = TerminalPhases,
  timeoutMs = 30_000,
): Promise<ReleaseRecord> {
  let release: ReleaseRecord | undefined;
  return eventually(
    async () => {
      release = await local.ledger.getRelease(releaseId);
      return release && phases.has(release.phase) ? release : undefined;
    },
    {
      what: () =>
        `release ${releaseId} to reach ${[...phases].join('/')}; last read: ${JSON.stringify(release)}`,
      timeoutMs,
    },
  );
}

/** Lifecycle events on the bus for one release (by release id) or one rejected event (by event id). */
export function lifecycleEvents(local: GreenlightLocal, id: string) {
  return local.cloud.eventBridge
    .events('greenlight')
    .filter((event) => event.source === 'greenlight')
    .filter((event) => event.detail.releaseId === id || event.detail.eventId === id);
}

/** Polls the ledger until the release's timeline has a step named `step`. */
export async function waitForStep(
  local: GreenlightLocal,
  releaseId: string,
  step: string,
  timeoutMs = 30_000,
): Promise<void> {
  let recorded: string[] = [];
  await eventually(
    async () => {
      recorded = (await local.ledger.listSteps(releaseId)).map((s) => s.step);
      return recorded.includes(step) ? true : undefined;
    },
    {
      what: () =>
        `release ${releaseId} to record a ${step} step; steps so far: ${JSON.stringify(recorded)}`,
      timeoutMs,
    },
  );
}
