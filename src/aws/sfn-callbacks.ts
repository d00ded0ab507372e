import {
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { CallbackOutcome, TaskCallbacks } from '../core/ports.ts';

export interface SfnTaskCallbacksOptions {
  client: SFNClient;
}

// Errors meaning the wait is over: the token was answered, timed out, or never existed here.
// Nothing to retry and nothing broken: the caller reports it.
const endedWaits = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

// SendTaskFailure limits: error 256 characters, cause 32768.
const maxErrorLength = 256;
const maxCauseLength = 32_768;

/** Answers `.waitForTaskToken` tasks with SendTaskSuccess / SendTaskFailure. */
export class SfnTaskCallbacks implements TaskCallbacks {
  readonly #client: SFNClient;

  constructor(options: SfnTaskCallbacksOptions) {
    this.#client = options.client;
  }

  succeed(taskToken: string, output: unknown): Promise<CallbackOutcome> {
    return this.#send(
      taskToken,
      'SendTaskSuccess',
      new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output ?? null) }),
    );
  }

  fail(taskToken: string, error: string, cause: string): Promise<CallbackOutcome> {
    return this.#send(
      taskToken,
      'SendTaskFailure',
      new SendTaskFailureCommand({
        taskToken,
        error: error.slice(0, maxErrorLength),
        cause: cause.slice(0, maxCauseLength),
      }),
    );
  }

  async #send(
    taskToken: string,
    operation: string,
    command: SendTaskSuccessCommand | SendTaskFailureCommand,
  ): Promise<CallbackOutcome> {
    try {
      await this.#client.send(command as SendTaskSuccessCommand);
      return { delivered: true };
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      if (endedWaits.has(name)) {
        return { delivered: false, reason: name as 'TaskTimedOut' };
      }
      // Rethrown as a plain error with the same name (callers may retry on it), and with the
      // token cut out of the message: whoever catches this logs it.
      const message = error instanceof Error ? error.message : String(error);
      const safe = new Error(
        `${operation} failed: ${message.replaceAll(taskToken, '[task token]')}`,
      );
      safe.name = name;
      throw safe;
    }
  }
}
