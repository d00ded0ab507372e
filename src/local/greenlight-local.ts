import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  CloudWatchClient,
  PutMetricAlarmCommand,
  type PutMetricAlarmCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { handler as acquireLock } from '../../functions/acquire-lock.ts';
import { handler as alarmEvent } from '../../functions/alarm-event.ts';
import { handler as approvalTimeout } from '../../functions/approval-timeout.ts';
import { handler as bakeTick } from '../../functions/bake-tick.ts';
import { handler as checkGates } from '../../functions/check-gates.ts';
import { handler as endBake } from '../../functions/end-bake.ts';
import { handler as finalize } from '../../functions/finalize.ts';
import { handler as migrate } from '../../functions/migrate.ts';
import { handler as operator } from '../../functions/operator.ts';
import { handler as provisionGreen } from '../../functions/provision-green.ts';
import { handler as register } from '../../functions/register.ts';
import { handler as releaseUpdates } from '../../functions/release-updates.ts';
import { handler as requestApproval } from '../../functions/request-approval.ts';
import { handler as rollback } from '../../functions/rollback.ts';
import { handler as setWeight } from '../../functions/set-weight.ts';
import { handler as slackInteractions } from '../../functions/slack-interactions.ts';
import { handler as startBake } from '../../functions/start-bake.ts';
import { handler as sweeper } from '../../functions/sweeper.ts';
import { handler as teardown } from '../../functions/teardown.ts';
import { handler as testGreen } from '../../functions/test-green.ts';
import { handler as verifyCallback } from '../../functions/verify-callback.ts';
import {
  BakeMode,
  buildReleaseDefinition,
  functionArnsFor,
  ReleaseFunction,
} from '../../workflows/release.ts';
import { DynamoReleaseLedger } from '../aws/dynamo-ledger.ts';
import { DynamoServiceRegistry } from '../aws/dynamo-registry.ts';
import {
  idempotencyTableInput,
  ledgerTableInput,
  registryTableInput,
} from '../aws/dynamo-tables.ts';
import { operatorRulePattern } from '../core/operator-command.ts';
import { parseServiceRegistry } from '../core/registry.ts';
import {
  alarmRulePattern,
  releaseRulePattern,
  releaseUpdatesRulePattern,
} from '../core/release-rule.ts';
import type { ServiceConfigInput } from '../core/service-config.ts';
import type { SweepOutcome } from '../steps/sweeper.ts';
import { LocalArtifactStore } from './artifact-store.ts';
import { startLocalCloud } from './cloud.ts';
import { LocalCloudWatch } from './cloudwatch/simulator.ts';
import {
  type DemoShop,
  type DemoShopOptions,
  type LocalAlb,
  type LocalAlbOptions,
  startLocalAlb,
} from './data-plane/local-alb.ts';
import {
  type DemoDatabaseHandle,
  shopMigrationRunnerFunction,
  startDemoDatabase,
} from './demo-database.ts';
import { demoAlarms, demoFunctions, demoServices, demoShopService } from './demo-registry.ts';
import { LocalEcr } from './ecr-standin.ts';
import type { LocalRequest, LocalResponse, LocalService } from './http.ts';
import { LocalLambda } from './lambda/simulator.ts';
import type { SeedFunctionInput } from './lambda/types.ts';
import { LocalS3 } from './s3-standin.ts';
import { LocalScheduler } from './scheduler/simulator.ts';
import {
  functionUrlEvent,
  type InteractionReply,
  type InteractionRequest,
  LocalSlack,
} from './slack-standin.ts';
import type { LambdaContextLike, LocalLambdaHandler } from './step-functions.ts';

export const LocalNames = {
  region: 'us-east-1',
  accountId: '000000000000',
  bus: 'greenlight',
  ledgerTable: 'greenlight-ledger',
  idempotencyTable: 'greenlight-idempotency',
  registryTable: 'greenlight-registry',
  stateMachine: 'greenlight-release',
  releaseRule: 'greenlight-release-requested',
  alarmRule: 'greenlight-alarm-state-change',
  operatorRule: 'greenlight-operator-command',
  releaseUpdatesRule: 'greenlight-release-updates',
  /** Where the Slack interactivity function's URL is served on the local endpoint. */
  slackInteractionsPath: '/slack/interactions',
  slackBotToken: 'xoxb-greenlight-local',
  slackSigningSecret: 'greenlight-local-signing-secret',
  scheduleGroup: 'greenlight',
  schedulerRole: 'greenlight-scheduler',
  teardownFunction: 'greenlight-teardown',
  sweeperFunction: 'greenlight-sweeper',
} as const;

