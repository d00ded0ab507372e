import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { executionFaultFilter } from '../../src/infra/monitoring.ts';
import { greenlightNames } from '../../src/infra/names.ts';
import {
  BakeMode,
  buildReleaseDefinition,
  checkGraph,
  functionArnsFor,
  LockRefusals,
  ReleaseState,
  TransientErrors,
} from '../../workflows/release.ts';

// asl-validator is CommonJS with a default-style export.
const validateAsl = createRequire(import.meta.url)('asl-validator') as (definition: unknown) => {
  isValid: boolean;
  errorsText: (separator?: string) => string;
};

const definition = buildReleaseDefinition({
  functionArns: functionArnsFor('eu-west-1', '123456789012'),
});

function statesOf(def: {
  States: Record<string, Record<string, unknown>>;
}): [string, Record<string, unknown>][] {
  return Object.entries(def.States).flatMap(([name, state]) => {
    const processor = state.ItemProcessor as
      | { States: Record<string, Record<string, unknown>> }
      | undefined;
    const branches =
      (state.Branches as { States: Record<string, Record<string, unknown>> }[]) ?? [];
    return [
      [name, state] as [string, Record<string, unknown>],
      ...(processor ? statesOf(processor) : []),
      ...branches.flatMap((branch) => statesOf(branch)),
    ];
  });
}

