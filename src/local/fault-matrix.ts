import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  CloudWatchClient,
  type PutMetricAlarmCommandInput,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DescribeStateMachineCommand, SFNClient } from '@aws-sdk/client-sfn';
import { BakeMode, buildReleaseDefinition, functionArnsFor } from '../../workflows/release.ts';
import { ReleasePhase } from '../core/phases.ts';
import { ApprovalStage } from '../core/records.ts';
import { deriveReleaseId } from '../core/release-id.ts';
import type { ServiceConfigInput } from '../core/service-config.ts';
import { checkConsistency, type Violation } from './consistency.ts';
import { readConsistencySnapshot } from './consistency-snapshot.ts';
import { DemoApproval, DemoArtifactBucket, lambdaErrorsAlarm } from './demo-registry.ts';
import {
  FaultError,
  FaultInjector,
  FaultKind,
  retries,
  type TaskStateInfo,
  taskStatesOf,
} from './faults.ts';
import { type GreenlightLocal, LocalNames, startGreenlightLocal } from './greenlight-local.ts';
import type { SeedFunctionInput } from './lambda/types.ts';

/**
 * The fault matrix: every Task state of the release definition × every FaultKind, plus
 * duplicate and concurrent events, racing operator commands and an alarm in every phase. Each
 * case runs on a service of its own in one local cloud (cases run side by side), and ends with
 * the consistency check (consistency.ts) on what it left behind.
 */

/** The racing and event cases, next to the FaultKinds. */
export const RaceKind = {
  DuplicateEvent: 'duplicate-event',
  ConcurrentEvents: 'concurrent-events',
  PromoteAndAbort: 'promote+abort',
  PauseAndAlarm: 'pause+alarm',
  RollbackDuringTeardown: 'rollback+teardown',
  /** The gate alarm enters ALARM just before a Task state runs. */
  Alarm: 'alarm',
} as const;
export type RaceKind = (typeof RaceKind)[keyof typeof RaceKind];
export type MatrixKind = FaultKind | RaceKind;

/** The builds a case releases: two that pass everything, one that fails its test. */
const Build = {
  good: { version: '1.1.0', key: 'checkout/1.1.0.zip', ends: ReleasePhase.Finalized },
  broken: { version: '1.2.0', key: 'checkout/1.2.0-broken.zip', ends: ReleasePhase.RolledBack },
  other: { version: '1.3.0', key: 'checkout/1.3.0-faulty.zip', ends: ReleasePhase.Finalized },
  /** The good build with an expand migration, through fmRunner (src/local/fault-matrix-runner.ts). */
  migrated: { version: '1.1.0', key: 'checkout/1.1.0.zip', ends: ReleasePhase.Finalized },
  /**
   * The good build with an irreversible migration whose approval nobody gives: it times out,
   * which for a migration always rejects, and the release rolls back with nothing run.
   */
  irreversible: { version: '1.1.0', key: 'checkout/1.1.0.zip', ends: ReleasePhase.RolledBack },
  /**
   * The broken build with an irreversible migration an approver lets run: green fails its
   * test after it, the release is held (forward-only), and the matrix's approver promotes it.
   */
  held: { version: '1.2.0', key: 'checkout/1.2.0-broken.zip', ends: ReleasePhase.Finalized },
} as const;
type BuildName = keyof typeof Build;

/**
 * What a case releases: one build, or (`queued`) two at once, so that one waits its turn in
 * the lock queue; `approved` releases the good build of a service whose approvals an approver
 * grants in Slack (the others' time out). The first that reaches a Task state is the one its
 * cases use.
 */
const scenarios = [
  'good',
  'broken',
  'queued',
  'approved',
  'migrated',
  'irreversible',
  'held',
] as const;
type Scenario = (typeof scenarios)[number];
const scenarioBuilds: Record<Scenario, BuildName[]> = {
  good: ['good'],
  broken: ['broken'],
  queued: ['good', 'other'],
  approved: ['good'],
  migrated: ['migrated'],
  irreversible: ['irreversible'],
  held: ['held'],
};

