import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  type DescribeAlarmsCommandOutput,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
} from '@aws-sdk/client-cloudwatch';
import {
  CloudWatchLogsClient,
  GetLogEventsCommand,
  type GetLogEventsCommandInput,
} from '@aws-sdk/client-cloudwatch-logs';
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import {
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  RunTaskCommand,
  type RunTaskCommandInput,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DeleteFunctionCommand,
  DeleteProvisionedConcurrencyConfigCommand,
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  InvalidParameterValueException,
  InvokeCommand,
  LambdaClient,
  ListAliasesCommand,
  ListProvisionedConcurrencyConfigsCommand,
  ListVersionsByFunctionCommand,
  PreconditionFailedException,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  GetScheduleCommand,
  type GetScheduleCommandInput,
  ResourceNotFoundException,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import {
  DescribeExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  type ServiceInputTypes,
  type ServiceOutputTypes,
  SFNClient,
  type SFNClientResolvedConfig,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { type AwsStub, mockClient } from 'aws-sdk-client-mock';
import { createSlackInteractionsHandler } from '../../functions/slack-interactions.ts';
import { DynamoServiceRegistry } from '../../src/aws/dynamo-registry.ts';
import {
  idempotencyTableInput,
  ledgerTableInput,
  registryTableInput,
} from '../../src/aws/dynamo-tables.ts';
import type { ServiceConfigInput } from '../../src/core/service-config.ts';
import { functionEnvironment } from '../../src/infra/deploy-config.ts';
import { GreenlightFunction } from '../../src/infra/functions.ts';
import { greenlightNames } from '../../src/infra/names.ts';
import type { LocalSlack } from '../../src/local/slack-standin.ts';
import { startLocalSlack } from '../../src/local/slack-standin.ts';
import { createDependencies, type StepDependencies } from '../../src/runtime/dependencies.ts';
import { createIdempotentStepHandler } from '../../src/runtime/idempotent-step-handler.ts';
import { createOperatorDependencies } from '../../src/runtime/operator-dependencies.ts';
import {
  createStepHandler,
  type IdempotentStep,
  logger,
  type Step,
} from '../../src/runtime/step-handler.ts';
import { createTeardownDependencies } from '../../src/runtime/teardown-dependencies.ts';
import {
  createApprovalStepDependencies,
  createInteractionDependencies,
  createReleaseUpdatesDependencies,
} from '../../src/slack/dependencies.ts';
import { acquireLockStep } from '../../src/steps/acquire-lock.ts';
import { alarmEventStep } from '../../src/steps/alarm-event.ts';
import { approvalTimeoutStep } from '../../src/steps/approval-timeout.ts';
import { bakeTickStep } from '../../src/steps/bake-tick.ts';
import { checkGatesStep } from '../../src/steps/check-gates.ts';
import { endBakeStep } from '../../src/steps/end-bake.ts';
import { finalizeStep } from '../../src/steps/finalize.ts';
import { migrateStep } from '../../src/steps/migrate.ts';
import { operatorCommandStep } from '../../src/steps/operator-command.ts';
import { provisionGreenStep } from '../../src/steps/provision-green.ts';
import { registerStep } from '../../src/steps/register.ts';
import { releaseUpdatesStep } from '../../src/steps/release-updates.ts';
import { requestApprovalStep } from '../../src/steps/request-approval.ts';
import { rollbackStep } from '../../src/steps/rollback.ts';
import { setWeightStep } from '../../src/steps/set-weight.ts';
import { startBakeStep } from '../../src/steps/start-bake.ts';
import { sweeperStep } from '../../src/steps/sweeper.ts';
import { teardownStep } from '../../src/steps/teardown.ts';
import { testGreenStep } from '../../src/steps/test-green.ts';
import { verifyCallbackStep } from '../../src/steps/verify-callback.ts';
import { aTestClock, type TestClock } from '../support/clock.ts';
import { startDynalite } from '../support/dynalite.ts';
import {
  aFakeAlb,
  apiTaskRunner,
  type FakeAlb,
  mockAlbClients,
  recordedAlbServices,
} from './alb-fakes.ts';
import {
  type IamRequest,
  iamAction,
  iamRequestsOf,
  logRequests,
  type SentRequest,
} from './iam-requests.ts';
import { stackLocation, stackStage } from './stack-recorder.ts';

export type { IamRequest } from './iam-requests.ts';

/**
 * Runs every step handler, as Lambda would (createStepHandler or createIdempotentStepHandler
 * over the real step, real adapters from createDependencies: every port, a superset of each
 * function's own), and records each AWS request it sends as the IAM action AWS authorizes it
 * with. DynamoDB is dynalite, so the ledger, the lock and Powertools
 * idempotency behave for real; Lambda, CloudWatch, EventBridge, ELBv2 and ECS are
 * aws-sdk-client-mock fakes scripted per scenario, and ALB smoke checks reach a local server.
 */

type AnyStep = Step<unknown, unknown, StepDependencies>;
type AnyIdempotentStep = IdempotentStep<unknown, unknown, StepDependencies>;
type Env = Record<string, string>;
type Handler = (event: never, context: Context) => Promise<unknown>;

/**
 * How each function is built, as its functions/ entry point builds it: its step (or handler)
 * over the dependencies its process makes from the environment, with the test's clock in place
 * of the machine's. `dynamo` is the client every DynamoDB request goes through, so the recorder
 * can watch it.
 */
const builders: Record<
  GreenlightFunction,
  (env: Env, now: () => Date) => { handler: Handler; dynamo: DynamoDBClient }
> = {
  [GreenlightFunction.Register]: stepWith(registerStep),
  [GreenlightFunction.AcquireLock]: stepWith(acquireLockStep),
  [GreenlightFunction.ProvisionGreen]: stepWith(provisionGreenStep),
  [GreenlightFunction.TestGreen]: stepWith(testGreenStep),
  // Migrate works through the migration runners, built with the teardown ports.
  [GreenlightFunction.Migrate]: stepWith(migrateStep, createTeardownDependencies),
  [GreenlightFunction.SetWeight]: stepWith(setWeightStep),
  [GreenlightFunction.StartBake]: stepWith(startBakeStep),
  [GreenlightFunction.EndBake]: stepWith(endBakeStep),
  [GreenlightFunction.BakeTick]: stepWith(bakeTickStep),
  [GreenlightFunction.CheckGates]: stepWith(checkGatesStep),
  // Finalize, teardown and sweeper work through the teardown ports too.
  [GreenlightFunction.Finalize]: stepWith(finalizeStep, createTeardownDependencies),
  [GreenlightFunction.Rollback]: stepWith(rollbackStep),
  [GreenlightFunction.Teardown]: stepWith(teardownStep, createTeardownDependencies),
  [GreenlightFunction.Sweeper]: stepWith(sweeperStep, createTeardownDependencies),
  [GreenlightFunction.RequestApproval]: stepWith(
    requestApprovalStep,
    createApprovalStepDependencies,
  ),
  [GreenlightFunction.ApprovalTimeout]: stepWith(
    approvalTimeoutStep,
    createApprovalStepDependencies,
  ),
  [GreenlightFunction.VerifyCallback]: stepWith(verifyCallbackStep, createApprovalStepDependencies),
  [GreenlightFunction.Operator]: stepWith(operatorCommandStep, createOperatorDependencies),
  [GreenlightFunction.AlarmEvent]: stepWith(alarmEventStep),
  [GreenlightFunction.ReleaseUpdates]: stepWith(
    releaseUpdatesStep,
    createReleaseUpdatesDependencies,
  ),
  [GreenlightFunction.SlackInteractions]: (env, now) => {
    const dynamo = new DynamoDBClient({});
    const deps = { ...createInteractionDependencies(logger, env, dynamo), now };
    return { handler: createSlackInteractionsHandler(() => deps) as Handler, dynamo };
  },
};

function stepWith<I, O, D>(
  step: Step<I, O, D> | IdempotentStep<I, O, D>,
  dependencies: (env: Env) => StepDependencies & D = createDependencies as (
    env: Env,
  ) => StepDependencies & D,
) {
  return (env: Env, now: () => Date) => {
    const deps: StepDependencies & D = { ...dependencies(env), now };
    return {
      handler: ('idempotencyKey' in step
        ? createIdempotentStepHandler(step as unknown as AnyIdempotentStep, () => deps)
        : createStepHandler(step as unknown as AnyStep, () => deps)) as Handler,
      dynamo: deps.dynamo,
    };
  };
}

export const recordedWarmWindowSeconds = 900;
/** The stage the recorded functions run in: the one the stack tests record. */
export const recordedNames = greenlightNames(stackStage);

/** The migration runner the recorded service registers. */
export const recordedRunner = 'checkout-migrations';

export const recordedService: ServiceConfigInput = {
  name: 'checkout',
  target: { kind: 'lambda-alias', functionName: 'checkout', alias: 'live' },
  strategies: {
    canary: { type: 'canary', percent: 10, bakeSeconds: 60 },
    // A human says go in Slack, before traffic moves and before finalize.
    // A canary: the metric gate compares green with blue, which all-at-once leaves no traffic.
    approved: {
      type: 'canary',
      percent: 10,
      bakeSeconds: 60,
      approval: {
        type: 'slack',
        channel: 'C0RELEASES',
        approvers: ['U0DANA'],
        stages: ['before-shift', 'before-finalize'],
      },
    },
  },
  defaultStrategy: 'canary',
  artifacts: { s3Buckets: ['acme-artifacts'] },
  alarms: [{ name: 'checkout-errors', scope: 'service' }],
  metricGates: [
    { name: 'errors', metric: 'error-rate', maxAboveBlue: 1, minSamples: 100, maxHoldSeconds: 60 },
  ],
  tests: [{ name: 'health', payload: { path: '/health' }, expect: { statusCode: 200 } }],
  // Scenarios move the test's clock past it before a teardown is due.
  warmWindowSeconds: recordedWarmWindowSeconds,
  updates: { channel: 'C0RELEASES' },
  migrations: { runner: { type: 'lambda', functionName: recordedRunner } },
};

/** What the fake AWS answers; scenarios change it between steps. */
interface FakeAws {
  alias: { version: string; weights: Record<string, number>; revision: number };
  versions: { Version: string; CodeSha256: string; Description: string }[];
  /** PublishVersion lands but its response is lost (the SDK sees a precondition failure). */
  loseNextPublishResponse: boolean;
  /** UpdateFunctionCode refuses the next artifact as unusable. */
  refuseNextArtifact: boolean;
  greenAnswers: number;
  alarmState: 'OK' | 'ALARM' | 'missing';
  /** Provisioned concurrency by version. */
  provisioned: Record<string, number>;
  /** Schedules in greenlight's group by name: their `at(...)` expressions. */
  schedules: Map<string, string>;
  /** GetMetricData datapoints by query id (`green_requests`, ...); absent ids have none. */
  metricData: Record<string, number[]>;
  /** Executions (ARNs) that have ended; every other execution is RUNNING. */
  endedExecutions: Set<string>;
  /** Runs while UpdateAlias is under way: what happens elsewhere meanwhile. */
  duringAliasUpdate?: () => Promise<void>;
  /** The checkout service's migration runner: what it has applied, and its next failure. */
  runner: {
    applied: Set<string>;
    failNext?: { errorType: string; errorMessage: string } | undefined;
  };
  /**
   * api's ECS task runner: what it has applied, the action whose task never stops (once), and
   * each task's request and reply line by task id.
   */
  taskRunner: {
    applied: Set<string>;
    stallNext?: string | undefined;
    tasks: Map<string, { stalled: boolean; reply?: string }>;
  };
}

/** The runner's side of the contract (src/core/migration.ts), as Lambda would answer it. */
function answerAsRunner(runner: FakeAws['runner'], payload: Uint8Array | undefined) {
  const request = JSON.parse(new TextDecoder().decode(payload)) as {
    action: string;
    migrationId: string;
  };
  const failure = runner.failNext;
  if (failure) {
    runner.failNext = undefined;
    return {
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: new TextEncoder().encode(JSON.stringify(failure)),
    };
  }
  return {
    StatusCode: 200,
    Payload: new TextEncoder().encode(JSON.stringify(runnerReply(runner.applied, request))),
  };
}

/** What a runner keeping `applied` answers to one request. */
function runnerReply(applied: Set<string>, request: { action: string; migrationId: string }) {
  const id = request.migrationId;
  const wasApplied = applied.has(id);
  const reply =
    request.action === 'plan'
      ? { statements: [`ALTER TABLE orders ADD COLUMN "${id}" text`] }
      : request.action === 'apply'
        ? { ran: !wasApplied }
        : {};
  if (request.action === 'apply') applied.add(id);
  const status = request.action === 'apply' || wasApplied ? 'applied' : 'pending';
  return { migrationId: id, status, ...reply };
}

const mockLogs = () => mockClient(CloudWatchLogsClient);
type LogsStub = ReturnType<typeof mockLogs>;

/**
 * api's runner as ECS runs it (src/aws/ecs-task-migration-runner.ts): a task per request that
 * stops at once with exit code 0 and its reply line in its log stream, or, stalled, never stops.
 */
function fakeTaskRunner(
  ecs: ReturnType<typeof mockAlbClients>['ecs'],
  logs: LogsStub,
  fake: FakeAws,
) {
  const taskDefinitionArn = `arn:aws:ecs:eu-west-1:123456789012:task-definition/${apiTaskRunner.taskDefinition}:3`;
  ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: apiTaskRunner.taskDefinition }).resolves({
    taskDefinition: {
      taskDefinitionArn,
      taskRoleArn: apiTaskRunner.passRoles[0],
      containerDefinitions: [
        {
          name: apiTaskRunner.containerName,
          logConfiguration: {
            logDriver: 'awslogs',
            options: {
              'awslogs-group': apiTaskRunner.logGroup,
              'awslogs-stream-prefix': 'migrations',
            },
          },
        },
      ],
    },
  });
  ecs.on(RunTaskCommand).callsFake((input: RunTaskCommandInput) => {
    const value = input.overrides?.containerOverrides?.[0]?.environment?.[0]?.value ?? '{}';
    const request = JSON.parse(value) as { action: string; migrationId: string };
    const id = (fake.taskRunner.tasks.size + 1).toString(16).padStart(32, '0');
    const stalled = fake.taskRunner.stallNext === request.action;
    if (stalled) fake.taskRunner.stallNext = undefined;
    fake.taskRunner.tasks.set(
      id,
      stalled
        ? { stalled }
        : { stalled, reply: JSON.stringify(runnerReply(fake.taskRunner.applied, request)) },
    );
    return {
      tasks: [
        {
          taskArn: `arn:aws:ecs:eu-west-1:123456789012:task/${input.cluster}/${id}`,
          taskDefinitionArn,
          lastStatus: 'PROVISIONING',
        },
      ],
    };
  });
  const taskOf = (arn: string) => fake.taskRunner.tasks.get(arn.slice(arn.lastIndexOf('/') + 1));
  ecs.on(DescribeTasksCommand).callsFake(({ tasks }: { tasks: string[] }) => ({
    tasks: tasks.map((taskArn) =>
      taskOf(taskArn)?.stalled
        ? { taskArn, lastStatus: 'RUNNING' }
        : {
            taskArn,
            lastStatus: 'STOPPED',
            stopCode: 'EssentialContainerExited',
            containers: [{ name: apiTaskRunner.containerName, exitCode: 0 }],
          },
    ),
  }));
  ecs.on(StopTaskCommand).resolves({});
  logs.on(GetLogEventsCommand).callsFake((input: GetLogEventsCommandInput) => {
    const reply = taskOf(input.logStreamName ?? '')?.reply;
    return {
      events: reply === undefined ? [] : [{ message: `GREENLIGHT_MIGRATION_REPLY ${reply}` }],
      nextForwardToken: 'f/1',
    };
  });
}

