import { randomBytes, randomUUID } from 'node:crypto';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  type RunOptions,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import {
  awsJsonError,
  awsJsonResult,
  type LocalRequest,
  type LocalResponse,
  type LocalService,
  targetOperation,
} from './http.ts';

type JsonValue = Parameters<StateMachine['run']>[0];
type EngineEvent =
  ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;
type EngineTaskHandler = (input: JsonValue) => Promise<JsonValue>;
type AslState = Record<string, unknown> & { Type: string };

/** The Lambda context a bound handler receives; assignable to aws-lambda's `Context`. */
export interface LambdaContextLike {
  callbackWaitsForEmptyEventLoop: boolean;
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  getRemainingTimeInMillis(): number;
  done(error?: Error, result?: unknown): void;
  fail(error: Error | string): void;
  succeed(...args: unknown[]): void;
}

/**
 * A Lambda handler bound to a function name. The event is typed `never` so that handlers for
 * any event type can be bound; the engine hands them the state's effective input.
 */
export type LocalLambdaHandler = (event: never, context: LambdaContextLike) => Promise<unknown>;

/** Runs one Task state by name, for resources that are neither Lambda nor callbacks. */
export type LocalStateHandler = (input: unknown) => Promise<unknown>;

export interface LocalStepFunctionsOptions {
  /** @default 'us-east-1' */
  region?: string;
  /** @default '000000000000' */
  accountId?: string;
  now?: () => Date;
  /** Milliseconds a Wait state really waits; `undefined` keeps the definition's wait. */
  waitOverrideMs?: (stateName: string, seconds?: number) => number | undefined;
  /** Milliseconds between retries of every state with a Retry field. */
  retryIntervalOverrideMs?: number;
}

export interface CreateStateMachineInput {
  name: string;
  definition: object;
  /** Handlers by Lambda function name, for Task states whose resource is that function. */
  functions: Record<string, LocalLambdaHandler>;
  /** Handlers by Task state name, for resources the local cloud cannot run itself. */
  stateHandlers?: Record<string, LocalStateHandler>;
}

export const ExecutionStatus = {
  Running: 'RUNNING',
  Succeeded: 'SUCCEEDED',
  Failed: 'FAILED',
  TimedOut: 'TIMED_OUT',
  Aborted: 'ABORTED',
} as const;
export type ExecutionStatus = (typeof ExecutionStatus)[keyof typeof ExecutionStatus];

export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  /** JSON text, as the API reports it. */
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  startDate: Date;
  stopDate?: Date;
}

/** One execution history event; `details` is the matching `*EventDetails` shape. */
export interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: Date;
  type: string;
  details?: Record<string, unknown>;
}

export interface ExecutionEvent {
  executionArn: string;
  executionName: string;
  stateName?: string;
  mapIndex?: number;
  event: HistoryEvent;
}

/** A callback task waiting for SendTaskSuccess or SendTaskFailure. */
export interface PendingTask {
  taskToken: string;
  executionArn: string;
  stateName: string;
  input: unknown;
}

/** An API error carrying the AWS error code the SDK maps to its exception class. */
export class StepFunctionsApiError extends Error {
  readonly code: string;
  readonly status: number;

  constructor(code: string, message: string, status = 400) {
    super(message);
    this.name = code;
    this.code = code;
    this.status = status;
  }
}

/**
 * The error a failed task reports to the engine: only a name and a message, because the engine
 * matches Retry/Catch on `name` and reports `cause ?? message` as the Cause, so a handler
 * error's own `cause` would otherwise leak an object into the history.
 */
class TaskError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

interface Machine {
  arn: string;
  name: string;
  definition: object;
  engine: StateMachine;
  creationDate: Date;
  tasks: Map<string, TaskBinding>;
  /** Map state guards (see guardMaps): guard state name → its Map state's name. */
  mapGuards: Map<string, string>;
  waitStates: Map<string, number | undefined>;
  retryStates: string[];
  stateHandlers: Record<string, LocalStateHandler>;
  functions: Record<string, LocalLambdaHandler>;
}

type TaskKind = 'lambda' | 'lambda-invoke' | 'callback' | 'state-handler';

interface TaskBinding {
  stateName: string;
  kind: TaskKind;
  resource: string;
  /**
   * Which history events the task writes. Step Functions records a task whose Resource is a
   * Lambda function ARN as `LambdaFunctionScheduled/Started/Succeeded/Failed/TimedOut`, and a
   * service integration (`arn:aws:states:::lambda:invoke`, `.waitForTaskToken`) as
   * `TaskScheduled/Started/Submitted/Succeeded/Failed/TimedOut` (Step Functions API Reference,
   * "HistoryEvent": the event types and their `*EventDetails`).
   */
  history: 'lambda-function' | 'task';
  timeoutSeconds?: number;
  /** Set when the state's TimeoutSecondsPath is read from its input (see timeoutFromInput). */
  timeoutFromInput?: boolean;
  heartbeatSeconds?: number;
}

/**
 * Where the host smuggles a Task's TimeoutSecondsPath value past Parameters. Step Functions
 * resolves TimeoutSecondsPath against the state's input; the engine resolves it against the
 * effective parameters, where `$.release...` does not exist. So the host adds this key to the
 * parameters (resolved from the input, as AWS would) and points the engine at it, and the task
 * handler takes it out again before anything sees the parameters.
 */
const timeoutKey = '__greenlightLocalTimeoutSeconds';

interface Execution {
  record: ExecutionRecord;
  machine: Machine;
  history: HistoryEvent[];
  abort: () => void;
  done: Promise<ExecutionRecord>;
  stopReason?: { error?: string; cause?: string };
  failedStates: Set<string>;
  /** Map states (by name) one of whose iterations has failed since the state was entered. */
  failedMaps: Set<string>;
  /** Iterations (`map:index`) started by the engine and not yet past their guard. */
  unguardedIterations: Set<string>;
  /** Iterations the guard stopped: Step Functions never starts them, so history omits them. */
  stoppedIterations: Set<string>;
}

