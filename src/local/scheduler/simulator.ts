import { AwsFault } from '../aws-protocol/fault.ts';
import { restJsonFault, restJsonResult } from '../aws-protocol/json.ts';
import { pageAt, readOffsetMarker } from '../aws-protocol/pages.ts';
import type { LocalRequest, LocalResponse, LocalService } from '../http.ts';
import { checkScheduleName, optionalString, readScheduleBody, validation } from './rules.ts';
import type {
  LocalSchedulerOptions,
  ScheduleFiring,
  ScheduleRecord,
  ScheduleTargetInvoker,
} from './types.ts';
import { parseBody, renderSchedule, renderSummary, schedulesPath } from './wire.ts';

const defaultGroup = 'default';
const maxRetryAttempts = 185;
const maxEventAgeSeconds = 86_400;

/**
 * EventBridge Scheduler for the local cloud, on the REST-JSON protocol of the unmodified
 * `@aws-sdk/client-scheduler`: CreateSchedule, GetSchedule, DeleteSchedule and ListSchedules,
 * with the validation AWS documents for them. One-time `at(...)` schedules really fire: when
 * the clock passes their time, the target is invoked with the schedule's Input, failures are
 * retried under the target's RetryPolicy, and `ActionAfterCompletion: DELETE` removes the
 * schedule once done. IAM (the target's RoleArn) is not modelled. Only UTC schedules.
 *
 * Its seams: wire.ts (routes, bodies and documents), rules.ts (what Scheduler refuses); this
 * class holds groups and schedules and fires them.
 */
export class LocalScheduler implements LocalService {
  readonly name = 'scheduler';
  readonly #region: string;
  readonly #accountId: string;
  readonly #now: () => Date;
  readonly #invoke: ScheduleTargetInvoker;
  readonly #retryDelayMs: number;
  readonly #groups = new Set<string>([defaultGroup]);
  readonly #schedules = new Map<string, ScheduleRecord>();
  readonly #firings: ScheduleFiring[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  readonly #timer: NodeJS.Timeout;

  constructor(options: LocalSchedulerOptions) {
    this.#region = options.region ?? 'us-east-1';
    this.#accountId = options.accountId ?? '000000000000';
    this.#now = options.now ?? (() => new Date());
    this.#invoke = options.invoke;
    this.#retryDelayMs = options.retryDelayMs ?? 1_000;
    this.#timer = setInterval(() => void this.fireDue(), options.tickMs ?? 100);
    this.#timer.unref();
  }

  /** Makes a schedule group, as the stack does for greenlight's. */
  createGroup(name: string): void {
    this.#groups.add(name);
  }

