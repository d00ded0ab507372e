import { parseAtExpression } from '../../core/idle-colour.ts';
import { clientFault } from '../aws-protocol/fault.ts';
import { strictOptionalString } from '../aws-protocol/fields.ts';
import type { ScheduleRecord } from './types.ts';

/**
 * What EventBridge Scheduler refuses, per its API reference
 * (https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html): each
 * check answers ValidationException and changes nothing.
 */
export const validation = clientFault('ValidationException');

const namePattern = /^[0-9a-zA-Z-_.]{1,64}$/;

export function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  return strictOptionalString(body, field, validation);
}

function requiredString(body: Record<string, unknown>, field: string): string {
  const value = optionalString(body, field);
  if (value === undefined || value === '') throw validation(`${field} is required.`);
  return value;
}

export function checkScheduleName(name: string): void {
  if (!namePattern.test(name)) {
    throw validation(
      `Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9a-zA-Z-_.]+ and have length between 1 and 64`,
    );
  }
}

export interface ScheduleBody {
  expression: string;
  timezone: string;
  /** Time of a one-time (`at`) schedule. */
  dueAt: Date | undefined;
  window: ScheduleRecord['flexibleTimeWindow'];
  action: ScheduleRecord['actionAfterCompletion'];
  state: ScheduleRecord['state'];
  target: ScheduleRecord['target'];
}

/** CreateSchedule's members other than name and group, checked in the order AWS lists them. */
export function readScheduleBody(body: Record<string, unknown>): ScheduleBody {
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
      throw validation('MaximumWindowInMinutes must be between 1 and 1440 when Mode is FLEXIBLE.');
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
  return {
    expression,
    timezone,
    dueAt,
    window: window as ScheduleRecord['flexibleTimeWindow'],
    action,
    state,
    target,
  };
}
