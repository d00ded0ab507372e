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

export interface ScheduleRecord {
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
