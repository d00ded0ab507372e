import type { WeightStep } from './records.ts';
import type { Strategy } from './service-config.ts';

/**
 * Turns a strategy into the weight steps the workflow walks: set `percent` on green, bake,
 * gate. The last step always puts 100% on green, so finalizing never moves traffic by surprise.
 * Throws when the strategy cannot make a sensible plan: that is a configuration error, caught
 * when the service registry is loaded.
 */
export function planWeights(strategy: Strategy): WeightStep[] {
  switch (strategy.type) {
    case 'all-at-once':
      return [{ index: 0, percent: 100, bakeSeconds: strategy.bakeSeconds }];
    case 'canary':
      assertPercent(strategy.percent, 'canary percent', 99);
      return [
        { index: 0, percent: strategy.percent, bakeSeconds: strategy.bakeSeconds },
        { index: 1, percent: 100, bakeSeconds: 0 },
      ];
    case 'linear':
      return planLinear(strategy.percent, strategy.intervalSeconds);
    case 'steps':
      return planSteps(strategy.steps);
  }
}

function planLinear(percent: number, intervalSeconds: number): WeightStep[] {
  assertPercent(percent, 'linear percent', 50);
  const steps: WeightStep[] = [];
  for (let n = 1; roundPercent(n * percent) < 100; n++) {
    steps.push({ index: n - 1, percent: roundPercent(n * percent), bakeSeconds: intervalSeconds });
  }
  steps.push({ index: steps.length, percent: 100, bakeSeconds: 0 });
  return steps;
}

function planSteps(given: readonly { percent: number; bakeSeconds: number }[]): WeightStep[] {
  if (given.length === 0) {
    throw new Error('steps strategy has no steps; list at least one { percent, bakeSeconds }');
  }
  const steps: WeightStep[] = [];
  for (const [index, step] of given.entries()) {
    assertPercent(step.percent, `step ${index} percent`, 100);
    const previous = steps.at(-1);
    if (previous !== undefined && step.percent <= previous.percent) {
      throw new Error(
        `steps must increase: step ${index} is ${step.percent}% but step ${previous.index} is already ${previous.percent}%; list steps in strictly increasing percent`,
      );
    }
    steps.push({ index, percent: step.percent, bakeSeconds: step.bakeSeconds });
  }
  const last = steps.at(-1);
  if (last !== undefined && last.percent < 100) {
    steps.push({ index: steps.length, percent: 100, bakeSeconds: 0 });
  }
  return steps;
}

function assertPercent(percent: number, what: string, max: number): void {
  if (!Number.isFinite(percent) || percent <= 0 || percent > max) {
    throw new Error(`${what} is ${percent}; use a number above 0 and at most ${max}`);
  }
}

// 3 × 33.3 is 99.89999999999999 in floating point; weights are read by people and by AWS.
function roundPercent(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
