import {
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  SFNServiceException,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SfnTaskCallbacks } from '../../../src/aws/sfn-callbacks.ts';
import { startEndpoint } from '../../../src/local/endpoint.ts';
import { LocalStepFunctions } from '../../../src/local/step-functions.ts';
import { eventually } from '../../support/eventually.ts';

const token = 'AAAA-a-task-token-ZZZZ';

describe('SfnTaskCallbacks (commands)', () => {
  const sfn = mockClient(SFNClient);
  const callbacks = () => new SfnTaskCallbacks({ client: new SFNClient({ region: 'us-east-1' }) });

  beforeEach(() => sfn.reset());
  afterEach(() => sfn.restore());

  it('sends SendTaskSuccess with the output as JSON', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});

    expect(await callbacks().succeed(token, { approvedBy: 'U0DANA' })).toEqual({ delivered: true });
    expect(sfn.calls().map((call) => call.args[0].input)).toEqual([
      { taskToken: token, output: '{"approvedBy":"U0DANA"}' },
    ]);
  });

  it('sends SendTaskFailure with error and cause cut to the API limits', async () => {
    sfn.on(SendTaskFailureCommand).resolves({});

    await callbacks().fail(token, 'ApprovalRejected', 'x'.repeat(40_000));

    const input = sfn.calls()[0]?.args[0].input as { error: string; cause: string };
    expect([input.error, input.cause.length]).toEqual(['ApprovalRejected', 32_768]);
  });

  it('reports a wait that already ended instead of throwing', async () => {
    sfn
      .on(SendTaskSuccessCommand)
      .rejectsOnce(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }))
      .rejectsOnce(new InvalidToken({ message: 'Invalid token', $metadata: {} }));

    expect(await callbacks().succeed(token, {})).toEqual({
      delivered: false,
      reason: 'TaskTimedOut',
    });
    expect(await callbacks().succeed(token, {})).toEqual({
      delivered: false,
      reason: 'InvalidToken',
    });
  });

  it('rethrows other errors under their name, with the token cut out of the message', async () => {
    sfn.on(SendTaskFailureCommand).rejects(
      new SFNServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        message: `Rate exceeded for ${token}`,
        $metadata: {},
      }),
    );

    const error = await callbacks()
      .fail(token, 'ApprovalRejected', 'no')
      .catch((e: Error) => e);

    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('ThrottlingException');
    expect((error as Error).message).toBe('SendTaskFailure failed: Rate exceeded for [task token]');
  });
});

describe('SfnTaskCallbacks (local Step Functions over HTTP)', () => {
  it('resumes a waiting task, then reports TaskDoesNotExist for the spent token', async () => {
    const local = new LocalStepFunctions();
    const endpoint = await startEndpoint([local]);
    const client = new SFNClient({
      endpoint: endpoint.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      local.createStateMachine({
        name: 'wait',
        definition: {
          StartAt: 'Wait',
          States: {
            Wait: {
              Type: 'Task',
              Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
              Parameters: { FunctionName: 'ask', Payload: { 'token.$': '$$.Task.Token' } },
              End: true,
            },
          },
        },
        functions: { ask: async () => ({}) },
      });
      const { executionArn } = local.startExecution('wait', {});
      const [task] = await eventually(
        () => {
          const pending = local.pendingTasks(executionArn);
          return pending.length > 0 ? pending : undefined;
        },
        { what: 'the task to wait on its token', intervalMs: 5 },
      );
      const callbacks = new SfnTaskCallbacks({ client });

      expect(await callbacks.succeed(task?.taskToken as string, { ok: 1 })).toEqual({
        delivered: true,
      });
      expect((await local.waitForExecution(executionArn)).output).toBe('{"ok":1}');
      expect(await callbacks.succeed(task?.taskToken as string, {})).toEqual({
        delivered: false,
        reason: 'TaskDoesNotExist',
      });
    } finally {
      await local.close();
      client.destroy();
      await endpoint.close();
    }
  });
});
