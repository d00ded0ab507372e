import type { Action } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import {
  findForward,
  forwardTargets,
  isSameSplit,
  receivingTargets,
  targetGroupName,
  weightsForGreenPercent,
  withForwardTo,
} from '../../../../src/targets/alb/forward.ts';

const tgA =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/checkout-a/aaaaaaaaaaaaaaaa';
const tgB =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/checkout-b/bbbbbbbbbbbbbbbb';

describe('weightsForGreenPercent', () => {
  it('uses 100-p and p for whole percents', () => {
    expect(weightsForGreenPercent(0)).toEqual({ blue: 100, green: 0 });
    expect(weightsForGreenPercent(10)).toEqual({ blue: 90, green: 10 });
    expect(weightsForGreenPercent(100)).toEqual({ blue: 0, green: 100 });
  });

  it('uses per-mille weights, at most 999, for fractional percents', () => {
    expect(weightsForGreenPercent(12.5)).toEqual({ blue: 875, green: 125 });
    expect(weightsForGreenPercent(0.1)).toEqual({ blue: 999, green: 1 });
    expect(weightsForGreenPercent(99.9)).toEqual({ blue: 1, green: 999 });
    // 33.333 cannot be expressed: 0.1% is ALB's resolution.
    expect(weightsForGreenPercent(33.333)).toEqual({ blue: 667, green: 333 });
  });

  it('refuses percents outside 0..100', () => {
    for (const percent of [-1, 100.5, Number.NaN]) {
      expect(() => weightsForGreenPercent(percent)).toThrow(RangeError);
    }
  });
});

describe('forwardTargets', () => {
  it('reads a plain forward as one target group of weight 1', () => {
    expect(forwardTargets({ Type: 'forward', TargetGroupArn: tgA })).toEqual([
      { targetGroupArn: tgA, weight: 1 },
    ]);
  });

  it('prefers ForwardConfig and counts a missing weight as 1', () => {
    const action: Action = {
      Type: 'forward',
      TargetGroupArn: tgA,
      ForwardConfig: {
        TargetGroups: [{ TargetGroupArn: tgA }, { TargetGroupArn: tgB, Weight: 0 }],
      },
    };
    expect(forwardTargets(action)).toEqual([
      { targetGroupArn: tgA, weight: 1 },
      { targetGroupArn: tgB, weight: 0 },
    ]);
  });
});

describe('isSameSplit', () => {
  it('compares shares, not raw weights', () => {
    const plainA = [{ targetGroupArn: tgA, weight: 1 }];
    expect(
      isSameSplit(plainA, [
        { targetGroupArn: tgA, weight: 100 },
        { targetGroupArn: tgB, weight: 0 },
      ]),
    ).toBe(true);
    expect(
      isSameSplit(
        [
          { targetGroupArn: tgA, weight: 9 },
          { targetGroupArn: tgB, weight: 1 },
        ],
        [
          { targetGroupArn: tgA, weight: 90 },
          { targetGroupArn: tgB, weight: 10 },
        ],
      ),
    ).toBe(true);
    expect(
      isSameSplit(plainA, [
        { targetGroupArn: tgA, weight: 99 },
        { targetGroupArn: tgB, weight: 1 },
      ]),
    ).toBe(false);
  });

  it('never takes a forward with no weight at all for a desired split', () => {
    expect(
      isSameSplit(
        [{ targetGroupArn: tgA, weight: 0 }],
        [
          { targetGroupArn: tgA, weight: 100 },
          { targetGroupArn: tgB, weight: 0 },
        ],
      ),
    ).toBe(false);
  });
});

describe('receivingTargets', () => {
  it('lists the target groups with weight', () => {
    expect(
      receivingTargets([
        { targetGroupArn: tgA, weight: 0 },
        { targetGroupArn: tgB, weight: 5 },
      ]),
    ).toEqual([tgB]);
  });
});

describe('withForwardTo', () => {
  it('replaces only the forward, keeping its order and stickiness and the other actions', () => {
    const fixed: Action = {
      Type: 'authenticate-cognito',
      Order: 1,
      AuthenticateCognitoConfig: {
        UserPoolArn: 'arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_x',
        UserPoolClientId: 'client',
        UserPoolDomain: 'shop',
      },
    };
    const observed = findForward([
      fixed,
      {
        Type: 'forward',
        Order: 2,
        TargetGroupArn: tgA,
        ForwardConfig: {
          TargetGroups: [{ TargetGroupArn: tgA, Weight: 1 }],
          TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 60 },
        },
      },
    ]);
    if (observed === undefined) throw new Error('no forward');

    expect(
      withForwardTo(observed, [
        { targetGroupArn: tgA, weight: 50 },
        { targetGroupArn: tgB, weight: 50 },
      ]),
    ).toEqual([
      fixed,
      {
        Type: 'forward',
        Order: 2,
        ForwardConfig: {
          TargetGroups: [
            { TargetGroupArn: tgA, Weight: 50 },
            { TargetGroupArn: tgB, Weight: 50 },
          ],
          TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 60 },
        },
      },
    ]);
  });

  it('finds no forward among redirects and fixed responses', () => {
    expect(
      findForward([{ Type: 'redirect', RedirectConfig: { StatusCode: 'HTTP_301' } }]),
    ).toBeUndefined();
  });
});

describe('targetGroupName', () => {
  it('takes the name out of the ARN', () => {
    expect(targetGroupName(tgA)).toBe('checkout-a');
  });
});