/** The migration runner every matrix service registers; only `migrated` releases call it. */
const fmRunner: SeedFunctionInput = {
  functionName: 'fm-migrations',
  alias: 'live',
  artifact: { localModule: fileURLToPath(new URL('./fault-matrix-runner.ts', import.meta.url)) },
};
/** Which services a scenario releases: those an approver answers, or those nobody does. */
type Pool = 'approved' | 'unanswered';
const poolOf = (scenario: Scenario): Pool =>
  scenario === 'approved' || scenario === 'held' ? 'approved' : 'unanswered';

export interface CaseSpec {
  kind: MatrixKind;
  /** The Task state the fault or alarm hits; absent for the race cases. */
  state?: string;
  /** A fault after the handler comes back this much later (FaultRule.delayMs). */
  delayMs?: number;
}

export interface CaseResult {
  name: string;
  /** The service the case released (a service of its own). */
  service: string;
  kind: MatrixKind;
  state?: string;
  violations: Violation[];
  /** False when the fault's state never ran: the case proves nothing. */
  reached: boolean;
  /** How the release must end when the state retries the fault: as without it. */
  expected?: string;
  /** How the release ended. */
  actual: string;
  ms: number;
}

export interface MatrixReport {
  results: CaseResult[];
  /** Task states of the definition that no scenario reaches (so no case covers them). */
  unreached: string[];
  /** Task states some case of this run faulted (or alarmed) and saw run. */
  covered: string[];
  /** Task states this run's cases aimed at (all reachable ones, unless `states` or `cases` chose). */
  planned: string[];
  tasks: TaskStateInfo[];
}

export interface RunMatrixOptions {
  /** Which cases: every state × kind and every race when absent. */
  cases?: CaseSpec[];
  /** Cases run side by side. @default 6 */
  parallel?: number;
  /** How long one case may take before what is still running counts against it. @default 60_000 */
  caseTimeoutMs?: number;
  onResult?: (result: CaseResult) => void;
  /** How many times each race runs when `cases` is absent: races go either way. @default 1 */
  raceRepeats?: number;
  /** @default 'event' */
  bakeMode?: BakeMode;
  /** Only the cases of these Task states (and no races), when given. */
  states?: (tasks: readonly TaskStateInfo[]) => string[];
  /** Runs once the cases are done, before the cloud closes: to look at what they left. */
  inspect?: (local: GreenlightLocal, report: MatrixReport) => Promise<void>;
}

/** The kinds that hit one Task state, in the order the report prints them. */
export const stateKinds: readonly MatrixKind[] = [...Object.values(FaultKind), RaceKind.Alarm];
/**
 * How long before blue's warm window ends the racing rollback is sent, one after the other
 * for each run of the race: from well inside the window (the rollback wins) to after it (the
 * teardown wins), through the moments where the two overlap.
 */
const rollbackEarlyMs = [300, 200, 100, 0, -200];
/** Longer than the fixture's bakes and approval timeouts. */
const slowAnswerMs = 1_500;
let teardownRaces = 0;
const raceKinds: readonly RaceKind[] = [
  RaceKind.DuplicateEvent,
  RaceKind.ConcurrentEvents,
  RaceKind.PromoteAndAbort,
  RaceKind.PauseAndAlarm,
  RaceKind.RollbackDuringTeardown,
];

/**
 * Runs the matrix in a local cloud of its own. First one clean release of each build shows
 * which Task states each reaches; each state's cases then release the first build that
 * reaches it (Rollback needs the broken one).
 */