/** Datapoints of a healthy canary: green and blue both with enough requests and no errors. */
export const healthyMetrics = (): Record<string, number[]> => ({
  green_failures: [0],
  green_requests: [500],
  blue_failures: [0],
  blue_requests: [4500],
});

export interface StepRecorder {
  /** Every step's `now`: scenarios move it on as time would pass. */
  clock: TestClock;
  /** Invokes one function's handler; returns its result or the error it threw. */
  invoke(fn: GreenlightFunction, event: unknown): Promise<{ ok: boolean; value: unknown }>;
  fake: FakeAws;
  actions: Record<GreenlightFunction, Set<string>>;
  /**
   * Each request a function sent as IAM authorizes it (resource ARN and context keys, in the
   * stage the stack tests record: stack-recorder.ts), with the checks AWS makes on its role
   * for them (implicit) and for its logs.
   */
  requests(fn: GreenlightFunction): Promise<IamRequest[]>;
  /** The ALB services' world (`web` through listeners, `api` through rules). */
  alb: FakeAlb;
  albServices: ServiceConfigInput[];
  /** The Slack Web API stand-in the approval functions talk to. */
  slack: LocalSlack;
  /** The SFN mock, to script a callback's answer (a task that stopped waiting). */
  sfn: AwsStub<ServiceInputTypes, ServiceOutputTypes, SFNClientResolvedConfig>;
  close(): Promise<void>;
}

