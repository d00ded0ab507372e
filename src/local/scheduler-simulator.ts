import { parseAtExpression } from '../core/idle-colour.ts';
import { AwsFault, clientFault } from './aws-protocol/fault.ts';
import { strictOptionalString } from './aws-protocol/fields.ts';
import {
  epochSeconds,
  parseJsonObject,
  restJsonFault,
  restJsonResult,
} from './aws-protocol/json.ts';
import { pageAt, readOffsetMarker } from './aws-protocol/pages.ts';
import type { LocalRequest, LocalResponse, LocalService } from './http.ts';

/** What a fired schedule hands its target: the target's ARN and its `Input` document. */
export type ScheduleTargetInvoker = (targetArn: string, input: string) => Promise<void>;

export interface LocalSchedulerOptions {
  /** @default 'us-east-1' */
  region?: string;
  /** @default '000000000000' */
  accountId?: string;
  /**
   * The clock schedules are due by. Tests hold it back or move it on to decide exactly when a
   * schedule fires. @default () => new Date()
   */
  now?: () => Date;
  /** Runs a due schedule's target; a rejection counts as a failed invocation and is retried. */
  invoke: ScheduleTargetInvoker;
  /** How often due schedules are looked for, in real milliseconds. @default 100 */
  tickMs?: number;
  /** Real milliseconds before a failed invocation is tried again. @default 1000 */
  retryDelayMs?: number;
}

/** One invocation of a schedule's target, for tests and the demo to look at. */
export interface ScheduleFiring {
  name: string;
  groupName: string;
  /** When the schedule was due. */
  dueAt: Date;
  /** The scheduler's clock when it invoked the target. */
  firedAt: Date;
  attempt: number;
  /** `ok`, or the error the target answered with. */
  outcome: string;
}

interface ScheduleRecord {
  name: string;
  groupName: string;
  expression: string;
  timezone: string;
  state: 'ENABLED' | 'DISABLED';
  description?: string;
  flexibleTimeWindow: { Mode: string; MaximumWindowInMinutes?: number };
  actionAfterCompletion: 'NONE' | 'DELETE';
  target: {
    Arn: string;
    RoleArn: string;
    Input?: string;
    RetryPolicy?: { MaximumEventAgeInSeconds?: number; MaximumRetryAttempts?: number };
  };
  createdAt: Date;
  modifiedAt: Date;
  /** Time of the one-time (`at`) schedule; recurring ones are kept but never fired here. */
  dueAt?: Date;
  /** Set once it has fired (successfully, or out of retries): a one-time schedule fires once. */
  completed: boolean;
  attempts: number;
  /** Real time before which a failed invocation is not tried again. */
  retryAfter?: number;
  firing: boolean;
}

const schedulesPath = '/schedules';
const defaultGroup = 'default';
const namePattern = /^[0-9a-zA-Z-_.]{1,64}$/;
const maxRetryAttempts = 185;
const maxEventAgeSeconds = 86_400;

