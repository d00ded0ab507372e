import { InvokeCommand, LambdaClient, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LambdaMigrationRunner } from '../../../src/aws/lambda-migration-runner.ts';
import { MigrationRunnerFailed, MigrationRunnerReplyInvalid } from '../../../src/core/errors.ts';
import type { MigrationRunnerRequest } from '../../../src/core/migration.ts';

const migrations = {
  runner: { type: 'lambda' as const, functionName: 'shop-migrations' },
  timeoutSeconds: 30,
};
const request: MigrationRunnerRequest = {
  greenlight: 1,
  action: 'plan',
  migrationId: '0007_add_note',
  kind: 'expand',
  service: 'shop',
  releaseId: 'shop-1-1-0-1',
};
const encode = (value: unknown) =>
  new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

describe('LambdaMigrationRunner', () => {
  const lambda = mockClient(LambdaClient);
  const runner = (deadline?: (seconds: number) => AbortSignal) =>
    new LambdaMigrationRunner({
      client: new LambdaClient({ region: 'eu-west-1' }),
      ...(deadline ? { deadline } : {}),
    });

  beforeEach(() => lambda.reset());
  afterEach(() => lambda.restore());

  it('invokes the runner synchronously with the request and returns its reply', async () => {
    const reply = { migrationId: '0007_add_note', status: 'pending', statements: ['SELECT 1'] };
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: encode(reply) as never });

    expect(await runner().call(migrations, request)).toEqual(reply);
    const input = lambda.calls()[0]?.args[0].input as {
      FunctionName: string;
      InvocationType: string;
      Payload: Uint8Array;
    };
    expect([input.FunctionName, input.InvocationType]).toEqual([
      'shop-migrations',
      'RequestResponse',
    ]);
    expect(JSON.parse(new TextDecoder().decode(input.Payload))).toEqual(request);
  });

  it("turns a function error into MigrationRunnerFailed with the runner's type and message", async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: encode({
        errorType: 'PgError',
        errorMessage: 'relation "orders" does not exist',
      }) as never,
    });

    const error = await runner()
      .call(migrations, request)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationRunnerFailed);
    expect((error as MigrationRunnerFailed).message).toBe(
      'Migration runner shop-migrations (plan 0007_add_note) failed: PgError: relation "orders" does not exist',
    );
    expect((error as MigrationRunnerFailed).details).toMatchObject({
      errorType: 'PgError',
      functionError: 'Unhandled',
    });
  });

  it("reports Lambda's own timeout as the runner's failure", async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: encode({
        errorType: 'Sandbox.Timedout',
        errorMessage: 'RequestId: 1 Error: Task timed out after 3.00 seconds',
      }) as never,
    });

    await expect(runner().call(migrations, request)).rejects.toThrow(
      /failed: Sandbox.Timedout: RequestId: 1 Error: Task timed out after 3.00 seconds/,
    );
  });

  it('gives up after migrations.timeoutSeconds without an answer', async () => {
    lambda.on(InvokeCommand).callsFake(
      (_input, getClient) =>
        new Promise((_resolve, reject) => {
          void getClient;
          setTimeout(() => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })), 1);
        }),
    );
    const asked: number[] = [];

    const error = await runner((seconds) => {
      asked.push(seconds);
      return new AbortController().signal;
    })
      .call(migrations, request)
      .catch((e: unknown) => e);
    expect(asked).toEqual([30]);
    expect(error).toBeInstanceOf(MigrationRunnerFailed);
    expect((error as Error).message).toBe(
      'Migration runner shop-migrations (plan 0007_add_note) did not answer within 30s (migrations.timeoutSeconds)',
    );
  });

  it('leaves throttling to the workflow to retry', async () => {
    lambda
      .on(InvokeCommand)
      .rejects(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} }));

    await expect(runner().call(migrations, request)).rejects.toBeInstanceOf(
      TooManyRequestsException,
    );
  });

  it.each([
    ['not JSON', 'Internal Server Error', /not JSON/],
    ['not a reply', { ok: true }, /not a migration runner reply: migrationId/],
    [
      'about another migration',
      { migrationId: '0008_other', status: 'pending' },
      /answered about migration "0008_other", not "0007_add_note"/,
    ],
  ])('refuses a reply that is %s', async (_what, payload, message) => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: encode(payload) as never });

    const error = await runner()
      .call(migrations, request)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MigrationRunnerReplyInvalid);
    expect((error as Error).message).toMatch(message);
  });

  it('keeps evidence over 4 KB out of the ledger, saying how big it was', async () => {
    const evidence = { log: 'x'.repeat(5000) };
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      Payload: encode({ migrationId: '0007_add_note', status: 'applied', evidence }) as never,
    });

    expect((await runner().call(migrations, request)).evidence).toEqual({
      omitted: '5010 characters, over 4096',
    });
  });
});
