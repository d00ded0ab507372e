import { InvalidTransition } from './errors.ts';
import { LifecycleEventType, ReleasePhase, TerminalPhases } from './phases.ts';
import type { Colours, ReleaseControl } from './records.ts';

/** What the state machine needs to know about a release; the ledger stores more. */
export interface ReleaseState {
  phase: ReleasePhase;
  /** Index of the last weight step set, -1 before traffic moves. */
  stepIndex: number;
  /** Percent of traffic on green as last set. */
  greenPercent: number;
  /** Absent means no operator has steered the release: nothing paused, promoted or aborted. */
  control?: ReleaseControl;
}

export const noControl: ReleaseControl = { paused: false, promoted: false, aborted: false };

export const ReleaseEventType = {
  LockAcquired: 'LockAcquired',
  GreenProvisioned: 'GreenProvisioned',
  GreenTestsPassed: 'GreenTestsPassed',
  GreenTestsFailed: 'GreenTestsFailed',
  ApprovalGranted: 'ApprovalGranted',
  ApprovalDenied: 'ApprovalDenied',
  WeightSet: 'WeightSet',
  GatePassed: 'GatePassed',
  GateFailed: 'GateFailed',
  Finalized: 'Finalized',
  RollbackRequested: 'RollbackRequested',
  RolledBack: 'RolledBack',
  Rejected: 'Rejected',
  Superseded: 'Superseded',
  Aborted: 'Aborted',
  Paused: 'Paused',
  Resumed: 'Resumed',
  Promoted: 'Promoted',
  AbortRequested: 'AbortRequested',
  Reverted: 'Reverted',
  Held: 'Held',
} as const;
export type ReleaseEventType = (typeof ReleaseEventType)[keyof typeof ReleaseEventType];

/** Something that happened to a release; `transition` decides what it means in each phase. */
export type ReleaseEvent =
  | { type: typeof ReleaseEventType.LockAcquired }
  | { type: typeof ReleaseEventType.GreenProvisioned; colours: Colours }
  | { type: typeof ReleaseEventType.GreenTestsPassed; approvalRequired: boolean }
  | { type: typeof ReleaseEventType.GreenTestsFailed; detail: string }
  | { type: typeof ReleaseEventType.ApprovalGranted; by: string }
  | { type: typeof ReleaseEventType.ApprovalDenied; by: string; reason: string }
  | { type: typeof ReleaseEventType.WeightSet; index: number; percent: number }
  | { type: typeof ReleaseEventType.GatePassed; index: number }
  | {
      type: typeof ReleaseEventType.GateFailed;
      index: number;
      alarms: string[];
      /** Metric gates that failed, or that could not decide before their holds ran out. */
      metrics?: { name: string; verdict: 'fail' | 'inconclusive' }[];
    }
  | { type: typeof ReleaseEventType.Finalized }
  /** Any error the workflow caught after the lock was taken. */
  | { type: typeof ReleaseEventType.RollbackRequested; reason: string }
  | { type: typeof ReleaseEventType.RolledBack }
  | { type: typeof ReleaseEventType.Rejected; reason: string }
  | { type: typeof ReleaseEventType.Superseded; by: string }
  | { type: typeof ReleaseEventType.Aborted; by: string; reason: string }
  /** Operators (`greenlight pause|resume|promote|abort|rollback`): who, and why. */
  | { type: typeof ReleaseEventType.Paused; by: string; reason: string }
  | { type: typeof ReleaseEventType.Resumed; by: string; reason: string }
  | { type: typeof ReleaseEventType.Promoted; by: string; reason: string }
  | { type: typeof ReleaseEventType.AbortRequested; by: string; reason: string }
  /** A finalized release put back on blue while blue is still warm. */
  | { type: typeof ReleaseEventType.Reverted; by: string; reason: string }
  /**
   * A forward-only release (its irreversible migration ran) failed where another would roll
   * back: the failure's reason. Traffic stays where it is.
   */
  | { type: typeof ReleaseEventType.Held; reason: string };

