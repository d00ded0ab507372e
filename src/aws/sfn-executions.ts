import { DescribeExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { ExecutionStatus } from '../core/ports.ts';

export interface SfnExecutionsOptions {
  client: SFNClient;
}

/** Whether a release's execution still runs (DescribeExecution). */
export class SfnExecutions implements ExecutionStatus {
  readonly #client: SFNClient;

  constructor(options: SfnExecutionsOptions) {
    this.#client = options.client;
  }

  async isRunning(executionId: string): Promise<boolean> {
    try {
      const result = await this.#client.send(
        new DescribeExecutionCommand({ executionArn: executionId }),
      );
      // RUNNING or PENDING_REDRIVE (a redrive is about to run it again): not ended.
      return result.status === 'RUNNING' || result.status === 'PENDING_REDRIVE';
    } catch (error) {
      // Gone (an execution's history is kept 90 days) or never here: it runs nothing.
      if (error instanceof Error && error.name === 'ExecutionDoesNotExist') return false;
      throw error;
    }
  }
}
