import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoApprovalStore, DynamoReplayGuard } from '../../../src/aws/dynamo-approvals.ts';
import { DynamoReleaseLedger } from '../../../src/aws/dynamo-ledger.ts';
import { DynamoServiceRegistry } from '../../../src/aws/dynamo-registry.ts';
import { ledgerTableInput, registryTableInput } from '../../../src/aws/dynamo-tables.ts';
import { SfnTaskCallbacks } from '../../../src/aws/sfn-callbacks.ts';
import { ReleasePhase } from '../../../src/core/phases.ts';
import type { ReleaseRecord, StepRecord } from '../../../src/core/records.ts';
import { StaticServiceRegistry } from '../../../src/core/registry.ts';
import type { ServiceConfig } from '../../../src/core/service-config.ts';
import { startLocalDynamo } from '../../../src/local/dynamo.ts';
import { startEndpoint } from '../../../src/local/endpoint.ts';
import {
  type InteractionReply,
  type InteractionRequest,
  type LocalSlack,
  startLocalSlack,
} from '../../../src/local/slack-standin.ts';
import { LocalStepFunctions } from '../../../src/local/step-functions.ts';
import type { ApprovalStepDependencies } from '../../../src/slack/dependencies.ts';
import type { InteractionDependencies, InteractionLog } from '../../../src/slack/interactions.ts';
import { WebApiSlackMessenger } from '../../../src/slack/messenger.ts';
import { aReleaseRecord, aReleaseSpec, aService } from '../../support/builders.ts';
import { aTestClock, type TestClock } from '../../support/clock.ts';

export const botToken = 'xoxb-greenlight-test';
export const signingSecret = 'test-signing-secret-0123456789abcdef';
export const ledgerTable = 'greenlight-ledger';
export const registryTable = 'greenlight-registry';
export const channel = 'C0RELEASES';
export const approver = { id: 'U0DANA', username: 'dana' };
export const groupMember = { id: 'U0GROUP', username: 'gina' };
export const stranger = { id: 'U0MALLORY', username: 'mallory' };
export const approverGroup = 'S0RELEASERS';

/** checkout asks dana (by id) in #releases, and with `groups` the members of a user group. */
export function aSlackService(options: { groups?: boolean } = {}): ServiceConfig {
  return aService({
    approval: {
      type: 'slack',
      channel,
      approvers: [approver.id],
      ...(options.groups ? { approverGroups: [approverGroup] } : {}),
    },
  });
}

/**
 * Everything written to stdout or stderr between start and stop (Powertools writes there),
 * kept instead of printed.
 */
export class OutputCapture {
  readonly lines: string[] = [];
  #restore: (() => void)[] = [];

  start(): void {
    for (const stream of [process.stdout, process.stderr]) {
      const original = stream.write.bind(stream);
      stream.write = ((chunk: unknown, ...rest: unknown[]) => {
        this.lines.push(String(chunk));
        const done = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
        done?.();
        return true;
      }) as typeof stream.write;
      this.#restore.push(() => {
        stream.write = original;
      });
    }
  }

  stop(): void {
    for (const restore of this.#restore.splice(0)) restore();
  }
}

/** InteractionLog that keeps each line as JSON text, to search for secrets. */
export function recordingLog(lines: string[]): InteractionLog {
  const write = (level: string) => (message: string, attributes: Record<string, unknown>) => {
    lines.push(JSON.stringify({ level, message, ...attributes }));
  };
  return { info: write('info'), warn: write('warn'), error: write('error') };
}

export interface Harness {
  sfn: LocalStepFunctions;
  slack: LocalSlack;
  slackApiUrl: string;
  /** The shared AWS endpoint: Step Functions and DynamoDB. */
  awsEndpoint: string;
  ledger: DynamoReleaseLedger;
  approvals: DynamoApprovalStore;
  replayGuard: DynamoReplayGuard;
  callbacks: SfnTaskCallbacks;
  messenger: WebApiSlackMessenger;
  registry: ServiceConfig[];
  /**
   * The one clock of the harness: LocalSlack stamps and signs with it, and steps and the
   * interactivity endpoint read it unless given another, so a request's age is what the test
   * makes it, whatever the machine's clock says.
   */
  clock: TestClock;
  /** Dependencies of the approval steps, with the ports no approval step uses refusing calls. */
  stepDeps(now?: () => Date): ApprovalStepDependencies;
  interactionDeps(log: InteractionLog, now?: () => Date): InteractionDependencies;
  /** Registers a release waiting for approval, with a passed test step in its timeline. */
  addRelease(version: string): Promise<ReleaseRecord>;
  /** Where LocalSlack's clicks go; set by each test file. */
  deliver: (request: InteractionRequest) => Promise<InteractionReply>;
  close(): Promise<void>;
}

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

