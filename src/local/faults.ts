import { setTimeout as sleep } from 'node:timers/promises';
import type { LambdaContextLike, LocalLambdaHandler } from './step-functions.ts';

/**
 * Fault injection for the local cloud: makes one invocation of one Task state fail the way AWS
 * would surface it to the workflow, at the seam where greenlight-local binds the handlers
 * (`faults` option). The engine is untouched: it sees the same error names Step Functions
 * would, so the definition's own Retry and Catch decide what happens next.
 *
 * How Lambda invoke errors reach a Step Functions Task ("Handle Lambda service exceptions",
 * https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html): a
 * transient service error makes the invoke answer 500 and the task fails with `Lambda.` plus
 * the exception's name (`Lambda.ServiceException`, `Lambda.AWSLambdaException`,
 * `Lambda.SdkClientException`, `Lambda.ClientExecutionTimeoutException`); a throttled invoke
 * fails with `Lambda.TooManyRequestsException`; a Task that outlives its TimeoutSeconds fails
 * with `States.Timeout` ("Error names", https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
 */
export const FaultKind = {
  /** Lambda refused the invoke (concurrency or rate limit): the handler never ran. */
  Throttled: 'throttled',
  /** Lambda failed on its side before the handler ran. */
  ServiceFault: 'service-fault',
  /** The handler ran to the end, its effects landed, and the answer never reached the workflow. */
  ResponseLost: 'response-lost',
  /**
   * Like a lost response, as the invoke's client reports it when its own timeout ran out while
   * the function was still running: `Lambda.ClientExecutionTimeoutException`, the fourth name
   * in AWS's retry advice for Lambda service exceptions.
   */
  ClientTimeout: 'client-timeout',
  /**
   * The Task's TimeoutSeconds ran out. Emulated after the handler's effects landed: Step
   * Functions cannot stop a Lambda it has given up on, so the effects of a timed-out step
   * always land, and the worst case for the retry is to find them done. (A timeout that
   * overlaps the retry is "delivered twice" run concurrently, which Powertools idempotency
   * turns into IdempotencyAlreadyInProgressError: retried.)
   */
  Timeout: 'timeout',
  /**
   * The invoke ran twice with the same input (a retry after a lost response that AWS itself
   * made, or at-least-once delivery); the second answer is the one the workflow sees.
   */
  DeliveredTwice: 'delivered-twice',
} as const;
export type FaultKind = (typeof FaultKind)[keyof typeof FaultKind];

/** The error name the workflow sees for each kind that fails the Task. */
export const FaultError: Record<Exclude<FaultKind, 'delivered-twice'>, string> = {
  [FaultKind.Throttled]: 'Lambda.TooManyRequestsException',
  [FaultKind.ServiceFault]: 'Lambda.ServiceException',
  [FaultKind.ResponseLost]: 'Lambda.SdkClientException',
  [FaultKind.ClientTimeout]: 'Lambda.ClientExecutionTimeoutException',
  [FaultKind.Timeout]: 'States.Timeout',
};

/** A Task state of the definition, with what tells its invocations from other states'. */
export interface TaskStateInfo {
  state: string;
  /** The Lambda function the state invokes (the last part of its ARN). */
  functionName: string;
  /** Literal parameters (not `.$` paths): two states sharing a function differ in them. */
  constants: Record<string, string | number | boolean>;
  /**
   * The keys of the input the state hands its function, when its Parameters fix them (two
   * states sharing a function may differ only in them: WaitForLock adds a task token).
   */
  keys?: string[];
  /** Whether the state waits on a callback token after its function returns. */
  callback: boolean;
  /** Error names the state retries, in its Retry order, minus those with MaxAttempts 0. */
  retried: string[];
}

type AslState = Record<string, unknown> & { Type: string };
interface AslGraph {
  States: Record<string, AslState>;
}

const functionArn = /:function:([A-Za-z0-9_-]+)(?::[$A-Za-z0-9_-]+)?$/;

/**
 * Every Task state of a definition, nested Map and Parallel graphs included, read from the
 * definition itself so that a state added to the workflow joins the fault matrix unasked.
 */
