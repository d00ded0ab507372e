import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventEcho } from '../../src/core/bound-rejection.ts';
import { ApprovalNotFound, InvalidTransition, ReleaseNotFound } from '../../src/core/errors.ts';
import type { MetricQuery, MetricQueryResult } from '../../src/core/metric-gate.ts';
import type {
  MigrationAction,
  MigrationRunnerReply,
  MigrationRunnerRequest,
} from '../../src/core/migration.ts';
import type { CommandRecord } from '../../src/core/operator-command.ts';
import { ReleasePhase } from '../../src/core/phases.ts';
import type {
  AlarmReader,
  ApprovalStore,
  BakeStore,
  CallbackOutcome,
  CommandLog,
  IdleColours,
  LifecycleEvents,
  LiveRelease,
  LockOutcome,
  LockRequest,
  MetricReader,
  MigrationRunner,
  ReleaseLedger,
  ReleaseRequests,
  RenewableApprovalStore,
  ServiceLock,
  TaskCallbacks,
  TeardownScheduler,
  TeardownTarget,
  TrafficTarget,
} from '../../src/core/ports.ts';
import type {
  AlarmEvidence,
  ApprovalRecord,
  BakeRecord,
  Colours,
  IdleCost,
  IdleTeardownClaim,
  LifecycleEvent,
  ReleaseRecord,
  ReleaseSpec,
  StepRecord,
  TestEvidence,
} from '../../src/core/records.ts';
import { IdleColourState } from '../../src/core/records.ts';
import { StaticServiceRegistry } from '../../src/core/registry.ts';
import type { ReleaseRequestedV1 } from '../../src/core/release-event.ts';
import type { MigrationsConfig, ServiceConfig } from '../../src/core/service-config.ts';
import type { TeardownStepDependencies } from '../../src/runtime/teardown-dependencies.ts';
import type { SlackMessage, SlackMessageRef, SlackMessenger } from '../../src/slack/messenger.ts';
import type { OperatorDependencies } from '../../src/steps/operator-command.ts';
import { aService } from './builders.ts';
import { aTestClock, type TestClock } from './clock.ts';

/**
 * In-memory ports for step tests, one shared set. Each keeps the contract its port documents in
 * src/core/ports.ts and its DynamoDB adapter implements (conditional writes, first writer wins,
 * a step entry per key), so that a step's idempotency is tested against the same rules it meets
 * in AWS; each also records what it was asked, for the tests to assert on.
 */

const copy = <T>(value: T): T => structuredClone(value);

/** The release ledger, with DynamoReleaseLedger's conditions. */
export class MemoryLedger implements ReleaseLedger {
  readonly releases = new Map<string, ReleaseRecord>();
  readonly steps = new Map<string, Map<string, StepRecord>>();
  readonly rejections = new Map<string, { step: StepRecord; event: EventEcho }>();
  /** Every successful updateRelease, in order. */
  readonly updates: { releaseId: string; patch: Partial<ReleaseRecord> }[] = [];

  constructor(releases: readonly ReleaseRecord[] = []) {
    for (const release of releases) this.releases.set(release.releaseId, copy(release));
  }

  async createRelease(record: ReleaseRecord) {
    const existing = this.releases.get(record.releaseId);
    if (existing) return { created: false, record: copy(existing) };
    this.releases.set(record.releaseId, copy(record));
    return { created: true, record: copy(record) };
  }

  async getRelease(releaseId: string) {
    const record = this.releases.get(releaseId);
    return record && copy(record);
  }

  async updateRelease(
    releaseId: string,
    patch: Partial<Omit<ReleaseRecord, 'releaseId'>>,
    expectedPhases: readonly ReleasePhase[],
  ) {
    const current = this.releases.get(releaseId);
    if (!current) throw new ReleaseNotFound(`Release ${releaseId} is not in the ledger`);
    if (!expectedPhases.includes(current.phase)) {
      throw new InvalidTransition(
        `Release ${releaseId} is ${current.phase}, expected ${expectedPhases.join(', ')}`,
      );
    }
    const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    const next = { ...current, ...copy(defined) } as ReleaseRecord;
    this.releases.set(releaseId, next);
    this.updates.push({ releaseId, patch: copy(defined) });
    return copy(next);
  }

  /** Every granted claimIdleTeardown, in order. */
  readonly claims: { releaseId: string; claim: IdleTeardownClaim }[] = [];