export async function runFaultMatrix(options: RunMatrixOptions = {}): Promise<MatrixReport> {
  const injector = new FaultInjector();
  // Services must be registered before the cloud starts, so the pool is sized from the same
  // definition the cloud will run: every case of every Task state, the races, one baseline per scenario.
  const tasks = taskStatesOf(
    buildReleaseDefinition({
      functionArns: functionArnsFor(LocalNames.region, LocalNames.accountId),
      bakeMode: options.bakeMode ?? BakeMode.Event,
    }) as never,
  );
  const poolSize =
    (options.cases?.length ??
      tasks.length * (stateKinds.length + 1) + raceKinds.length * (options.raceRepeats ?? 1)) +
    scenarios.length;
  // The approved and held scenarios serve only the states no other scenario reaches: those
  // after an approver's answer (VerifyApproval, VerifyFinalApproval, VerifyMigrationApproval)
  // and the hold (Held, VerifyHold), a few of each state's cases; and one baseline each.
  const answeredStates = tasks.filter(
    (t) => /verify-callback/.test(t.functionName) || t.state === 'Held',
  ).length;
  const approvedSize =
    Math.min(options.cases?.length ?? Infinity, answeredStates * (stateKinds.length + 1)) + 2;
  const fixtures = Array.from({ length: poolSize }, (_, i) => matrixFixture(`fm-${i}`));
  const approvedFixtures = Array.from({ length: approvedSize }, (_, i) =>
    matrixFixture(`fm-approved-${i}`, { answered: true }),
  );
  const everyFixture = [...fixtures, ...approvedFixtures];
  const local = await startGreenlightLocal({
    retryIntervalMs: 10,
    holdPollMs: 100,
    ...(options.bakeMode ? { bakeMode: options.bakeMode } : {}),
    services: everyFixture.map((f) => f.service),
    functions: [...everyFixture.map((f) => f.fn), fmRunner],
    alarms: everyFixture.map((f) => f.alarm),
    faults: injector.wrap,
  });
  const clients = {
    events: new EventBridgeClient(local.clientConfig),
    cloudwatch: new CloudWatchClient(local.clientConfig),
  };
  const approver = startApprover(
    local,
    approvedFixtures.map((f) => f.service.name),
    clients.events,
  );
  try {
    const sfn = new SFNClient(local.clientConfig);
    const described = await sfn.send(
      new DescribeStateMachineCommand({ stateMachineArn: local.stateMachineArn }),
    );
    sfn.destroy();
    injector.useDefinition(JSON.parse(described.definition ?? '{}'));
    const pools: Record<Pool, Fixture[]> = {
      unanswered: [...fixtures],
      approved: [...approvedFixtures],
    };
    const take = (scenario: Scenario) => {
      const next = pools[poolOf(scenario)].shift();
      if (!next) throw new Error('The fault matrix ran out of services; raise its pool');
      return next;
    };

    // Which Task states each build reaches, from a clean release of each.
    const reachedBy = new Map<Scenario, Set<string>>();
    await Promise.all(
      scenarios.map(async (scenario) => {
        const fixture = take(scenario);
        const builds = scenarioBuilds[scenario];
        await Promise.all(builds.map((b) => releaseBuild(clients.events, fixture.service.name, b)));
        await untilEnded(
          local,
          fixture.service.name,
          builds.length,
          options.caseTimeoutMs ?? 60_000,
        );
        reachedBy.set(scenario, new Set(injector.invocations(fixture.service.name)));
      }),
    );
    const buildFor = (state: string): Scenario | undefined =>
      scenarios.find((scenario) => reachedBy.get(scenario)?.has(state));
    const unreached = injector.tasks.map((t) => t.state).filter((s) => !buildFor(s));

    const chosen = options.states ? new Set(options.states(injector.tasks)) : undefined;
    const races = chosen ? [] : raceKinds;
    const specs: CaseSpec[] = options.cases ?? [
      ...injector.tasks
        .filter((task) => buildFor(task.state) && (chosen?.has(task.state) ?? true))
        .flatMap((task) => [
          ...stateKinds.map((kind) => ({ kind, state: task.state })),
          // A callback state's answer lost only after its wait could have ended (the fixture's
          // bakes and approvals last a second): the retry's new token must still be answered.
          ...(task.callback
            ? [{ kind: FaultKind.ResponseLost, state: task.state, delayMs: slowAnswerMs }]
            : []),
        ]),
      ...races.flatMap((kind) =>
        Array.from({ length: options.raceRepeats ?? 1 }, () => ({ kind })),
      ),
    ];
    const results: CaseResult[] = [];
    const queue = [...specs];
    const worker = async () => {
      for (let spec = queue.shift(); spec; spec = queue.shift()) {
        const scenario = spec.state ? (buildFor(spec.state) ?? 'good') : 'good';
        const fixture = take(scenario);
        const result = await runCase(local, injector, clients, fixture, spec, scenario, options);
        results.push(result);
        options.onResult?.(result);
      }
    };
    await Promise.all(Array.from({ length: options.parallel ?? 6 }, worker));
    const covered = injector.tasks
      .map((t) => t.state)
      .filter((state) => results.some((r) => r.state === state && r.reached));
    const planned = injector.tasks
      .map((t) => t.state)
      .filter((state) => specs.some((spec) => spec.state === state));
    const report = { results, unreached, covered, planned, tasks: [...injector.tasks] };
    await options.inspect?.(local, report);
    return report;
  } finally {
    await approver.stop();
    clients.events.destroy();
    clients.cloudwatch.destroy();
    await local.close();
  }
}

