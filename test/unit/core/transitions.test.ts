import { describe, expect, it } from 'vitest';
import { InvalidTransition } from '../../../src/core/errors.ts';
import { ReleasePhase } from '../../../src/core/phases.ts';
import {
  initialState,
  type ReleaseEvent,
  type ReleaseEventType,
  type ReleaseState,
  type Transition,
  transition,
} from '../../../src/core/transitions.ts';
import { aReleaseState } from '../../support/builders.ts';

/** One sample of each event, as the workflow would send it. */
const events: Record<ReleaseEventType, ReleaseEvent> = {
  LockAcquired: { type: 'LockAcquired' },
  GreenProvisioned: { type: 'GreenProvisioned', colours: { blue: '7', green: '8' } },
  GreenTestsPassed: { type: 'GreenTestsPassed', approvalRequired: true },
  GreenTestsFailed: { type: 'GreenTestsFailed', detail: 'health: statusCode was 500, not 200' },
  ApprovalGranted: { type: 'ApprovalGranted', by: 'U0123' },
  ApprovalDenied: { type: 'ApprovalDenied', by: 'U0123', reason: 'freeze' },
  WeightSet: { type: 'WeightSet', index: 1, percent: 100 },
  GatePassed: { type: 'GatePassed', index: 0 },
  GateFailed: { type: 'GateFailed', index: 0, alarms: ['checkout-errors'] },
  Finalized: { type: 'Finalized' },
  RollbackRequested: { type: 'RollbackRequested', reason: 'States.Timeout' },
  RolledBack: { type: 'RolledBack' },
  Rejected: { type: 'Rejected', reason: 'detail.version: is required' },
  Superseded: { type: 'Superseded', by: 'checkout-1-4-3-a1-0123456789' },
  Aborted: { type: 'Aborted', by: 'dana', reason: 'wrong build' },
  Paused: { type: 'Paused', by: 'dana', reason: 'latency looks odd' },
  Resumed: { type: 'Resumed', by: 'dana', reason: 'latency is fine' },
  Promoted: { type: 'Promoted', by: 'dana', reason: 'hotfix' },
  AbortRequested: { type: 'AbortRequested', by: 'dana', reason: 'wrong build' },
  Reverted: { type: 'Reverted', by: 'dana', reason: 'checkout errors after finalize' },
  Held: { type: 'Held', reason: 'AlarmGateFailed: checkout-errors in ALARM' },
};

/** The state each phase is tested from; Shifting is mid-plan, with 10% on green after step 0. */
const states: Record<ReleasePhase, ReleaseState> = {
  Requested: aReleaseState(),
  Provisioning: aReleaseState({ phase: 'Provisioning' }),
  Testing: aReleaseState({ phase: 'Testing' }),
  AwaitingApproval: aReleaseState({ phase: 'AwaitingApproval' }),
  Shifting: aReleaseState({ phase: 'Shifting', stepIndex: 0, greenPercent: 10 }),
  Finalized: aReleaseState({ phase: 'Finalized', stepIndex: 1, greenPercent: 100 }),
  RollingBack: aReleaseState({ phase: 'RollingBack', stepIndex: 0, greenPercent: 10 }),
  RolledBack: aReleaseState({ phase: 'RolledBack', stepIndex: 0 }),
  Rejected: aReleaseState({ phase: 'Rejected' }),
  Superseded: aReleaseState({ phase: 'Superseded' }),
  Aborted: aReleaseState({ phase: 'Aborted' }),
  Held: aReleaseState({ phase: 'Held', stepIndex: 0, greenPercent: 10 }),
};

type Outcome = ReleasePhase | 'unchanged' | 'throws';
const U = 'unchanged';
const T = 'throws';