  async claimIdleTeardown(releaseId: string, claim: IdleTeardownClaim, now: string) {
    const current = this.releases.get(releaseId);
    if (!current) throw new ReleaseNotFound(`Release ${releaseId} is not in the ledger`);
    const idle = current.idle;
    const held = idle?.claim;
    const free = held === undefined || held.by === claim.by || held.until <= now;
    if (current.phase !== ReleasePhase.Finalized || idle?.state !== IdleColourState.Warm || !free) {
      return { claimed: false, record: copy(current) };
    }
    const next = { ...current, idle: { ...idle, claim: copy(claim) } };
    this.releases.set(releaseId, next);
    this.claims.push({ releaseId, claim: copy(claim) });
    return { claimed: true, record: copy(next) };
  }

  async recordStep(releaseId: string, step: StepRecord) {
    const steps = this.steps.get(releaseId) ?? new Map<string, StepRecord>();
    steps.set(step.key, copy(step));
    this.steps.set(releaseId, steps);
  }

  async listSteps(releaseId: string) {
    return [...(this.steps.get(releaseId)?.values() ?? [])]
      .map(copy)
      .sort((a, b) => a.at.localeCompare(b.at) || a.key.localeCompare(b.key));
  }

  async listReleases(service: string, limit: number) {
    return [...this.releases.values()]
      .filter((release) => release.service === service)
      .sort(
        (a, b) =>
          b.requestedAt.localeCompare(a.requestedAt) || b.releaseId.localeCompare(a.releaseId),
      )
      .slice(0, Math.max(0, limit))
      .map(copy);
  }

  async recordRejection(eventId: string, step: StepRecord, event: EventEcho) {
    this.rejections.set(eventId, { step: copy(step), event: copy(event) });
  }

  async getRejection(eventId: string) {
    const rejection = this.rejections.get(eventId);
    return rejection && copy(rejection.step);
  }

  /** The release as stored now; fails the test when there is none. */
  release(releaseId: string): ReleaseRecord {
    const record = this.releases.get(releaseId);
    if (!record) throw new Error(`no release ${releaseId} in the fake ledger`);
    return copy(record);
  }

  /** The timeline's keys with their outcomes, `key:outcome`, in the order listSteps gives. */
  async timeline(releaseId: string): Promise<string[]> {
    return (await this.listSteps(releaseId)).map((step) => `${step.key}:${step.outcome}`);
  }
}

interface QueueEntry {
  releaseId: string;
  requestedAt: string;
  arrival: number;
  taskToken?: string;
  supersededBy?: string;
}

/**
 * The service lock and its queue, with DynamoReleaseQueue's rules (src/aws/dynamo-release-queue.ts)
 * short of staleness: served in request order then arrival, the holder hands the lock to the
 * head and wakes it through `callbacks`, `supersede` and `reject` policies, the live release.
 */
export class MemoryLock implements ServiceLock {
  readonly holders = new Map<string, { holder: string; handedBy?: string }>();
  readonly queues = new Map<string, QueueEntry[]>();
  readonly lives = new Map<string, LiveRelease[]>();
  /** Every release() call, in order. */
  readonly releases: { service: string; releaseId: string }[] = [];
  #arrivals = 0;
  readonly #callbacks: TaskCallbacks;

  constructor(callbacks: TaskCallbacks) {
    this.#callbacks = callbacks;
  }

