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

/** A ScheduleArn builder, bound to the simulator's region and account. */
export type ArnOf = (schedule: ScheduleRecord) => string;

/** GetSchedule's answer: the summary's members and the whole configuration. */
export function renderSchedule(schedule: ScheduleRecord, arn: ArnOf): Record<string, unknown> {
  return {
    ...renderSummary(schedule, arn),
    ScheduleExpression: schedule.expression,
    ScheduleExpressionTimezone: schedule.timezone,
    ...(schedule.description === undefined ? {} : { Description: schedule.description }),
    FlexibleTimeWindow: schedule.flexibleTimeWindow,
    ActionAfterCompletion: schedule.actionAfterCompletion,
    Target: schedule.target,
  };
}

/** One ScheduleSummary of ListSchedules. */
export function renderSummary(schedule: ScheduleRecord, arn: ArnOf): Record<string, unknown> {
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
