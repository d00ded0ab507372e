import { epochSeconds, parseJsonObject } from '../aws-protocol/json.ts';
import type { LocalRequest } from '../http.ts';
import { validation } from './rules.ts';
import type { ScheduleRecord } from './types.ts';

/**
 * EventBridge Scheduler's REST-JSON wire codec: its path, request bodies, and the Schedule and
 * ScheduleSummary documents (timestamps as epoch seconds).
 */
export const schedulesPath = '/schedules';

export function parseBody(request: LocalRequest): Record<string, unknown> {
  return parseJsonObject(request, validation, 'Could not parse the request body as JSON.');
}

export function renderSchedule(
  schedule: ScheduleRecord,
  arn: (schedule: ScheduleRecord) => string,
): Record<string, unknown> {
  return {
    Arn: arn(schedule),
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
export function renderSummary(
  schedule: ScheduleRecord,
  arn: (schedule: ScheduleRecord) => string,
): Record<string, unknown> {
  return {
    Arn: arn(schedule),
    Name: schedule.name,
    GroupName: schedule.groupName,
    State: schedule.state,
    CreationDate: epochSeconds(schedule.createdAt),
    LastModificationDate: epochSeconds(schedule.modifiedAt),
    Target: { Arn: schedule.target.Arn },
  };
}