  async acquire(request: LockRequest): Promise<LockOutcome> {
    const { service, releaseId } = request;
    let entry = this.#entry(service, releaseId);
    if (entry?.supersededBy !== undefined) return { kind: 'superseded', by: entry.supersededBy };
    const lock = this.holders.get(service);
    if (lock?.holder === releaseId) {
      this.#leave(service, releaseId);
      return { kind: 'acquired' };
    }
    if (entry === undefined) {
      const busy = lock?.holder ?? this.#head(service)?.releaseId;
      if (request.policy === 'reject' && busy !== undefined) return { kind: 'busy', holder: busy };
      entry = { releaseId, requestedAt: request.requestedAt, arrival: ++this.#arrivals };
      this.queues.set(service, [...this.#queue(service), entry]);
      if (request.policy === 'supersede') {
        const waiting = this.#queue(service).filter(
          (other) => other !== entry && !other.supersededBy,
        );
        const newer = waiting.find((other) => order(other, entry as QueueEntry) > 0);
        if (newer !== undefined) {
          entry.supersededBy = newer.releaseId;
          return { kind: 'superseded', by: newer.releaseId };
        }
        for (const older of waiting) await this.#supersede(older, releaseId);
      }
    }
    if (lock !== undefined) return { kind: 'waiting', holder: lock.holder };
    const head = this.#head(service) as QueueEntry;
    this.holders.set(service, { holder: head.releaseId });
    if (head.releaseId !== releaseId) {
      await this.#wake(head);
      return { kind: 'waiting', holder: head.releaseId };
    }
    this.#leave(service, releaseId);
    return { kind: 'acquired' };
  }

  async park(service: string, releaseId: string, taskToken: string) {
    const entry = this.#entry(service, releaseId);
    if (entry !== undefined && entry.supersededBy === undefined) {
      entry.taskToken = taskToken;
      const lock = this.holders.get(service);
      if (lock !== undefined && lock.holder !== releaseId) return;
    }
    await this.#callbacks.succeed(taskToken, { woken: 'parked' });
  }

  async release(
    service: string,
    releaseId: string,
    options: { live?: LiveRelease; reverted?: true } = {},
  ) {
    this.releases.push({ service, releaseId });
    const lives = this.lives.get(service) ?? [];
    if (options.live !== undefined && lives.at(-1)?.releaseId !== options.live.releaseId) {
      this.lives.set(service, [...lives, { ...options.live }]);
    }
    if (options.reverted === true && lives.at(-1)?.releaseId === releaseId) {
      this.lives.set(service, lives.slice(0, -1));
    }
    const lock = this.holders.get(service);
    if (lock === undefined) return;
    if (lock.holder !== releaseId) {
      const handed = lock.handedBy === releaseId ? this.#entry(service, lock.holder) : undefined;
      if (handed !== undefined) await this.#wake(handed);
      return;
    }
    const head = this.#head(service);
    if (head === undefined) {
      this.holders.delete(service);
      return;
    }
    this.holders.set(service, { holder: head.releaseId, handedBy: releaseId });
    await this.#wake(head);
  }

  async live(service: string) {
    const live = this.lives.get(service)?.at(-1);
    return live && { ...live };
  }

  holderOf(service: string): string | undefined {
    return this.holders.get(service)?.holder;
  }

  /** Puts `releaseId` in the lock as if it had taken it, for a test that starts mid-release. */
  hold(service: string, releaseId: string): void {
    this.holders.set(service, { holder: releaseId });
  }

  /** Release ids waiting, in the order they are served. */
  waiting(service: string): string[] {
    return this.#waiting(service).map((entry) => entry.releaseId);
  }

  #queue(service: string): QueueEntry[] {
    return this.queues.get(service) ?? [];
  }

  #waiting(service: string): QueueEntry[] {
    return this.#queue(service)
      .filter((entry) => entry.supersededBy === undefined)
      .sort(order);
  }

  #head(service: string): QueueEntry | undefined {
    return this.#waiting(service)[0];
  }

  #entry(service: string, releaseId: string): QueueEntry | undefined {
    return this.#queue(service).find((entry) => entry.releaseId === releaseId);
  }

  #leave(service: string, releaseId: string): void {
    this.queues.set(
      service,
      this.#queue(service).filter((entry) => entry.releaseId !== releaseId),
    );
  }

  async #wake(entry: QueueEntry): Promise<void> {
    if (entry.taskToken !== undefined) {
      await this.#callbacks.succeed(entry.taskToken, { woken: 'lock' });
    }
  }

  async #supersede(entry: QueueEntry, by: string): Promise<void> {
    entry.supersededBy = by;
    if (entry.taskToken !== undefined) {
      await this.#callbacks.succeed(entry.taskToken, { woken: 'superseded', by });
    }
  }
}

/** Queue order: request time, then arrival. */
function order(a: QueueEntry, b: QueueEntry): number {
  return Date.parse(a.requestedAt) - Date.parse(b.requestedAt) || a.arrival - b.arrival;
}

export class RecordingEvents implements LifecycleEvents {
  readonly published: LifecycleEvent[] = [];

  async publish(events: readonly LifecycleEvent[]) {
    this.published.push(...copy(events));
  }

  /** `detail-type` of each published event, in order. */
  types(): string[] {
    return this.published.map((event) => event.detailType);
  }
}