describe('buildReleaseDefinition', () => {
  it('passes asl-validator with no findings', () => {
    // The validator annotates what it is given (it adds QueryLanguage): hand it a copy.
    const result = validateAsl(structuredClone(definition));
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('uses JSONPath only: no JSONata, no variables', () => {
    const text = JSON.stringify(definition);
    expect(text).not.toMatch(/"QueryLanguage":"JSONata"|"Assign"|\{%/);
    expect(text).toContain('"ItemsPath":"$.release.plan"');
  });

  it('catches into Rollback from every state after provisioning', () => {
    const topLevel = Object.keys(definition.States);
    const after = topLevel.slice(topLevel.indexOf(ReleaseState.ProvisionGreen));
    const withWork = after.filter((name) =>
      ['Task', 'Map'].includes(definition.States[name]?.Type ?? ''),
    );
    expect(withWork).toEqual([
      ReleaseState.ProvisionGreen,
      ReleaseState.PlanMigration,
      ReleaseState.RequestMigrationApproval,
      ReleaseState.VerifyMigrationApproval,
      ReleaseState.MigrationApprovalTimedOut,
      ReleaseState.Migrate,
      ReleaseState.TestGreen,
      ReleaseState.RequestApproval,
      ReleaseState.VerifyApproval,
      ReleaseState.ApprovalTimedOut,
      ReleaseState.ShiftTraffic,
      ReleaseState.RequestFinalApproval,
      ReleaseState.VerifyFinalApproval,
      ReleaseState.FinalApprovalTimedOut,
      ReleaseState.Finalize,
      ReleaseState.Rollback,
      ReleaseState.Held,
      ReleaseState.VerifyHold,
    ]);
    const intoRollback = {
      ErrorEquals: ['States.ALL'],
      ResultPath: '$.failure',
      Next: ReleaseState.Rollback,
    };
    const waits: string[] = [
      ReleaseState.RequestMigrationApproval,
      ReleaseState.RequestApproval,
      ReleaseState.RequestFinalApproval,
      ReleaseState.Held,
    ];
    for (const name of withWork.filter((n) => n !== ReleaseState.Rollback && !waits.includes(n))) {
      const caught = definition.States[name]?.Catch as unknown[];
      expect(caught.at(-1), name).toEqual(intoRollback);
    }
    // The approval waits catch their own timeout first; any other answer goes to the check of
    // the ledger, which catches into Rollback.
    expect(definition.States[ReleaseState.RequestApproval]?.Catch).toEqual([
      {
        ErrorEquals: ['States.Timeout'],
        ResultPath: '$.failure',
        Next: ReleaseState.ApprovalTimedOut,
      },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.approval', Next: ReleaseState.VerifyApproval },
    ]);
  });

  it('asks for approval before traffic moves, and before finalize, only when the release says so', () => {
    const states = definition.States;
    expect(states[ReleaseState.TestGreen]?.Next).toBe(ReleaseState.NeedsApproval);
    expect(states[ReleaseState.NeedsApproval]).toEqual({
      Type: 'Choice',
      Choices: [
        {
          And: [
            { Variable: '$.release.approval.beforeShift', IsPresent: true },
            { Variable: '$.release.approval.beforeShift', BooleanEquals: true },
          ],
          Next: ReleaseState.ApprovalWait,
        },
      ],
      Default: ReleaseState.ShiftTraffic,
    });
    expect(states[ReleaseState.ApprovalWait]).toEqual({
      Type: 'Pass',
      Parameters: { 'timeoutSeconds.$': '$.release.approval.timeoutSeconds', unbacked: 0 },
      ResultPath: '$.approvalWait',
      Next: ReleaseState.RequestApproval,
    });
    expect(states[ReleaseState.ShiftTraffic]?.Next).toBe(ReleaseState.NeedsFinalApproval);
    expect(states[ReleaseState.NeedsFinalApproval]).toMatchObject({
      Default: ReleaseState.Finalize,
    });
    expect(states[ReleaseState.RequestApproval]).toMatchObject({
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: {
        FunctionName: 'arn:aws:lambda:eu-west-1:123456789012:function:greenlight-request-approval',
        Payload: {
          'release.$': '$.release',
          'colours.$': '$.colours',
          stage: 'before-shift',
          'taskToken.$': '$$.Task.Token',
        },
      },
      TimeoutSecondsPath: '$.approvalWait.timeoutSeconds',
      // A success's output is never kept: the ledger decides, and a forged one near 256 KB
      // would end the execution with States.DataLimitExceeded, which no Catch matches.
      ResultSelector: { answered: 'success' },
      ResultPath: '$.approval',
      Next: ReleaseState.VerifyApproval,
    });
    expect(states[ReleaseState.RequestFinalApproval]).toMatchObject({
      Parameters: { Payload: { stage: 'before-finalize' } },
      ResultPath: '$.finalApproval',
      Next: ReleaseState.VerifyFinalApproval,
    });
  });

  it('goes on after an approval wait only when the ledger holds the decision', () => {
    const states = definition.States;
    expect(states[ReleaseState.VerifyApproval]).toMatchObject({
      Resource: 'arn:aws:lambda:eu-west-1:123456789012:function:greenlight-verify-callback',
      Parameters: {
        'release.$': '$.release',
        stage: 'before-shift',
        'callback.$': '$.approval',
        'wait.$': '$.approvalWait',
      },
      ResultPath: '$.approvalWait',
      Catch: [
        { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: ReleaseState.Rollback },
      ],
      Next: ReleaseState.IsApprovalVerified,
    });
    expect(states[ReleaseState.IsApprovalVerified]).toEqual({
      Type: 'Choice',
      Choices: [
        { Variable: '$.approvalWait.next', StringEquals: 'go', Next: ReleaseState.ShiftTraffic },
        {
          Variable: '$.approvalWait.next',
          StringEquals: 'wait',
          Next: ReleaseState.RequestApproval,
        },
      ],
      Default: ReleaseState.ApprovalTimedOut,
    });
    expect(states[ReleaseState.IsFinalApprovalVerified]).toMatchObject({
      Choices: [
        { StringEquals: 'go', Next: ReleaseState.Finalize },
        { StringEquals: 'wait', Next: ReleaseState.RequestFinalApproval },
      ],
      Default: ReleaseState.FinalApprovalTimedOut,
    });
  });

  it('takes the service’s timeout action: approve goes on, reject rolls back as ApprovalTimedOut', () => {
    const states = definition.States;
    const request = states[ReleaseState.RequestApproval] as Record<string, unknown>;
    expect((request.Catch as unknown[])[0]).toEqual({
      ErrorEquals: ['States.Timeout'],
      ResultPath: '$.failure',
      Next: ReleaseState.ApprovalTimedOut,
    });
    expect(states[ReleaseState.ApprovalTimedOut]).toMatchObject({
      Parameters: { 'release.$': '$.release', stage: 'before-shift' },
      ResultPath: '$.approvalTimeout',
      Next: ReleaseState.OnApprovalTimeout,
    });
    expect(states[ReleaseState.OnApprovalTimeout]).toEqual({
      Type: 'Choice',
      Choices: [
        {
          Variable: '$.approvalTimeout.action',
          StringEquals: 'approve',
          Next: ReleaseState.ShiftTraffic,
        },
      ],
      Default: ReleaseState.ApprovalTimeoutRejects,
    });
    expect(states[ReleaseState.ApprovalTimeoutRejects]).toEqual({
      Type: 'Pass',
      Parameters: { Error: 'ApprovalTimedOut', 'Cause.$': '$.approvalTimeout.reason' },
      ResultPath: '$.failure',
      Next: ReleaseState.Rollback,
    });
    // A rejection (ApprovalRejected) or an operator's abort goes straight to Rollback.
    const retried = (request.Retry as { ErrorEquals: string[] }[]).flatMap((r) => r.ErrorEquals);
    expect(retried).not.toContain('States.Timeout');
    expect(retried).not.toContain('ApprovalRejected');
    expect(retried).toContain('SlackApiFailed');
  });

  it('ends a bake at once into the gate check when an operator promotes the release', () => {
    const map = definition.States[ReleaseState.ShiftTraffic] as Record<string, unknown>;
    const processor = map.ItemProcessor as { States: Record<string, Record<string, unknown>> };
    expect(processor.States[ReleaseState.Bake]?.Catch).toEqual([
      {
        ErrorEquals: ['OperatorPromoted'],
        ResultPath: '$.bakeCutShort',
        Next: ReleaseState.CheckGates,
      },
    ]);
  });

  it('retries transient AWS errors with backoff on every task, and never a domain error', () => {
    const tasks = statesOf(definition).filter(([, s]) => s.Type === 'Task');
    expect(tasks.map(([name]) => name).sort()).toEqual(
      [
        ReleaseState.Register,
        ReleaseState.AcquireLock,
        ReleaseState.WaitForLock,
        ReleaseState.ProvisionGreen,
        ReleaseState.PlanMigration,
        ReleaseState.RequestMigrationApproval,
        ReleaseState.VerifyMigrationApproval,
        ReleaseState.MigrationApprovalTimedOut,
        ReleaseState.Migrate,
        ReleaseState.TestGreen,
        ReleaseState.SetWeight,
        ReleaseState.Held,
        ReleaseState.VerifyHold,
        ReleaseState.EndBake,
        ReleaseState.WatchGates,
        ReleaseState.CheckGates,
        ReleaseState.Finalize,
        ReleaseState.Rollback,
        ReleaseState.RequestApproval,
        ReleaseState.ApprovalTimedOut,
        ReleaseState.RequestFinalApproval,
        ReleaseState.FinalApprovalTimedOut,
        ReleaseState.VerifyApproval,
        ReleaseState.VerifyFinalApproval,
        ReleaseState.VerifyBake,
      ].sort(),
    );
    for (const [name, state] of tasks) {
      const retry = state.Retry as { ErrorEquals: string[]; BackoffRate: number }[];
      const transient = retry.find((r) => r.ErrorEquals.includes('ThrottlingException'));
      if (name === ReleaseState.Rollback) {
        // Anything is retried, but an input the step refuses would be refused again.
        expect(
          retry.map((r) => [r.ErrorEquals, (r as { MaxAttempts?: number }).MaxAttempts]),
        ).toEqual([
          [['InvalidStepInput'], 0],
          [['States.ALL'], 10],
        ]);
        continue;
      }
      expect(transient?.BackoffRate, name).toBeGreaterThan(1);
      // The bake's watch ends by design with States.Timeout only if its timer was lost; an
      // approval's timeout is its verdict; a lock wait's timeout only asks again. Slack being
      // down is transient for an approval.
      // A migrate step past its timeout may still have the runner at work: not retried blind.
      const expected =
        name === ReleaseState.WatchGates ||
        name === ReleaseState.WaitForLock ||
        name === ReleaseState.Migrate ||
        name === ReleaseState.PlanMigration ||
        name === ReleaseState.Held
          ? TransientErrors.filter((e) => e !== 'States.Timeout')
          : name === ReleaseState.RequestApproval ||
              name === ReleaseState.RequestFinalApproval ||
              name === ReleaseState.RequestMigrationApproval
            ? [...TransientErrors.filter((e) => e !== 'States.Timeout'), 'SlackApiFailed']
            : TransientErrors;
      expect(transient?.ErrorEquals, name).toEqual(expected);
      // Every Lambda service exception AWS tells Step Functions users to retry
      // (bp-lambda-serviceexception), and throttling.
      for (const error of [
        'Lambda.ClientExecutionTimeoutException',
        'Lambda.ServiceException',
        'Lambda.AWSLambdaException',
        'Lambda.SdkClientException',
        'Lambda.TooManyRequestsException',
      ]) {
        expect(transient?.ErrorEquals, `${name} retries ${error}`).toContain(error);
      }
      const retried = retry.flatMap((r) => r.ErrorEquals);
      expect(retried, name).not.toContain('GreenTestFailed');
      expect(retried, name).not.toContain('AlarmGateFailed');
    }
  });

  it('migrates between provisioning and green’s tests only for a release carrying an expand', () => {
    expect(definition.States[ReleaseState.ProvisionGreen]?.Next).toBe(
      ReleaseState.HasExpandMigration,
    );
    const choice = definition.States[ReleaseState.HasExpandMigration];
    // A missing migration is matched first: the kind's path is read only when it is there.
    expect(choice?.Choices).toEqual([
      { Not: { Variable: '$.release.migration', IsPresent: true }, Next: ReleaseState.TestGreen },
      { Variable: '$.release.migration.kind', StringEquals: 'expand', Next: ReleaseState.Migrate },
      {
        Variable: '$.release.migration.kind',
        StringEquals: 'irreversible',
        Next: ReleaseState.PlanMigration,
      },
    ]);
    expect(choice?.Default).toBe(ReleaseState.TestGreen);
    const migrate = definition.States[ReleaseState.Migrate];
    expect(migrate).toMatchObject({
      Parameters: { 'release.$': '$.release', 'colours.$': '$.colours' },
      ResultPath: '$.migration',
      TimeoutSeconds: 900,
      Next: ReleaseState.TestGreen,
    });
    // The migration's verdicts are not retried: they reach Rollback.
    const retries = (migrate?.Retry ?? []) as { ErrorEquals: string[] }[];
    const retried = retries.flatMap((r) => r.ErrorEquals);
    for (const verdict of [
      'MigrationRefused',
      'MigrationRunnerFailed',
      'MigrationRunnerReplyInvalid',
      'MigrationBrokeBlue',
    ]) {
      expect(retried).not.toContain(verdict);
    }
  });

  it('asks approvers, naming the plan, before an irreversible migration, and rolls back if not', () => {
    expect(definition.States[ReleaseState.PlanMigration]).toMatchObject({
      Resource: expect.stringMatching(/:function:greenlight-migrate$/),
      Parameters: { 'release.$': '$.release', 'colours.$': '$.colours', only: 'plan' },
      Next: ReleaseState.NeedsMigrationApproval,
    });
    expect(definition.States[ReleaseState.NeedsMigrationApproval]).toMatchObject({
      Choices: [
        {
          And: [
            { Variable: '$.release.approval.beforeMigration', IsPresent: true },
            { Variable: '$.release.approval.beforeMigration', BooleanEquals: true },
          ],
          Next: ReleaseState.MigrationApprovalWait,
        },
      ],
      // Migrate itself refuses an irreversible migration without a recorded approval.
      Default: ReleaseState.Migrate,
    });
    expect(definition.States[ReleaseState.RequestMigrationApproval]).toMatchObject({
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { Payload: { stage: 'before-migration' } },
    });
    expect(definition.States[ReleaseState.IsMigrationApprovalVerified]?.Choices).toContainEqual({
      Variable: '$.approvalWait.next',
      StringEquals: 'go',
      Next: ReleaseState.Migrate,
    });
    expect(definition.States[ReleaseState.MigrationApprovalTimeoutRejects]?.Next).toBe(
      ReleaseState.Rollback,
    );
  });

  it('holds a forward-only release after Rollback, on a token, until an operator decides', () => {
    expect(definition.States[ReleaseState.Rollback]?.Next).toBe(ReleaseState.IsHeld);
    expect(definition.States[ReleaseState.IsHeld]).toMatchObject({
      Choices: [{ Next: ReleaseState.HoldWait }],
      Default: ReleaseState.RolledBack,
    });
    expect(definition.States[ReleaseState.Held]).toMatchObject({
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { Payload: { stage: 'forward-only-hold', 'taskToken.$': '$$.Task.Token' } },
      // A year, Step Functions' longest execution: no polling, and doing nothing holds.
      TimeoutSeconds: 365 * 86_400,
      Catch: [{ ErrorEquals: ['States.ALL'], Next: ReleaseState.VerifyHold }],
      Next: ReleaseState.VerifyHold,
    });
    // The ledger decides: promoted → Finalize; a knowing abort throws into Rollback; else wait.
    expect(definition.States[ReleaseState.VerifyHold]?.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: ReleaseState.Rollback },
    ]);
    expect(definition.States[ReleaseState.IsHoldOver]).toEqual({
      Type: 'Choice',
      Choices: [{ Variable: '$.holdWait.next', StringEquals: 'go', Next: ReleaseState.Finalize }],
      Default: ReleaseState.Held,
    });
  });

  it('parks a release waiting for its lock on a token, and asks again when woken or timed out', () => {
    expect(definition.States[ReleaseState.IsLockAcquired]).toMatchObject({
      Choices: [
        { Variable: '$.lock.acquired', BooleanEquals: true, Next: ReleaseState.ProvisionGreen },
      ],
      Default: ReleaseState.WaitForLock,
    });
    expect(definition.States[ReleaseState.WaitForLock]).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: {
        FunctionName: definition.States[ReleaseState.AcquireLock]?.Resource,
        Payload: { 'release.$': '$.release', 'taskToken.$': '$$.Task.Token' },
      },
      TimeoutSeconds: 600,
      Catch: [{ ErrorEquals: ['States.Timeout'], Next: ReleaseState.AcquireLock }, {}, {}],
      Next: ReleaseState.AcquireLock,
    });
  });

  it('ends a release whose lock step fails past its retries through Rollback, and lets the lock refusals fail the execution by name', () => {
    const refusals = ['OlderThanLive', 'ReleaseSuperseded', 'ServiceBusy'];
    const atLock = [
      { ErrorEquals: refusals, ResultPath: '$.failure', Next: ReleaseState.LockRefused },
      { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: ReleaseState.Rollback },
    ];
    expect(definition.States[ReleaseState.AcquireLock]?.Catch).toEqual(atLock);
    expect(
      (definition.States[ReleaseState.WaitForLock]?.Catch as unknown[] | undefined)?.slice(1),
    ).toEqual(atLock);
    expect(definition.States[ReleaseState.LockRefused]).toEqual({
      Type: 'Fail',
      ErrorPath: '$.failure.Error',
      CausePath: '$.failure.Cause',
    });
    // Until Register answers there may be no release to end.
    expect(definition.States[ReleaseState.Register]).not.toHaveProperty('Catch');
  });

  it('keeps the lock refusals, which end an execution on purpose, out of the execution-faults alarm', () => {
    const { pattern } = executionFaultFilter(greenlightNames('ci'));
    for (const refusal of LockRefusals) {
      expect(pattern).toContain(`$.details.error != "${refusal}"`);
    }
  });

  it('shifts weights strictly in order: set weight, bake (when there is one), gate', () => {
    const map = definition.States[ReleaseState.ShiftTraffic] as Record<string, unknown>;
    expect(map.MaxConcurrency).toBe(1);
    const processor = map.ItemProcessor as {
      StartAt: string;
      States: Record<string, Record<string, unknown>>;
    };
    expect(processor.StartAt).toBe(ReleaseState.SetWeight);
    expect(processor.States[ReleaseState.SetWeight]?.Next).toBe(ReleaseState.HasBake);
    expect(processor.States[ReleaseState.HasBake]).toMatchObject({
      Choices: [{ Variable: '$.step.bakeSeconds', NumericGreaterThan: 0, Next: ReleaseState.Bake }],
      Default: ReleaseState.CheckGates,
    });
    expect(processor.States[ReleaseState.Bake]?.Next).toBe(ReleaseState.CheckGates);
  });

  it('holds the weight and checks the gates again while a gate says hold', () => {
    const map = definition.States[ReleaseState.ShiftTraffic] as Record<string, unknown>;
    const processor = map.ItemProcessor as { States: Record<string, Record<string, unknown>> };
    expect(processor.States[ReleaseState.SetWeight]).toMatchObject({ ResultPath: '$.step' });
    expect(processor.States[ReleaseState.CheckGates]).toMatchObject({
      ResultPath: '$.gate',
      Next: ReleaseState.IsGateHeld,
    });
    expect(processor.States[ReleaseState.IsGateHeld]).toMatchObject({
      Choices: [
        { Variable: '$.gate.verdict', StringEquals: 'hold', Next: ReleaseState.HoldWeight },
      ],
      Default: ReleaseState.StepDone,
    });
    expect(processor.States[ReleaseState.HoldWeight]).toMatchObject({
      Type: 'Wait',
      SecondsPath: '$.gate.holdSeconds',
      Next: ReleaseState.CheckGates,
    });
  });

  it('bakes as a timer and a callback watch that an alarm event can fail at once', () => {
    const map = definition.States[ReleaseState.ShiftTraffic] as Record<string, unknown>;
    const processor = map.ItemProcessor as { States: Record<string, Record<string, unknown>> };
    const bake = processor.States[ReleaseState.Bake] as {
      Type: string;
      Branches: { States: Record<string, Record<string, unknown>> }[];
    };
    expect(bake.Type).toBe('Parallel');
    const [timer, watch] = bake.Branches;
    expect(timer?.States[ReleaseState.BakeTimer]).toMatchObject({
      Type: 'Wait',
      SecondsPath: '$.step.bakeSeconds',
      Next: ReleaseState.EndBake,
    });
    expect(watch?.States[ReleaseState.WatchGates]).toMatchObject({
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { Payload: { 'taskToken.$': '$$.Task.Token' } },
    });
    // Every answer to the token goes to the check of the ledger, which alone ends the bake
    // early: it throws the recorded verdict (no Catch there, so an AlarmGateFailed fails the
    // Map into Rollback) or watches again.
    expect(watch?.States[ReleaseState.WatchGates]).toMatchObject({
      ResultSelector: { answered: 'success' },
      ResultPath: '$.callback',
      Catch: [
        { ErrorEquals: ['States.ALL'], ResultPath: '$.callback', Next: ReleaseState.VerifyBake },
      ],
      Next: ReleaseState.VerifyBake,
    });
    expect(watch?.States[ReleaseState.VerifyBake]).toMatchObject({
      Resource: 'arn:aws:lambda:eu-west-1:123456789012:function:greenlight-verify-callback',
      ResultPath: '$.bakeWatch',
      Next: ReleaseState.IsBakeWatchOver,
    });
    expect(watch?.States[ReleaseState.VerifyBake]?.Catch).toBeUndefined();
    expect(watch?.States[ReleaseState.IsBakeWatchOver]).toEqual({
      Type: 'Choice',
      Choices: [
        { Variable: '$.bakeWatch.next', StringEquals: 'wait', Next: ReleaseState.WatchGates },
      ],
      Default: ReleaseState.BakeWatchEnded,
    });
  });

  it('polls the gates in a loop in poll mode', () => {
    const polled = buildReleaseDefinition({
      functionArns: functionArnsFor('eu-west-1', '123456789012'),
      bakeMode: BakeMode.Poll,
      pollSeconds: 30,
    });
    const map = polled.States[ReleaseState.ShiftTraffic] as Record<string, unknown>;
    const processor = map.ItemProcessor as { States: Record<string, Record<string, unknown>> };
    expect(processor.States[ReleaseState.BakeTick]).toMatchObject({
      Parameters: { pollSeconds: 30 },
      Next: ReleaseState.IsBakeDone,
    });
    expect(processor.States[ReleaseState.WaitForTick]).toMatchObject({
      SecondsPath: '$.tick.waitSeconds',
      Next: ReleaseState.BakeTick,
    });
    expect(validateAsl(structuredClone(polled)).errorsText('\n')).toBe('');
  });

  it('puts the given function ARNs on the tasks', () => {
    const resources = statesOf(definition)
      .filter(([, s]) => s.Type === 'Task')
      .map(([, s]) => s.Resource);
    expect(resources).toContain(
      'arn:aws:lambda:eu-west-1:123456789012:function:greenlight-provision-green',
    );
  });
});

describe('checkGraph', () => {
  it('names a missing Next target and how to fix it', () => {
    expect(() => checkGraph({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'B' } } })).toThrow(
      'state "A" goes to "B", which is not a state of the workflow; add it or fix the name',
    );
  });

  it('names an unreachable state', () => {
    expect(() =>
      checkGraph({ StartAt: 'A', States: { A: { Type: 'Succeed' }, B: { Type: 'Succeed' } } }),
    ).toThrow('state "B" cannot be reached from "A"');
  });

  it('checks the graph inside a Map iteration too', () => {
    expect(() =>
      checkGraph({
        StartAt: 'M',
        States: {
          M: {
            Type: 'Map',
            End: true,
            ItemProcessor: { StartAt: 'X', States: { X: { Type: 'Pass' } } },
          },
        },
      }),
    ).toThrow('state "X" has neither Next nor End');
  });
});
