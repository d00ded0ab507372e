import { ReleaseFunction } from '../../workflows/release.ts';

/**
 * greenlight's functions outside the workflow: the Slack interactivity endpoint (a function
 * URL) and the operator function (the bus's Operator Command rule).
 */
export const EdgeFunction = {
  SlackInteractions: 'slack-interactions',
  Operator: 'operator',
} as const;
export type EdgeFunction = (typeof EdgeFunction)[keyof typeof EdgeFunction];

/** Every Lambda function greenlight deploys, by logical name (functions/<name>.ts). */
export const GreenlightFunction = { ...ReleaseFunction, ...EdgeFunction } as const;
export type GreenlightFunction = ReleaseFunction | EdgeFunction;

/** Functions that talk to Slack's Web API: they get the bot token. */
export const SlackFunctions: ReadonlySet<GreenlightFunction> = new Set([
  GreenlightFunction.RequestApproval,
  GreenlightFunction.ApprovalTimeout,
  GreenlightFunction.SlackInteractions,
]);