// Columns: LockAcquired, GreenProvisioned, GreenTestsPassed, GreenTestsFailed, ApprovalGranted,
// ApprovalDenied, WeightSet, GatePassed, GateFailed, Finalized, RollbackRequested, RolledBack,
// Rejected, Superseded, Aborted; then the operators' Paused, Resumed, Promoted, AbortRequested,
// Reverted; then Held (a forward-only release's failure).
const columns = Object.keys(events) as ReleaseEventType[];
// biome-ignore format: one row per phase reads as a table
const matrix: Record<ReleasePhase, Outcome[]> = {
  Requested: ['Provisioning', T, T, T, T, T, T, T, T, T, 'RollingBack', T, 'Rejected', 'Superseded', 'Aborted', T, T, T, T, T, T],
  Provisioning: [U, 'Testing', T, T, T, T, T, T, T, T, 'RollingBack', T, T, 'Superseded', 'Aborted', T, T, T, 'RollingBack', T, 'Held'],
  Testing: [T, U, 'AwaitingApproval', 'RollingBack', T, T, T, T, T, T, 'RollingBack', T, T, 'Superseded', 'Aborted', T, T, T, 'RollingBack', T, 'Held'],
  AwaitingApproval: [T, T, U, T, 'Shifting', 'RollingBack', T, T, T, T, 'RollingBack', T, T, 'Superseded', 'Aborted', T, T, T, 'RollingBack', T, 'Held'],
  Shifting: [T, T, T, T, T, T, 'Shifting', 'Shifting', 'RollingBack', T, 'RollingBack', T, T, T, 'Aborted', 'Shifting', T, 'Shifting', 'RollingBack', T, 'Held'],
  Finalized: [T, T, T, T, T, T, T, T, T, U, T, T, T, T, T, T, T, T, T, 'RolledBack', T],
  RollingBack: [T, T, T, U, T, U, T, T, U, T, U, 'RolledBack', T, T, 'Aborted', T, T, T, T, T, 'Held'],
  RolledBack: [T, T, T, T, T, T, T, T, T, T, T, U, T, T, T, T, T, T, T, T, T],
  Rejected: [T, T, T, T, T, T, T, T, T, T, T, T, U, T, T, T, T, T, T, T, T],
  Superseded: [T, T, T, T, T, T, T, T, T, T, T, T, T, U, T, T, T, T, T, T, T],
  Aborted: [T, T, T, T, T, T, T, T, T, T, T, T, T, T, U, T, T, T, T, T, T],
  Held: [T, T, T, T, T, T, T, T, T, T, T, T, T, T, 'Aborted', T, T, 'Held', 'RollingBack', T, U],
};

const cases = Object.entries(matrix).flatMap(([phase, outcomes]) =>
  columns.map((eventType, column) => ({
    phase: phase as ReleasePhase,
    eventType,
    expected: outcomes[column] as Outcome,
  })),
);

function walk(
  from: ReleaseState,
  ...steps: ReleaseEvent[]
): { state: ReleaseState; log: Transition[] } {
  const log: Transition[] = [];
  let state = from;
  for (const event of steps) {
    const result = transition(state, event);
    log.push(result);
    state = result.next;
  }
  return { state, log };
}

