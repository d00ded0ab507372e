import { describe, expect, it } from 'vitest';
import { FaultInjector, FaultKind, retries, taskStatesOf } from '../../../src/local/faults.ts';
import type { LambdaContextLike, LocalLambdaHandler } from '../../../src/local/step-functions.ts';
import {
  BakeMode,
  buildReleaseDefinition,
  functionArnsFor,
  ReleaseFunction,
} from '../../../workflows/release.ts';

const definition = (bakeMode: BakeMode = BakeMode.Event) =>
  buildReleaseDefinition({
    functionArns: functionArnsFor('us-east-1', '000000000000'),
    bakeMode,
  }) as unknown as Parameters<typeof taskStatesOf>[0];

const context = {} as LambdaContextLike;

/** A handler that counts its effects and answers with the count. */
function aCountingHandler(): { handler: LocalLambdaHandler; effects: () => number } {
  let effects = 0;
  return {
    handler: async () => {
      effects++;
      return { effects };
    },
    effects: () => effects,
  };
}

const releaseInput = (service: string, extra: Record<string, unknown> = {}) =>
  ({ release: { service }, ...extra }) as never;

describe('taskStatesOf', () => {
  it('finds every Task state of the definition, nested ones too, with the function it invokes', () => {
    const tasks = taskStatesOf(definition());
    const functions = new Set<string>(Object.values(ReleaseFunction).map((f) => `greenlight-${f}`));

    expect(tasks.map((t) => t.state)).toEqual(
      expect.arrayContaining(['Register', 'ProvisionGreen', 'SetWeight', 'WatchGates', 'Rollback']),
    );
    for (const task of tasks) expect(functions).toContain(task.functionName);
    expect(tasks.find((t) => t.state === 'WatchGates')).toMatchObject({
      functionName: 'greenlight-start-bake',
      callback: true,
    });
  });

  it('follows the definition: poll mode has BakeTick and no WatchGates', () => {
    const states = taskStatesOf(definition(BakeMode.Poll)).map((t) => t.state);
    expect(states).toContain('BakeTick');
    expect(states).not.toContain('WatchGates');
  });

  it('tells two states of one function apart by their literal parameters', () => {
    const tasks = taskStatesOf(definition());
    expect(tasks.find((t) => t.state === 'RequestApproval')?.constants).toEqual({
      stage: 'before-shift',
    });
    expect(tasks.find((t) => t.state === 'RequestFinalApproval')?.constants).toEqual({
      stage: 'before-finalize',
    });
  });

  it('reads which errors each state retries from its Retry', () => {
    const tasks = taskStatesOf(definition());
    const state = (name: string) => {
      const found = tasks.find((t) => t.state === name);
      if (!found) throw new Error(`no Task state ${name}`);
      return found;
    };
    expect(retries(state('ProvisionGreen'), 'Lambda.TooManyRequestsException')).toBe(true);
    // A callback wait's timeout is its verdict, never retried.
    expect(retries(state('WatchGates'), 'States.Timeout')).toBe(false);
    // Rollback retries everything but a deterministic input error (MaxAttempts 0).
    expect(retries(state('Rollback'), 'States.Timeout')).toBe(true);
    expect(state('Rollback').retried).not.toContain('InvalidStepInput');
  });
});