interface OpenCallback extends PendingTask {
  resolve: (output: JsonValue) => void;
  reject: (error: Error) => void;
  heartbeatMs?: number;
  heartbeatTimer?: NodeJS.Timeout;
  timeoutTimer?: NodeJS.Timeout;
}

const namePattern = /^[A-Za-z0-9_-]{1,80}$/;
const lambdaArnPattern =
  /^arn:aws[a-z-]*:lambda:[^:]*:[0-9]*:function:([A-Za-z0-9_-]+)(?::[$A-Za-z0-9_-]+)?$/;
const functionNamePattern =
  /^(?:arn:aws[a-z-]*:lambda:[^:]*:[0-9]*:function:|[0-9]{12}:function:)?([A-Za-z0-9_-]+)(?::[$A-Za-z0-9_-]+)?$/;
const lambdaInvokeResource = /^arn:aws[a-z-]*:states:::lambda:invoke$/;
const callbackSuffix = '.waitForTaskToken';
/** Resource of the host's Map guard states; never called, the host binds them by name. */
const mapGuardResource =
  'arn:aws:lambda:us-east-1:000000000000:function:greenlight-local-map-guard';
const lambdaTimeoutSeconds = 900;
// AWS has no Task timeout by default; the engine defaults to 60 s. This is the longest delay
// setTimeout accepts (2^31 - 1 ms); beyond it Node fires at once.
const unboundedTaskSeconds = 2_147_483;

/**
 * Step Functions for the local cloud: the AWS JSON 1.0 API (the SDK, the CLI and the greenlight
 * CLI use it unchanged) over aws-local-stepfunctions, which runs the ASL. Every Task state is
 * bound at registration to a local handler, so nothing calls real AWS; callback tokens
 * (`.waitForTaskToken`), execution ARNs, idempotent names and history are emulated here
 * because the engine has none of them.
 *
 * FACTS: where this host makes the engine behave as Step Functions does, and where not.
 * - A failed Map iteration stops the Map: a guard state starts each iteration (mapGuard).
 *   Not matched: iterations in flight when the Map fails (MaxConcurrency above 1) are
 *   aborted by the engine but not recorded as MapIterationAborted; a Map inside a Map's
 *   iteration is not guarded; MapStateStarted/Succeeded are not recorded.
 * - History names: `LambdaFunction*` for a function-ARN Resource, `Task*` (with TaskSubmitted)
 *   for lambda:invoke and `.waitForTaskToken`. Not matched: LambdaFunctionScheduled's `input`
 *   and TaskScheduled's `parameters` hold the state's raw input, where AWS records the input
 *   after InputPath and Parameters; no ScheduleFailed/StartFailed events (nothing here fails
 *   to schedule).
 * - A failed Lambda's Cause is the error document `{errorType, errorMessage, trace}` as JSON
 *   (runLambda); `trace` holds this process's stack lines, as Node.js Lambda's does.
 */
export class LocalStepFunctions implements LocalService {
  readonly name = 'states';
  private readonly region: string;
  private readonly accountId: string;
  private readonly now: () => Date;
  private readonly waitOverrideMs: LocalStepFunctionsOptions['waitOverrideMs'];
  private readonly retryIntervalOverrideMs: number | undefined;
  private readonly machines = new Map<string, Machine>();
  private readonly executions = new Map<string, Execution>();
  private readonly callbacks = new Map<string, OpenCallback>();
  private readonly listeners = new Set<(event: ExecutionEvent) => void>();
  /** Handlers still running: stopping an execution does not stop the Task it was in. */
  private readonly handlersInFlight = new Set<Promise<unknown>>();

