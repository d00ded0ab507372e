import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  GetExecutionHistoryCommand,
  InvalidName,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
  TaskDoesNotExist,
} from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, it } from 'vitest';
import { type Endpoint, startEndpoint } from '../../../src/local/endpoint.ts';
import {
  type ExecutionEvent,
  type LambdaContextLike,
  LocalStepFunctions,
  type LocalStepFunctionsOptions,
} from '../../../src/local/step-functions.ts';
import { eventually } from '../../support/eventually.ts';

const region = 'us-east-1';
const account = '000000000000';
const lambdaArn = (name: string) => `arn:aws:lambda:${region}:${account}:function:${name}`;

class GreenTestFailed extends Error {
  override readonly name = 'GreenTestFailed';
}

class TargetBusy extends Error {
  override readonly name = 'TargetBusy';
}

interface Harness {
  sfn: LocalStepFunctions;
  client: SFNClient;
  endpoint: Endpoint;
}

const open: Harness[] = [];

async function startHarness(options: LocalStepFunctionsOptions = {}): Promise<Harness> {
  const sfn = new LocalStepFunctions({ region, accountId: account, ...options });
  const endpoint = await startEndpoint([sfn]);
  const client = new SFNClient({
    endpoint: endpoint.url,
    region,
    credentials: { accessKeyId: 'any', secretAccessKey: 'any' },
  });
  const harness = { sfn, client, endpoint };
  open.push(harness);
  return harness;
}

afterEach(async () => {
  for (const { sfn, client, endpoint } of open.splice(0)) {
    await sfn.close();
    client.destroy();
    await endpoint.close();
  }
});

async function finished(client: SFNClient, executionArn: string) {
  return eventually(
    async () => {
      const described = await client.send(new DescribeExecutionCommand({ executionArn }));
      return described.status === 'RUNNING' ? undefined : described;
    },
    { what: `execution ${executionArn} to end`, intervalMs: 5 },
  );
}

function deferred<T = void>() {
  return Promise.withResolvers<T>();
}

/** A Map state over `$.steps`, one item at a time, each through a set-weight Lambda task. */
function weightMap(taskState = 'SetWeight', extra: Record<string, unknown> = {}) {
  return {
    Type: 'Map',
    ItemsPath: '$.steps',
    MaxConcurrency: 1,
    ItemProcessor: {
      ProcessorConfig: { Mode: 'INLINE' },
      StartAt: taskState,
      States: { [taskState]: { Type: 'Task', Resource: lambdaArn('set-weight'), End: true } },
    },
    End: true,
    ...extra,
  };
}