export async function startHarness(
  options: { registry?: ServiceConfig[]; slackNow?: () => Date; clock?: TestClock } = {},
): Promise<Harness> {
  const clock = options.clock ?? aTestClock();
  const dynamo = await startLocalDynamo();
  const sfn = new LocalStepFunctions({ region: 'us-east-1', accountId: '000000000000' });
  const endpoint = await startEndpoint([sfn, dynamo.service]);
  const dynamoClient = new DynamoDBClient({
    endpoint: endpoint.url,
    region: 'us-east-1',
    credentials,
  });
  await dynamoClient.send(new CreateTableCommand(ledgerTableInput(ledgerTable)));
  await dynamoClient.send(new CreateTableCommand(registryTableInput(registryTable)));
  await waitUntilTableExists(
    { client: dynamoClient, maxWaitTime: 10, minDelay: 1 },
    { TableName: ledgerTable },
  );
  const documents = DynamoDBDocumentClient.from(dynamoClient, {
    marshallOptions: { removeUndefinedValues: true },
  });
  // Registered as on AWS, for functions that build their own dependencies from the environment.
  await new DynamoServiceRegistry({ client: documents, tableName: registryTable }).put(
    options.registry ?? [aSlackService()],
    'harness',
  );
  const sfnClient = new SFNClient({ endpoint: endpoint.url, region: 'us-east-1', credentials });

  const harness = {} as Harness;
  const slackRunning = await startLocalSlack({
    botToken,
    usergroups: { [approverGroup]: [groupMember.id, 'U0SOMEONE'] },
    now: options.slackNow ?? (() => clock.now()),
    interactivity: { signingSecret, deliver: (request) => harness.deliver(request) },
  });
  const ledger = new DynamoReleaseLedger({ client: documents, tableName: ledgerTable });
  const approvals = new DynamoApprovalStore({ client: documents, tableName: ledgerTable });
  const replayGuard = new DynamoReplayGuard({ client: documents, tableName: ledgerTable });
  const callbacks = new SfnTaskCallbacks({ client: sfnClient });
  const messenger = new WebApiSlackMessenger({ token: botToken, slackApiUrl: slackRunning.apiUrl });
  const registry = options.registry ?? [aSlackService()];
  const refuse = (port: string) => () => {
    throw new Error(`approval steps must not use ${port}`);
  };

  Object.assign(harness, {
    sfn,
    slack: slackRunning.slack,
    slackApiUrl: slackRunning.apiUrl,
    awsEndpoint: endpoint.url,
    ledger,
    approvals,
    replayGuard,
    callbacks,
    messenger,
    registry,
    clock,
    deliver: async () => {
      throw new Error('no interactivity endpoint wired in this test');
    },
    stepDeps: (now = () => clock.now()) => ({
      config: {
        ledgerTable,
        idempotencyTable: 'unused',
        busName: 'unused',
        registryTable: 'unused',
        idempotencyTtlSeconds: 60,
      },
      registry: new StaticServiceRegistry(registry),
      ledger,
      lock: {
        acquire: refuse('lock'),
        park: refuse('lock'),
        release: refuse('lock'),
        live: refuse('lock'),
      },
      events: { publish: refuse('events') },
      alarms: { describe: refuse('alarms') },
      metrics: { query: refuse('metrics') },
      bakes: {
        begin: refuse('bakes'),
        get: refuse('bakes'),
        settle: refuse('bakes'),
        watch: refuse('bakes'),
        unwatch: refuse('bakes'),
        watchers: refuse('bakes'),
      },
      targetFor: refuse('targets'),
      dynamo: dynamoClient,
      now,
      approvals,
      slack: messenger,
      callbacks,
    }),
    interactionDeps: (log: InteractionLog, now = () => clock.now()) => ({
      signingSecret,
      registry: new StaticServiceRegistry(registry),
      approvals,
      ledger,
      callbacks,
      slack: messenger,
      replayGuard,
      now,
      log,
    }),
    addRelease: async (version: string) => {
      const record = aReleaseRecord({
        ...aReleaseSpec({ version }),
        phase: ReleasePhase.AwaitingApproval,
        colours: { blue: '7', green: '8' },
      });
      await ledger.createRelease(record);
      const testStep: StepRecord = {
        key: 'test',
        step: 'test',
        at: '2026-11-21T09:59:00.000Z',
        outcome: 'succeeded',
        reason: 'Green passed 1 test',
        phase: ReleasePhase.Testing,
        evidence: { tests: [{ name: 'health', passed: true, detail: 'ok', durationMs: 12 }] },
      };
      await ledger.recordStep(record.releaseId, testStep);
      return record;
    },
    close: async () => {
      await sfn.close();
      sfnClient.destroy();
      dynamoClient.destroy();
      await slackRunning.close();
      await endpoint.close();
      await dynamo.close();
    },
  } satisfies Omit<Harness, never>);
  return harness;
}

/**
 * A release workflow cut down to the approval: RequestApproval waits on its token (callback),
 * Approved / Rejected record the outcome, a timeout runs the approval-timeout step.
 */
export function approvalDefinition(timeoutSeconds = 300) {
  return {
    StartAt: 'RequestApproval',
    States: {
      RequestApproval: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: {
          FunctionName: 'request-approval',
          Payload: {
            'release.$': '$.release',
            'colours.$': '$.colours',
            stage: 'before-shift',
            'taskToken.$': '$$.Task.Token',
          },
        },
        TimeoutSeconds: timeoutSeconds,
        ResultPath: '$.approval',
        Catch: [
          { ErrorEquals: ['ApprovalRejected'], ResultPath: '$.failure', Next: 'Rejected' },
          { ErrorEquals: ['States.Timeout'], ResultPath: '$.failure', Next: 'ApprovalTimedOut' },
        ],
        Next: 'Approved',
      },
      Approved: { Type: 'Pass', End: true },
      Rejected: { Type: 'Pass', End: true },
      ApprovalTimedOut: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: {
          FunctionName: 'approval-timeout',
          Payload: { 'release.$': '$.release', stage: 'before-shift' },
        },
        ResultSelector: { 'outcome.$': '$.Payload' },
        ResultPath: '$.timeout',
        End: true,
      },
    },
  };
}

/** A Lambda context good enough for middy and Powertools. */
export function aLambdaContext(functionName: string) {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: `req-${functionName}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 3000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