  constructor(options: LocalStepFunctionsOptions = {}) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    this.now = options.now ?? (() => new Date());
    this.waitOverrideMs = options.waitOverrideMs;
    this.retryIntervalOverrideMs = options.retryIntervalOverrideMs;
  }

  createStateMachine(input: CreateStateMachineInput): { stateMachineArn: string } {
    if (!namePattern.test(input.name)) {
      throw new Error(`State machine name "${input.name}" must be 1-80 of [A-Za-z0-9_-].`);
    }
    const arn = this.stateMachineArn(input.name);
    if (this.machines.has(arn)) throw new Error(`State machine ${input.name} already exists.`);
    const stateHandlers = input.stateHandlers ?? {};
    const engineDefinition = structuredClone(input.definition) as StateMachineDefinition;
    const tasks = new Map<string, TaskBinding>();
    const waitStates = new Map<string, number | undefined>();
    const retryStates: string[] = [];
    const seen = new Set<string>();
    visitStates(
      engineDefinition as unknown as { States: Record<string, AslState> },
      (name, state) => {
        if (seen.has(name)) {
          throw new Error(
            `State name "${name}" is used twice; Step Functions requires unique names.`,
          );
        }
        seen.add(name);
        if (Array.isArray(state.Retry)) retryStates.push(name);
        if (state.Type === 'Wait') {
          waitStates.set(name, typeof state.Seconds === 'number' ? state.Seconds : undefined);
        }
        if (state.Type !== 'Task') return;
        // A forward-only hold waits a year (HoldSeconds): past setTimeout's range it would time
        // out at once here, so it waits as long as a timer can (24.8 days), longer than any run.
        if (
          typeof state.TimeoutSeconds === 'number' &&
          state.TimeoutSeconds > unboundedTaskSeconds
        ) {
          state.TimeoutSeconds = unboundedTaskSeconds;
        }
        const binding = bindTask(name, state, input.functions, stateHandlers);
        if (typeof state.TimeoutSecondsPath === 'string' && isObject(state.Parameters)) {
          state.Parameters = { ...state.Parameters, [`${timeoutKey}.$`]: state.TimeoutSecondsPath };
          state.TimeoutSecondsPath = `$.${timeoutKey}`;
          binding.timeoutFromInput = true;
        }
        tasks.set(name, binding);
        if (state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
          state.TimeoutSeconds = unboundedTaskSeconds;
        }
      },
    );
    const mapGuards = guardMaps(
      engineDefinition as unknown as { States: Record<string, AslState> },
      seen,
    );
    this.machines.set(arn, {
      arn,
      name: input.name,
      definition: input.definition,
      engine: new StateMachine(engineDefinition),
      creationDate: this.now(),
      tasks,
      mapGuards,
      waitStates,
      retryStates,
      stateHandlers,
      functions: input.functions,
    });
    return { stateMachineArn: arn };
  }

  /**
   * Starts an execution of the machine named by name or ARN. As in Standard workflows, a
   * name already used by a running execution with identical input returns that execution;
   * any other reuse of a name fails with ExecutionAlreadyExists.
   */
  startExecution(
    stateMachine: string,
    input: unknown = {},
    name?: string,
  ): { executionArn: string; startDate: Date } {
    return this.start(stateMachine, JSON.stringify(input ?? {}), name);
  }

  /** Resolves with the execution's final record once it has ended. */
  async waitForExecution(executionArn: string): Promise<ExecutionRecord> {
    return this.executionOf(executionArn).done;
  }

  getExecution(executionArn: string): ExecutionRecord {
    return { ...this.executionOf(executionArn).record };
  }

  getHistory(executionArn: string): HistoryEvent[] {
    return [...this.executionOf(executionArn).history];
  }

  /** Every execution, newest first. */
  listExecutions(): ExecutionRecord[] {
    return [...this.executions.values()].reverse().map((execution) => ({ ...execution.record }));
  }

  /** Callback tasks waiting for a token, e.g. to approve from a test. */
  pendingTasks(executionArn?: string): PendingTask[] {
    return [...this.callbacks.values()]
      .filter((task) => executionArn === undefined || task.executionArn === executionArn)
      .map(({ taskToken, executionArn: arn, stateName, input }) => ({
        taskToken,
        executionArn: arn,
        stateName,
        input,
      }));
  }

  /** Calls `listener` with each history event as it happens; returns an unsubscribe function. */
  onEvent(listener: (event: ExecutionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  sendTaskSuccess(taskToken: string, output: unknown): void {
    this.callbackOf(taskToken).resolve(JSON.parse(JSON.stringify(output ?? null)) as JsonValue);
  }

  sendTaskFailure(taskToken: string, error = '', cause = ''): void {
    this.callbackOf(taskToken).reject(new TaskError(error, cause));
  }

  sendTaskHeartbeat(taskToken: string): void {
    const task = this.callbackOf(taskToken);
    if (task.heartbeatMs !== undefined) this.armHeartbeat(task, task.heartbeatMs);
  }

  async stopExecution(
    executionArn: string,
    error?: string,
    cause?: string,
  ): Promise<ExecutionRecord> {
    const execution = this.executionOf(executionArn);
    if (execution.record.status === ExecutionStatus.Running) {
      execution.stopReason = {
        ...(error === undefined ? {} : { error }),
        ...(cause === undefined ? {} : { cause }),
      };
      execution.abort();
    }
    return execution.done;
  }

  /**
   * Aborts every running execution and waits for them to settle, then for the handlers they
   * were running (for at most `handlerGraceMs`): the engine stops an execution without
   * stopping its Task, whose handler would otherwise write to a DynamoDB already closed.
   */
  async close(handlerGraceMs = 10_000): Promise<void> {
    const running = [...this.executions.values()].filter(
      (execution) => execution.record.status === ExecutionStatus.Running,
    );
    await Promise.all(
      running.map((execution) =>
        this.stopExecution(execution.record.executionArn, 'States.Aborted', 'Local cloud closed'),
      ),
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.handlersInFlight]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, handlerGraceMs);
      }),
    ]);
    clearTimeout(timer);
  }

  async handle(request: LocalRequest): Promise<LocalResponse | undefined> {
    const operation = targetOperation(request, 'AWSStepFunctions');
    if (operation === undefined) return undefined;
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(request.body.toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      return awsJsonError(400, 'SerializationException', 'Request body is not valid JSON');
    }
    try {
      const result = await this.dispatch(operation, body);
      if (result === undefined) {
        return awsJsonError(
          400,
          'UnknownOperationException',
          `The local Step Functions does not implement ${operation}`,
        );
      }
      return awsJsonResult(result);
    } catch (error) {
      if (error instanceof StepFunctionsApiError) {
        return awsJsonError(error.status, error.code, error.message);
      }
      throw error;
    }
  }

  private async dispatch(operation: string, body: Record<string, unknown>): Promise<unknown> {
    switch (operation) {
      case 'ListStateMachines':
        return this.apiListStateMachines(body);
      case 'DescribeStateMachine': {
        const machine = this.machineOf(requireString(body, 'stateMachineArn'));
        return {
          stateMachineArn: machine.arn,
          name: machine.name,
          status: 'ACTIVE',
          definition: JSON.stringify(machine.definition),
          roleArn: this.roleArn(),
          type: 'STANDARD',
          creationDate: epochSeconds(machine.creationDate),
        };
      }
      case 'StartExecution': {
        const input = body.input === undefined ? '{}' : requireString(body, 'input');
        const name = body.name === undefined ? undefined : requireString(body, 'name');
        const started = this.start(requireString(body, 'stateMachineArn'), input, name);
        return { executionArn: started.executionArn, startDate: epochSeconds(started.startDate) };
      }
      case 'DescribeExecution':
        return describeExecution(this.getExecution(requireString(body, 'executionArn')));
      case 'ListExecutions':
        return this.apiListExecutions(body);
      case 'GetExecutionHistory':
        return this.apiGetExecutionHistory(body);
      case 'StopExecution': {
        const stopped = await this.stopExecution(
          requireString(body, 'executionArn'),
          optionalString(body, 'error'),
          optionalString(body, 'cause'),
        );
        return { stopDate: epochSeconds(stopped.stopDate ?? this.now()) };
      }
      case 'SendTaskSuccess': {
        const output = requireString(body, 'output');
        let parsed: unknown;
        try {
          parsed = JSON.parse(output);
        } catch {
          throw new StepFunctionsApiError('InvalidOutput', 'The output is not valid JSON.');
        }
        this.sendTaskSuccess(requireString(body, 'taskToken'), parsed);
        return {};
      }
      case 'SendTaskFailure':
        this.sendTaskFailure(
          requireString(body, 'taskToken'),
          optionalString(body, 'error'),
          optionalString(body, 'cause'),
        );
        return {};
      case 'SendTaskHeartbeat':
        this.sendTaskHeartbeat(requireString(body, 'taskToken'));
        return {};
      default:
        return undefined;
    }
  }

  private apiListStateMachines(body: Record<string, unknown>): unknown {
    const machines = [...this.machines.values()].map((machine) => ({
      stateMachineArn: machine.arn,
      name: machine.name,
      type: 'STANDARD',
      creationDate: epochSeconds(machine.creationDate),
    }));
    const page = paginate(machines, body);
    return { stateMachines: page.items, ...page.next };
  }

  private apiListExecutions(body: Record<string, unknown>): unknown {
    const machine = this.machineOf(requireString(body, 'stateMachineArn'));
    const statusFilter = optionalString(body, 'statusFilter');
    const executions = this.listExecutions()
      .filter((record) => record.stateMachineArn === machine.arn)
      .filter((record) => statusFilter === undefined || record.status === statusFilter)
      .map((record) => ({
        executionArn: record.executionArn,
        stateMachineArn: record.stateMachineArn,
        name: record.name,
        status: record.status,
        startDate: epochSeconds(record.startDate),
        ...(record.stopDate ? { stopDate: epochSeconds(record.stopDate) } : {}),
      }));
    const page = paginate(executions, body);
    return { executions: page.items, ...page.next };
  }

  private apiGetExecutionHistory(body: Record<string, unknown>): unknown {
    const history = this.getHistory(requireString(body, 'executionArn'));
    if (body.reverseOrder === true) history.reverse();
    const page = paginate(history.map(toWireEvent), body);
    return { events: page.items, ...page.next };
  }

  private start(
    stateMachine: string,
    inputText: string,
    name: string | undefined,
  ): { executionArn: string; startDate: Date } {
    const machine = this.machineOf(stateMachine);
    let input: JsonValue;
    try {
      input = JSON.parse(inputText) as JsonValue;
    } catch {
      throw new StepFunctionsApiError(
        'InvalidExecutionInput',
        'Execution input is not valid JSON.',
      );
    }
    const executionName = name ?? randomUUID();
    if (!namePattern.test(executionName)) {
      throw new StepFunctionsApiError(
        'InvalidName',
        `Invalid Name: '${executionName}' (use 1-80 of A-Z, a-z, 0-9, - and _)`,
      );
    }
    const executionArn = `arn:aws:states:${this.region}:${this.accountId}:execution:${machine.name}:${executionName}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      if (
        existing.record.status === ExecutionStatus.Running &&
        existing.record.input === inputText
      ) {
        return { executionArn, startDate: existing.record.startDate };
      }
      throw new StepFunctionsApiError(
        'ExecutionAlreadyExists',
        `Execution Already Exists: '${executionArn}'`,
      );
    }
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn: machine.arn,
      name: executionName,
      status: ExecutionStatus.Running,
      input: inputText,
      startDate: this.now(),
    };
    const execution: Execution = {
      record,
      machine,
      history: [],
      abort: () => {},
      done: Promise.resolve(record),
      failedStates: new Set(),
      failedMaps: new Set(),
      unguardedIterations: new Set(),
      stoppedIterations: new Set(),
    };
    // Registered before the run: the engine calls the first Task handler synchronously.
    this.executions.set(executionArn, execution);
    const placeholder = `local-task-token-placeholder-${randomUUID()}`;
    const run = machine.engine.run(input, this.runOptions(machine, record, placeholder));
    execution.abort = run.abort;
    execution.done = this.follow(execution, run.result, run.eventLogs);
    return { executionArn, startDate: record.startDate };
  }

  private runOptions(machine: Machine, record: ExecutionRecord, placeholder: string): RunOptions {
    const taskResourceLocalHandlers: Record<string, EngineTaskHandler> = {};
    for (const binding of machine.tasks.values()) {
      taskResourceLocalHandlers[binding.stateName] = this.taskHandler(
        machine,
        binding,
        record.executionArn,
        placeholder,
      );
    }
    for (const [guard, mapName] of machine.mapGuards) {
      taskResourceLocalHandlers[guard] = this.mapGuard(record.executionArn, mapName);
    }
    const waitTimeOverrides: Record<string, number> = {};
    for (const [stateName, seconds] of machine.waitStates) {
      const ms = this.waitOverrideMs?.(stateName, seconds);
      if (ms !== undefined) waitTimeOverrides[stateName] = ms;
    }
    const retryIntervalOverrides: Record<string, number> = {};
    if (this.retryIntervalOverrideMs !== undefined) {
      for (const stateName of machine.retryStates) {
        retryIntervalOverrides[stateName] = this.retryIntervalOverrideMs;
      }
    }
    return {
      overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
      context: {
        Execution: {
          Id: record.executionArn,
          Name: record.name,
          RoleArn: this.roleArn(),
          StartTime: record.startDate.toISOString(),
          RedriveCount: 0,
        },
        StateMachine: { Id: machine.arn, Name: machine.name },
        // The engine has no task tokens: Parameters see this placeholder for `$$.Task.Token`,
        // and the callback handler swaps in a fresh token per task.
        Task: { Token: placeholder },
      },
    };
  }

  /**
   * The first state of every iteration of `mapName` (see guardMaps). Step Functions stops a Map
   * when one of its iterations fails and starts no further iteration (Step Functions Developer
   * Guide, "Map workflow state": an iteration that fails fails the Map state). The engine keeps
   * starting the iterations still queued behind its concurrency limit, so the guard fails each
   * one before any of its states runs, and the history leaves it out.
   */
  private mapGuard(executionArn: string, mapName: string): EngineTaskHandler {
    return async (input) => {
      // The engine reports an iteration's failure through promise chains alone: one macrotask
      // later every event of an iteration that failed before this one started is recorded.
      await nextMacrotask();
      const execution = this.executions.get(executionArn);
      if (!execution?.failedMaps.has(mapName)) return input;
      for (const key of execution.unguardedIterations) {
        if (!key.startsWith(`${mapName}:`)) continue;
        execution.unguardedIterations.delete(key);
        execution.stoppedIterations.add(key);
      }
      throw new TaskError('States.Aborted', `Map state ${mapName} failed; no iteration starts`);
    };
  }

  private taskHandler(
    machine: Machine,
    binding: TaskBinding,
    executionArn: string,
    placeholder: string,
  ): EngineTaskHandler {
    const handler = this.boundHandler(machine, binding, executionArn, placeholder);
    if (!binding.timeoutFromInput) return (input) => handler(input);
    return (input) => {
      const { [timeoutKey]: seconds, ...parameters } = input as Record<string, unknown>;
      return handler(parameters as JsonValue, typeof seconds === 'number' ? seconds : undefined);
    };
  }

  private boundHandler(
    machine: Machine,
    binding: TaskBinding,
    executionArn: string,
    placeholder: string,
  ): (input: JsonValue, timeoutSeconds?: number) => Promise<JsonValue> {
    switch (binding.kind) {
      case 'state-handler': {
        const handler = machine.stateHandlers[binding.stateName] as LocalStateHandler;
        return async (input) => asJson(await this.track(runTask(() => handler(asJson(input)))));
      }
      case 'lambda':
        return async (input) =>
          asJson(
            await this.invokeFunction(
              machine,
              functionNameOf(binding.resource),
              input,
              binding.timeoutSeconds,
            ),
          );
      case 'lambda-invoke':
        return async (input) => {
          const { FunctionName, Payload } = invokeParameters(input, binding.stateName);
          const requestId = randomUUID();
          const payload = await this.invokeFunction(
            machine,
            FunctionName,
            Payload,
            binding.timeoutSeconds,
            requestId,
          );
          return asJson({
            ExecutedVersion: '$LATEST',
            Payload: payload ?? null,
            SdkHttpMetadata: { HttpStatusCode: 200 },
            SdkResponseMetadata: { RequestId: requestId },
            StatusCode: 200,
          });
        };
      case 'callback':
        return (input, timeoutSeconds) =>
          this.awaitCallback(
            machine,
            binding,
            executionArn,
            placeholder,
            input,
            timeoutSeconds ?? binding.timeoutSeconds,
          );
    }
  }

  private async invokeFunction(
    machine: Machine,
    functionName: string,
    event: unknown,
    timeoutSeconds: number | undefined,
    awsRequestId: string = randomUUID(),
  ): Promise<unknown> {
    const handler = machine.functions[functionName];
    if (!handler) {
      throw new TaskError(
        'Lambda.ResourceNotFoundException',
        `Function not found: ${this.functionArn(functionName)}`,
      );
    }
    const context = this.lambdaContext(
      functionName,
      awsRequestId,
      Math.min(timeoutSeconds ?? lambdaTimeoutSeconds, lambdaTimeoutSeconds),
    );
    return this.track(runLambda(() => handler(asJson(event) as never, context)));
  }

  private track<T>(running: Promise<T>): Promise<T> {
    this.handlersInFlight.add(running);
    const forget = () => this.handlersInFlight.delete(running);
    running.then(forget, forget);
    return running;
  }

  private async awaitCallback(
    machine: Machine,
    binding: TaskBinding,
    executionArn: string,
    placeholder: string,
    input: JsonValue,
    timeoutSeconds: number | undefined,
  ): Promise<JsonValue> {
    const taskToken = randomBytes(48).toString('base64url');
    const effective = replaceText(input, placeholder, taskToken) as JsonValue;
    const settled = Promise.withResolvers<JsonValue>();
    // A heartbeat can expire while the bound function still runs; if that function then
    // throws, nobody awaits this promise, and its rejection must not crash the process.
    settled.promise.catch(() => {});
    const task: OpenCallback = {
      taskToken,
      executionArn,
      stateName: binding.stateName,
      input: effective,
      resolve: settled.resolve,
      reject: settled.reject,
    };
    this.callbacks.set(taskToken, task);
    if (binding.heartbeatSeconds !== undefined) {
      task.heartbeatMs = binding.heartbeatSeconds * 1000;
      this.armHeartbeat(task, task.heartbeatMs);
    }
    if (timeoutSeconds !== undefined) {
      // The engine enforces TimeoutSeconds itself (States.Timeout); one tick later this only
      // retires the token so a late SendTaskSuccess is refused.
      task.timeoutTimer = setTimeout(
        () => settled.reject(new TaskError('States.Timeout', 'Task timed out')),
        timeoutSeconds * 1000 + 1,
      );
    }
    try {
      if (lambdaInvokeResource.test(binding.resource.slice(0, -callbackSuffix.length))) {
        const { FunctionName, Payload } = invokeParameters(effective, binding.stateName);
        // The function only hands the token on (e.g. posts an approval); its result is ignored.
        const output = await this.invokeFunction(machine, FunctionName, Payload, undefined);
        // As in AWS, TaskSubmitted marks the invocation done while the task waits on its token.
        const execution = this.executions.get(executionArn);
        if (execution) {
          this.appendHistory(
            execution,
            'TaskSubmitted',
            {
              ...taskResourceDetails(binding.resource, this.region),
              output: JSON.stringify(output ?? null),
            },
            binding.stateName,
            undefined,
          );
        }
      }
      return await settled.promise;
    } finally {
      clearTimeout(task.heartbeatTimer);
      clearTimeout(task.timeoutTimer);
      this.callbacks.delete(taskToken);
    }
  }

  private armHeartbeat(task: OpenCallback, ms: number): void {
    clearTimeout(task.heartbeatTimer);
    task.heartbeatTimer = setTimeout(
      () => task.reject(new TaskError('States.HeartbeatTimeout', 'Task heartbeat timed out')),
      ms,
    );
  }

  private async follow(
    execution: Execution,
    result: Promise<JsonValue>,
    eventLogs: AsyncGenerator<EngineEvent>,
  ): Promise<ExecutionRecord> {
    const outcome = result.then(
      (output) => ({ output }),
      (error: unknown) => ({ error }),
    );
    for await (const event of eventLogs) this.recordEngineEvent(execution, event);
    const settled = await outcome;
    const { record } = execution;
    record.stopDate = this.now();
    if ('output' in settled) {
      record.status = ExecutionStatus.Succeeded;
      record.output = JSON.stringify(settled.output);
    } else if (settled.error instanceof ExecutionAbortedError) {
      record.status = ExecutionStatus.Aborted;
      if (execution.stopReason?.error !== undefined) record.error = execution.stopReason.error;
      if (execution.stopReason?.cause !== undefined) record.cause = execution.stopReason.cause;
    } else if (settled.error instanceof ExecutionTimeoutError) {
      record.status = ExecutionStatus.TimedOut;
      record.error = 'States.Timeout';
    } else {
      record.status = ExecutionStatus.Failed;
      const failure = settled.error instanceof ExecutionError ? settled.error.cause : settled.error;
      record.error = failure instanceof Error ? failure.name : 'States.Runtime';
      record.cause = causeText(failure);
    }
    for (const task of this.callbacks.values()) {
      if (task.executionArn === record.executionArn) {
        task.reject(new TaskError('States.Aborted', 'Execution ended'));
      }
    }
    return { ...record };
  }

  private recordEngineEvent(execution: Execution, event: EngineEvent): void {
    const { record, machine } = execution;
    const add = (type: string, details?: Record<string, unknown>, stateName?: string) =>
      this.appendHistory(
        execution,
        type,
        details,
        stateName,
        'index' in event ? event.index : undefined,
      );
    switch (event.type) {
      case 'ExecutionStarted':
        add('ExecutionStarted', {
          input: record.input,
          inputDetails: { truncated: false },
          roleArn: this.roleArn(),
        });
        return;
      case 'ExecutionSucceeded':
        add('ExecutionSucceeded', {
          output: JSON.stringify(event.output),
          outputDetails: { truncated: false },
        });
        return;
      case 'ExecutionFailed':
        add('ExecutionFailed', { error: event.Error, cause: causeText(event.Cause) });
        return;
      case 'ExecutionAborted':
        add('ExecutionAborted', { ...execution.stopReason });
        return;
      case 'ExecutionTimeout':
        add('ExecutionTimedOut', { error: 'States.Timeout' });
        return;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const mapName = event.parentState.name;
        const key = `${mapName}:${event.index}`;
        if (execution.stoppedIterations.has(key)) return;
        // Written once the iteration is past its guard: one the guard stops never started.
        if (event.type === 'MapIterationStarted' && isGuarded(machine, mapName)) {
          execution.unguardedIterations.add(key);
          return;
        }
        if (event.type === 'MapIterationFailed') execution.failedMaps.add(mapName);
        add(event.type, { name: mapName, index: event.index }, mapName);
        return;
      }
      case 'ParallelBranchStarted':
      case 'ParallelBranchSucceeded':
      case 'ParallelBranchFailed':
        return;
      default:
        break;
    }
    const { name, type } = event.state;
    const guarded = machine.mapGuards.get(name);
    if (guarded !== undefined) {
      const key = `${guarded}:${event.index}`;
      if (event.type === 'StateExited' && execution.unguardedIterations.delete(key)) {
        add('MapIterationStarted', { name: guarded, index: event.index }, guarded);
      }
      return;
    }
    const task = machine.tasks.get(name);
    const taskDetails = task ? taskResourceDetails(task.resource, this.region) : {};
    const key = `${event.index ?? ''}:${name}`;
    switch (event.type) {
      case 'StateEntered':
        if (type === 'Map') execution.failedMaps.delete(name);
        add(`${type}StateEntered`, { name, input: JSON.stringify(event.state.input) }, name);
        if (task) this.addTaskStart(execution, task, event.state.input, event.index);
        return;
      case 'StateRetried':
        execution.failedStates.delete(key);
        if (task) this.addTaskStart(execution, task, event.state.input, event.index);
        return;
      case 'StateFailed':
        execution.failedStates.add(key);
        if (task) {
          const timedOut =
            event.Error === 'States.Timeout' || event.Error === 'States.HeartbeatTimeout';
          const failure = { error: event.Error, cause: causeText(event.Cause) };
          if (task.history === 'lambda-function') {
            add(timedOut ? 'LambdaFunctionTimedOut' : 'LambdaFunctionFailed', failure, name);
          } else {
            add(timedOut ? 'TaskTimedOut' : 'TaskFailed', { ...taskDetails, ...failure }, name);
          }
        } else if (type === 'Map' || type === 'Parallel') {
          add(`${type}StateFailed`, undefined, name);
        }
        return;
      case 'StateCaught':
        return;
      case 'StateExited': {
        const output = JSON.stringify(event.state.output ?? null);
        if (task && !execution.failedStates.has(key)) {
          if (task.history === 'lambda-function') add('LambdaFunctionSucceeded', { output }, name);
          else add('TaskSucceeded', { ...taskDetails, output }, name);
        }
        execution.failedStates.delete(key);
        if (type !== 'Fail') add(`${type}StateExited`, { name, output }, name);
        return;
      }
    }
  }

  private addTaskStart(
    execution: Execution,
    task: TaskBinding,
    input: unknown,
    mapIndex: number | undefined,
  ): void {
    const { stateName } = task;
    const timeout =
      task.timeoutSeconds === undefined ? {} : { timeoutInSeconds: task.timeoutSeconds };
    if (task.history === 'lambda-function') {
      this.appendHistory(
        execution,
        'LambdaFunctionScheduled',
        { resource: task.resource, input: JSON.stringify(input), ...timeout },
        stateName,
        mapIndex,
      );
      this.appendHistory(execution, 'LambdaFunctionStarted', undefined, stateName, mapIndex);
      return;
    }
    const { resourceType, resource, region } = taskResourceDetails(task.resource, this.region);
    this.appendHistory(
      execution,
      'TaskScheduled',
      {
        resourceType,
        resource,
        region,
        parameters: JSON.stringify(input),
        ...timeout,
        ...(task.heartbeatSeconds === undefined
          ? {}
          : { heartbeatInSeconds: task.heartbeatSeconds }),
      },
      stateName,
      mapIndex,
    );
    this.appendHistory(execution, 'TaskStarted', { resourceType, resource }, stateName, mapIndex);
  }

  private appendHistory(
    execution: Execution,
    type: string,
    details: Record<string, unknown> | undefined,
    stateName: string | undefined,
    mapIndex: number | undefined,
  ): void {
    const previous = execution.history.at(-1);
    const event: HistoryEvent = {
      id: (previous?.id ?? 0) + 1,
      previousEventId: previous?.id ?? 0,
      timestamp: this.now(),
      type,
      ...(details === undefined ? {} : { details }),
    };
    execution.history.push(event);
    const published: ExecutionEvent = {
      executionArn: execution.record.executionArn,
      executionName: execution.record.name,
      ...(stateName === undefined ? {} : { stateName }),
      ...(mapIndex === undefined ? {} : { mapIndex }),
      event,
    };
    for (const listener of this.listeners) listener(published);
  }

  private lambdaContext(
    functionName: string,
    awsRequestId: string,
    timeoutSeconds: number,
  ): LambdaContextLike {
    const deadline = this.now().getTime() + timeoutSeconds * 1000;
    const day = this.now().toISOString().slice(0, 10).replaceAll('-', '/');
    const unsupported = () => {
      throw new Error('Callback-style context methods are not supported: return or throw instead.');
    };
    return {
      callbackWaitsForEmptyEventLoop: true,
      functionName,
      functionVersion: '$LATEST',
      invokedFunctionArn: this.functionArn(functionName),
      memoryLimitInMB: '1024',
      awsRequestId,
      logGroupName: `/aws/lambda/${functionName}`,
      logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - this.now().getTime()),
      done: unsupported,
      fail: unsupported,
      succeed: unsupported,
    };
  }

  private machineOf(nameOrArn: string): Machine {
    const arn = nameOrArn.startsWith('arn:') ? nameOrArn : this.stateMachineArn(nameOrArn);
    const machine = this.machines.get(arn);
    if (!machine) {
      throw new StepFunctionsApiError(
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${arn}'`,
      );
    }
    return machine;
  }

  private executionOf(executionArn: string): Execution {
    const execution = this.executions.get(executionArn);
    if (!execution) {
      throw new StepFunctionsApiError(
        'ExecutionDoesNotExist',
        `Execution Does Not Exist: '${executionArn}'`,
      );
    }
    return execution;
  }

  private callbackOf(taskToken: string): OpenCallback {
    const task = this.callbacks.get(taskToken);
    if (!task) {
      throw new StepFunctionsApiError('TaskDoesNotExist', 'Task Does Not Exist');
    }
    return task;
  }

  private stateMachineArn(name: string): string {
    return `arn:aws:states:${this.region}:${this.accountId}:stateMachine:${name}`;
  }

  private functionArn(name: string): string {
    return `arn:aws:lambda:${this.region}:${this.accountId}:function:${name}`;
  }

  private roleArn(): string {
    return `arn:aws:iam::${this.accountId}:role/local-step-functions`;
  }
}