describe('LocalStepFunctions', () => {
  it('waits on close for the handler of a stopped execution, so it never outlives the cloud', async () => {
    const { sfn, client } = await startHarness();
    const entered = deferred();
    const release = deferred();
    const order: string[] = [];
    const { stateMachineArn } = sfn.createStateMachine({
      name: 'slow',
      definition: {
        StartAt: 'Provision',
        States: { Provision: { Type: 'Task', Resource: lambdaArn('provision'), End: true } },
      },
      functions: {
        provision: async () => {
          entered.resolve();
          await release.promise;
          order.push('handler done');
          return {};
        },
      },
    });
    await client.send(new StartExecutionCommand({ stateMachineArn, input: '{}' }));
    await entered.promise;

    const closing = sfn.close().then(() => order.push('closed'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    order.push('still closing');
    release.resolve();
    await closing;

    expect(order).toEqual(['still closing', 'handler done', 'closed']);
  });

  it('runs a Lambda task bound by function ARN and reports the execution over the API', async () => {
    const { sfn, client } = await startHarness();
    const seen: unknown[] = [];
    const { stateMachineArn } = sfn.createStateMachine({
      name: 'release',
      definition: {
        StartAt: 'Provision',
        States: {
          Provision: {
            Type: 'Task',
            Resource: lambdaArn('provision'),
            ResultPath: '$.green',
            End: true,
          },
        },
      },
      functions: {
        provision: async (event: { service: string }) => {
          seen.push(event);
          return { colour: 'green', service: event.service };
        },
      },
    });

    const started = await client.send(
      new StartExecutionCommand({ stateMachineArn, input: '{"service":"checkout"}' }),
    );
    const described = await finished(client, started.executionArn as string);

    expect(started.startDate).toBeInstanceOf(Date);
    expect(described).toMatchObject({
      status: 'SUCCEEDED',
      stateMachineArn,
      input: '{"service":"checkout"}',
    });
    expect(JSON.parse(described.output as string)).toEqual({
      service: 'checkout',
      green: { colour: 'green', service: 'checkout' },
    });
    expect(described.stopDate).toBeInstanceOf(Date);
    expect(seen).toEqual([{ service: 'checkout' }]);
    expect(described.name).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('lists and describes state machines', async () => {
    const { sfn, client } = await startHarness();
    const definition = { StartAt: 'Done', States: { Done: { Type: 'Succeed' } } };
    const { stateMachineArn } = sfn.createStateMachine({
      name: 'release',
      definition,
      functions: {},
    });

    const listed = await client.send(new ListStateMachinesCommand({}));
    const described = await client.send(new DescribeStateMachineCommand({ stateMachineArn }));

    expect(listed.stateMachines?.map((machine) => machine.stateMachineArn)).toEqual([
      `arn:aws:states:${region}:${account}:stateMachine:release`,
    ]);
    expect(described).toMatchObject({ name: 'release', status: 'ACTIVE', type: 'STANDARD' });
    expect(JSON.parse(described.definition as string)).toEqual(definition);
  });

  it('hands a handler a Lambda context and $$.Execution fields through Parameters', async () => {
    const { sfn, client } = await startHarness();
    let received: { event: unknown; context: LambdaContextLike } | undefined;
    const { stateMachineArn } = sfn.createStateMachine({
      name: 'release',
      definition: {
        StartAt: 'Register',
        States: {
          Register: {
            Type: 'Task',
            Resource: lambdaArn('register'),
            Parameters: {
              'executionId.$': '$$.Execution.Id',
              'executionName.$': '$$.Execution.Name',
              'machine.$': '$$.StateMachine.Name',
            },
            End: true,
          },
        },
      },
      functions: {
        register: async (event: unknown, context: LambdaContextLike) => {
          received = { event, context };
          return null;
        },
      },
    });

    const { executionArn } = await client.send(
      new StartExecutionCommand({ stateMachineArn, name: 'checkout-v42-1', input: '{}' }),
    );
    await finished(client, executionArn as string);

    expect(executionArn).toBe(
      `arn:aws:states:${region}:${account}:execution:release:checkout-v42-1`,
    );
    expect(received?.event).toEqual({
      executionId: executionArn,
      executionName: 'checkout-v42-1',
      machine: 'release',
    });
    expect(received?.context).toMatchObject({
      functionName: 'register',
      functionVersion: '$LATEST',
      invokedFunctionArn: lambdaArn('register'),
      logGroupName: '/aws/lambda/register',
    });
    expect(received?.context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(received?.context.getRemainingTimeInMillis()).toBeGreaterThan(0);
  });

  it('lets a Catch on the error name catch a handler that throws a named error', async () => {
    const { sfn, client } = await startHarness();
    const { stateMachineArn } = sfn.createStateMachine({
      name: 'release',
      definition: {
        StartAt: 'TestGreen',
        States: {
          TestGreen: {
            Type: 'Task',
            Resource: lambdaArn('test-green'),
            Catch: [
              { ErrorEquals: ['GreenTestFailed'], ResultPath: '$.failure', Next: 'RollBack' },
            ],
            Next: 'Shift',
          },
          Shift: { Type: 'Succeed' },
          RollBack: { Type: 'Pass', Result: 'rolled back', ResultPath: '$.outcome', End: true },
        },
      },
      functions: {
        'test-green': async () => {
          throw new GreenTestFailed('2 of 5 smoke tests failed', { cause: { failures: 2 } });
        },
      },
    });

    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn }));
    const described = await finished(client, executionArn as string);

    expect(described.status).toBe('SUCCEEDED');
    const output = JSON.parse(described.output as string);
    expect(output).toEqual({
      failure: { Error: 'GreenTestFailed', Cause: expect.any(String) },
      outcome: 'rolled back',
    });
    // Step Functions hands a Catch the Lambda error document, as JSON, in Cause.
    expect(JSON.parse(output.failure.Cause)).toEqual({
      errorType: 'GreenTestFailed',
      errorMessage: '2 of 5 smoke tests failed',
      trace: expect.arrayContaining(['GreenTestFailed: 2 of 5 smoke tests failed']),
    });
    expect(Object.keys(JSON.parse(output.failure.Cause))).toEqual([
      'errorType',
      'errorMessage',
      'trace',
    ]);
  });

  it('fails the execution with the error name and message when nothing catches it', async () => {
    const { sfn, client } = await startHarness();
    const { stateMachineArn } = sfn.createStateMachine({
      name: 'release',
      definition: {
        StartAt: 'TestGreen',
        States: { TestGreen: { Type: 'Task', Resource: lambdaArn('test-green'), End: true } },
      },
      functions: {
        'test-green': async () => {
          throw new GreenTestFailed('smoke tests failed', { cause: new Error('inner') });
        },
      },
    });

    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn }));
    const described = await finished(client, executionArn as string);
    const history = await client.send(new GetExecutionHistoryCommand({ executionArn }));

    expect(described).toMatchObject({ status: 'FAILED', error: 'GreenTestFailed' });
    expect(JSON.parse(described.cause as string)).toMatchObject({
      errorType: 'GreenTestFailed',
      errorMessage: 'smoke tests failed',
    });
    expect(history.events?.at(-1)).toMatchObject({
      type: 'ExecutionFailed',
      executionFailedEventDetails: { error: 'GreenTestFailed', cause: described.cause },
    });
    // A task whose Resource is a function ARN is recorded as a Lambda function, not a Task.
    expect(history.events?.filter((event) => event.type === 'TaskFailed')).toEqual([]);
    expect(history.events?.find((event) => event.type === 'LambdaFunctionFailed')).toMatchObject({
      lambdaFunctionFailedEventDetails: { error: 'GreenTestFailed', cause: described.cause },
    });
  });

  it('retries a state on a named error, without pausing when the retry interval is overridden', async () => {
    const { sfn, client } = await startHarness({ retryIntervalOverrideMs: 0 });
    let calls = 0;
    const { stateMachineArn } = sfn.createStateMachine({
      name: 'release',
      definition: {
        StartAt: 'Shift',
        States: {
          Shift: {
            Type: 'Task',
            Resource: lambdaArn('shift'),
            Retry: [{ ErrorEquals: ['TargetBusy'], IntervalSeconds: 60, MaxAttempts: 3 }],
            End: true,
          },
        },
      },
      functions: {
        shift: async () => {
          calls += 1;
          if (calls < 3) throw new TargetBusy(`busy (call ${calls})`);
          return { weight: 10 };
        },
      },
    });

    const startedAt = performance.now();
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn }));
    const described = await finished(client, executionArn as string);
    const history = await client.send(new GetExecutionHistoryCommand({ executionArn }));

    expect(described.status).toBe('SUCCEEDED');
    expect(calls).toBe(3);
    expect(performance.now() - startedAt).toBeLessThan(5_000);
    const count = (type: string) => history.events?.filter((event) => event.type === type).length;
    expect(count('LambdaFunctionScheduled')).toBe(3);
    expect(count('LambdaFunctionFailed')).toBe(2);
    expect(count('LambdaFunctionSucceeded')).toBe(1);
  });

  it('runs Map items one at a time, in order, with MaxConcurrency 1', async () => {
    const { sfn } = await startHarness();
    const order: string[] = [];
    sfn.createStateMachine({
      name: 'release',
      definition: { StartAt: 'Steps', States: { Steps: weightMap() } },
      functions: {
        'set-weight': async (weight: number) => {
          order.push(`start ${weight}`);
          // Earlier items take longer, so any overlap would reorder the log.
          await new Promise((resolve) => setTimeout(resolve, (100 - weight) / 4));
          order.push(`end ${weight}`);
          return weight;
        },
      },
    });

    const { executionArn } = sfn.startExecution('release', { steps: [10, 50, 100] });
    const record = await sfn.waitForExecution(executionArn);

    expect(record.status).toBe('SUCCEEDED');
    expect(JSON.parse(record.output as string)).toEqual([10, 50, 100]);
    expect(order).toEqual(['start 10', 'end 10', 'start 50', 'end 50', 'start 100', 'end 100']);
    const iterations = sfn
      .getHistory(executionArn)
      .filter((event) => event.type === 'MapIterationStarted')
      .map((event) => event.details);
    expect(iterations).toEqual([
      { name: 'Steps', index: 0 },
      { name: 'Steps', index: 1 },
      { name: 'Steps', index: 2 },
    ]);
  });

  it('makes Wait states free when a wait override is given', async () => {
    const asked: unknown[] = [];
    const { sfn } = await startHarness({
      waitOverrideMs: (stateName, seconds) => {
        asked.push([stateName, seconds]);
        return 0;
      },
    });
    sfn.createStateMachine({
      name: 'release',
      definition: {
        StartAt: 'Bake',
        States: { Bake: { Type: 'Wait', Seconds: 3600, End: true } },
      },
      functions: {},
    });

    const { executionArn } = sfn.startExecution('release', {});
    const record = await sfn.waitForExecution(executionArn);

    expect(record.status).toBe('SUCCEEDED');
    expect(asked).toEqual([['Bake', 3600]]);
  });

  it('builds the lambda:invoke result wrapper around the function payload', async () => {
    const { sfn } = await startHarness();
    let payloadSeen: unknown;
    sfn.createStateMachine({
      name: 'release',
      definition: {
        StartAt: 'Gate',
        States: {
          Gate: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            Parameters: { FunctionName: lambdaArn('gate'), 'Payload.$': '$' },
            ResultSelector: { 'decision.$': '$.Payload.decision', 'status.$': '$.StatusCode' },
            End: true,
          },
        },
      },
      functions: {
        gate: async (event: unknown) => {
          payloadSeen = event;
          return { decision: 'proceed' };
        },
      },
    });

    const { executionArn } = sfn.startExecution('release', { step: 1 });
    const record = await sfn.waitForExecution(executionArn);

    expect(payloadSeen).toEqual({ step: 1 });
    expect(JSON.parse(record.output as string)).toEqual({ decision: 'proceed', status: 200 });
  });

  describe('as Step Functions does, where the engine alone differs', () => {
    const catchInto = (next: string) => ({
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: next }],
    });
    const failingMap = (catchIt: boolean) => ({
      StartAt: 'Steps',
      States: {
        Steps: weightMap('SetWeight', catchIt ? catchInto('Rollback') : {}),
        ...(catchIt ? { Rollback: { Type: 'Pass', End: true } } : {}),
      },
    });

    function weights(fail: number) {
      const calls: number[] = [];
      const handler = async (weight: number) => {
        calls.push(weight);
        if (weight === fail) throw new GreenTestFailed(`gate failed at ${weight}%`);
        return weight;
      };
      return { calls, handler };
    }

    it('stops a Map at its first failed iteration: no later iteration runs or is recorded', async () => {
      const { sfn } = await startHarness();
      const { calls, handler } = weights(50);
      sfn.createStateMachine({
        name: 'release',
        definition: failingMap(true),
        functions: { 'set-weight': handler },
      });

      const { executionArn } = sfn.startExecution('release', { steps: [10, 50, 100] });
      const record = await sfn.waitForExecution(executionArn);
      // Anything still running after the end would show up here.
      await new Promise((resolve) => setTimeout(resolve, 50));

      expect(record.status).toBe('SUCCEEDED');
      expect(calls).toEqual([10, 50]);
      const history = sfn.getHistory(executionArn);
      expect(
        history
          .filter((event) => event.type.startsWith('MapIteration'))
          .map((event) => `${event.type} ${event.details?.index}`),
      ).toEqual([
        'MapIterationStarted 0',
        'MapIterationSucceeded 0',
        'MapIterationStarted 1',
        'MapIterationFailed 1',
      ]);
      expect(history.filter((event) => event.type === 'LambdaFunctionScheduled')).toHaveLength(2);
      expect(JSON.stringify(history)).not.toContain('GreenlightLocalMapGuard');
      expect(JSON.parse(record.output as string).failure.Error).toBe('GreenTestFailed');
    });

    it('runs a Map again in full when it is entered again after a failure', async () => {
      const { sfn } = await startHarness();
      const { calls, handler } = weights(50);
      sfn.createStateMachine({
        name: 'release',
        definition: {
          StartAt: 'First',
          States: {
            First: weightMap('SetWeight', catchInto('Again')),
            Again: { Type: 'Pass', Result: [1, 2, 3], ResultPath: '$.steps', Next: 'Second' },
            Second: weightMap('SetWeightAgain'),
          },
        },
        functions: { 'set-weight': handler },
      });

      const { executionArn } = sfn.startExecution('release', { steps: [50, 60] });
      const record = await sfn.waitForExecution(executionArn);

      expect(record.status).toBe('SUCCEEDED');
      expect(calls).toEqual([50, 1, 2, 3]);
    });

    it('fails the execution with the Map’s error when nothing catches it', async () => {
      const { sfn } = await startHarness();
      const { calls, handler } = weights(10);
      sfn.createStateMachine({
        name: 'release',
        definition: failingMap(false),
        functions: { 'set-weight': handler },
      });

      const { executionArn } = sfn.startExecution('release', { steps: [10, 50] });
      const record = await sfn.waitForExecution(executionArn);
      await new Promise((resolve) => setTimeout(resolve, 50));

      expect(record).toMatchObject({ status: 'FAILED', error: 'GreenTestFailed' });
      expect(calls).toEqual([10]);
    });

    it('records a function-ARN task that runs past its TimeoutSeconds as LambdaFunctionTimedOut', async () => {
      const { sfn } = await startHarness();
      const hang = deferred();
      sfn.createStateMachine({
        name: 'release',
        definition: {
          StartAt: 'Provision',
          States: {
            Provision: {
              Type: 'Task',
              Resource: lambdaArn('provision'),
              TimeoutSeconds: 1,
              Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.failure', Next: 'Done' }],
              End: true,
            },
            Done: { Type: 'Pass', End: true },
          },
        },
        functions: { provision: () => hang.promise },
      });

      const { executionArn } = sfn.startExecution('release', {});
      await sfn.waitForExecution(executionArn);
      hang.resolve();
      const history = sfn.getHistory(executionArn);

      expect(history.map((event) => event.type)).toContain('LambdaFunctionTimedOut');
      expect(
        history.filter(
          (event) => event.type.startsWith('Task') && !event.type.startsWith('TaskState'),
        ),
      ).toEqual([]);
      expect(history.find((event) => event.type === 'LambdaFunctionScheduled')?.details).toEqual({
        resource: lambdaArn('provision'),
        input: '{}',
        timeoutInSeconds: 1,
      });
    });

    it('records a lambda:invoke task as a Task, its failure Cause the Lambda error document', async () => {
      const { sfn } = await startHarness();
      sfn.createStateMachine({
        name: 'release',
        definition: {
          StartAt: 'Gate',
          States: {
            Gate: {
              Type: 'Task',
              Resource: 'arn:aws:states:::lambda:invoke',
              Parameters: { FunctionName: lambdaArn('gate'), 'Payload.$': '$' },
              TimeoutSeconds: 30,
              Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Done' }],
              End: true,
            },
            Done: { Type: 'Pass', End: true },
          },
        },
        functions: {
          gate: async () => {
            throw new TargetBusy('alias is being updated');
          },
        },
      });

      const { executionArn } = sfn.startExecution('release', {});
      const record = await sfn.waitForExecution(executionArn);
      const history = sfn.getHistory(executionArn);

      const failure = JSON.parse(record.output as string).failure;
      expect(failure.Error).toBe('TargetBusy');
      expect(JSON.parse(failure.Cause)).toMatchObject({
        errorType: 'TargetBusy',
        errorMessage: 'alias is being updated',
      });
      expect(history.map((event) => event.type)).toEqual([
        'ExecutionStarted',
        'TaskStateEntered',
        'TaskScheduled',
        'TaskStarted',
        'TaskFailed',
        'TaskStateExited',
        'PassStateEntered',
        'PassStateExited',
        'ExecutionSucceeded',
      ]);
      expect(history[2]?.details).toMatchObject({
        resourceType: 'lambda',
        resource: 'invoke',
        timeoutInSeconds: 30,
      });
      expect(history[4]?.details).toEqual({
        resourceType: 'lambda',
        resource: 'invoke',
        region,
        error: 'TargetBusy',
        cause: failure.Cause,
      });
    });
  });

  it('refuses a definition with a Task whose function has no handler', async () => {
    const { sfn } = await startHarness();

    expect(() =>
      sfn.createStateMachine({
        name: 'release',
        definition: {
          StartAt: 'Provision',
          States: { Provision: { Type: 'Task', Resource: lambdaArn('provision'), End: true } },
        },
        functions: {},
      }),
    ).toThrow(/"provision", which has no handler/);
  });

  it('returns the running execution for a repeated name and input, and refuses other reuse', async () => {
    const { sfn, client } = await startHarness();
    const release = deferred();
    const { stateMachineArn } = sfn.createStateMachine({
      name: 'release',
      definition: {
        StartAt: 'Hold',
        States: { Hold: { Type: 'Task', Resource: lambdaArn('hold'), End: true } },
      },
      functions: { hold: () => release.promise },
    });
    const start = (input: string) =>
      client.send(new StartExecutionCommand({ stateMachineArn, name: 'checkout-v1-1', input }));

    const first = await start('{"v":1}');
    const again = await start('{"v":1}');
    const different = start('{"v":2}');

    expect(again.executionArn).toBe(first.executionArn);
    await expect(different).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    release.resolve();
    await sfn.waitForExecution(first.executionArn as string);
    await expect(start('{"v":1}')).rejects.toBeInstanceOf(ExecutionAlreadyExists);
    expect(sfn.listExecutions()).toHaveLength(1);
  });

  it('rejects bad names and unknown state machines with the AWS errors', async () => {
    const { sfn, client } = await startHarness();
    const { stateMachineArn } = sfn.createStateMachine({
      name: 'release',
      definition: { StartAt: 'Done', States: { Done: { Type: 'Succeed' } } },
      functions: {},
    });

    await expect(
      client.send(new StartExecutionCommand({ stateMachineArn, name: 'has space' })),
    ).rejects.toBeInstanceOf(InvalidName);
    await expect(
      client.send(
        new StartExecutionCommand({
          stateMachineArn: `arn:aws:states:${region}:${account}:stateMachine:missing`,
        }),
      ),
    ).rejects.toBeInstanceOf(StateMachineDoesNotExist);
  });

  it('stops a running execution as ABORTED with the given error and cause', async () => {
    const { sfn, client } = await startHarness();
    const { stateMachineArn } = sfn.createStateMachine({
      name: 'release',
      definition: {
        StartAt: 'Bake',
        States: { Bake: { Type: 'Wait', Seconds: 3600, End: true } },
      },
      functions: {},
    });
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn }));

    const stopped = await client.send(
      new StopExecutionCommand({ executionArn, error: 'Superseded', cause: 'v43 arrived' }),
    );
    const described = await client.send(new DescribeExecutionCommand({ executionArn }));
    const history = await client.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 1 }),
    );

    expect(stopped.stopDate).toBeInstanceOf(Date);
    expect(described).toMatchObject({
      status: 'ABORTED',
      error: 'Superseded',
      cause: 'v43 arrived',
    });
    expect(history.events).toHaveLength(1);
    expect(history.events?.[0]).toMatchObject({
      type: 'ExecutionAborted',
      executionAbortedEventDetails: { error: 'Superseded', cause: 'v43 arrived' },
    });
  });

  it('lists executions newest first, filtered by status and paged', async () => {
    const { sfn, client } = await startHarness();
    const release = deferred();
    const { stateMachineArn } = sfn.createStateMachine({
      name: 'release',
      definition: {
        StartAt: 'Hold',
        States: { Hold: { Type: 'Task', Resource: lambdaArn('hold'), End: true } },
      },
      functions: {
        hold: async (event: { hold: boolean }) => (event.hold ? release.promise : null),
      },
    });
    for (const name of ['a', 'b', 'c']) {
      const { executionArn } = sfn.startExecution('release', { hold: false }, name);
      await sfn.waitForExecution(executionArn);
    }
    sfn.startExecution('release', { hold: true }, 'd');

    const firstPage = await client.send(
      new ListExecutionsCommand({ stateMachineArn, maxResults: 2 }),
    );
    const secondPage = await client.send(
      new ListExecutionsCommand({ stateMachineArn, maxResults: 2, nextToken: firstPage.nextToken }),
    );
    const running = await client.send(
      new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING' }),
    );

    expect(firstPage.executions?.map((execution) => execution.name)).toEqual(['d', 'c']);
    expect(secondPage.executions?.map((execution) => execution.name)).toEqual(['b', 'a']);
    expect(secondPage.nextToken).toBeUndefined();
    expect(running.executions?.map((execution) => execution.name)).toEqual(['d']);
    expect(running.executions?.[0]?.startDate).toBeInstanceOf(Date);
    release.resolve();
  });

  it('records a history of ordered events with ids and state details', async () => {
    const { sfn, client } = await startHarness();
    const { stateMachineArn } = sfn.createStateMachine({
      name: 'release',
      definition: {
        StartAt: 'Provision',
        States: {
          Provision: { Type: 'Task', Resource: lambdaArn('provision'), Next: 'Done' },
          Done: { Type: 'Succeed' },
        },
      },
      functions: { provision: async () => ({ ok: true }) },
    });
    const { executionArn } = await client.send(
      new StartExecutionCommand({ stateMachineArn, input: '{"v":1}' }),
    );
    await finished(client, executionArn as string);

    const { events = [] } = await client.send(new GetExecutionHistoryCommand({ executionArn }));

    expect(events.map((event) => event.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
      'SucceedStateEntered',
      'SucceedStateExited',
      'ExecutionSucceeded',
    ]);
    expect(events.map((event) => [event.id, event.previousEventId])).toEqual(
      events.map((_, i) => [i + 1, i]),
    );
    expect(events[0]?.executionStartedEventDetails?.input).toBe('{"v":1}');
    expect(events[1]?.stateEnteredEventDetails).toEqual({ name: 'Provision', input: '{"v":1}' });
    expect(events[2]?.lambdaFunctionScheduledEventDetails).toEqual({
      resource: lambdaArn('provision'),
      input: '{"v":1}',
    });
    expect(events[4]?.lambdaFunctionSucceededEventDetails).toEqual({ output: '{"ok":true}' });
    expect(events[0]?.timestamp).toBeInstanceOf(Date);
  });

  it('publishes each history event with its state name as it happens', async () => {
    const { sfn } = await startHarness();
    const published: ExecutionEvent[] = [];
    sfn.onEvent((event) => published.push(event));
    sfn.createStateMachine({
      name: 'release',
      definition: {
        StartAt: 'Provision',
        States: { Provision: { Type: 'Task', Resource: lambdaArn('provision'), End: true } },
      },
      functions: { provision: async () => ({}) },
    });

    const { executionArn } = sfn.startExecution('release', {}, 'r1');
    await sfn.waitForExecution(executionArn);

    expect(published.map((event) => [event.event.type, event.stateName])).toEqual([
      ['ExecutionStarted', undefined],
      ['TaskStateEntered', 'Provision'],
      ['LambdaFunctionScheduled', 'Provision'],
      ['LambdaFunctionStarted', 'Provision'],
      ['LambdaFunctionSucceeded', 'Provision'],
      ['TaskStateExited', 'Provision'],
      ['ExecutionSucceeded', undefined],
    ]);
    expect(published.every((event) => event.executionArn === executionArn)).toBe(true);
  });

  describe('callback tokens', () => {
    const approvalDefinition = (heartbeatSeconds?: number) => ({
      StartAt: 'Approve',
      States: {
        Approve: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
          Parameters: {
            FunctionName: 'request-approval',
            Payload: { 'taskToken.$': '$$.Task.Token', 'service.$': '$.service' },
          },
          ...(heartbeatSeconds === undefined ? {} : { HeartbeatSeconds: heartbeatSeconds }),
          Catch: [
            {
              ErrorEquals: ['Rejected', 'States.HeartbeatTimeout'],
              ResultPath: '$.rejection',
              Next: 'RollBack',
            },
          ],
          End: true,
        },
        RollBack: { Type: 'Pass', End: true },
      },
    });

    async function startApproval(heartbeatSeconds?: number) {
      const harness = await startHarness();
      const requests: { taskToken: string; service: string }[] = [];
      const requested = deferred();
      harness.sfn.createStateMachine({
        name: 'release',
        definition: approvalDefinition(heartbeatSeconds),
        functions: {
          'request-approval': async (event: { taskToken: string; service: string }) => {
            requests.push(event);
            requested.resolve();
            return { posted: true };
          },
        },
      });
      const { executionArn } = harness.sfn.startExecution('release', { service: 'checkout' });
      await requested.promise;
      return { ...harness, executionArn, requests };
    }

    it('resumes with the output sent by SendTaskSuccess for the minted token', async () => {
      const { sfn, client, executionArn, requests } = await startApproval();
      const token = requests[0]?.taskToken as string;

      expect(token).toMatch(/^[A-Za-z0-9_-]{64}$/);
      expect(requests[0]?.service).toBe('checkout');
      expect(sfn.pendingTasks(executionArn)).toEqual([
        expect.objectContaining({ taskToken: token, stateName: 'Approve' }),
      ]);
      expect(sfn.getExecution(executionArn).status).toBe('RUNNING');

      await client.send(
        new SendTaskSuccessCommand({ taskToken: token, output: '{"approvedBy":"alice"}' }),
      );
      const record = await sfn.waitForExecution(executionArn);

      expect(record.status).toBe('SUCCEEDED');
      expect(JSON.parse(record.output as string)).toEqual({ approvedBy: 'alice' });
      expect(sfn.pendingTasks()).toEqual([]);
      await expect(
        client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' })),
      ).rejects.toBeInstanceOf(TaskDoesNotExist);
    });

    it('records TaskSubmitted once the function that took the token has returned', async () => {
      const { sfn, client, executionArn, requests } = await startApproval();
      const submitted = () =>
        sfn.getHistory(executionArn).filter((event) => event.type === 'TaskSubmitted');
      await eventually(() => (submitted().length > 0 ? true : undefined), {
        what: 'a TaskSubmitted event',
        intervalMs: 5,
      });

      expect(submitted().map((event) => event.details)).toEqual([
        {
          resourceType: 'lambda',
          resource: 'invoke.waitForTaskToken',
          region: 'us-east-1',
          output: '{"posted":true}',
        },
      ]);
      await client.send(
        new SendTaskSuccessCommand({ taskToken: requests[0]?.taskToken as string, output: '{}' }),
      );
      await sfn.waitForExecution(executionArn);
    });

    it('fails the task with the error and cause sent by SendTaskFailure', async () => {
      const { sfn, client, executionArn, requests } = await startApproval();

      await client.send(
        new SendTaskFailureCommand({
          taskToken: requests[0]?.taskToken as string,
          error: 'Rejected',
          cause: 'bob said no',
        }),
      );
      const record = await sfn.waitForExecution(executionArn);

      expect(JSON.parse(record.output as string)).toEqual({
        service: 'checkout',
        rejection: { Error: 'Rejected', Cause: 'bob said no' },
      });
    });

    it('refuses an unknown token with TaskDoesNotExist', async () => {
      const { client } = await startApproval();

      await expect(
        client.send(new SendTaskSuccessCommand({ taskToken: 'not-a-token', output: '{}' })),
      ).rejects.toBeInstanceOf(TaskDoesNotExist);
    });

    it('times the task out with States.HeartbeatTimeout when no heartbeat arrives', async () => {
      const { sfn, executionArn } = await startApproval(1);

      const record = await sfn.waitForExecution(executionArn);

      expect(JSON.parse(record.output as string)).toMatchObject({
        rejection: { Error: 'States.HeartbeatTimeout' },
      });
    });

    it('reads TimeoutSecondsPath from the state input, as Step Functions does, not from the parameters', async () => {
      const harness = await startHarness();
      const payloads: unknown[] = [];
      harness.sfn.createStateMachine({
        name: 'release',
        definition: {
          StartAt: 'Approve',
          States: {
            Approve: {
              Type: 'Task',
              Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
              Parameters: {
                FunctionName: 'request-approval',
                Payload: { 'taskToken.$': '$$.Task.Token', 'service.$': '$.service' },
              },
              TimeoutSecondsPath: '$.approval.timeoutSeconds',
              Catch: [
                { ErrorEquals: ['States.Timeout'], ResultPath: '$.timedOut', Next: 'TimedOut' },
              ],
              End: true,
            },
            TimedOut: { Type: 'Pass', End: true },
          },
        },
        functions: {
          'request-approval': async (event: unknown) => {
            payloads.push(event);
            return {};
          },
        },
      });
      const { executionArn } = harness.sfn.startExecution('release', {
        service: 'checkout',
        approval: { timeoutSeconds: 1 },
      });

      const record = await harness.sfn.waitForExecution(executionArn);
      const [payload] = payloads as { taskToken: string }[];

      expect(JSON.parse(record.output as string)).toMatchObject({
        timedOut: { Error: 'States.Timeout' },
      });
      expect(payload).toEqual({ taskToken: expect.any(String), service: 'checkout' });
      await expect(
        harness.client.send(
          new SendTaskSuccessCommand({ taskToken: payload?.taskToken, output: '{}' }),
        ),
      ).rejects.toBeInstanceOf(TaskDoesNotExist);
    });
  });
});