describe('transition', () => {
  it('covers every phase and every event', () => {
    expect(Object.keys(matrix).sort()).toEqual(Object.values(ReleasePhase).sort());
    expect(cases).toHaveLength(12 * 21);
    for (const outcomes of Object.values(matrix)) expect(outcomes).toHaveLength(columns.length);
  });

  it.each(cases)('$phase + $eventType → $expected', ({ phase, eventType, expected }) => {
    const state = states[phase];
    const event = events[eventType];
    if (expected === T) {
      expect(() => transition(state, event)).toThrow(InvalidTransition);
      return;
    }
    const result = transition(state, event);
    if (expected === U) {
      expect(result).toMatchObject({ kind: 'unchanged', next: state, effects: [] });
    } else {
      expect(result.kind).toBe('changed');
      expect(result.next.phase).toBe(expected);
    }
  });

  it('publishes each lifecycle event and frees the lock at the end of the main path', () => {
    const { state, log } = walk(
      initialState(),
      { type: 'LockAcquired' },
      { type: 'GreenProvisioned', colours: { blue: '7', green: '8' } },
      { type: 'GreenTestsPassed', approvalRequired: true },
      { type: 'ApprovalGranted', by: 'U0123' },
      { type: 'WeightSet', index: 0, percent: 10 },
      { type: 'GatePassed', index: 0 },
      { type: 'WeightSet', index: 1, percent: 100 },
      { type: 'GatePassed', index: 1 },
      { type: 'Finalized' },
    );

    expect(log.map(({ next, effects, reason }) => [next.phase, effects, reason])).toEqual([
      [
        'Provisioning',
        [{ type: 'publish', detailType: 'Release Started' }],
        'Lock acquired; provisioning green',
      ],
      [
        'Testing',
        [{ type: 'publish', detailType: 'Green Provisioned' }],
        'Green 8 provisioned beside blue 7',
      ],
      [
        'AwaitingApproval',
        [{ type: 'publish', detailType: 'Approval Requested' }],
        'Green passed its tests; waiting for approval',
      ],
      ['Shifting', [], 'Approved by U0123; shifting traffic'],
      [
        'Shifting',
        [{ type: 'publish', detailType: 'Traffic Shifted' }],
        'Step 0: 10% of traffic on green',
      ],
      ['Shifting', [], 'Gate 0 passed (10% on green)'],
      [
        'Shifting',
        [{ type: 'publish', detailType: 'Traffic Shifted' }],
        'Step 1: 100% of traffic on green',
      ],
      ['Shifting', [], 'Gate 1 passed (100% on green)'],
      [
        'Finalized',
        [{ type: 'publish', detailType: 'Release Finalized' }, { type: 'releaseLock' }],
        'All traffic on green; release finalized',
      ],
    ]);
    expect(state).toEqual({ phase: 'Finalized', stepIndex: 1, greenPercent: 100 });
  });

  it('starts shifting from step -1 at 0% when tests pass and no approval is needed', () => {
    const result = transition(aReleaseState({ phase: 'Testing' }), {
      type: 'GreenTestsPassed',
      approvalRequired: false,
    });

    expect(result).toEqual({
      kind: 'changed',
      next: { phase: 'Shifting', stepIndex: -1, greenPercent: 0 },
      effects: [],
      reason: 'Green passed its tests; shifting traffic',
    });
  });

  it('leaves the state unchanged when a passed test run is reported again before traffic moves', () => {
    const state = aReleaseState({ phase: 'Shifting', stepIndex: -1, greenPercent: 0 });

    expect(transition(state, { type: 'GreenTestsPassed', approvalRequired: false }).kind).toBe(
      'unchanged',
    );
    expect(transition(state, { type: 'ApprovalGranted', by: 'U0123' }).kind).toBe('unchanged');
  });

  it('leaves the state unchanged when the same weight step is set again', () => {
    const state = aReleaseState({ phase: 'Shifting', stepIndex: 2, greenPercent: 30 });

    expect(transition(state, { type: 'WeightSet', index: 2, percent: 30 })).toEqual({
      kind: 'unchanged',
      next: state,
      effects: [],
      reason: 'Already Shifting: WeightSet was applied before',
    });
  });

  it('throws when a step already set is set to another percent', () => {
    const state = aReleaseState({ phase: 'Shifting', stepIndex: 2, greenPercent: 30 });

    expect(() => transition(state, { type: 'WeightSet', index: 2, percent: 40 })).toThrow(
      'Cannot apply WeightSet to a release in phase Shifting (step 2, 30% on green): step 2 was already set to 30%',
    );
  });

  it('throws when a weight step is skipped', () => {
    const state = aReleaseState({ phase: 'Shifting', stepIndex: 0, greenPercent: 10 });

    expect(() => transition(state, { type: 'WeightSet', index: 2, percent: 50 })).toThrow(
      /step 2 cannot follow step 0/,
    );
  });

  it('throws when a gate reports on a step other than the last one set', () => {
    const state = aReleaseState({ phase: 'Shifting', stepIndex: 1, greenPercent: 50 });

    expect(() => transition(state, { type: 'GatePassed', index: 0 })).toThrow(
      /the last step set is 1/,
    );
  });

  it('names the alarms, the step and the weight when a gate fails', () => {
    const result = transition(
      aReleaseState({ phase: 'Shifting', stepIndex: 2, greenPercent: 10 }),
      {
        type: 'GateFailed',
        index: 2,
        alarms: ['checkout-errors'],
      },
    );

    expect(result).toEqual({
      kind: 'changed',
      next: { phase: 'RollingBack', stepIndex: 2, greenPercent: 10 },
      effects: [{ type: 'publish', detailType: 'Gate Failed' }],
      reason: 'Alarm checkout-errors in ALARM at step 2 (10% on green)',
    });
  });

  it('lists every alarm in ALARM when several fire', () => {
    expect(
      transition(aReleaseState({ phase: 'Shifting', stepIndex: 0, greenPercent: 5 }), {
        type: 'GateFailed',
        index: 0,
        alarms: ['checkout-errors', 'checkout-p99'],
      }).reason,
    ).toBe('Alarms checkout-errors, checkout-p99 in ALARM at step 0 (5% on green)');
  });

  it('names the metric gates that failed or could not decide', () => {
    expect(
      transition(aReleaseState({ phase: 'Shifting', stepIndex: 0, greenPercent: 10 }), {
        type: 'GateFailed',
        index: 0,
        alarms: [],
        metrics: [
          { name: 'errors', verdict: 'fail' },
          { name: 'latency', verdict: 'inconclusive' },
        ],
      }).reason,
    ).toBe('Metric gate errors failed; Metric gate latency inconclusive at step 0 (10% on green)');
  });

  it('throws when finalizing before all traffic is on green', () => {
    expect(() =>
      transition(aReleaseState({ phase: 'Shifting', stepIndex: 0, greenPercent: 10 }), {
        type: 'Finalized',
      }),
    ).toThrow(/only 10% of traffic is on green/);
  });

  it('gives the failed test as the reason when green fails its tests', () => {
    expect(transition(aReleaseState({ phase: 'Testing' }), events.GreenTestsFailed)).toMatchObject({
      next: { phase: 'RollingBack' },
      effects: [],
      reason: 'Green failed its tests: health: statusCode was 500, not 200',
    });
  });

  it('gives who denied and why when approval is denied', () => {
    expect(transition(states.AwaitingApproval, events.ApprovalDenied).reason).toBe(
      'Denied by U0123: freeze',
    );
  });

  it('gives the caught error as the reason when a rollback is requested', () => {
    expect(transition(states.Shifting, events.RollbackRequested)).toMatchObject({
      next: { phase: 'RollingBack', stepIndex: 0, greenPercent: 10 },
      effects: [],
      reason: 'Rolling back: States.Timeout',
    });
  });

  it('puts green back to 0%, publishes and frees the lock when rolled back', () => {
    expect(transition(states.RollingBack, { type: 'RolledBack' })).toEqual({
      kind: 'changed',
      next: { phase: 'RolledBack', stepIndex: 0, greenPercent: 0 },
      effects: [{ type: 'publish', detailType: 'Release Rolled Back' }, { type: 'releaseLock' }],
      reason: 'All traffic back on blue (green had 10%)',
    });
  });

  it('publishes Release Rejected and frees no lock when a requested release is rejected', () => {
    expect(transition(initialState(), events.Rejected)).toEqual({
      kind: 'changed',
      next: { phase: 'Rejected', stepIndex: -1, greenPercent: 0 },
      effects: [{ type: 'publish', detailType: 'Release Rejected' }],
      reason: 'Rejected: detail.version: is required',
    });
  });

  it('frees the lock when aborting or superseding a release that holds it', () => {
    expect(transition(states.Shifting, events.Aborted)).toMatchObject({
      effects: [{ type: 'releaseLock' }],
      reason: 'Aborted by dana: wrong build',
    });
    expect(transition(states.Testing, events.Superseded)).toMatchObject({
      effects: [{ type: 'publish', detailType: 'Release Superseded' }, { type: 'releaseLock' }],
      reason: 'Superseded by checkout-1-4-3-a1-0123456789',
    });
  });

  it('frees no lock when aborting or superseding a release still in Requested', () => {
    expect(transition(initialState(), events.Aborted).effects).toEqual([]);
    expect(transition(initialState(), events.Superseded).effects).toEqual([
      { type: 'publish', detailType: 'Release Superseded' },
    ]);
  });

  it('names the phase and the event when a transition is not allowed', () => {
    expect(() => transition(states.Finalized, events.RollbackRequested)).toThrow(
      'Cannot apply RollbackRequested to a release in phase Finalized',
    );
    expect(() => transition(states.Finalized, events.RollbackRequested)).toThrow(
      expect.objectContaining({ name: 'InvalidTransition' }),
    );
  });
});