/** Events only operators send; the only ones that change a release's `control`. */
export const OperatorEventTypes: ReadonlySet<ReleaseEventType> = new Set([
  ReleaseEventType.Paused,
  ReleaseEventType.Resumed,
  ReleaseEventType.Promoted,
  ReleaseEventType.AbortRequested,
  ReleaseEventType.Reverted,
]);

/** Work the caller carries out after storing the new state, in order. */
export type Effect = { type: 'publish'; detailType: LifecycleEventType } | { type: 'releaseLock' };

/**
 * `unchanged` means the event was applied before (a retried step): nothing to store, nothing
 * to publish, carry on.
 */
export type Transition =
  | { kind: 'changed'; next: ReleaseState; effects: Effect[]; reason: string }
  | { kind: 'unchanged'; next: ReleaseState; effects: []; reason: string };

export function initialState(): ReleaseState {
  return { phase: ReleasePhase.Requested, stepIndex: -1, greenPercent: 0 };
}

/**
 * The release state machine. Pure: returns the next state, the effects to carry out and a
 * reason a person can read. Throws InvalidTransition for a pair the machine does not allow,
 * which means a bug or a race, never something to retry.
 */
export function transition(state: ReleaseState, event: ReleaseEvent): Transition {
  const { phase } = state;
  switch (event.type) {
    case 'LockAcquired':
      if (phase === ReleasePhase.Requested) {
        return changed(state, ReleasePhase.Provisioning, 'Lock acquired; provisioning green', [
          publish(LifecycleEventType.ReleaseStarted),
        ]);
      }
      if (phase === ReleasePhase.Provisioning) return unchanged(state, event);
      break;
    case 'GreenProvisioned':
      if (phase === ReleasePhase.Provisioning) {
        return changed(
          state,
          ReleasePhase.Testing,
          `Green ${event.colours.green} provisioned beside blue ${event.colours.blue}`,
          [publish(LifecycleEventType.GreenProvisioned)],
        );
      }
      if (phase === ReleasePhase.Testing) return unchanged(state, event);
      break;
    case 'GreenTestsPassed':
      if (phase === ReleasePhase.Testing) {
        return event.approvalRequired
          ? changed(
              state,
              ReleasePhase.AwaitingApproval,
              'Green passed its tests; waiting for approval',
              [publish(LifecycleEventType.ApprovalRequested)],
            )
          : startShifting(state, 'Green passed its tests; shifting traffic');
      }
      if (event.approvalRequired && phase === ReleasePhase.AwaitingApproval) {
        return unchanged(state, event);
      }
      if (!event.approvalRequired && isBeforeFirstStep(state)) return unchanged(state, event);
      break;
    case 'GreenTestsFailed':
      if (phase === ReleasePhase.Testing) {
        return changed(state, ReleasePhase.RollingBack, `Green failed its tests: ${event.detail}`);
      }
      if (phase === ReleasePhase.RollingBack) return unchanged(state, event);
      break;
    case 'ApprovalGranted':
      if (phase === ReleasePhase.AwaitingApproval) {
        return startShifting(state, `Approved by ${event.by}; shifting traffic`);
      }
      if (isBeforeFirstStep(state)) return unchanged(state, event);
      break;
    case 'ApprovalDenied':
      if (phase === ReleasePhase.AwaitingApproval) {
        return changed(state, ReleasePhase.RollingBack, `Denied by ${event.by}: ${event.reason}`);
      }
      if (phase === ReleasePhase.RollingBack) return unchanged(state, event);
      break;
    case 'WeightSet':
      return setWeight(state, event);
    case 'GatePassed':
      if (phase === ReleasePhase.Shifting && event.index === state.stepIndex) {
        return {
          kind: 'changed',
          next: state,
          effects: [],
          reason: `Gate ${event.index} passed (${state.greenPercent}% on green)`,
        };
      }
      if (phase === ReleasePhase.Shifting) {
        throw invalid(state, event, `the last step set is ${state.stepIndex}`);
      }
      break;
    case 'GateFailed':
      // Any index is accepted: refusing a gate failure would block the rollback it asks for.
      if (phase === ReleasePhase.Shifting) {
        return changed(state, ReleasePhase.RollingBack, describeGateFailure(state, event), [
          publish(LifecycleEventType.GateFailed),
        ]);
      }
      if (phase === ReleasePhase.RollingBack) return unchanged(state, event);
      break;
    case 'Finalized':
      // Promoted out of a hold: finalize puts all traffic on green itself.
      if (phase === ReleasePhase.Held && controlOf(state).promoted) {
        return {
          kind: 'changed',
          next: { ...state, phase: ReleasePhase.Finalized, greenPercent: 100 },
          effects: [publish(LifecycleEventType.ReleaseFinalized), { type: 'releaseLock' }],
          reason: 'Promoted out of its hold: all traffic on green; release finalized',
        };
      }
      if (phase === ReleasePhase.Held) {
        throw invalid(state, event, 'it is held until an operator promotes it');
      }
      if (phase === ReleasePhase.Shifting && state.greenPercent === 100) {
        return changed(state, ReleasePhase.Finalized, 'All traffic on green; release finalized', [
          publish(LifecycleEventType.ReleaseFinalized),
          { type: 'releaseLock' },
        ]);
      }
      if (phase === ReleasePhase.Shifting) {
        throw invalid(state, event, `only ${state.greenPercent}% of traffic is on green`);
      }
      if (phase === ReleasePhase.Finalized) return unchanged(state, event);
      break;
    case 'RollbackRequested':
      if (RollbackablePhases.has(phase)) {
        return changed(state, ReleasePhase.RollingBack, `Rolling back: ${event.reason}`);
      }
      // Register or the lock failed past its retries: the release never started, and ending it
      // through the rollback is what keeps it from showing as in progress forever.
      if (phase === ReleasePhase.Requested) {
        return changed(
          state,
          ReleasePhase.RollingBack,
          `Ending before it started: ${event.reason}`,
        );
      }
      if (phase === ReleasePhase.RollingBack) return unchanged(state, event);
      break;
    case 'RolledBack':
      if (phase === ReleasePhase.RollingBack) {
        return {
          kind: 'changed',
          next: { ...state, phase: ReleasePhase.RolledBack, greenPercent: 0 },
          // releaseLock also for a release that never got the lock: the queue port hands on a
          // lock it may have taken before the failure, and does nothing otherwise.
          effects: [publish(LifecycleEventType.ReleaseRolledBack), { type: 'releaseLock' }],
          reason: `All traffic back on blue (green had ${state.greenPercent}%)`,
        };
      }
      if (phase === ReleasePhase.RolledBack) return unchanged(state, event);
      break;
    case 'Rejected':
      if (phase === ReleasePhase.Requested) {
        return changed(state, ReleasePhase.Rejected, `Rejected: ${event.reason}`, [
          publish(LifecycleEventType.ReleaseRejected),
        ]);
      }
      if (phase === ReleasePhase.Rejected) return unchanged(state, event);
      break;
    case 'Superseded':
      if (SupersedablePhases.has(phase)) {
        return changed(state, ReleasePhase.Superseded, `Superseded by ${event.by}`, [
          publish(LifecycleEventType.ReleaseSuperseded),
          ...lockReleaseFrom(phase),
        ]);
      }
      if (phase === ReleasePhase.Superseded) return unchanged(state, event);
      break;
    case 'Aborted':
      if (!TerminalPhases.has(phase)) {
        return changed(
          state,
          ReleasePhase.Aborted,
          `Aborted by ${event.by}: ${event.reason}`,
          lockReleaseFrom(phase),
        );
      }
      if (phase === ReleasePhase.Aborted) return unchanged(state, event);
      break;
    case 'Held':
      // An operator's abort of a held release is knowing (the operator command insists): it
      // rolls back, and nothing holds it again.
      if (
        (RollbackablePhases.has(phase) || phase === ReleasePhase.RollingBack) &&
        !controlOf(state).aborted
      ) {
        return changed(
          state,
          ReleasePhase.Held,
          `Held with ${state.greenPercent}% on green, forward-only: ${event.reason}`,
          [publish(LifecycleEventType.ReleaseHeld)],
        );
      }
      // Held after a promote: the Finalize the promote started failed past its retries. That
      // promote is spent: a new round of the hold begins, announced again, and waits for a new
      // decision (holding again with the promote standing would send it back to Finalize, round
      // after round, until Finalize succeeds or the history runs out).
      if (phase === ReleasePhase.Held && controlOf(state).promoted) {
        return {
          kind: 'changed',
          next: { ...state, control: { ...controlOf(state), promoted: false } },
          effects: [publish(LifecycleEventType.ReleaseHeld)],
          reason: `Held again with ${state.greenPercent}% on green, forward-only: the promote's Finalize failed: ${event.reason}`,
        };
      }
      if (phase === ReleasePhase.Held) return unchanged(state, event);
      break;
    case 'Promoted':
      if (phase === ReleasePhase.Held) {
        if (controlOf(state).promoted) throw invalid(state, event, 'it was promoted already');
        return {
          kind: 'changed',
          next: { ...state, control: { ...controlOf(state), promoted: true, paused: false } },
          effects: [],
          reason: `Promoted out of its hold by ${event.by} at ${state.greenPercent}% on green: ${event.reason}; all traffic goes to green and the release finalizes`,
        };
      }
      if (phase === ReleasePhase.Shifting) return steer(state, event);
      throw invalid(state, event, 'operators steer a release only while its traffic shifts');
    case 'Paused':
    case 'Resumed':
      if (phase === ReleasePhase.Shifting) return steer(state, event);
      throw invalid(state, event, 'operators steer a release only while its traffic shifts');
    case 'AbortRequested':
      if (RollbackablePhases.has(phase) || phase === ReleasePhase.Held) {
        return {
          kind: 'changed',
          next: {
            ...state,
            phase: ReleasePhase.RollingBack,
            control: { ...controlOf(state), aborted: true },
          },
          effects: [],
          reason: `Aborted by ${event.by}: ${event.reason}`,
        };
      }
      if (phase === ReleasePhase.RollingBack) throw invalid(state, event, 'it is rolling back');
      break;
    case 'Reverted':
      if (phase === ReleasePhase.Finalized) {
        return {
          kind: 'changed',
          next: { ...state, phase: ReleasePhase.RolledBack, greenPercent: 0 },
          effects: [publish(LifecycleEventType.ReleaseRolledBack)],
          reason: `Rolled back after finalize by ${event.by}: ${event.reason}`,
        };
      }
      break;
  }
  throw invalid(state, event);
}

