import { LifecycleEventSource, LifecycleEventType } from './phases.ts';
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
 * EventBridge pattern of the rule that cuts bakes short: any alarm entering ALARM. The
 * alarm-event function ignores alarms no bake watches. Listing the registered services' alarms
 * instead would tie the rule to the registry: a service applied with `greenlight config apply`
 * would need a deploy before its alarms reached a bake, and a pattern holds at most 4,096
 * characters (EventBridge API Reference, PutRule: EventPattern), some 150 alarm names.
 */
export const alarmRulePattern = {
  source: ['aws.cloudwatch'],
  'detail-type': ['CloudWatch Alarm State Change'],
  detail: { state: { value: ['ALARM'] } },
} as const;

/**
 * EventBridge pattern of the rule that hands greenlight's own lifecycle events to the
 * release-updates function. `source: "greenlight"` is reserved on the greenlight bus by its
 * policy to greenlight's roles, so CI cannot write into a release's thread. Services without an
 * updates channel are skipped by the function: the pattern stays the same whatever the registry.
 * Only events of a release (with a release id): a request refused before it became one (bad
 * input, unknown service) is a Release Rejected without one, and has no thread; one refused
 * after (ServiceBusy, OlderThanLive) has both. `exists` is EventBridge's "Exists matching"
 * (EventBridge User Guide, "Content filtering in Amazon EventBridge event patterns").
 */
export const releaseUpdatesRulePattern = {
  source: [LifecycleEventSource],
  'detail-type': Object.values(LifecycleEventType),
  detail: { releaseId: [{ exists: true }] },
};