interface Clients {
  events: EventBridgeClient;
  cloudwatch: CloudWatchClient;
}

type Fixture = ReturnType<typeof matrixFixture>;

async function runCase(
  local: GreenlightLocal,
  injector: FaultInjector,
  clients: Clients,
  fixture: Fixture,
  spec: CaseSpec,
  scenario: Scenario,
  options: RunMatrixOptions,
): Promise<CaseResult> {
  const started = performance.now();
  const service = fixture.service.name;
  const slow = spec.delayMs ? ` after ${spec.delayMs} ms` : '';
  const name = spec.state ? `${spec.state} × ${spec.kind}${slow}` : spec.kind;
  const timeoutMs = options.caseTimeoutMs ?? 60_000;
  const racers: Promise<unknown>[] = [];
  const command = (detail: Record<string, string>) =>
    operatorCommand(clients.events, { ...detail, actor: 'fault-matrix', reason: name });
  const alarm = () =>
    clients.cloudwatch.send(
      new SetAlarmStateCommand({
        AlarmName: fixture.alarm.AlarmName,
        StateValue: 'ALARM',
        StateReason: `fault matrix: ${name}`,
      }),
    );
  const build = scenarioBuilds[scenario][0] ?? 'good';
  const releaseId = deriveReleaseId(service, Build[build].version, 1);
  let executions = scenarioBuilds[scenario].length;
  let expected: string | undefined;

  if (spec.state && spec.kind === RaceKind.Alarm) {
    injector.add({ service, state: spec.state, before: async () => void (await alarm()) });
  } else if (spec.state) {
    const kind = spec.kind as FaultKind;
    injector.add({
      service,
      state: spec.state,
      kind,
      ...(spec.delayMs ? { delayMs: spec.delayMs } : {}),
    });
    const task = injector.tasks.find((t) => t.state === spec.state);
    const retried =
      kind === FaultKind.DeliveredTwice || (task !== undefined && retries(task, FaultError[kind]));
    if (retried) expected = Build[build].ends;
  }
  switch (spec.kind) {
    case RaceKind.DuplicateEvent:
      executions = 2;
      await Promise.all([
        releaseBuild(clients.events, service, 'good'),
        releaseBuild(clients.events, service, 'good'),
      ]);
      break;
    case RaceKind.ConcurrentEvents:
      executions = 2;
      await Promise.all([
        releaseBuild(clients.events, service, 'good'),
        releaseBuild(clients.events, service, 'other'),
      ]);
      break;
    case RaceKind.PromoteAndAbort:
    case RaceKind.PauseAndAlarm:
      // As the first bake starts: both at once, neither waiting for the other.
      injector.add({
        service,
        state: firstBakeState(injector),
        before: async () => {
          racers.push(
            ...(spec.kind === RaceKind.PromoteAndAbort
              ? [
                  command({ command: 'promote', releaseId }),
                  command({ command: 'abort', releaseId }),
                ]
              : [command({ command: 'pause', releaseId }), alarm()]),
          );
        },
      });
      await releaseBuild(clients.events, service, 'good');
      break;
    case RaceKind.RollbackDuringTeardown: {
      await releaseBuild(clients.events, service, 'good');
      await untilEnded(local, service, 1, timeoutMs);
      // Blue's warm window is a second or two. An operator's rollback goes for blue around
      // its end (rollbackEarlyMs), while the schedule fires and the sweeper runs (twice: its
      // daily schedule is delivered at least once) as it ends.
      const early = rollbackEarlyMs[teardownRaces++ % rollbackEarlyMs.length] ?? 0;
      await untilTeardownDue(local, releaseId, timeoutMs, early);
      racers.push(command({ command: 'rollback', service }));
      if (early > 0) await untilTeardownDue(local, releaseId, timeoutMs);
      racers.push(local.sweep(), local.sweep());
      break;
    }
    default:
      await Promise.all(
        scenarioBuilds[scenario].map((b) => releaseBuild(clients.events, service, b)),
      );
  }
  await untilEnded(local, service, executions, timeoutMs);
  await Promise.allSettled(racers);

  let violations = await check(local, fixture.service);
  if (violations.length > 0) {
    // Once more after a quiet second: a rule target or a cancelled branch's handler may still
    // have been finishing. What is still wrong then is how the run ended.
    await sleep(1_000);
    violations = await check(local, fixture.service);
  }
  await stopLeftovers(local, service);
  const reached = spec.state === undefined || injector.fired(service).length > 0;
  const actual = (await local.ledger.getRelease(releaseId))?.phase ?? 'none';
  return {
    name,
    service,
    kind: spec.kind,
    ...(spec.state ? { state: spec.state } : {}),
    violations,
    reached,
    ...(expected !== undefined ? { expected } : {}),
    actual,
    ms: performance.now() - started,
  };
}