function bindTask(
  stateName: string,
  state: AslState,
  functions: Record<string, LocalLambdaHandler>,
  stateHandlers: Record<string, LocalStateHandler>,
): TaskBinding {
  const resource = String(state.Resource);
  const binding = {
    stateName,
    resource,
    history: lambdaArnPattern.test(resource) ? ('lambda-function' as const) : ('task' as const),
    ...(typeof state.TimeoutSeconds === 'number' ? { timeoutSeconds: state.TimeoutSeconds } : {}),
    ...(typeof state.HeartbeatSeconds === 'number'
      ? { heartbeatSeconds: state.HeartbeatSeconds }
      : {}),
  };
  if (stateHandlers[stateName]) return { ...binding, kind: 'state-handler' };
  const requireFunction = (functionName: string) => {
    if (!functions[functionName]) {
      throw new Error(
        `Task state "${stateName}" invokes Lambda function "${functionName}", which has no handler. Add it to "functions".`,
      );
    }
  };
  const lambdaArn = lambdaArnPattern.exec(resource);
  if (lambdaArn) {
    requireFunction(lambdaArn[1] as string);
    return { ...binding, kind: 'lambda' };
  }
  const isCallback = resource.endsWith(callbackSuffix);
  const base = isCallback ? resource.slice(0, -callbackSuffix.length) : resource;
  if (lambdaInvokeResource.test(base)) {
    const parameters = state.Parameters as Record<string, unknown> | undefined;
    if (typeof parameters?.FunctionName === 'string') {
      requireFunction(functionNameOf(parameters.FunctionName));
    } else if (typeof parameters?.['FunctionName.$'] !== 'string') {
      throw new Error(
        `Task state "${stateName}" calls lambda:invoke without Parameters.FunctionName.`,
      );
    }
  } else if (!isCallback) {
    throw new Error(
      `Task state "${stateName}" uses resource ${resource}, which the local cloud cannot run. Bind it with "stateHandlers: { '${stateName}': ... }".`,
    );
  }
  return { ...binding, kind: isCallback ? 'callback' : 'lambda-invoke' };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function visitStates(
  machine: { States: Record<string, AslState> },
  visit: (name: string, state: AslState) => void,
): void {
  for (const [name, state] of Object.entries(machine.States)) {
    visit(name, state);
    const processor = (state.ItemProcessor ?? state.Iterator) as
      | { States: Record<string, AslState> }
      | undefined;
    if (state.Type === 'Map' && processor) visitStates(processor, visit);
    if (state.Type === 'Parallel' && Array.isArray(state.Branches)) {
      for (const branch of state.Branches as { States: Record<string, AslState> }[]) {
        visitStates(branch, visit);
      }
    }
  }
}

/**
 * Puts a guard state at the start of every Map state's iterations, in the definition the engine
 * runs (see LocalStepFunctions.mapGuard). Returns guard name → Map state name. Only top-level
 * Maps and those in Parallel branches are guarded; a Map nested in a Map's iteration is not
 * (the workflow has none).
 */
function guardMaps(
  machine: { States: Record<string, AslState> },
  taken: Set<string>,
): Map<string, string> {
  const guards = new Map<string, string>();
  const visit = (states: Record<string, AslState>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Parallel' && Array.isArray(state.Branches)) {
        for (const branch of state.Branches as { States: Record<string, AslState> }[]) {
          visit(branch.States);
        }
      }
      const processor = (state.ItemProcessor ?? state.Iterator) as
        | { StartAt: string; States: Record<string, AslState> }
        | undefined;
      if (state.Type !== 'Map' || !processor) continue;
      let guard = `GreenlightLocalMapGuard${guards.size}`;
      while (taken.has(guard)) guard = `${guard}_`;
      taken.add(guard);
      processor.States = {
        [guard]: { Type: 'Task', Resource: mapGuardResource, Next: processor.StartAt },
        ...processor.States,
      };
      processor.StartAt = guard;
      guards.set(guard, name);
    }
  };
  visit(machine.States);
  return guards;
}