  /** Every invocation so far, oldest first. */
  firings(): ScheduleFiring[] {
    return [...this.#firings];
  }

  /** Schedules that exist now (deleted ones are gone), as `group/name` → expression. */
  schedules(): Record<string, string> {
    return Object.fromEntries(
      [...this.#schedules.values()].map((s) => [`${s.groupName}/${s.name}`, s.expression]),
    );
  }

  /**
   * Invokes every schedule that is due by the clock and not yet done; resolves when those
   * invocations have ended. The timer calls it; tests may call it after moving the clock.
   */
  async fireDue(): Promise<void> {
    const now = this.#now();
    const due = [...this.#schedules.values()].filter(
      (schedule) =>
        schedule.state === 'ENABLED' &&
        !schedule.completed &&
        !schedule.firing &&
        schedule.dueAt !== undefined &&
        schedule.dueAt.getTime() <= now.getTime() &&
        (schedule.retryAfter === undefined || schedule.retryAfter <= Date.now()),
    );
    await Promise.all(due.map((schedule) => this.#fire(schedule, now)));
  }

  /** Stops firing; waits for invocations under way. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.allSettled([...this.#inFlight]);
  }

  async handle(request: LocalRequest): Promise<LocalResponse | undefined> {
    const url = new URL(request.url, 'http://local');
    if (url.pathname !== schedulesPath && !url.pathname.startsWith(`${schedulesPath}/`)) {
      return undefined;
    }
    const name = decodeURIComponent(url.pathname.slice(schedulesPath.length + 1));
    try {
      if (name === '') {
        if (request.method === 'GET') return restJsonResult(200, this.#list(url.searchParams));
        return undefined;
      }
      const group = url.searchParams.get('groupName') ?? defaultGroup;
      switch (request.method) {
        case 'POST':
          return restJsonResult(200, this.#create(name, parseBody(request)));
        case 'GET':
          return restJsonResult(200, renderSchedule(this.#require(group, name), this.#arn));
        case 'DELETE':
          this.#require(group, name);
          this.#schedules.delete(keyOf(group, name));
          return restJsonResult(200, {});
        default:
          return undefined;
      }
    } catch (error) {
      if (error instanceof AwsFault) return restJsonFault(error);
      throw error;
    }
  }

  #create(name: string, body: Record<string, unknown>): Record<string, unknown> {
    checkScheduleName(name);
    const groupName = optionalString(body, 'GroupName') ?? defaultGroup;
    if (!this.#groups.has(groupName)) {
      throw new AwsFault(
        404,
        'ResourceNotFoundException',
        `Schedule group ${groupName} does not exist.`,
      );
    }
    if (this.#schedules.has(keyOf(groupName, name))) {
      throw new AwsFault(409, 'ConflictException', `Schedule ${name} already exists.`);
    }
    const { expression, timezone, dueAt, window, action, state, target } = readScheduleBody(body);
    const now = this.#now();
    const description = optionalString(body, 'Description');
    const record: ScheduleRecord = {
      name,
      groupName,
      expression,
      timezone,
      state,
      ...(description === undefined ? {} : { description }),
      flexibleTimeWindow: window as ScheduleRecord['flexibleTimeWindow'],
      actionAfterCompletion: action,
      target,
      createdAt: now,
      modifiedAt: now,
      ...(dueAt === undefined ? {} : { dueAt }),
      completed: false,
      attempts: 0,
      firing: false,
    };
    this.#schedules.set(keyOf(groupName, name), record);
    return { ScheduleArn: this.#arn(record) };
  }

  #list(query: URLSearchParams): Record<string, unknown> {
    const group = query.get('ScheduleGroup');
    const prefix = query.get('NamePrefix') ?? '';
    const state = query.get('State');
    const all = [...this.#schedules.values()]
      .filter((s) => (group === null || s.groupName === group) && s.name.startsWith(prefix))
      .filter((s) => state === null || s.state === state)
      .sort((a, b) => a.name.localeCompare(b.name));
    const start = readOffsetMarker(
      query.get('NextToken'),
      all.length,
      validation,
      'The NextToken is invalid.',
    );
    const max = Math.min(Math.max(Number(query.get('MaxResults') ?? '100') || 100, 1), 100);
    const page = pageAt(all, start, max);
    const schedules = page.items.map((s) => renderSummary(s, this.#arn));
    return {
      Schedules: schedules,
      ...(page.next === undefined ? {} : { NextToken: String(page.next) }),
    };
  }

  #fire(schedule: ScheduleRecord, now: Date): Promise<void> {
    schedule.firing = true;
    schedule.attempts += 1;
    const running = this.#invoke(schedule.target.Arn, schedule.target.Input ?? '{}').then(
      () => 'ok',
      (error: unknown) =>
        error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    );
    const settled = running.then((outcome) => {
      this.#firings.push({
        name: schedule.name,
        groupName: schedule.groupName,
        dueAt: schedule.dueAt ?? now,
        firedAt: now,
        attempt: schedule.attempts,
        outcome,
      });
      schedule.firing = false;
      const policy = schedule.target.RetryPolicy ?? {};
      const attemptsLeft =
        schedule.attempts <= (policy.MaximumRetryAttempts ?? maxRetryAttempts) &&
        now.getTime() - (schedule.dueAt ?? now).getTime() <
          (policy.MaximumEventAgeInSeconds ?? maxEventAgeSeconds) * 1_000;
      if (outcome !== 'ok' && attemptsLeft) {
        schedule.retryAfter = Date.now() + this.#retryDelayMs;
        return;
      }
      schedule.completed = true;
      if (schedule.actionAfterCompletion === 'DELETE') {
        this.#schedules.delete(keyOf(schedule.groupName, schedule.name));
      }
    });
    this.#inFlight.add(settled);
    return settled.finally(() => this.#inFlight.delete(settled));
  }

  #require(group: string, name: string): ScheduleRecord {
    const schedule = this.#schedules.get(keyOf(group, name));
    if (schedule === undefined) {
      throw new AwsFault(404, 'ResourceNotFoundException', `Schedule ${name} does not exist.`);
    }
    return schedule;
  }

  readonly #arn = (schedule: ScheduleRecord): string =>
    `arn:aws:scheduler:${this.#region}:${this.#accountId}:schedule/${schedule.groupName}/${schedule.name}`;
}

function keyOf(group: string, name: string): string {
  return `${group}/${name}`;
}
