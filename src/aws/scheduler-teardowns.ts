import {
  CreateScheduleCommand,
  GetScheduleCommand,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { atExpression, parseAtExpression } from '../core/idle-colour.ts';
import type { TeardownScheduler, TeardownTarget } from '../core/ports.ts';

export interface SchedulerTeardownsOptions {
  client: SchedulerClient;
  /** greenlight's schedule group: the scheduler role trusts only its schedules. */
  groupName: string;
  /** The role EventBridge Scheduler assumes to invoke `targetArn`. */
  roleArn: string;
  /** The teardown function. */
  targetArn: string;
}

/**
 * Teardowns as one-time EventBridge Scheduler schedules: `at(...)` in UTC, no flexible window,
 * deleted by Scheduler once they have fired. The name is the idempotency key: creating one that
 * exists is a ConflictException, which means a retry of our own create.
 */
export class SchedulerTeardowns implements TeardownScheduler {
  readonly #client: SchedulerClient;
  readonly #options: Omit<SchedulerTeardownsOptions, 'client'>;

  constructor(options: SchedulerTeardownsOptions) {
    this.#client = options.client;
    this.#options = {
      groupName: options.groupName,
      roleArn: options.roleArn,
      targetArn: options.targetArn,
    };
  }

  async schedule(request: {
    name: string;
    at: Date;
    target: TeardownTarget;
  }): Promise<{ name: string; at: Date; created: boolean }> {
    try {
      await this.#client.send(
        new CreateScheduleCommand({
          Name: request.name,
          GroupName: this.#options.groupName,
          ScheduleExpression: atExpression(request.at),
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          State: 'ENABLED',
          Description: `greenlight: tear down ${request.target.service}'s idle colour ${request.target.colour} after release ${request.target.releaseId}`,
          Target: {
            Arn: this.#options.targetArn,
            RoleArn: this.#options.roleArn,
            Input: JSON.stringify(request.target),
            // A failed teardown is retried for a day; after that the daily sweeper finds it.
            RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
          },
        }),
      );
      return { name: request.name, at: request.at, created: true };
    } catch (error) {
      if (!(error instanceof Error && error.name === 'ConflictException')) throw error;
    }
    const existing = await this.#client.send(
      new GetScheduleCommand({ Name: request.name, GroupName: this.#options.groupName }),
    );
    const at = parseAtExpression(existing.ScheduleExpression ?? '');
    return { name: request.name, at: at ?? request.at, created: false };
  }
}