function isGuarded(machine: Machine, mapName: string): boolean {
  for (const guarded of machine.mapGuards.values()) if (guarded === mapName) return true;
  return false;
}

function functionNameOf(reference: string): string {
  const match = functionNamePattern.exec(reference);
  if (!match) {
    throw new TaskError(
      'Lambda.InvalidParameterValueException',
      `Invalid function name ${reference}`,
    );
  }
  return match[1] as string;
}

function invokeParameters(
  input: unknown,
  stateName: string,
): { FunctionName: string; Payload: unknown } {
  const parameters = (input ?? {}) as { FunctionName?: unknown; Payload?: unknown };
  if (typeof parameters.FunctionName !== 'string') {
    throw new TaskError(
      'States.Runtime',
      `Task state "${stateName}": lambda:invoke needs a string FunctionName`,
    );
  }
  return {
    FunctionName: functionNameOf(parameters.FunctionName),
    Payload: parameters.Payload ?? {},
  };
}

/**
 * Runs a Lambda handler and fails the task as Step Functions fails a Lambda task: `Error` is the
 * error's type, `Cause` the function's error document as JSON, `{"errorType", "errorMessage",
 * "trace"}` (Step Functions Developer Guide, "Handling errors in Step Functions workflows":
 * a Lambda error's Cause; Lambda Developer Guide, "AWS Lambda function errors in Node.js": the
 * document the Node.js runtime returns). FACTS: aws-local-stepfunctions on its own hands a
 * Catch the bare message; Rollback's failureMessage reads either.
 */
