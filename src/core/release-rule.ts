import { ReleaseRequestedDetailType } from './release-event.ts';

/**
 * EventBridge pattern of the rule that starts a release. It matches on `detail-type` alone on
 * purpose: a malformed detail must still reach the workflow, which rejects it with field-level
 * reasons and a "Release Rejected" event, rather than being dropped silently by the rule.
 */
export const releaseRulePattern = {
  'detail-type': [ReleaseRequestedDetailType],
} as const;

/**
 * EventBridge pattern of the rule that cuts bakes short: a watched alarm entering ALARM.
 * Listing the registered services' alarms keeps every other alarm in the account away from
 * greenlight.
 */
export function alarmRulePattern(alarmNames: readonly string[]) {
  return {
    source: ['aws.cloudwatch'],
    'detail-type': ['CloudWatch Alarm State Change'],
    detail: { alarmName: [...alarmNames], state: { value: ['ALARM'] } },
  };
}