export function taskStatesOf(definition: AslGraph): TaskStateInfo[] {
  const found: TaskStateInfo[] = [];
  const visit = (graph: AslGraph) => {
    for (const [name, state] of Object.entries(graph.States)) {
      if (state.Type === 'Task') {
        const info = describeTask(name, state);
        if (info) found.push(info);
      }
      const processor = (state.ItemProcessor ?? state.Iterator) as AslGraph | undefined;
      if (processor) visit(processor);
      for (const branch of (state.Branches as AslGraph[] | undefined) ?? []) visit(branch);
    }
  };
  visit(definition);
  return found;
}

function describeTask(name: string, state: AslState): TaskStateInfo | undefined {
  const resource = String(state.Resource);
  const parameters = (state.Parameters ?? {}) as Record<string, unknown>;
  const isInvoke = resource.startsWith('arn:aws:states:::lambda:invoke');
  const reference = isInvoke ? parameters.FunctionName : resource;
  const match = typeof reference === 'string' ? functionArn.exec(reference) : null;
  if (!match) return undefined;
  const payload = (isInvoke ? parameters.Payload : parameters) as Record<string, unknown>;
  const constants: TaskStateInfo['constants'] = {};
  const keys =
    payload === undefined || (!isInvoke && state.Parameters === undefined)
      ? undefined
      : Object.keys(payload)
          .map((key) => key.replace(/\.\$$/, ''))
          .sort();
  for (const [key, value] of Object.entries(payload ?? {})) {
    if (key.endsWith('.$')) continue;
    if (['string', 'number', 'boolean'].includes(typeof value)) {
      constants[key] = value as string | number | boolean;
    }
  }
  const retried: string[] = [];
  for (const retrier of (state.Retry as { ErrorEquals: string[]; MaxAttempts?: number }[]) ?? []) {
    if (retrier.MaxAttempts === 0) continue;
    retried.push(...retrier.ErrorEquals);
  }
  return {
    state: name,
    functionName: match[1] as string,
    constants,
    ...(keys ? { keys } : {}),
    callback: resource.endsWith('.waitForTaskToken'),
    retried,
  };
}

/** Whether the state's Retry takes another try after `error`. */
export function retries(task: TaskStateInfo, error: string): boolean {
  return task.retried.includes(error) || task.retried.includes('States.ALL');
}

/** What to do to one invocation of a Task state of one service's release. */
export interface FaultRule {
  service: string;
  state: string;
  /** A fault to inject, or `before`: something that happens just before the handler runs. */
  kind?: FaultKind;
  /** Runs (awaited) just before the handler: an alarm firing, an operator's command. */
  before?: () => Promise<void>;
  /** Which invocation of the state (for this service) it hits, 1 for the first. @default 1 */
  occurrence?: number;
  /**
   * For the kinds that fail after the handler ran: how long the failure takes to come back (a
   * slow invoke whose answer is then lost), so that what runs meanwhile (a bake's timer) can
   * overtake the retry. @default 0
   */
  delayMs?: number;
}

export interface FiredFault {
  service: string;
  state: string;
  kind: FaultKind | 'before';
  occurrence: number;
}

/** The error an injected fault throws: its name is what the workflow's Retry and Catch match. */
export class InjectedFault extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/**
 * Holds the fault plan and wraps the handlers. Each rule fires at most once, on the
 * `occurrence`-th invocation of its state for its service; every other invocation runs the
 * handler untouched.
 */
export class FaultInjector {
  #tasks: TaskStateInfo[] = [];
  readonly #rules: FaultRule[] = [];
  readonly #counts = new Map<string, number>();
  readonly #fired: FiredFault[] = [];

  /** The definition the state machine runs; its Task states are what rules may name. */
  useDefinition(definition: AslGraph): this {
    this.#tasks = taskStatesOf(definition);
    return this;
  }

  get tasks(): readonly TaskStateInfo[] {
    return this.#tasks;
  }

  add(rule: FaultRule): this {
    if (this.#tasks.length > 0 && !this.#tasks.some((task) => task.state === rule.state)) {
      throw new Error(
        `Task state "${rule.state}" is not in the definition; its Task states are ${this.#tasks.map((t) => t.state).join(', ')}`,
      );
    }
    this.#rules.push(rule);
    return this;
  }