function controlOf(state: ReleaseState): ReleaseControl {
  return state.control ?? noControl;
}

/**
 * Pause, resume and promote while traffic shifts. Each is refused when it would change
 * nothing or contradict an earlier command, so that an operator learns what the release is
 * already doing instead of a silent success.
 */
function steer(
  state: ReleaseState,
  event: Extract<ReleaseEvent, { type: 'Paused' | 'Resumed' | 'Promoted' }>,
): Transition {
  const control = controlOf(state);
  const at = `at ${state.greenPercent}% on green`;
  const next = (change: Partial<ReleaseControl>, reason: string): Transition => ({
    kind: 'changed',
    next: { ...state, control: { ...control, ...change } },
    effects: [],
    reason,
  });
  switch (event.type) {
    case 'Paused':
      if (control.promoted) throw invalid(state, event, 'it was promoted and is finishing');
      if (control.paused) throw invalid(state, event, 'it is paused already');
      return next({ paused: true }, `Paused by ${event.by} ${at}: ${event.reason}`);
    case 'Resumed':
      if (!control.paused) throw invalid(state, event, 'it is not paused');
      return next({ paused: false }, `Resumed by ${event.by} ${at}: ${event.reason}`);
    case 'Promoted':
      if (control.promoted) throw invalid(state, event, 'it was promoted already');
      return next(
        { promoted: true, paused: false },
        `Promoted by ${event.by} ${at}: ${event.reason}; the remaining steps and bakes are skipped`,
      );
  }
}