/**
 * EventBridge Scheduler for the local cloud, on the REST-JSON protocol of the unmodified
 * `@aws-sdk/client-scheduler`: CreateSchedule, GetSchedule, DeleteSchedule and ListSchedules,
 * with the validation AWS documents for them. One-time `at(...)` schedules really fire: when
 * the clock passes their time, the target is invoked with the schedule's Input, failures are
 * retried under the target's RetryPolicy, and `ActionAfterCompletion: DELETE` removes the
 * schedule once done. IAM (the target's RoleArn) is not modelled. Only UTC schedules.
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
          return restJsonResult(200, this.#describe(this.#require(group, name)));
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
    if (!namePattern.test(name)) {
      throw validation(
        `Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9a-zA-Z-_.]+ and have length between 1 and 64`,
      );
    }
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
    const expression = requiredString(body, 'ScheduleExpression');
    const timezone = optionalString(body, 'ScheduleExpressionTimezone') ?? 'UTC';
    if (timezone !== 'UTC') {
      throw validation(
        `The local cloud evaluates schedules in UTC only, got ScheduleExpressionTimezone ${timezone}.`,
      );
    }
    const dueAt = expression.startsWith('at(') ? parseAtExpression(expression) : undefined;
    if (expression.startsWith('at(') && dueAt === undefined) {
      throw validation(
        `Invalid Schedule Expression ${expression}. An at expression is at(yyyy-mm-ddThh:mm:ss).`,
      );
    }
    if (!/^(at|rate|cron)\(.+\)$/.test(expression)) {
      throw validation(`Invalid Schedule Expression ${expression}.`);
    }
    const window = body.FlexibleTimeWindow as
      | { Mode?: unknown; MaximumWindowInMinutes?: unknown }
      | undefined;
    if (window === undefined || (window.Mode !== 'OFF' && window.Mode !== 'FLEXIBLE')) {
      throw validation('FlexibleTimeWindow is required, with Mode OFF or FLEXIBLE.');
    }
    if (window.Mode === 'FLEXIBLE') {
      const minutes = window.MaximumWindowInMinutes;
      if (typeof minutes !== 'number' || minutes < 1 || minutes > 1440) {
        throw validation(
          'MaximumWindowInMinutes must be between 1 and 1440 when Mode is FLEXIBLE.',
        );
      }
    }
    const action = optionalString(body, 'ActionAfterCompletion') ?? 'NONE';
    if (action !== 'NONE' && action !== 'DELETE') {
      throw validation(`ActionAfterCompletion must be NONE or DELETE, got ${action}.`);
    }
    const state = optionalString(body, 'State') ?? 'ENABLED';
    if (state !== 'ENABLED' && state !== 'DISABLED') {
      throw validation(`State must be ENABLED or DISABLED, got ${state}.`);
    }
    const target = body.Target as ScheduleRecord['target'] | undefined;
    if (
      target === undefined ||
      typeof target.Arn !== 'string' ||
      typeof target.RoleArn !== 'string' ||
      !target.Arn.startsWith('arn:') ||
      !target.RoleArn.startsWith('arn:')
    ) {
      throw validation('Target needs an Arn and a RoleArn.');
    }
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

  #describe(schedule: ScheduleRecord): Record<string, unknown> {
    return {
      Arn: this.#arn(schedule),
      Name: schedule.name,
      GroupName: schedule.groupName,
      ScheduleExpression: schedule.expression,
      ScheduleExpressionTimezone: schedule.timezone,
      State: schedule.state,
      ...(schedule.description === undefined ? {} : { Description: schedule.description }),
      FlexibleTimeWindow: schedule.flexibleTimeWindow,
      ActionAfterCompletion: schedule.actionAfterCompletion,
      Target: schedule.target,
      CreationDate: epochSeconds(schedule.createdAt),
      LastModificationDate: epochSeconds(schedule.modifiedAt),
    };
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
    const schedules = page.items.map((s) => ({
      Arn: this.#arn(s),
      Name: s.name,
      GroupName: s.groupName,
      State: s.state,
      CreationDate: epochSeconds(s.createdAt),
      LastModificationDate: epochSeconds(s.modifiedAt),
      Target: { Arn: s.target.Arn },
    }));
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

  #arn(schedule: ScheduleRecord): string {
    return `arn:aws:scheduler:${this.#region}:${this.#accountId}:schedule/${schedule.groupName}/${schedule.name}`;
  }
}

function keyOf(group: string, name: string): string {
  return `${group}/${name}`;
}

const validation = clientFault('ValidationException');

function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  return strictOptionalString(body, field, validation);
}

function requiredString(body: Record<string, unknown>, field: string): string {
  const value = optionalString(body, field);
  if (value === undefined || value === '') throw validation(`${field} is required.`);
  return value;
}

function parseBody(request: LocalRequest): Record<string, unknown> {
  return parseJsonObject(request, validation, 'Could not parse the request body as JSON.');
}