async function runLambda(call: () => Promise<unknown>): Promise<unknown> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof TaskError) throw error;
    const errorType = error instanceof Error ? error.name : 'Error';
    const errorMessage = error instanceof Error ? error.message : String(error);
    const trace = error instanceof Error && error.stack ? error.stack.split('\n') : [];
    throw new TaskError(errorType, JSON.stringify({ errorType, errorMessage, trace }));
  }
}

/** Runs a handler and turns whatever it throws into a TaskError the engine can match on. */
async function runTask(call: () => Promise<unknown>): Promise<unknown> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof TaskError) throw error;
    if (error instanceof Error) throw new TaskError(error.name, error.message);
    throw new TaskError('Error', String(error));
  }
}

/** A JSON round trip, as Lambda's payload serialization does (Dates become strings). */
function asJson(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value ?? null)) as JsonValue;
}

function replaceText(value: unknown, search: string, replacement: string): unknown {
  if (typeof value === 'string') return value.replaceAll(search, replacement);
  if (Array.isArray(value)) return value.map((item) => replaceText(item, search, replacement));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, replaceText(item, search, replacement)]),
    );
  }
  return value;
}

function taskResourceDetails(resource: string, region: string): Record<string, unknown> {
  const service = /^arn:aws[a-z-]*:states:::([^:]+):(.+)$/.exec(resource);
  if (service) return { resourceType: service[1], resource: service[2], region };
  return { resourceType: 'lambda', resource: 'invoke', region };
}