const RollbackablePhases: ReadonlySet<ReleasePhase> = new Set([
  ReleasePhase.Provisioning,
  ReleasePhase.Testing,
  ReleasePhase.AwaitingApproval,
  ReleasePhase.Shifting,
]);

// Once traffic moves, a newer release must wait or the operator must abort: superseding
// mid-shift would leave a split nobody owns.
const SupersedablePhases: ReadonlySet<ReleasePhase> = new Set([
  ReleasePhase.Requested,
  ReleasePhase.Provisioning,
  ReleasePhase.Testing,
  ReleasePhase.AwaitingApproval,
]);

function setWeight(
  state: ReleaseState,
  event: Extract<ReleaseEvent, { type: 'WeightSet' }>,
): Transition {
  if (state.phase !== ReleasePhase.Shifting) throw invalid(state, event);
  if (!(event.percent >= 0 && event.percent <= 100)) {
    throw invalid(state, event, `percent ${event.percent} is outside 0-100`);
  }
  if (event.index === state.stepIndex && event.percent === state.greenPercent) {
    return unchanged(state, event);
  }
  if (event.index === state.stepIndex) {
    throw invalid(state, event, `step ${event.index} was already set to ${state.greenPercent}%`);
  }
  if (event.index !== state.stepIndex + 1) {
    throw invalid(state, event, `step ${event.index} cannot follow step ${state.stepIndex}`);
  }
  return {
    kind: 'changed',
    next: { phase: ReleasePhase.Shifting, stepIndex: event.index, greenPercent: event.percent },
    effects: [publish(LifecycleEventType.TrafficShifted)],
    reason: `Step ${event.index}: ${event.percent}% of traffic on green`,
  };
}