/** CloudWatch alarms as the test sets them; missing alarms are absent, as in DescribeAlarms. */
export class ScriptedAlarms implements AlarmReader {
  alarms: AlarmEvidence[] = [];
  readonly asked: string[][] = [];

  async describe(names: readonly string[]) {
    this.asked.push([...names]);
    return copy(this.alarms.filter((alarm) => names.includes(alarm.name)));
  }

  /** Every named alarm OK, with a reason as CloudWatch words it. */
  allOk(...names: string[]): this {
    this.alarms = names.map((name) => anAlarm(name, 'OK'));
    return this;
  }
}

export function anAlarm(name: string, state: AlarmEvidence['state'] = 'OK'): AlarmEvidence {
  return {
    name,
    state,
    reason:
      state === 'ALARM'
        ? 'Threshold Crossed: 1 datapoint [5.0] was greater than the threshold (1.0).'
        : 'Threshold Crossed: 1 datapoint [0.0] was not greater than the threshold (1.0).',
    updatedAt: '2026-11-21T10:00:00.000Z',
  };
}

/** GetMetricData answered from values by query id; an id with no values has no datapoints. */
export class ScriptedMetrics implements MetricReader {
  values: Record<string, number[]> = {};
  readonly windows: { start: string; end: string }[] = [];

  async query(queries: readonly MetricQuery[], window: { start: Date; end: Date }) {
    this.windows.push({ start: window.start.toISOString(), end: window.end.toISOString() });
    return queries.map(
      (query): MetricQueryResult => ({ id: query.id, values: [...(this.values[query.id] ?? [])] }),
    );
  }
}

/** Bakes and alarm watches, with DynamoBakeStore's begin and conditional settle. */
export class MemoryBakes implements BakeStore {
  readonly bakes = new Map<string, BakeRecord>();
  readonly watching = new Map<string, Set<string>>();

  async begin(bake: BakeRecord) {
    const current = this.bakes.get(bake.releaseId);
    if (current?.stepIndex === bake.stepIndex) {
      if (bake.taskToken === undefined || current.taskToken === bake.taskToken) {
        return copy(current);
      }
      current.taskToken = bake.taskToken;
      return copy(current);
    }
    this.bakes.set(bake.releaseId, copy(bake));
    return copy(bake);
  }

  async get(releaseId: string) {
    const bake = this.bakes.get(releaseId);
    return bake && copy(bake);
  }

  async settle(
    releaseId: string,
    stepIndex: number,
    status: 'ended' | 'interrupted',
    reason: string,
  ) {
    const bake = this.bakes.get(releaseId);
    if (bake?.stepIndex !== stepIndex || bake.status !== 'baking') {
      return { changed: false, record: bake && copy(bake) };
    }
    bake.status = status;
    bake.reason = reason;
    return { changed: true, record: copy(bake) };
  }

  async watch(releaseId: string, alarms: readonly string[]) {
    for (const alarm of alarms) {
      const ids = this.watching.get(alarm) ?? new Set<string>();
      ids.add(releaseId);
      this.watching.set(alarm, ids);
    }
  }

  async unwatch(releaseId: string, alarms: readonly string[]) {
    for (const alarm of alarms) this.watching.get(alarm)?.delete(releaseId);
  }

  async watchers(alarmName: string) {
    return [...(this.watching.get(alarmName) ?? [])];
  }

  /** Alarms that `releaseId` watches, sorted. */
  watchedBy(releaseId: string): string[] {
    return [...this.watching.entries()]
      .filter(([, ids]) => ids.has(releaseId))
      .map(([alarm]) => alarm)
      .sort();
  }
}

/**
 * Step Functions' callbacks: a token is answered once; later answers find it gone
 * (TaskDoesNotExist), as SendTaskSuccess/Failure do after the wait has ended.
 */
export class RecordingCallbacks implements TaskCallbacks {
  readonly sent: {
    kind: 'succeed' | 'fail';
    taskToken: string;
    output?: unknown;
    error?: string;
    cause?: string;
  }[] = [];
  readonly #answered = new Set<string>();

  async succeed(taskToken: string, output: unknown) {
    return this.#answer({ kind: 'succeed', taskToken, output: copy(output) });
  }

  async fail(taskToken: string, error: string, cause: string) {
    return this.#answer({ kind: 'fail', taskToken, error, cause });
  }