async function check(local: GreenlightLocal, service: ServiceConfigInput): Promise<Violation[]> {
  return checkConsistency(await readConsistencySnapshot(local, [service]));
}

/** The first Task state of a bake (start-bake's, or bake-tick's in poll mode). */
function firstBakeState(injector: FaultInjector): string {
  const bake = injector.tasks.find((t) => /start-bake|bake-tick/.test(t.functionName));
  if (!bake) throw new Error('The definition has no bake state to race commands against');
  return bake.state;
}

/**
 * A Lambda service with everything a release can meet: approvals at both stages, a canary
 * bake. Nobody answers its approvals, unless `answered`: then the matrix's approver does
 * (startApprover), and a wait that outlasts the case rejects.
 */
export function matrixFixture(
  name: string,
  options: { answered?: boolean } = {},
): {
  service: ServiceConfigInput;
  fn: SeedFunctionInput;
  alarm: PutMetricAlarmCommandInput;
} {
  const approval = options.answered
    ? { timeoutSeconds: 120, onTimeout: 'reject' as const }
    : // Nobody answers: each approval times out after a second and goes on.
      { timeoutSeconds: 1, onTimeout: 'approve' as const };
  return {
    service: {
      name,
      target: { kind: 'lambda-alias', functionName: name, alias: 'live' },
      strategies: { canary: { type: 'canary', percent: 10, bakeSeconds: 1 } },
      defaultStrategy: 'canary',
      artifacts: { s3Buckets: [DemoArtifactBucket] },
      alarms: [{ name: `${name}-errors`, scope: 'service' }],
      tests: [{ name: 'health', payload: { path: '/health' }, expect: { statusCode: 200 } }],
      approval: {
        type: 'slack',
        channel: DemoApproval.channel,
        approvers: [DemoApproval.approver.id],
        ...approval,
        stages: ['before-shift', 'before-finalize'],
      },
      warmWindowSeconds: 1,
      migrations: { runner: { type: 'lambda', functionName: fmRunner.functionName } },
    },
    fn: {
      functionName: name,
      alias: 'live',
      artifact: { s3: { bucket: DemoArtifactBucket, key: 'checkout/1.0.0.zip' } },
    },
    alarm: lambdaErrorsAlarm(name),
  };
}