export const slackSigningSecret = 'recorder-signing-secret';

export async function startStepRecorder(clock: TestClock = aTestClock()): Promise<StepRecorder> {
  const dynalite = await startDynalite();
  const slack = await startLocalSlack({ botToken: 'xoxb-recorder' });
  const saved = { ...process.env };
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
  });
  // Verdicts are logged at WARN on purpose; here they are expected, not news.
  const logLevel = logger.getLevelName();
  logger.setLogLevel('SILENT');
  // What the ALB services' test listeners answer: every smoke check passes.
  const smoke = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((resolve) => smoke.listen(0, '127.0.0.1', resolve));
  const albServices = recordedAlbServices(
    `http://127.0.0.1:${(smoke.address() as AddressInfo).port}`,
  );
  // The environment the stacks give every function, so that requests name the resources the
  // stacks' policies name.
  const env = {
    ...functionEnvironment(recordedNames, 'INFO', stackLocation),
    SLACK_BOT_TOKEN: 'xoxb-recorder',
    SLACK_SIGNING_SECRET: slackSigningSecret,
    SLACK_API_URL: slack.apiUrl,
  };
  const admin = new DynamoDBClient({});
  await admin.send(new CreateTableCommand(ledgerTableInput(recordedNames.ledgerTable)));
  await admin.send(new CreateTableCommand(idempotencyTableInput(recordedNames.idempotencyTable)));
  await admin.send(new CreateTableCommand(registryTableInput(recordedNames.registryTable)));
  // dynalite answers CreateTable before the table is ACTIVE; on a loaded machine the first
  // write could otherwise meet ResourceNotFoundException.
  for (const TableName of [
    recordedNames.ledgerTable,
    recordedNames.idempotencyTable,
    recordedNames.registryTable,
  ]) {
    await waitUntilTableExists({ client: admin, maxWaitTime: 10, minDelay: 1 }, { TableName });
  }
  // Registered as `greenlight config apply` registers them; the reads are part of the record.
  await new DynamoServiceRegistry({
    client: DynamoDBDocumentClient.from(admin),
    tableName: recordedNames.registryTable,
  }).put([recordedService, ...albServices], 'recorder');
  admin.destroy();

  const fake: FakeAws = {
    alias: { version: '1', weights: {}, revision: 1 },
    versions: [{ Version: '1', CodeSha256: 'sha-1', Description: 'blue' }],
    loseNextPublishResponse: false,
    refuseNextArtifact: false,
    greenAnswers: 200,
    alarmState: 'OK',
    provisioned: {},
    schedules: new Map(),
    metricData: healthyMetrics(),
    endedExecutions: new Set(),
    runner: { applied: new Set() },
    taskRunner: { applied: new Set(), tasks: new Map() },
  };
  const lambda = mockClient(LambdaClient);
  const cloudwatch = mockClient(CloudWatchClient);
  const eventbridge = mockClient(EventBridgeClient);
  const sfn = mockClient(SFNClient);
  const alb = aFakeAlb(albServices);
  const { elbv2, ecs } = mockAlbClients(alb, albServices);
  const logs = mockLogs();
  fakeTaskRunner(ecs, logs, fake);
  const scheduler = mockClient(SchedulerClient);
  scheduler.on(CreateScheduleCommand).callsFake((input: CreateScheduleCommandInput) => {
    const name = input.Name ?? '';
    if (fake.schedules.has(name)) {
      throw new ConflictException({ Message: 'exists', message: 'exists', $metadata: {} });
    }
    fake.schedules.set(name, input.ScheduleExpression ?? '');
    return {
      ScheduleArn: `arn:aws:scheduler:eu-west-1:123456789012:schedule/greenlight-test/${name}`,
    };
  });
  scheduler.on(GetScheduleCommand).callsFake((input: GetScheduleCommandInput) => {
    const expression = fake.schedules.get(input.Name ?? '');
    if (expression === undefined) {
      throw new ResourceNotFoundException({ Message: 'none', message: 'none', $metadata: {} });
    }
    return { Name: input.Name, ScheduleExpression: expression };
  });
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn?: string }) => ({
    executionArn: input.executionArn,
    status: fake.endedExecutions.has(input.executionArn ?? '') ? 'FAILED' : 'RUNNING',
  }));
  const aliasView = () => ({
    FunctionVersion: fake.alias.version,
    RoutingConfig: { AdditionalVersionWeights: fake.alias.weights },
    RevisionId: `rev-${fake.alias.revision}`,
  });
  lambda.on(GetAliasCommand).callsFake(aliasView);
  lambda.on(UpdateFunctionCodeCommand).callsFake(() => {
    if (!fake.refuseNextArtifact) return {};
    fake.refuseNextArtifact = false;
    throw new InvalidParameterValueException({ message: 'not a zip file', $metadata: {} });
  });
  lambda.on(GetFunctionConfigurationCommand).callsFake(() => ({
    LastUpdateStatus: 'Successful',
    CodeSha256: `sha-${fake.versions.length + 1}`,
    RevisionId: `fn-rev-${fake.versions.length}`,
  }));
  lambda
    .on(PublishVersionCommand)
    .callsFake((input: { CodeSha256?: string; Description?: string }) => {
      const version = String(fake.versions.length + 1);
      fake.versions.push({
        Version: version,
        CodeSha256: input.CodeSha256 ?? '',
        Description: input.Description ?? '',
      });
      if (fake.loseNextPublishResponse) {
        fake.loseNextPublishResponse = false;
        throw new PreconditionFailedException({ message: 'revision moved on', $metadata: {} });
      }
      return { Version: version };
    });
  lambda
    .on(ListVersionsByFunctionCommand)
    .callsFake(() => ({ Versions: [{ Version: '$LATEST' }, ...fake.versions] }));
  lambda
    .on(UpdateAliasCommand)
    .callsFake(
      async (input: {
        FunctionVersion?: string;
        RoutingConfig?: { AdditionalVersionWeights?: Record<string, number> };
      }) => {
        const meanwhile = fake.duringAliasUpdate;
        delete fake.duringAliasUpdate;
        await meanwhile?.();
        fake.alias = {
          version: input.FunctionVersion ?? fake.alias.version,
          weights: input.RoutingConfig?.AdditionalVersionWeights ?? {},
          revision: fake.alias.revision + 1,
        };
        return aliasView();
      },
    );
  lambda.on(ListAliasesCommand).callsFake(() => ({ Aliases: [{ Name: 'live', ...aliasView() }] }));
  lambda.on(ListProvisionedConcurrencyConfigsCommand).callsFake(() => ({
    ProvisionedConcurrencyConfigs: Object.entries(fake.provisioned).map(([version, count]) => ({
      FunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:checkout:${version}`,
      RequestedProvisionedConcurrentExecutions: count,
    })),
  }));
  lambda
    .on(DeleteProvisionedConcurrencyConfigCommand)
    .callsFake((input: { Qualifier?: string }) => {
      delete fake.provisioned[input.Qualifier ?? ''];
      return {};
    });
  lambda.on(DeleteFunctionCommand).callsFake((input: { Qualifier?: string }) => {
    fake.versions = fake.versions.filter((v) => v.Version !== input.Qualifier);
    return {};
  });
  lambda.on(InvokeCommand).callsFake((input: { FunctionName?: string; Payload?: Uint8Array }) => {
    // Every registered service's runner is named `<service>-migrations`.
    if (input.FunctionName?.endsWith('-migrations'))
      return answerAsRunner(fake.runner, input.Payload);
    return {
      StatusCode: 200,
      Payload: new TextEncoder().encode(JSON.stringify({ statusCode: fake.greenAnswers })),
    };
  });
  cloudwatch.on(DescribeAlarmsCommand).callsFake(
    (): Partial<DescribeAlarmsCommandOutput> => ({
      MetricAlarms:
        fake.alarmState === 'missing'
          ? []
          : [
              {
                AlarmName: 'checkout-errors',
                StateValue: fake.alarmState,
                StateReason: 'scripted',
              },
            ],
    }),
  );
  cloudwatch.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => ({
    MetricDataResults: (input.MetricDataQueries ?? []).map((query) => {
      const values = fake.metricData[query.Id ?? ''] ?? [];
      return {
        Id: query.Id,
        Timestamps: values.map(() => clock.now()),
        Values: values,
        StatusCode: 'Complete',
      };
    }),
  }));
  let eventIds = 0;
  eventbridge.on(PutEventsCommand).callsFake((input: { Entries?: unknown[] }) => ({
    FailedEntryCount: 0,
    Entries: (input.Entries ?? []).map(() => ({ EventId: `event-${++eventIds}` })),
  }));

  const actions = Object.fromEntries(
    Object.values(GreenlightFunction).map((fn) => [fn, new Set<string>()]),
  ) as Record<GreenlightFunction, Set<string>>;
  const sent = Object.fromEntries(
    Object.values(GreenlightFunction).map((fn) => [fn, [] as Promise<SentRequest>[]]),
  ) as Record<GreenlightFunction, Promise<SentRequest>[]>;
  let current: GreenlightFunction | undefined;
  const handlers = Object.fromEntries(
    Object.values(GreenlightFunction).map((fn) => {
      // One set of dependencies per function, as each Lambda function has its own process.
      const { handler, dynamo } = builders[fn](env, clock.now);
      dynamo.middlewareStack.add(
        (next, context) => (args) => {
          if (current) {
            const command = context.commandName ?? '?';
            actions[current].add(iamAction('dynamodb', command));
            sent[current].push(
              Promise.resolve({
                service: 'dynamodb',
                command,
                input: args.input as Record<string, unknown>,
              }),
            );
          }
          return next(args);
        },
        { step: 'initialize', name: 'recordIamAction' },
      );
      return [fn, handler];
    }),
  ) as Record<GreenlightFunction, Handler>;

  const mocks = [
    ['lambda', lambda],
    ['cloudwatch', cloudwatch],
    ['events', eventbridge],
    ['sfn', sfn],
    ['elasticloadbalancing', elbv2],
    ['ecs', ecs],
    ['logs', logs],
    ['scheduler', scheduler],
  ] as const;
  let requestCount = 0;
  return {
    clock,
    fake,
    alb,
    albServices,
    actions,
    async requests(fn) {
      const requests = (await Promise.all(sent[fn])).flatMap((each) =>
        iamRequestsOf(each, stackLocation),
      );
      return requests.length === 0
        ? []
        : [...requests, ...logRequests(recordedNames.functionLogGroup(fn), stackLocation)];
    },
    slack: slack.slack,
    sfn,
    async invoke(fn, event) {
      const before = mocks.map(([, mock]) => mock.calls().length);
      current = fn;
      let outcome: { ok: boolean; value: unknown };
      try {
        outcome = {
          ok: true,
          value: await handlers[fn](event as never, lambdaContext(fn, ++requestCount)),
        };
      } catch (error) {
        outcome = { ok: false, value: error };
      } finally {
        current = undefined;
      }
      mocks.forEach(([service, mock], i) => {
        for (const call of mock.calls().slice(before[i])) {
          const command = call.args[0] as unknown as { input: Record<string, unknown> };
          actions[fn].add(iamAction(service, command.constructor.name));
          sent[fn].push(
            Promise.resolve(call.returnValue as unknown as Promise<Record<string, unknown>>)
              .catch(() => undefined)
              .then((output) => ({
                service,
                command: command.constructor.name.replace(/Command$/, ''),
                input: command.input,
                output,
              })),
          );
        }
      });
      return outcome;
    },
    async close() {
      for (const [, mock] of mocks) mock.restore();
      process.env = saved;
      logger.setLogLevel(logLevel);
      await slack.close();
      smoke.closeAllConnections();
      await new Promise((resolve) => smoke.close(resolve));
      await dynalite.close();
    },
  };
}

function lambdaContext(fn: GreenlightFunction, request: number): Context {
  const unsupported = () => {
    throw new Error('not supported');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: `greenlight-test-${fn}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:greenlight-test-${fn}`,
    memoryLimitInMB: '512',
    awsRequestId: `request-${request}`,
    logGroupName: `/aws/lambda/greenlight-test-${fn}`,
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => 60_000,
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}