describe('FaultInjector', () => {
  const injectorFor = (kind: FaultKind) =>
    new FaultInjector()
      .useDefinition(definition())
      .add({ service: 'checkout', state: 'ProvisionGreen', kind });

  it.each([
    [FaultKind.Throttled, 'Lambda.TooManyRequestsException', 0],
    [FaultKind.ServiceFault, 'Lambda.ServiceException', 0],
    [FaultKind.ResponseLost, 'Lambda.SdkClientException', 1],
    [FaultKind.Timeout, 'States.Timeout', 1],
  ])('%s fails the invoke with %s after %i effects, once', async (kind, error, effects) => {
    const injector = injectorFor(kind);
    const fn = aCountingHandler();
    const wrapped = injector.wrap('greenlight-provision-green', fn.handler);

    await expect(wrapped(releaseInput('checkout'), context)).rejects.toMatchObject({ name: error });
    expect(fn.effects()).toBe(effects);
    // The retry goes through untouched.
    await expect(wrapped(releaseInput('checkout'), context)).resolves.toEqual({
      effects: effects + 1,
    });
    expect(injector.fired()).toEqual([
      { service: 'checkout', state: 'ProvisionGreen', kind, occurrence: 1 },
    ]);
  });

  it('delivered twice runs the handler twice and answers with the second result', async () => {
    const injector = injectorFor(FaultKind.DeliveredTwice);
    const fn = aCountingHandler();
    const wrapped = injector.wrap('greenlight-provision-green', fn.handler);

    await expect(wrapped(releaseInput('checkout'), context)).resolves.toEqual({ effects: 2 });
  });

  it('leaves other services, other states and other occurrences alone', async () => {
    const injector = new FaultInjector()
      .useDefinition(definition())
      .add({ service: 'checkout', state: 'SetWeight', kind: FaultKind.Throttled, occurrence: 2 });
    const fn = aCountingHandler();
    const setWeight = injector.wrap('greenlight-set-weight', fn.handler);
    const provision = injector.wrap('greenlight-provision-green', fn.handler);

    await setWeight(releaseInput('payments'), context);
    await provision(releaseInput('checkout'), context);
    await setWeight(releaseInput('checkout'), context);
    await expect(setWeight(releaseInput('checkout'), context)).rejects.toMatchObject({
      name: 'Lambda.TooManyRequestsException',
    });
    expect(fn.effects()).toBe(3);
    expect(injector.invocations('checkout')).toEqual(['ProvisionGreen', 'SetWeight']);
  });

  it('hits the final approval only, not the first one of the same function', async () => {
    const injector = new FaultInjector()
      .useDefinition(definition())
      .add({ service: 'checkout', state: 'RequestFinalApproval', kind: FaultKind.ServiceFault });
    const fn = aCountingHandler();
    const wrapped = injector.wrap('greenlight-request-approval', fn.handler);

    const approval = (stage: string) => ({ colours: {}, stage, taskToken: 'token-1' });
    await wrapped(releaseInput('checkout', approval('before-shift')), context);
    await expect(
      wrapped(releaseInput('checkout', approval('before-finalize')), context),
    ).rejects.toMatchObject({ name: 'Lambda.ServiceException' });
  });

  it('tells AcquireLock from WaitForLock, which hands the same function a task token', async () => {
    const injector = new FaultInjector()
      .useDefinition(definition())
      .add({ service: 'checkout', state: 'AcquireLock', kind: FaultKind.Throttled });
    const fn = aCountingHandler();
    const wrapped = injector.wrap('greenlight-acquire-lock', fn.handler);

    await wrapped(releaseInput('checkout', { taskToken: 'token-1' }), context);
    await expect(wrapped(releaseInput('checkout'), context)).rejects.toMatchObject({
      name: 'Lambda.TooManyRequestsException',
    });
    expect(injector.invocations('checkout')).toEqual(['WaitForLock', 'AcquireLock']);
  });

  it('tells VerifyApproval from VerifyBake, whose Parameters fix nothing of its input', async () => {
    const injector = new FaultInjector()
      .useDefinition(definition())
      .add({ service: 'checkout', state: 'VerifyApproval', kind: FaultKind.ServiceFault });
    const fn = aCountingHandler();
    const wrapped = injector.wrap('greenlight-verify-callback', fn.handler);

    // A bake's branch hands over its whole state.
    await wrapped(releaseInput('checkout', { colours: {}, step: {}, callback: {} }), context);
    const approval = { stage: 'before-shift', callback: {}, wait: { unbacked: 0 } };
    await expect(wrapped(releaseInput('checkout', approval), context)).rejects.toMatchObject({
      name: 'Lambda.ServiceException',
    });
    expect(injector.invocations('checkout')).toEqual(['VerifyBake', 'VerifyApproval']);
  });

  it('runs a before hook ahead of the handler', async () => {
    const order: string[] = [];
    const injector = new FaultInjector().useDefinition(definition()).add({
      service: 'checkout',
      state: 'Finalize',
      before: async () => void order.push('alarm'),
    });
    const wrapped = injector.wrap('greenlight-finalize', async () => order.push('finalize'));

    await wrapped(releaseInput('checkout', { colours: {} }), context);
    expect(order).toEqual(['alarm', 'finalize']);
  });

  it('refuses a rule for a state the definition does not have', () => {
    expect(() =>
      new FaultInjector()
        .useDefinition(definition())
        .add({ service: 'checkout', state: 'Deploy', kind: FaultKind.Timeout }),
    ).toThrow(/Task state "Deploy" is not in the definition/);
  });
});
