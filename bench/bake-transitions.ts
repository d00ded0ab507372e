import type { HistoryEvent } from '../src/local/step-functions.ts';

/** States a release's first bake entered, from its execution history. */
export interface BakeStates {
  /** States entered from the bake's first state up to (not including) CheckGates. */
  states: number;
  /** BakeTick states entered (poll mode); 0 in event mode. */
  ticks: number;
  /** Every state the whole release entered, Map iterations included: what a Standard workflow bills. */
  releaseStates: number;
}

/**
 * Counts the states of the first weight step's bake: `Bake` (the Parallel state) and its
 * branches in event mode, the `BakeTick` → `IsBakeDone` → `WaitForTick` loop in poll mode.
 */
export function bakeStates(history: readonly HistoryEvent[]): BakeStates {
  const entered = history
    .filter((e) => e.type.endsWith('StateEntered'))
    .map((e) => String(e.details?.name));
  const start = entered.findIndex((name) => name === 'Bake' || name === 'BakeTick');
  const end = entered.indexOf('CheckGates', start);
  if (start < 0 || end < 0) throw new Error('The release has no bake followed by a gate check');
  const bake = entered.slice(start, end);
  return {
    states: bake.length,
    ticks: bake.filter((name) => name === 'BakeTick').length,
    releaseStates: entered.length,
  };
}

/**
 * States a polled bake of `bakeSeconds` enters at one look every `pollSeconds`, from a
 * measured bake: every tick but the last enters BakeTick, IsBakeDone and WaitForTick; the
 * last one (the bake is done) only the first two. A bake of B seconds at P takes B/P + 1
 * ticks (one at the start, one per wait).
 */
export function extrapolatePolledBake(
  measured: BakeStates,
  bakeSeconds: number,
  pollSeconds: number,
): number {
  if (measured.ticks < 2) throw new Error('Measure a polled bake of at least two ticks');
  const lastTick = 2;
  const perTick = (measured.states - lastTick) / (measured.ticks - 1);
  return perTick * Math.ceil(bakeSeconds / pollSeconds) + lastTick;
}