  #answer(sent: RecordingCallbacks['sent'][number]): CallbackOutcome {
    this.sent.push(sent);
    if (this.#answered.has(sent.taskToken)) {
      return { delivered: false, reason: 'TaskDoesNotExist' };
    }
    this.#answered.add(sent.taskToken);
    return { delivered: true };
  }

  /** The answers that reached a waiting task, `kind:token[:error]`. */
  delivered(): string[] {
    const seen = new Set<string>();
    return this.sent
      .filter((sent) => !seen.has(sent.taskToken) && seen.add(sent.taskToken))
      .map((sent) => [sent.kind, sent.taskToken, ...(sent.error ? [sent.error] : [])].join(':'));
  }
}

/**
 * A target that keeps the traffic split and which greens exist, and reconciles as the real
 * adapters do: a call that finds the state as desired changes nothing. `changes` lists what
 * really changed, `calls` every call.
 */
export class FakeTarget implements TrafficTarget {
  colours: Colours = { blue: '7', green: '8' };
  greenPercent = 0;
  live: string = this.colours.blue;
  testResults: TestEvidence[] = [
    { name: 'health', passed: true, statusCode: 200, detail: 'ok', durationMs: 3 },
  ];
  warningsToGive: string[] = [];
  readonly calls: string[] = [];
  readonly changes: string[] = [];
  readonly provisioned = new Set<string>();

  async provision(release: ReleaseSpec) {
    this.calls.push(`provision ${release.version}`);
    if (!this.provisioned.has(release.version)) {
      this.provisioned.add(release.version);
      this.changes.push(`provision ${release.version} as ${this.colours.green}`);
    }
    return copy(this.colours);
  }

  /** What blue's own tests answer when a migration re-tests blue. */
  blueTestResults: TestEvidence[] = [
    { name: 'health', passed: true, statusCode: 200, detail: 'ok', durationMs: 3 },
  ];

  async test(_release: ReleaseSpec, _service: ServiceConfig, colours: Colours) {
    this.calls.push(`test ${colours.green}`);
    return copy(this.testResults);
  }

  async testColour(
    release: ReleaseSpec,
    service: ServiceConfig,
    colours: Colours,
    colour: keyof Colours,
  ) {
    if (colour === 'green') return this.test(release, service, colours);
    this.calls.push(`test blue ${colours.blue}`);
    return copy(this.blueTestResults);
  }

  async setGreenPercent(_service: ServiceConfig, colours: Colours, percent: number) {
    this.calls.push(`weight ${percent}`);
    this.#route(colours, percent);
  }

  async finalize(_service: ServiceConfig, colours: Colours) {
    this.calls.push('finalize');
    this.#route(colours, 100);
  }

  async rollback(_service: ServiceConfig, colours: Colours) {
    this.calls.push('rollback');
    this.#route(colours, 0);
  }

  async warnings() {
    return [...this.warningsToGive];
  }

  #route(colours: Colours, percent: number) {
    const live = percent === 100 ? colours.green : colours.blue;
    if (this.greenPercent === percent && this.live === live) return;
    this.greenPercent = percent;
    this.live = live;
    this.changes.push(`${percent}% on ${colours.green}`);
  }
}

/**
 * A migration runner that keeps its bookkeeping in memory and honours the contract
 * (src/core/migration.ts): `apply` runs once per id, `revert` only what is applied. `calls`
 * lists every request as `action id`; `ran` what really changed the schema. `failOn` makes an
 * action fail as the runner would (MigrationRunnerFailed and friends come from the adapter, so
 * any error here stands for what the adapter throws); `loseNextApplyResponse` applies and then
 * throws, as an answer lost on the way back.
 */
export class ScriptedMigrationRunner implements MigrationRunner {
  /** The statements each migration's `plan` returns, by id. */
  plans = new Map<string, string[]>();
  readonly applied = new Set<string>();
  readonly calls: string[] = [];
  readonly ran: string[] = [];
  readonly failOn = new Map<MigrationAction, Error>();
  loseNextApplyResponse: Error | undefined;

