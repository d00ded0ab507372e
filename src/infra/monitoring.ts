import { ErrorName } from '../core/errors.ts';
import { GreenlightFunction } from './functions.ts';
import type { GreenlightNames } from './names.ts';

/** Custom metrics greenlight derives from its own logs. */
export const GreenlightMetrics = {
  handlerFaults: 'HandlerFaults',
  executionFaults: 'ExecutionFaults',
  /** Task tokens answered with something the ledger does not back (verify-callback). */
  forgedCallbacks: 'ForgedCallbacks',
} as const;

/**
 * Errors a release execution ends with on purpose: a rollback (the release failed, greenlight
 * did its job), a rejected event, and the lock's refusals (an older build than the live one, a
 * request superseded by a newer one, a busy service under lock policy "reject"). Step Functions
 * counts all of them in ExecutionsFailed, so that metric cannot tell an unhealthy orchestrator
 * from a bad release; the log filter can.
 */
export const VerdictErrors = [
  'ReleaseRolledBack',
  'InvalidReleaseEvent',
  ErrorName.OlderThanLive,
  ErrorName.ReleaseSuperseded,
  ErrorName.ServiceBusy,
] as const;

export interface LogMetricFilterSpec {
  name: string;
  namespace: string;
  logGroupName: string;
  pattern: string;
  metricName: string;
}

/**
 * Handlers log domain verdicts (GreenTestFailed, AlarmGateFailed, ...) at WARN and faults at
 * ERROR (src/runtime/step-handler.ts); Lambda's own Errors metric counts both.
 */
export function handlerFaultFilters(names: GreenlightNames): LogMetricFilterSpec[] {
  return Object.values(GreenlightFunction).map((fn) => ({
    name: `${names.functionName(fn)}-faults`,
    logGroupName: names.functionLogGroup(fn),
    namespace: names.metricNamespace,
    pattern: '{ $.level = "ERROR" }',
    metricName: GreenlightMetrics.handlerFaults,
  }));
}

/** Execution failures other than verdicts, from the state machine's execution log (level ALL). */
export function executionFaultFilter(names: GreenlightNames): LogMetricFilterSpec {
  const notVerdict = VerdictErrors.map((error) => `$.details.error != "${error}"`).join(' && ');
  return {
    name: `${names.stateMachine}-faults`,
    logGroupName: names.stateMachineLogGroup,
    namespace: names.metricNamespace,
    pattern: `{ ($.type = "ExecutionFailed" && ${notVerdict}) || $.type = "ExecutionTimedOut" || $.type = "ExecutionAborted" }`,
    metricName: GreenlightMetrics.executionFaults,
  };
}

/**
 * Answers to a task token that the ledger does not back. verify-callback logs its output at
 * INFO (`forged: true` when the answer was not backed and the wait went on) or ends with
 * ApprovalNotRecorded at WARN (a success nobody decided, which ends the release). Neither is a
 * fault of greenlight, so neither reaches the handler-faults filter: this one counts them.
 * Filter syntax: CloudWatch Logs User Guide, "Filter pattern syntax for metric filters"
 * (JSON terms, `IS TRUE`, `||`).
 */
export function forgedCallbackFilter(names: GreenlightNames): LogMetricFilterSpec {
  return {
    name: `${names.functionName(GreenlightFunction.VerifyCallback)}-forged`,
    logGroupName: names.functionLogGroup(GreenlightFunction.VerifyCallback),
    namespace: names.metricNamespace,
    pattern: '{ ($.output.forged IS TRUE) || ($.error.name = "ApprovalNotRecorded") }',
    metricName: GreenlightMetrics.forgedCallbacks,
  };
}

export interface AlarmSpec {
  name: string;
  description: string;
  namespace: string;
  metricName: string;
  dimensions?: Record<string, string>;
  statistic: 'Sum' | 'Maximum';
  periodSeconds: number;
  evaluationPeriods: number;
  threshold: number;
}

/**
 * Alarms on greenlight itself: any fault is worth a look, because each one is a release that
 * may be stuck or a rollback that may not have happened. Missing data is "not breaching":
 * quiet hours are healthy.
 */
export function orchestratorAlarms(names: GreenlightNames): AlarmSpec[] {
  return [
    {
      name: names.alarmName('execution-faults'),
      description:
        'A release execution failed for a reason other than a rollback or a rejected event, timed out or was aborted. Look at the execution in Step Functions and at greenlight status.',
      namespace: names.metricNamespace,
      metricName: GreenlightMetrics.executionFaults,
      statistic: 'Sum',
      periodSeconds: 300,
      evaluationPeriods: 1,
      threshold: 1,
    },
    {
      name: names.alarmName('handler-faults'),
      description:
        'A greenlight step logged an ERROR (a fault, not a release verdict). Search the step functions’ logs for level ERROR.',
      namespace: names.metricNamespace,
      metricName: GreenlightMetrics.handlerFaults,
      statistic: 'Sum',
      periodSeconds: 300,
      evaluationPeriods: 1,
      threshold: 1,
    },
    {
      name: names.alarmName('forged-callbacks'),
      description:
        'A release’s task token was answered (SendTaskSuccess or SendTaskFailure) with something the ledger does not back: someone who can read tokens called Step Functions directly. Nothing took effect; the release’s timeline has a "callback" entry. Find the caller in CloudTrail (states:SendTaskSuccess, states:SendTaskFailure).',
      namespace: names.metricNamespace,
      metricName: GreenlightMetrics.forgedCallbacks,
      statistic: 'Sum',
      periodSeconds: 300,
      evaluationPeriods: 1,
      threshold: 1,
    },
    {
      name: names.alarmName('dlq-depth'),
      description: `Release Requested events EventBridge could not deliver to the state machine wait in ${names.deadLetterQueue}. Resend them once the cause is fixed.`,
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: names.deadLetterQueue },
      statistic: 'Maximum',
      periodSeconds: 300,
      evaluationPeriods: 1,
      threshold: 1,
    },
  ];
}