/**
 * An approver at the Slack stand-in: clicks Approve on every approval message of `services`,
 * once per message, as soon as it is posted. The click is a signed request to the
 * interactivity endpoint, the path a person's click takes in production. And an operator: a
 * release of theirs held forward-only is promoted (`greenlight promote`), once.
 */
function startApprover(
  local: GreenlightLocal,
  services: readonly string[],
  events: EventBridgeClient,
): { stop: () => Promise<void> } {
  const heldIds = services.map((service) => deriveReleaseId(service, Build.held.version, 1));
  const promoted = new Set<string>();
  // The approvals those services' releases can ask for (approvalIdOf, src/steps/request-approval.ts).
  const answered = new Set(
    services.flatMap((service) =>
      Object.values(Build).flatMap(({ version }) =>
        Object.values(ApprovalStage).map(
          (stage) => `${deriveReleaseId(service, version, 1)}-${stage}`,
        ),
      ),
    ),
  );
  const seen = new Set<string>();
  const clicks: Promise<unknown>[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      for (const message of local.slack.messages(DemoApproval.channel)) {
        if (message.threadTs !== undefined || seen.has(message.ts)) continue;
        seen.add(message.ts);
        const approvalId = approvalIdIn(message.blocks);
        if (approvalId === undefined || !answered.has(approvalId)) continue;
        clicks.push(
          local.slack.click({
            channel: message.channel,
            ts: message.ts,
            actionId: 'approve',
            user: DemoApproval.approver,
          }),
        );
      }
      for (const releaseId of heldIds) {
        if (promoted.has(releaseId)) continue;
        const record = await local.ledger.getRelease(releaseId);
        if (record?.phase !== ReleasePhase.Held) continue;
        promoted.add(releaseId);
        clicks.push(
          operatorCommand(events, {
            command: 'promote',
            releaseId,
            actor: 'fault-matrix',
            reason: 'held forward-only: promote',
          }),
        );
      }
      await sleep(50);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      await Promise.allSettled(clicks);
    },
  };
}

/** The approval id an approval message's Approve button carries (its `value`). */
function approvalIdIn(blocks: readonly unknown[]): string | undefined {
  for (const block of blocks) {
    const elements = (block as { elements?: unknown }).elements;
    if (!Array.isArray(elements)) continue;
    for (const element of elements as { action_id?: unknown; value?: unknown }[]) {
      if (element.action_id === 'approve' && typeof element.value === 'string') {
        return element.value;
      }
    }
  }
  return undefined;
}

async function releaseBuild(
  events: EventBridgeClient,
  service: string,
  build: BuildName,
): Promise<void> {
  const { version, key } = Build[build];
  await putEvent(events, 'Release Requested', 'greenlight.fault-matrix', {
    schemaVersion: 1,
    service,
    version,
    artifact: { s3: { bucket: DemoArtifactBucket, key } },
    // One id per service: each case's runner bookkeeping starts clean.
    ...(build === 'migrated' ? { migration: { id: `${service}_add_note`, kind: 'expand' } } : {}),
    ...(build === 'irreversible' || build === 'held'
      ? { migration: { id: `${service}_drop_note`, kind: 'irreversible' } }
      : {}),
  });
}

/** An Operator Command on the bus, as `greenlight pause ...` sends it. */
async function operatorCommand(
  events: EventBridgeClient,
  detail: Record<string, string>,
): Promise<void> {
  await putEvent(events, 'Operator Command', 'greenlight.cli', { schemaVersion: 1, ...detail });
}

