import type { HistoryEvent } from '../src/local/step-functions.ts';
import type { ReleaseDriver } from './release-driver.ts';

export interface StateTransitionRow {
  strategy: string;
  /** Percent of traffic on green at each weight step, as the release planned them. */
  weightSteps: number[];
  /** Every `*StateEntered` event, Map iterations included: what a Standard workflow bills. */
  statesEntered: number;
  history: HistoryEvent[];
}

export interface StateTransitionOptions {
  driver: ReleaseDriver;
  strategies: readonly string[];
  versionPrefix: string;
}

/** One release per strategy, counting the states it enters. */
export async function measureStateTransitions(
  options: StateTransitionOptions,
): Promise<StateTransitionRow[]> {
  const rows: StateTransitionRow[] = [];
  for (const strategy of options.strategies) {
    const { history } = await options.driver.release(
      `${options.versionPrefix}-${strategy}`,
      strategy,
    );
    const statesEntered = history.filter((e) => e.type.endsWith('StateEntered')).length;
    const mapEntered = history.find((e) => e.type === 'MapStateEntered');
    rows.push({
      strategy,
      weightSteps: plannedPercents(mapEntered?.details?.input),
      statesEntered,
      history,
    });
  }
  return rows;
}

// The Map state's input carries the plan Register resolved (`$.release.plan`), so the steps
// shown are the ones this release actually iterated over.
function plannedPercents(input: unknown): number[] {
  if (typeof input !== 'string') return [];
  const state = JSON.parse(input) as { release?: { plan?: { percent: number }[] } };
  return (state.release?.plan ?? []).map((step) => step.percent);
}