export interface GreenlightLocalOptions {
  /** Port of the one endpoint that serves every local AWS service. @default 0 (any free port) */
  port?: number;
  /**
   * Whether alarm state changes reach greenlight as events (as the deployed rule delivers
   * them). Off, bakes notice an alarm only at their end: the backstop. @default true
   */
  alarmEvents?: boolean;
  /** @default 'event' */
  bakeMode?: BakeMode;
  /** Seconds between gate checks in poll mode. @default 1 */
  pollSeconds?: number;
  /**
   * How long a release parked in its service's queue waits without a wake-up before it asks
   * again (the workflow's backstop for a dead lock holder). @default 600
   */
  lockRecheckSeconds?: number;
  /** Pause between retries of a failed step. @default 50 */
  retryIntervalMs?: number;
  /**
   * How long a held weight (a paused release) really waits before its gates are checked
   * again. @default the step's own holdSeconds
   */
  holdPollMs?: number;
  /** Slack user group id → member user ids, for approver groups. */
  slackUsergroups?: Record<string, string[]>;
  /**
   * Slack channel names → ids the bot can see; others are then channel_not_found.
   * @default any channel is accepted
   */
  slackChannels?: Record<string, string>;
  services?: ServiceConfigInput[];
  functions?: readonly SeedFunctionInput[];
  alarms?: readonly PutMetricAlarmCommandInput[];
  /** Root of the local artifact store. @default demo/artifacts */
  artifactsRoot?: string;
  /**
   * The clock teardown schedules fall due by. Tests hold it back to show a teardown never
   * fires inside its warm window, then let it go. @default () => new Date()
   */
  schedulerNow?: () => Date;
  /**
   * Seeds the local ALB world and returns the services (and their gate alarms) that live in it,
   * registered next to `services`: their ARNs exist only once it is seeded.
   * @default the demo shop (demoShopService, its 5xx alarm) when `services` is not given
   */
  seedAlb?: (alb: LocalAlb, world: { databaseUrl?: string }) => Promise<AlbWorld>;
  /**
   * Starts the demo's PostgreSQL (PGlite over the wire protocol, ~2 s), gives the default demo
   * shop's tasks its DATABASE_URL, and seeds the shop's migration runner as the Lambda function
   * `shop-migrations` (src/local/demo-database.ts). Off, nothing of it starts. @default false
   */
  database?: boolean;
  /**
   * The Timeout of the shop's runner function (with `database`). Below the runner's 5 s wait
   * for a connection, a held database (holdShopDatabase) ends its call with Lambda's "Task timed
   * out" rather than pg's connection timeout. @default DemoDatabase.runnerTimeoutSeconds (10)
   */
  runnerTimeoutSeconds?: number;
  /** How the default seeding seeds the demo shop (its routers' ports, say). */
  shop?: DemoShopOptions;
  /** The local ALB's pace: health checks, metric flushes, task stop grace. */
  alb?: Pick<LocalAlbOptions, 'healthCheckIntervalMs' | 'metricsFlushMs' | 'stopTimeoutMs'>;
  /**
   * Wraps each workflow function's handler as the state machine binds it, by local function
   * name (`greenlight-provision-green`): the seam where src/local/faults.ts makes an invoke
   * fail the way Lambda and Step Functions would. @default the handlers as they are
   */
  faults?: (functionName: string, handler: LocalLambdaHandler) => LocalLambdaHandler;
}

/** What seeding the local ALB world registers. */
export interface AlbWorld {
  services: ServiceConfigInput[];
  alarms: PutMetricAlarmCommandInput[];
  /** The demo shop, when the world has it. */
  shop?: DemoShop;
}

export type GreenlightLocal = Awaited<ReturnType<typeof startGreenlightLocal>>;

/**
 * greenlight on a laptop: the real release definition, run by the local Step Functions engine
 * with its Task states bound to the real handlers in functions/, against the local AWS
 * services on one loopback endpoint. The handlers find everything through the standard AWS
 * configuration (AWS_ENDPOINT_URL), exactly as they would in Lambda.
 *
 * One per process: the handlers read their configuration from this process's environment.
 */
