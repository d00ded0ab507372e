import { ReleaseFunction } from '../../workflows/release.ts';

/** Functions outside the release workflow, invoked on a schedule. */
export const ScheduledFunction = {
  /** Invoked by a release's one-time schedule at the end of its warm window. */
  Teardown: 'teardown',
  /** Invoked daily: tears down idle colours left warm past their window. */
  Sweeper: 'sweeper',
} as const;
export type ScheduledFunction = (typeof ScheduledFunction)[keyof typeof ScheduledFunction];

/**
 * greenlight's functions outside the workflow, invoked by what happens outside it: the Slack
 * interactivity endpoint (a function URL), the operator function (the bus's Operator Command
 * rule) and the alarm-event function (the default bus's rule for the gate alarms' state
 * changes, which cuts a bake short within seconds).
 */
export const EdgeFunction = {
  SlackInteractions: 'slack-interactions',
  Operator: 'operator',
  AlarmEvent: 'alarm-event',
} as const;
export type EdgeFunction = (typeof EdgeFunction)[keyof typeof EdgeFunction];

/**
 * Every Lambda function greenlight deploys, by logical name (functions/<name>.ts), each with
 * its own role.
 */
export const GreenlightFunction = {
  ...ReleaseFunction,
  ...ScheduledFunction,
  ...EdgeFunction,
} as const;
export type GreenlightFunction = (typeof GreenlightFunction)[keyof typeof GreenlightFunction];

/** Functions that talk to Slack's Web API: they get the bot token. */
export const SlackFunctions: ReadonlySet<GreenlightFunction> = new Set([
  GreenlightFunction.RequestApproval,
  GreenlightFunction.ApprovalTimeout,
  GreenlightFunction.SlackInteractions,
]);
