import { ReleaseFunction } from '../../workflows/release.ts';

/** Functions outside the release workflow, invoked on a schedule. */
export const ScheduledFunction = {
  /** Invoked by a release's one-time schedule at the end of its warm window. */
  Teardown: 'teardown',
  /** Invoked daily: tears down idle colours left warm past their window. */
  Sweeper: 'sweeper',
} as const;
export type ScheduledFunction = (typeof ScheduledFunction)[keyof typeof ScheduledFunction];

/** Every Lambda function greenlight deploys (functions/<name>.ts), each with its own role. */
export const GreenlightFunction = { ...ReleaseFunction, ...ScheduledFunction } as const;
export type GreenlightFunction = (typeof GreenlightFunction)[keyof typeof GreenlightFunction];