async function putEvent(
  events: EventBridgeClient,
  detailType: string,
  source: string,
  detail: Record<string, unknown>,
): Promise<void> {
  const result = await events.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: LocalNames.bus,
          Source: source,
          DetailType: detailType,
          Detail: JSON.stringify(detail),
        },
      ],
    }),
  );
  if (result.FailedEntryCount) throw new Error(`PutEvents failed: ${JSON.stringify(result)}`);
}

function executionsOf(local: GreenlightLocal, service: string) {
  return local.cloud.stepFunctions.listExecutions().filter((execution) => {
    const input = JSON.parse(execution.input) as { detail?: { service?: string } };
    return input.detail?.service === service;
  });
}

/** Until `count` executions of the service have started and all have ended (or time is up). */
async function untilEnded(
  local: GreenlightLocal,
  service: string,
  count: number,
  timeoutMs: number,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const executions = executionsOf(local, service);
    if (executions.length >= count && executions.every((e) => e.status !== 'RUNNING')) return;
    await sleep(50);
  }
}

/** Until `earlyMs` before the release's idle colour falls due for its teardown. */
async function untilTeardownDue(
  local: GreenlightLocal,
  releaseId: string,
  timeoutMs: number,
  earlyMs = 0,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const record = await local.ledger.getRelease(releaseId);
    if (record?.phase !== ReleasePhase.Finalized) return;
    const due = record.idle?.teardownAt;
    // The teardown schedule fires by the wall clock, so the race is timed by it too.
    const left = due === undefined ? 0 : Date.parse(due) - earlyMs - Date.now();
    if (left <= 0) return;
    await sleep(Math.min(100, left));
  }
}

/** Stops what a failed case left running, so the next cases and close() do not wait on it. */
async function stopLeftovers(local: GreenlightLocal, service: string): Promise<void> {
  for (const execution of executionsOf(local, service)) {
    if (execution.status === 'RUNNING') {
      await local.cloud.stepFunctions.stopExecution(
        execution.executionArn,
        'FaultMatrix.Stopped',
        'Left running past the case deadline',
      );
    }
  }
}

/** `fault <kind>: <N>/<M> consistent` per kind, then each failing case by name. */
export function summarizeMatrix(report: MatrixReport): string[] {
  const lines: string[] = [];
  const kinds = [...new Set(report.results.map((r) => r.kind))];
  for (const kind of [...stateKinds, ...raceKinds].filter((k) => kinds.includes(k))) {
    const ofKind = report.results.filter((r) => r.kind === kind);
    const ok = ofKind.filter((r) => r.reached && r.violations.length === 0).length;
    lines.push(`fault ${kind}: ${ok}/${ofKind.length} consistent`);
  }
  for (const result of report.results) {
    if (!result.reached) lines.push(`  not reached: ${result.name}`);
    for (const v of result.violations) {
      lines.push(`  inconsistent: ${result.name}: ${v.invariant} ${v.subject}: ${v.message}`);
    }
  }
  const retried = report.results.filter((r) => r.expected !== undefined);
  const changed = retried.filter((r) => r.actual !== r.expected);
  lines.push(
    `retried faults that left the outcome as without them: ${retried.length - changed.length}/${retried.length}`,
  );
  for (const result of changed) {
    lines.push(`  changed: ${result.name}: expected ${result.expected}, ended ${result.actual}`);
  }
  const uncovered = report.planned.filter((s) => !report.covered.includes(s));
  lines.push(
    `Task states covered: ${report.covered.length}/${report.tasks.length}${report.planned.length < report.tasks.length ? ` (this run aimed at ${report.planned.length}: ${report.planned.join(', ')})` : ''}${uncovered.length > 0 ? ` (not: ${uncovered.join(', ')})` : ''}`,
  );
  if (report.unreached.length > 0) {
    lines.push(`Task states no scenario reaches: ${report.unreached.join(', ')}`);
  }
  return lines;
}