function startShifting(state: ReleaseState, reason: string): Transition {
  return {
    kind: 'changed',
    next: { ...state, phase: ReleasePhase.Shifting, stepIndex: -1, greenPercent: 0 },
    effects: [],
    reason,
  };
}

function isBeforeFirstStep(state: ReleaseState): boolean {
  return state.phase === ReleasePhase.Shifting && state.stepIndex === -1;
}

function describeGateFailure(
  state: ReleaseState,
  event: Extract<ReleaseEvent, { type: 'GateFailed' }>,
): string {
  const where = `at step ${event.index} (${state.greenPercent}% on green)`;
  const causes: string[] = [];
  if (event.alarms.length > 0) {
    const noun = event.alarms.length === 1 ? 'Alarm' : 'Alarms';
    causes.push(`${noun} ${event.alarms.join(', ')} in ALARM`);
  }
  for (const verdict of ['fail', 'inconclusive'] as const) {
    const names = (event.metrics ?? []).filter((m) => m.verdict === verdict).map((m) => m.name);
    if (names.length === 0) continue;
    const noun = names.length === 1 ? 'Metric gate' : 'Metric gates';
    causes.push(`${noun} ${names.join(', ')} ${verdict === 'fail' ? 'failed' : 'inconclusive'}`);
  }
  if (causes.length === 0) return `Gate failed ${where}`;
  return `${causes.join('; ')} ${where}`;
}

// A release still in Requested never took the lock, so there is none to free.
function lockReleaseFrom(phase: ReleasePhase): Effect[] {
  return phase === ReleasePhase.Requested ? [] : [{ type: 'releaseLock' }];
}

function publish(detailType: LifecycleEventType): Effect {
  return { type: 'publish', detailType };
}

function changed(
  state: ReleaseState,
  phase: ReleasePhase,
  reason: string,
  effects: Effect[] = [],
): Transition {
  return { kind: 'changed', next: { ...state, phase }, effects, reason };
}

function unchanged(state: ReleaseState, event: ReleaseEvent): Transition {
  return {
    kind: 'unchanged',
    next: state,
    effects: [],
    reason: `Already ${state.phase}: ${event.type} was applied before`,
  };
}

function invalid(state: ReleaseState, event: ReleaseEvent, why?: string): InvalidTransition {
  const where =
    state.phase === ReleasePhase.Shifting
      ? `${state.phase} (step ${state.stepIndex}, ${state.greenPercent}% on green)`
      : state.phase;
  return new InvalidTransition(
    `Cannot apply ${event.type} to a release in phase ${where}${why === undefined ? '' : `: ${why}`}`,
    { phase: state.phase, event: event.type, stepIndex: state.stepIndex },
  );
}