  async call(_migrations: MigrationsConfig, request: MigrationRunnerRequest) {
    const id = request.migrationId;
    this.calls.push(`${request.action} ${id}`);
    const failure = this.failOn.get(request.action);
    if (failure) throw failure;
    const status = (): MigrationRunnerReply['status'] =>
      this.applied.has(id) ? 'applied' : 'pending';
    switch (request.action) {
      case 'status':
        return { migrationId: id, status: status() };
      case 'plan':
        return { migrationId: id, status: status(), statements: [...(this.plans.get(id) ?? [])] };
      case 'apply': {
        const ran = !this.applied.has(id);
        if (ran) {
          this.applied.add(id);
          this.ran.push(`apply ${id}`);
        }
        const lost = this.loseNextApplyResponse;
        if (lost) {
          this.loseNextApplyResponse = undefined;
          throw lost;
        }
        return { migrationId: id, status: status(), ran };
      }
      case 'revert': {
        const ran = this.applied.delete(id);
        if (ran) this.ran.push(`revert ${id}`);
        return { migrationId: id, status: ran ? ('reverted' as const) : status(), ran };
      }
    }
  }
}

/** Approvals with DynamoApprovalStore's conditions: the first decision wins. */
export class MemoryApprovals implements RenewableApprovalStore {
  readonly approvals = new Map<string, ApprovalRecord>();

  async create(record: ApprovalRecord) {
    const existing = this.approvals.get(record.approvalId);
    if (existing) return copy(existing);
    this.approvals.set(record.approvalId, copy(record));
    return copy(record);
  }

  async get(approvalId: string) {
    const record = this.approvals.get(approvalId);
    return record && copy(record);
  }

  async decide(approvalId: string, decision: Parameters<ApprovalStore['decide']>[1]) {
    const record = this.#require(approvalId);
    if (record.status !== 'pending') return { decided: false, record: copy(record) };
    Object.assign(record, {
      status: decision.status,
      decidedBy: decision.by,
      decidedAt: decision.at,
      decidedVia: decision.via,
      ...(decision.reason === undefined ? {} : { reason: decision.reason }),
      ...(decision.principalArn === undefined ? {} : { principalArn: decision.principalArn }),
    });
    return { decided: true, record: copy(record) };
  }

  async attachMessage(approvalId: string, slack: { channel: string; ts: string }) {
    this.#require(approvalId).slack = { ...slack };
  }

  async renewTaskToken(approvalId: string, taskToken: string) {
    const record = this.#require(approvalId);
    if (record.status !== 'pending') return { renewed: false, record: copy(record) };
    record.taskToken = taskToken;
    return { renewed: true, record: copy(record) };
  }

  #require(approvalId: string): ApprovalRecord {
    const record = this.approvals.get(approvalId);
    if (!record) throw new ApprovalNotFound(`Approval ${approvalId} does not exist`);
    return record;
  }
}

/** Operator command outcomes: the first stored under an id wins. */
export class MemoryCommandLog implements CommandLog {
  readonly commands = new Map<string, CommandRecord>();

  async record(record: CommandRecord) {
    const existing = this.commands.get(record.commandId);
    if (existing) return copy(existing);
    this.commands.set(record.commandId, copy(record));
    return copy(record);
  }

  async get(commandId: string) {
    const record = this.commands.get(commandId);
    return record && copy(record);
  }
}

/** Release Requested events put on the bus; each gets an id, as PutEvents returns one. */
export class RecordingRequests implements ReleaseRequests {
  readonly requested: { detail: ReleaseRequestedV1; source: string }[] = [];

  async request(detail: ReleaseRequestedV1, source: string) {
    this.requested.push({ detail: copy(detail), source });
    return `event-${this.requested.length}`;
  }
}

/** One-time schedules by name: a second schedule of a name finds the first, as finalize expects. */
export class MemoryTeardowns implements TeardownScheduler {
  readonly schedules = new Map<string, { at: Date; target: TeardownTarget }>();

  async schedule(request: { name: string; at: Date; target: TeardownTarget }) {
    const existing = this.schedules.get(request.name);
    if (existing) return { name: request.name, at: existing.at, created: false };
    this.schedules.set(request.name, { at: request.at, target: { ...request.target } });
    return { name: request.name, at: request.at, created: true };
  }
}

/** An idle colour whose traffic and cost the test sets, recording what it tore down. */
export class FakeIdleColours implements IdleColours {
  takes = false;
  hourly: IdleCost = { hourlyUsd: 0, basis: 'no provisioned concurrency: no cost while idle' };
  failWith: Error | undefined;
  readonly tornDown: { colour: string; protectedColours: string[]; idleSince: string }[] = [];