describe('initialState', () => {
  it('starts in Requested with no traffic on green', () => {
    expect(initialState()).toEqual({ phase: 'Requested', stepIndex: -1, greenPercent: 0 });
  });

  describe('operator controls', () => {
    const shifting = states.Shifting;
    const paused = { ...shifting, control: { paused: true, promoted: false, aborted: false } };
    const promoted = { ...shifting, control: { paused: false, promoted: true, aborted: false } };

    it('pauses and resumes at the current weight, saying who and why', () => {
      const pause = transition(shifting, events.Paused);
      const resume = transition(pause.next, events.Resumed);

      expect(pause).toEqual({
        kind: 'changed',
        next: { ...shifting, control: { paused: true, promoted: false, aborted: false } },
        effects: [],
        reason: 'Paused by dana at 10% on green: latency looks odd',
      });
      expect(resume.next.control).toEqual({ paused: false, promoted: false, aborted: false });
      expect(resume.reason).toBe('Resumed by dana at 10% on green: latency is fine');
    });

    it('refuses to pause twice, to resume what is not paused, and to promote twice', () => {
      expect(() => transition(paused, events.Paused)).toThrow(/it is paused already/);
      expect(() => transition(shifting, events.Resumed)).toThrow(/it is not paused/);
      expect(() => transition(promoted, events.Promoted)).toThrow(/it was promoted already/);
      expect(() => transition(promoted, events.Paused)).toThrow(/promoted and is finishing/);
    });

    it('promotes a paused release, which ends the pause', () => {
      expect(transition(paused, events.Promoted)).toMatchObject({
        next: { phase: 'Shifting', control: { paused: false, promoted: true } },
        reason:
          'Promoted by dana at 10% on green: hotfix; the remaining steps and bakes are skipped',
      });
    });

    it('refuses to steer a release whose traffic is not shifting', () => {
      expect(() => transition(states.Testing, events.Paused)).toThrow(
        /operators steer a release only while its traffic shifts/,
      );
    });

    it('marks an aborted release so its steps know an operator ended it', () => {
      expect(transition(paused, events.AbortRequested)).toEqual({
        kind: 'changed',
        next: {
          ...shifting,
          phase: 'RollingBack',
          control: { paused: true, promoted: false, aborted: true },
        },
        effects: [],
        reason: 'Aborted by dana: wrong build',
      });
      expect(() => transition(states.RollingBack, events.AbortRequested)).toThrow(
        /it is rolling back/,
      );
    });

    it('rolls a finalized release back to blue and publishes it', () => {
      expect(transition(states.Finalized, events.Reverted)).toEqual({
        kind: 'changed',
        next: { phase: 'RolledBack', stepIndex: 1, greenPercent: 0 },
        effects: [{ type: 'publish', detailType: 'Release Rolled Back' }],
        reason: 'Rolled back after finalize by dana: checkout errors after finalize',
      });
    });
  });

  describe('forward-only hold', () => {
    it('holds traffic where it is, publishing Release Held, instead of rolling back', () => {
      expect(transition(states.Shifting, events.Held)).toEqual({
        kind: 'changed',
        next: { ...states.Shifting, phase: 'Held' },
        effects: [{ type: 'publish', detailType: 'Release Held' }],
        reason: 'Held with 10% on green, forward-only: AlarmGateFailed: checkout-errors in ALARM',
      });
    });

    it('does not hold a release an operator aborted knowingly', () => {
      const aborted = transition(states.Held, events.AbortRequested).next;
      expect(aborted).toMatchObject({ phase: 'RollingBack', control: { aborted: true } });
      expect(() => transition(aborted, events.Held)).toThrow(InvalidTransition);
    });

    it('holds a promoted release again as a new round when its Finalize failed: the promote is spent', () => {
      const promoted = transition(states.Held, events.Promoted).next;

      expect(transition(promoted, events.Held)).toEqual({
        kind: 'changed',
        next: { ...promoted, control: { paused: false, promoted: false, aborted: false } },
        effects: [{ type: 'publish', detailType: 'Release Held' }],
        reason:
          "Held again with 10% on green, forward-only: the promote's Finalize failed: AlarmGateFailed: checkout-errors in ALARM",
      });
      const heldAgain = transition(promoted, events.Held).next;
      expect(() => transition(heldAgain, events.Finalized)).toThrow(/held until an operator/);
      expect(transition(heldAgain, events.Held).kind).toBe('unchanged');
      expect(transition(heldAgain, events.Promoted).next.control?.promoted).toBe(true);
    });

    it('finalizes a held release only once an operator promoted it, with all traffic on green', () => {
      expect(() => transition(states.Held, events.Finalized)).toThrow(/held until an operator/);
      const promoted = transition(states.Held, events.Promoted);
      expect(promoted.reason).toMatch(/^Promoted out of its hold by dana at 10% on green: hotfix/);
      expect(() => transition(promoted.next, events.Promoted)).toThrow(/promoted already/);
      expect(transition(promoted.next, events.Finalized)).toMatchObject({
        next: { phase: 'Finalized', greenPercent: 100 },
        effects: [{ type: 'publish', detailType: 'Release Finalized' }, { type: 'releaseLock' }],
      });
    });
  });
});
