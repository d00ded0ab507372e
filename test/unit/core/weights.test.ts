import { describe, expect, it } from 'vitest';
import { planWeights } from '../../../src/core/weights.ts';

describe('planWeights', () => {
  it('moves everything at once and bakes when the strategy is all-at-once', () => {
    expect(planWeights({ type: 'all-at-once', bakeSeconds: 120 })).toEqual([
      { index: 0, percent: 100, bakeSeconds: 120 },
    ]);
  });

  it('bakes the canary percent, then moves the rest without a bake', () => {
    expect(planWeights({ type: 'canary', percent: 10, bakeSeconds: 300 })).toEqual([
      { index: 0, percent: 10, bakeSeconds: 300 },
      { index: 1, percent: 100, bakeSeconds: 0 },
    ]);
  });

  it('adds the linear percent each interval and caps the last step at exactly 100', () => {
    expect(planWeights({ type: 'linear', percent: 30, intervalSeconds: 60 })).toEqual([
      { index: 0, percent: 30, bakeSeconds: 60 },
      { index: 1, percent: 60, bakeSeconds: 60 },
      { index: 2, percent: 90, bakeSeconds: 60 },
      { index: 3, percent: 100, bakeSeconds: 0 },
    ]);
  });

  it('ends on 100 without a duplicate step when the linear percent divides 100', () => {
    expect(
      planWeights({ type: 'linear', percent: 25, intervalSeconds: 10 }).map((s) => s.percent),
    ).toEqual([25, 50, 75, 100]);
  });

  it('rounds away floating-point noise in linear steps', () => {
    expect(
      planWeights({ type: 'linear', percent: 33.3, intervalSeconds: 10 }).map((s) => s.percent),
    ).toEqual([33.3, 66.6, 99.9, 100]);
  });

  it('keeps explicit steps and appends a final 100% step when they stop short', () => {
    expect(
      planWeights({
        type: 'steps',
        steps: [
          { percent: 5, bakeSeconds: 60 },
          { percent: 50, bakeSeconds: 120 },
        ],
      }),
    ).toEqual([
      { index: 0, percent: 5, bakeSeconds: 60 },
      { index: 1, percent: 50, bakeSeconds: 120 },
      { index: 2, percent: 100, bakeSeconds: 0 },
    ]);
  });

  it('keeps the bake of an explicit final 100% step', () => {
    expect(
      planWeights({
        type: 'steps',
        steps: [
          { percent: 20, bakeSeconds: 60 },
          { percent: 100, bakeSeconds: 600 },
        ],
      }),
    ).toEqual([
      { index: 0, percent: 20, bakeSeconds: 60 },
      { index: 1, percent: 100, bakeSeconds: 600 },
    ]);
  });

  it('throws naming the steps when a step does not increase the percent', () => {
    expect(() =>
      planWeights({
        type: 'steps',
        steps: [
          { percent: 30, bakeSeconds: 60 },
          { percent: 30, bakeSeconds: 60 },
        ],
      }),
    ).toThrow('steps must increase: step 1 is 30% but step 0 is already 30%');
  });

  it('throws when a step goes back down', () => {
    expect(() =>
      planWeights({
        type: 'steps',
        steps: [
          { percent: 50, bakeSeconds: 60 },
          { percent: 20, bakeSeconds: 60 },
        ],
      }),
    ).toThrow(/strictly increasing/);
  });

  it('throws when there are no explicit steps', () => {
    expect(() => planWeights({ type: 'steps', steps: [] })).toThrow(/no steps/);
  });

  it('throws when a percent is out of range', () => {
    expect(() => planWeights({ type: 'canary', percent: 100, bakeSeconds: 60 })).toThrow(
      'canary percent is 100; use a number above 0 and at most 99',
    );
    expect(() => planWeights({ type: 'linear', percent: 0, intervalSeconds: 60 })).toThrow(
      /linear percent is 0/,
    );
  });
});