export async function startGreenlightLocal(options: GreenlightLocalOptions = {}) {
  // Started first: it takes the longest, and blue's tasks need its URL when they start.
  const starting: Promise<DemoDatabaseHandle | undefined> = options.database
    ? startDemoDatabase()
    : Promise.resolve(undefined);
  // A failure to start is reported where it is awaited, not as an unhandled rejection.
  starting.catch(() => undefined);
  const artifacts = new LocalArtifactStore({
    root: options.artifactsRoot ?? fileURLToPath(new URL('../../demo/artifacts', import.meta.url)),
  });
  const lambda = new LocalLambda({
    artifacts,
    region: LocalNames.region,
    accountId: LocalNames.accountId,
  });
  const cloudwatch = new LocalCloudWatch({
    region: LocalNames.region,
    accountId: LocalNames.accountId,
  });
  cloudwatch.connectLambda(lambda);

  // Slack's side: the Web API stand-in answers the approval steps on the shared endpoint, and
  // its clicks are POSTed, signed, to the interactivity function's local "function URL".
  let interactionsUrl = '';
  const slack = new LocalSlack({
    botToken: LocalNames.slackBotToken,
    ...(options.slackUsergroups ? { usergroups: options.slackUsergroups } : {}),
    ...(options.slackChannels ? { channels: options.slackChannels } : {}),
    interactivity: {
      signingSecret: LocalNames.slackSigningSecret,
      deliver: (request) => postInteraction(interactionsUrl, request),
    },
  });

  // Teardown schedules invoke the teardown function, as Scheduler does through its role.
  const teardownArn = localFunctionArn(LocalNames.teardownFunction);
  const scheduler = new LocalScheduler({
    region: LocalNames.region,
    accountId: LocalNames.accountId,
    ...(options.schedulerNow ? { now: options.schedulerNow } : {}),
    invoke: async (targetArn, input) => {
      if (targetArn !== teardownArn) {
        throw new Error(`The local cloud has no schedule target ${targetArn}`);
      }
      await teardown(JSON.parse(input) as never, localLambdaContext(LocalNames.teardownFunction));
    },
  });
  scheduler.createGroup(LocalNames.scheduleGroup);

  let alb: LocalAlb;
  let database: DemoDatabaseHandle | undefined;
  try {
    database = await starting;
    alb = await startLocalAlb({
      cloudwatch,
      artifacts,
      region: LocalNames.region,
      accountId: LocalNames.accountId,
      ...options.alb,
    });
  } catch (error) {
    await scheduler.close();
    await database?.close();
    throw error;
  }

  const holdPollMs = options.holdPollMs;
  let cloud: Awaited<ReturnType<typeof startLocalCloud>>;
  let world: AlbWorld;
  try {
    const seedAlb =
      options.seedAlb ??
      (options.services === undefined
        ? (local: LocalAlb) =>
            seedDemoShopWorld(local, withDatabase(options.shop, database), database !== undefined)
        : async (): Promise<AlbWorld> => ({ services: [], alarms: [] }));
    world = await seedAlb(alb, database ? { databaseUrl: database.url } : {});
    cloud = await startLocalCloud({
      port: options.port ?? 0,
      services: [
        lambda,
        cloudwatch,
        scheduler,
        ...alb.services,
        slack,
        slackInteractionsRoute(),
        // The artifacts releases deploy, readable as from S3 and ECR (greenlight plan reads them).
        new LocalS3(artifacts),
        new LocalEcr({ artifacts, accountId: LocalNames.accountId }),
      ],
      region: LocalNames.region,
      accountId: LocalNames.accountId,
      // Bakes last what each strategy says (the local services have short ones); only a held
      // weight's wait is shortened, when asked.
      waitOverrideMs: (stateName) => (stateName === 'HoldWeight' ? holdPollMs : undefined),
      retryIntervalOverrideMs: options.retryIntervalMs ?? 50,
    });
  } catch (error) {
    await scheduler.close();
    await alb.close();
    await database?.close();
    throw error;
  }
  interactionsUrl = `${cloud.url}${LocalNames.slackInteractionsPath}`;
  const services = [...(options.services ?? demoServices), ...world.services];

  Object.assign(process.env, {
    AWS_ENDPOINT_URL: cloud.url,
    AWS_REGION: LocalNames.region,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    GREENLIGHT_LEDGER_TABLE: LocalNames.ledgerTable,
    GREENLIGHT_IDEMPOTENCY_TABLE: LocalNames.idempotencyTable,
    GREENLIGHT_BUS_NAME: LocalNames.bus,
    GREENLIGHT_REGISTRY_TABLE: LocalNames.registryTable,
    GREENLIGHT_SCHEDULE_GROUP: LocalNames.scheduleGroup,
    GREENLIGHT_SCHEDULER_ROLE_ARN: `arn:aws:iam::${LocalNames.accountId}:role/${LocalNames.schedulerRole}`,
    GREENLIGHT_TEARDOWN_FUNCTION_ARN: teardownArn,
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    SLACK_BOT_TOKEN: LocalNames.slackBotToken,
    SLACK_SIGNING_SECRET: LocalNames.slackSigningSecret,
    SLACK_API_URL: `${cloud.url}/api/`,
  });
  delete process.env.AWS_PROFILE;

  const clientConfig = {
    endpoint: cloud.url,
    region: LocalNames.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const dynamo = new DynamoDBClient(clientConfig);
  for (const table of [
    ledgerTableInput(LocalNames.ledgerTable),
    idempotencyTableInput(LocalNames.idempotencyTable),
    registryTableInput(LocalNames.registryTable),
  ]) {
    await dynamo.send(new CreateTableCommand(table));
    await waitUntilTableExists(
      { client: dynamo, maxWaitTime: 30, minDelay: 1 },
      { TableName: table.TableName },
    );
  }
  // The services are registered as on AWS: validated, then written to the registry table
  // that every function reads (what `greenlight config apply` does).
  const registry = new DynamoServiceRegistry({
    client: DynamoDBDocumentClient.from(dynamo),
    tableName: LocalNames.registryTable,
  });
  parseServiceRegistry(services);
  await registry.put(services, 'greenlight-local');

  for (const fn of options.functions ?? demoFunctions) await lambda.seedFunction(fn);
  if (database) {
    await lambda.seedFunction(
      shopMigrationRunnerFunction(
        database.url,
        options.runnerTimeoutSeconds === undefined
          ? {}
          : { timeoutSeconds: options.runnerTimeoutSeconds },
      ),
    );
  }
  const cw = new CloudWatchClient(clientConfig);
  for (const alarm of [...(options.alarms ?? demoAlarms), ...world.alarms]) {
    await cw.send(new PutMetricAlarmCommand(alarm));
  }

  const { stateMachineArn } = cloud.stepFunctions.createStateMachine({
    name: LocalNames.stateMachine,
    definition: buildReleaseDefinition({
      functionArns: functionArnsFor(LocalNames.region, LocalNames.accountId),
      bakeMode: options.bakeMode ?? BakeMode.Event,
      pollSeconds: options.pollSeconds ?? 1,
      ...(options.lockRecheckSeconds === undefined
        ? {}
        : { lockRecheckSeconds: options.lockRecheckSeconds }),
    }),
    functions: localFunctions(options.faults),
  });
  cloud.eventBridge.createBus(LocalNames.bus);
  cloud.eventBridge.addRule({
    name: LocalNames.releaseRule,
    busName: LocalNames.bus,
    pattern: releaseRulePattern,
    target: async (event) => {
      cloud.stepFunctions.startExecution(stateMachineArn, event);
    },
  });

  // Operators' commands (`greenlight pause`, ...) go through the bus to the operator function.
  cloud.eventBridge.addRule({
    name: LocalNames.operatorRule,
    busName: LocalNames.bus,
    pattern: operatorRulePattern,
    target: async (event) => {
      await operator(event as never, localLambdaContext(`greenlight-${LocalNames.operatorRule}`));
    },
  });

  // greenlight's own lifecycle events go to the release-updates function, which keeps the
  // Slack thread of each release whose service names an updates channel.
  cloud.eventBridge.addRule({
    name: LocalNames.releaseUpdatesRule,
    busName: LocalNames.bus,
    pattern: releaseUpdatesRulePattern,
    target: async (event) => {
      await releaseUpdates(
        event as never,
        localLambdaContext(`greenlight-${LocalNames.releaseUpdatesRule}`),
      );
    },
  });

  if (options.alarmEvents ?? true) {
    // CloudWatch puts a state change event on the default bus; the deployed rule sends every
    // ALARM change to the alarm-event function, which acts on the watched ones.
    cloudwatch.onStateChange((change) => {
      void cloud.eventBridge.emitServiceEvent({
        source: 'aws.cloudwatch',
        detailType: 'CloudWatch Alarm State Change',
        resources: [change.alarmArn],
        detail: change,
      });
    });
    cloud.eventBridge.addRule({
      name: LocalNames.alarmRule,
      pattern: alarmRulePattern,
      target: async (event) => {
        await alarmEvent(event, localLambdaContext(`greenlight-${LocalNames.alarmRule}`));
      },
    });
  }

  const ledger = new DynamoReleaseLedger({
    client: DynamoDBDocumentClient.from(dynamo, {
      marshallOptions: { removeUndefinedValues: true },
    }),
    tableName: LocalNames.ledgerTable,
  });

  return {
    url: cloud.url,
    port: cloud.port,
    stateMachineArn,
    cloud,
    lambda,
    cloudwatch,
    slack,
    slackInteractionsUrl: interactionsUrl,
    scheduler,
    alb,
    shop: world.shop,
    /** The demo's PostgreSQL, when started (`database: true`). */
    database: database ? { url: database.url, port: database.port } : undefined,
    ledger,
    clientConfig,
    /** Runs the daily sweeper now: tears down idle colours left warm past their window. */
    sweep: () =>
      sweeper({}, localLambdaContext(LocalNames.sweeperFunction)) as Promise<SweepOutcome>,
    close: async () => {
      // Schedules and executions first, then the tasks and routers they were acting on.
      await scheduler.close();
      await cloud.close();
      await alb.close();
      // After the tasks: they hold connections to it until they stop.
      await database?.close();
      dynamo.destroy();
      cw.destroy();
    },
  };
}

/** The demo shop's options with the database's URL in its containers' environment. */
function withDatabase(
  shop: DemoShopOptions | undefined,
  database: DemoDatabaseHandle | undefined,
): DemoShopOptions | undefined {
  if (database === undefined) return shop;
  return { ...shop, environment: { ...shop?.environment, DATABASE_URL: database.url } };
}

/** The demo shop behind the local load balancer, registered as the service `shop`. */
async function seedDemoShopWorld(
  alb: LocalAlb,
  options: DemoShopOptions = {},
  database = false,
): Promise<AlbWorld> {
  const shop = await alb.seedDemoShop(options);
  return {
    // With the database, blue stays warm for seconds, so that the demo's migration story shows
    // the teardowns a contract and a late rollback wait for; real services keep it for minutes.
    services: [demoShopService(shop, database ? { database, warmWindowSeconds: 2 } : {})],
    alarms: [shop.targetErrorsAlarm],
    shop,
  };
}

/** The real handlers, by local function name (`greenlight-<function>`, see functionArnsFor). */
const handlers: Record<ReleaseFunction, LocalLambdaHandler> = {
  [ReleaseFunction.Register]: register,
  [ReleaseFunction.AcquireLock]: acquireLock,
  [ReleaseFunction.ProvisionGreen]: provisionGreen,
  [ReleaseFunction.TestGreen]: testGreen,
  [ReleaseFunction.Migrate]: migrate,
  [ReleaseFunction.SetWeight]: setWeight,
  [ReleaseFunction.StartBake]: startBake,
  [ReleaseFunction.EndBake]: endBake,
  [ReleaseFunction.BakeTick]: bakeTick,
  [ReleaseFunction.CheckGates]: checkGates,
  [ReleaseFunction.Finalize]: finalize,
  [ReleaseFunction.Rollback]: rollback,
  [ReleaseFunction.RequestApproval]: requestApproval,
  [ReleaseFunction.ApprovalTimeout]: approvalTimeout,
  [ReleaseFunction.VerifyCallback]: verifyCallback,
};

/**
 * The slack-interactions function behind a local "function URL": a POST to
 * /slack/interactions becomes the Lambda function URL event AWS would hand it, and its answer
 * the HTTP response, as a function URL does.
 */
function slackInteractionsRoute(): LocalService {
  return {
    name: 'slack-interactions',
    async handle(request: LocalRequest): Promise<LocalResponse | undefined> {
      const path = request.url.split('?')[0];
      if (request.method !== 'POST' || path !== LocalNames.slackInteractionsPath) return undefined;
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        if (typeof value === 'string') headers[name] = value;
      }
      const event = functionUrlEvent({ headers, body: request.body.toString('utf8') });
      const response = await slackInteractions(
        event,
        localLambdaContext('greenlight-slack-interactions') as never,
      );
      return { status: response.statusCode, headers: response.headers, body: response.body };
    },
  };
}

/** Delivers a click the way Slack does: an HTTPS POST to the app's request URL (here, HTTP). */
async function postInteraction(
  url: string,
  request: InteractionRequest,
): Promise<InteractionReply> {
  const response = await fetch(url, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
  });
  return { status: response.status, body: await response.text() };
}

function localFunctions(
  wrap: GreenlightLocalOptions['faults'] = (_name, handler) => handler,
): Record<string, LocalLambdaHandler> {
  return Object.fromEntries(
    Object.entries(handlers).map(([fn, handler]) => [
      `greenlight-${fn}`,
      wrap(`greenlight-${fn}`, handler),
    ]),
  );
}

function localFunctionArn(functionName: string): string {
  return `arn:aws:lambda:${LocalNames.region}:${LocalNames.accountId}:function:${functionName}`;
}

/** A Lambda context for handlers the local cloud invokes outside a workflow (rule targets). */
function localLambdaContext(functionName: string): LambdaContextLike {
  const deadline = Date.now() + 60_000;
  return {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: localFunctionArn(functionName),
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