  async takesTraffic() {
    return this.takes;
  }

  async cost() {
    return { ...this.hourly };
  }

  async tearDown(
    _service: ServiceConfig,
    colour: string,
    options: { idleSince: Date; now: Date; protectedColours: ReadonlySet<string> },
  ) {
    if (this.failWith) throw this.failWith;
    if (this.tornDown.some((done) => done.colour === colour)) return [];
    this.tornDown.push({
      colour,
      protectedColours: [...options.protectedColours].sort(),
      idleSince: options.idleSince.toISOString(),
    });
    return [`Deleted version ${colour}`];
  }
}

/** Slack's Web API as far as the approval steps use it. */
export class RecordingSlack implements SlackMessenger {
  readonly posted: { channel: string; message: SlackMessage; ts: string }[] = [];
  readonly updated: { ref: SlackMessageRef; message: SlackMessage }[] = [];

  async postMessage(channel: string, message: SlackMessage) {
    const ts = `1700000000.${String(this.posted.length + 1).padStart(6, '0')}`;
    this.posted.push({ channel, message, ts });
    return { channel, ts };
  }

  async updateMessage(ref: SlackMessageRef, message: SlackMessage) {
    this.updated.push({ ref: { ...ref }, message });
  }

  async postEphemeral() {}

  async listUsergroupMembers() {
    return [];
  }
}

/**
 * Makes the next `times` calls of `object[method]` throw `error` before doing anything, as an
 * AWS call that fails before its effect; later calls go through.
 */
export function failNext<T extends object, K extends keyof T & string>(
  object: T,
  method: K,
  error: Error,
  times = 1,
): void {
  const original = object[method] as unknown as (...args: unknown[]) => Promise<unknown>;
  let left = times;
  Object.defineProperty(object, method, {
    configurable: true,
    writable: true,
    value: async (...args: unknown[]) => {
      if (left > 0) {
        left -= 1;
        throw error;
      }
      return original.apply(object, args);
    },
  });
}

/** Every port a step may work through, in memory, with the clock the test moves. */
export interface FakeWorld {
  clock: TestClock;
  ledger: MemoryLedger;
  lock: MemoryLock;
  events: RecordingEvents;
  alarms: ScriptedAlarms;
  metrics: ScriptedMetrics;
  bakes: MemoryBakes;
  callbacks: RecordingCallbacks;
  target: FakeTarget;
  approvals: MemoryApprovals;
  commands: MemoryCommandLog;
  requests: RecordingRequests;
  teardowns: MemoryTeardowns;
  idle: FakeIdleColours;
  slack: RecordingSlack;
  migrations: ScriptedMigrationRunner;
  /** All of the above as the steps take them (`deps`). */
  deps: OperatorDependencies &
    TeardownStepDependencies & { approvals: MemoryApprovals; slack: RecordingSlack };
}

export function aFakeWorld(
  options: { services?: ServiceConfig[]; releases?: ReleaseRecord[]; clock?: TestClock } = {},
): FakeWorld {
  const clock = options.clock ?? aTestClock();
  const callbacks = new RecordingCallbacks();
  const world = {
    clock,
    ledger: new MemoryLedger(options.releases),
    lock: new MemoryLock(callbacks),
    events: new RecordingEvents(),
    alarms: new ScriptedAlarms(),
    metrics: new ScriptedMetrics(),
    bakes: new MemoryBakes(),
    callbacks,
    target: new FakeTarget(),
    approvals: new MemoryApprovals(),
    commands: new MemoryCommandLog(),
    requests: new RecordingRequests(),
    teardowns: new MemoryTeardowns(),
    idle: new FakeIdleColours(),
    slack: new RecordingSlack(),
    migrations: new ScriptedMigrationRunner(),
  };
  const deps: FakeWorld['deps'] = {
    config: {
      ledgerTable: 'ledger',
      idempotencyTable: 'idempotency',
      busName: 'greenlight',
      registryTable: 'registry',
      idempotencyTtlSeconds: 3600,
    },
    registry: new StaticServiceRegistry(options.services ?? [aService()]),
    ...world,
    targetFor: () => world.target,
    idleColoursFor: () => world.idle,
    // Step tests never reach Powertools' idempotency layer: they call `run` directly.
    dynamo: undefined as unknown as DynamoDBClient,
    now: () => clock.now(),
  };
  return { ...world, deps };
}
