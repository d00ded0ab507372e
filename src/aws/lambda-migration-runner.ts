import { InvokeCommand, type InvokeCommandOutput, type LambdaClient } from '@aws-sdk/client-lambda';
import { MigrationRunnerFailed, MigrationRunnerReplyInvalid } from '../core/errors.ts';
import { MigrationRunnerReply, type MigrationRunnerRequest } from '../core/migration.ts';
import type { MigrationRunner } from '../core/ports.ts';
import type { MigrationsConfig } from '../core/service-config.ts';

export interface LambdaMigrationRunnerOptions {
  client: LambdaClient;
  /**
   * The signal that ends a call waiting longer than `seconds`; injected so that tests need not
   * wait. @default AbortSignal.timeout
   */
  deadline?: (seconds: number) => AbortSignal;
}

/** The runner's free-form evidence is kept in the ledger up to this size (the contract's 4 KB). */
export const maxEvidenceChars = 4096;

// What of a runner's error we keep: enough to read, bounded for the ledger and the Cause.
const maxErrorChars = 1000;

/**
 * A migration runner that is a Lambda function, invoked synchronously (RequestResponse) with
 * the request as payload. A function error (Lambda sets `FunctionError` and the payload is the
 * runtime's `{errorType, errorMessage, trace}`; a timeout is one, "Task timed out after N
 * seconds") becomes MigrationRunnerFailed with the runner's own type and message. AWS Lambda
 * API Reference, "Invoke" (Response Syntax: X-Amz-Function-Error, Payload) and Developer Guide,
 * "Lambda function errors in Node.js".
 */
export class LambdaMigrationRunner implements MigrationRunner {
  readonly #client: LambdaClient;
  readonly #deadline: (seconds: number) => AbortSignal;

  constructor(options: LambdaMigrationRunnerOptions) {
    this.#client = options.client;
    this.#deadline = options.deadline ?? ((seconds) => AbortSignal.timeout(seconds * 1000));
  }

  async call(
    migrations: MigrationsConfig,
    request: MigrationRunnerRequest,
  ): Promise<MigrationRunnerReply> {
    const runner = migrations.runner;
    if (runner.type !== 'lambda') {
      // MigrationRunners (src/aws/migration-runners.ts) routes by type: a wiring mistake.
      throw new Error(`LambdaMigrationRunner was given a "${runner.type}" runner`);
    }
    const functionName = runner.functionName;
    const what = `Migration runner ${functionName} (${request.action} ${request.migrationId})`;
    let response: InvokeCommandOutput;
    try {
      response = await this.#client.send(
        new InvokeCommand({
          FunctionName: functionName,
          InvocationType: 'RequestResponse',
          Payload: new TextEncoder().encode(JSON.stringify(request)),
        }),
        { abortSignal: this.#deadline(migrations.timeoutSeconds) },
      );
    } catch (error) {
      if (isAbort(error)) {
        throw new MigrationRunnerFailed(
          `${what} did not answer within ${migrations.timeoutSeconds}s (migrations.timeoutSeconds)`,
          { functionName, action: request.action, errorType: 'Timeout' },
        );
      }
      throw error;
    }
    const text = response.Payload ? new TextDecoder().decode(response.Payload) : '';
    if (response.FunctionError !== undefined) {
      const { errorType, errorMessage } = errorDocumentOf(text);
      throw new MigrationRunnerFailed(`${what} failed: ${errorType}: ${errorMessage}`, {
        functionName,
        action: request.action,
        functionError: response.FunctionError,
        errorType,
        errorMessage,
      });
    }
    return parseReply(text, request, what);
  }
}

/** The runner's answer, checked against the contract and against the migration asked about. */
export function parseReply(
  text: string,
  request: MigrationRunnerRequest,
  what: string,
): MigrationRunnerReply {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new MigrationRunnerReplyInvalid(`${what} answered something that is not JSON`, {
      reply: cut(text),
    });
  }
  const parsed = MigrationRunnerReply.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(reply)'}: ${i.message}`);
    throw new MigrationRunnerReplyInvalid(
      `${what} answered something that is not a migration runner reply: ${issues.slice(0, 5).join('; ')}`,
      { reply: cut(text) },
    );
  }
  const reply = parsed.data;
  if (reply.migrationId !== request.migrationId) {
    throw new MigrationRunnerReplyInvalid(
      `${what} answered about migration "${reply.migrationId}", not "${request.migrationId}"`,
      { reply: cut(text) },
    );
  }
  if (reply.evidence !== undefined) {
    const size = JSON.stringify(reply.evidence).length;
    if (size > maxEvidenceChars) {
      return { ...reply, evidence: { omitted: `${size} characters, over ${maxEvidenceChars}` } };
    }
  }
  return reply;
}

function errorDocumentOf(text: string): { errorType: string; errorMessage: string } {
  try {
    const document = JSON.parse(text) as { errorType?: unknown; errorMessage?: unknown };
    return {
      errorType: typeof document.errorType === 'string' ? cut(document.errorType) : 'Unknown',
      errorMessage:
        typeof document.errorMessage === 'string' ? cut(document.errorMessage) : cut(text),
    };
  } catch {
    return { errorType: 'Unknown', errorMessage: cut(text) || '(no error document)' };
  }
}

function isAbort(error: unknown): boolean {
  const name = (error as { name?: unknown } | undefined)?.name;
  return name === 'AbortError' || name === 'TimeoutError';
}

function cut(text: string): string {
  return text.length > maxErrorChars ? `${text.slice(0, maxErrorChars)}…` : text;
}