function causeText(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  return typeof cause === 'string' ? cause : JSON.stringify(cause ?? '');
}

function describeExecution(record: ExecutionRecord): unknown {
  return {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: epochSeconds(record.startDate),
    ...(record.stopDate ? { stopDate: epochSeconds(record.stopDate) } : {}),
    input: record.input,
    inputDetails: { included: true },
    ...(record.output === undefined
      ? {}
      : { output: record.output, outputDetails: { included: true } }),
    ...(record.error === undefined ? {} : { error: record.error }),
    ...(record.cause === undefined ? {} : { cause: record.cause }),
  };
}

function toWireEvent(event: HistoryEvent): Record<string, unknown> {
  return {
    id: event.id,
    previousEventId: event.previousEventId,
    timestamp: epochSeconds(event.timestamp),
    type: event.type,
    ...(event.details === undefined ? {} : { [detailsKeyOf(event.type)]: event.details }),
  };
}

function detailsKeyOf(type: string): string {
  if (type.endsWith('StateEntered')) return 'stateEnteredEventDetails';
  if (type.endsWith('StateExited')) return 'stateExitedEventDetails';
  return `${type[0]?.toLowerCase() ?? ''}${type.slice(1)}EventDetails`;
}

/** JSON 1.0 timestamps are epoch seconds; the SDK parses fractional numbers. */
function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

function paginate<T>(
  items: readonly T[],
  body: Record<string, unknown>,
): { items: T[]; next: { nextToken?: string } } {
  const maxResults =
    typeof body.maxResults === 'number' && body.maxResults > 0 ? body.maxResults : 100;
  let offset = 0;
  if (typeof body.nextToken === 'string') {
    offset = Number.parseInt(Buffer.from(body.nextToken, 'base64url').toString('utf8'), 10);
    if (!Number.isInteger(offset) || offset < 0) {
      throw new StepFunctionsApiError('InvalidToken', 'Invalid Token');
    }
  }
  const end = offset + maxResults;
  return {
    items: items.slice(offset, end),
    next: end < items.length ? { nextToken: Buffer.from(String(end)).toString('base64url') } : {},
  };
}

function requireString(body: Record<string, unknown>, field: string): string {
  const value = body[field];
  if (typeof value !== 'string') {
    throw new StepFunctionsApiError(
      'ValidationException',
      `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

function optionalString(body: Record<string, unknown>, field: string): string | undefined {
  return body[field] === undefined ? undefined : requireString(body, field);
}