  /** The faults that fired so far: a rule that never fired proves nothing. */
  fired(service?: string): FiredFault[] {
    return this.#fired.filter((fault) => service === undefined || fault.service === service);
  }

  /** The Task states that ran for a service so far (faulted or not), in first-run order. */
  invocations(service: string): string[] {
    const prefix = `${service}\u0000`;
    return [...this.#counts.keys()]
      .filter((key) => key.startsWith(prefix))
      .map((key) => key.slice(prefix.length));
  }

  /** The `faults` option of startGreenlightLocal. */
  readonly wrap = (functionName: string, handler: LocalLambdaHandler): LocalLambdaHandler => {
    return async (event: never, context: LambdaContextLike) => {
      const hit = this.#match(functionName, event);
      if (!hit) return handler(event, context);
      const { rule, occurrence } = hit;
      const fired = (kind: FiredFault['kind']) =>
        this.#fired.push({ service: rule.service, state: rule.state, kind, occurrence });
      if (rule.before) {
        fired('before');
        await rule.before();
      }
      const where = `${rule.state} of ${rule.service} (invocation ${occurrence})`;
      switch (rule.kind) {
        case undefined:
          return handler(event, context);
        case FaultKind.Throttled:
        case FaultKind.ServiceFault:
          fired(rule.kind);
          throw new InjectedFault(FaultError[rule.kind], `Injected before ${where}`);
        case FaultKind.ResponseLost:
        case FaultKind.ClientTimeout:
        case FaultKind.Timeout:
          await handler(event, context);
          if (rule.delayMs) await sleep(rule.delayMs);
          fired(rule.kind);
          throw new InjectedFault(FaultError[rule.kind], `Injected after ${where} ran`);
        case FaultKind.DeliveredTwice:
          await handler(event, context);
          fired(rule.kind);
          return handler(event, context);
        default:
          throw new Error(`Unknown fault kind ${String(rule.kind)}`);
      }
    };
  };

  #match(
    functionName: string,
    event: unknown,
  ): { rule: FaultRule; occurrence: number } | undefined {
    const state = this.#stateOf(functionName, event);
    const service = serviceOf(event);
    if (state === undefined || service === undefined) return undefined;
    const key = `${service}\u0000${state}`;
    const occurrence = (this.#counts.get(key) ?? 0) + 1;
    this.#counts.set(key, occurrence);
    const rule = this.#rules.find(
      (r) => r.service === service && r.state === state && (r.occurrence ?? 1) === occurrence,
    );
    return rule ? { rule, occurrence } : undefined;
  }

  /** The Task state an invocation belongs to: its function, then its literal parameters. */
  #stateOf(functionName: string, event: unknown): string | undefined {
    const input = (event ?? {}) as Record<string, unknown>;
    const candidates = this.#tasks.filter(
      (task) =>
        task.functionName === functionName &&
        Object.entries(task.constants).every(([key, value]) => input[key] === value) &&
        (task.keys === undefined || sameKeys(task.keys, Object.keys(input))),
    );
    if (candidates.length === 1) return candidates[0]?.state;
    // A state whose Parameters fix nothing (VerifyBake hands its function the whole state)
    // matches every input of its function: one that fixes its input and matches is meant.
    const specific = candidates.filter(
      (task) => task.keys !== undefined || Object.keys(task.constants).length > 0,
    );
    return specific.length === 1 ? specific[0]?.state : undefined;
  }
}

/** The service a workflow function's input is about (Register gets the raw event). */
function serviceOf(event: unknown): string | undefined {
  const input = (event ?? {}) as {
    release?: { service?: unknown };
    event?: { detail?: { service?: unknown } };
  };
  const service = input.release?.service ?? input.event?.detail?.service;
  return typeof service === 'string' ? service : undefined;
}

function sameKeys(expected: readonly string[], actual: readonly string[]): boolean {
  const sorted = [...actual].sort();
  return expected.length === sorted.length && expected.every((key, i) => key === sorted[i]);
}
