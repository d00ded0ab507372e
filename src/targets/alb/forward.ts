import type { Action } from '@aws-sdk/client-elastic-load-balancing-v2';

/** A target group a forward action sends to, with its ALB weight (0-999). */
export interface WeightedTargetGroup {
  targetGroupArn: string;
  weight: number;
}

/** The forward action among a listener's (or rule's) actions, where it sits, and its targets. */
export interface ObservedForward {
  actions: Action[];
  index: number;
  action: Action;
  targets: WeightedTargetGroup[];
}

export const maxAlbWeight = 999;
// Shares within this of each other are the same split; ALB weights are small integers, so any
// real difference is far larger.
const shareEpsilon = 1e-9;

/** Finds the one forward action; a listener or rule without one cannot do blue-green. */
export function findForward(actions: readonly Action[]): ObservedForward | undefined {
  const index = actions.findIndex((action) => action.Type === 'forward');
  const action = actions[index];
  if (action === undefined) return undefined;
  return { actions: [...actions], index, action, targets: forwardTargets(action) };
}

/**
 * Where a forward action sends requests. DescribeListeners reports a plain forward both as
 * `TargetGroupArn` and as a one-entry ForwardConfig; either form is read, and a target group
 * with no weight counts as 1, which is what ALB does with it.
 */
export function forwardTargets(action: Action): WeightedTargetGroup[] {
  const tuples = action.ForwardConfig?.TargetGroups ?? [];
  if (tuples.length > 0) {
    return tuples.flatMap((tuple) =>
      tuple.TargetGroupArn === undefined
        ? []
        : [{ targetGroupArn: tuple.TargetGroupArn, weight: tuple.Weight ?? 1 }],
    );
  }
  return action.TargetGroupArn === undefined
    ? []
    : [{ targetGroupArn: action.TargetGroupArn, weight: 1 }];
}

/**
 * ALB weights for `percent` (0-100) of traffic on green. Whole percents are `100-p`/`p`, which
 * is what an operator reading the console expects; a fractional percent uses per-mille weights,
 * so green's share has 0.1% resolution (ALB weights stop at 999).
 */
export function weightsForGreenPercent(percent: number): { blue: number; green: number } {
  if (!(percent >= 0 && percent <= 100)) {
    throw new RangeError(`Green percent must be between 0 and 100, got ${percent}`);
  }
  const tenths = Math.round(percent * 10);
  const weights =
    tenths % 10 === 0
      ? { blue: 100 - tenths / 10, green: tenths / 10 }
      : { blue: 1000 - tenths, green: tenths };
  for (const weight of [weights.blue, weights.green]) {
    if (!Number.isInteger(weight) || weight < 0 || weight > maxAlbWeight) {
      throw new RangeError(
        `ALB weight ${weight} for ${percent}% is outside 0..${maxAlbWeight}; this is a bug`,
      );
    }
  }
  return weights;
}

/** The share (0-1) of traffic a target group gets; NaN when nothing has any weight. */
export function shareOf(targets: readonly WeightedTargetGroup[], targetGroupArn: string): number {
  const total = targets.reduce((sum, target) => sum + target.weight, 0);
  const mine = targets
    .filter((target) => target.targetGroupArn === targetGroupArn)
    .reduce((sum, target) => sum + target.weight, 0);
  return mine / total;
}

/**
 * Whether two forwards split traffic the same way. Compared by share, not by raw weights: a
 * plain forward to blue and `[blue 100, green 0]` both send everything to blue, and rewriting
 * one into the other would be a write that changes nothing.
 */
export function isSameSplit(
  observed: readonly WeightedTargetGroup[],
  desired: readonly WeightedTargetGroup[],
): boolean {
  const arns = new Set([...observed, ...desired].map((target) => target.targetGroupArn));
  return [...arns].every(
    (arn) => Math.abs(shareOf(observed, arn) - shareOf(desired, arn)) < shareEpsilon,
  );
}

/** Target groups that take any traffic. */
export function receivingTargets(targets: readonly WeightedTargetGroup[]): string[] {
  return [...new Set(targets.filter((t) => t.weight > 0).map((target) => target.targetGroupArn))];
}

/**
 * The actions to write back: the forward action replaced by a weighted forward to `targets`
 * (keeping its Order and the forward's group stickiness), every other action as it was.
 */
export function withForwardTo(
  observed: ObservedForward,
  targets: readonly WeightedTargetGroup[],
): Action[] {
  const { action } = observed;
  const stickiness = action.ForwardConfig?.TargetGroupStickinessConfig;
  // TargetGroupArn is left out: AWS refuses it next to a ForwardConfig of more than one group.
  const forward: Action = {
    Type: 'forward',
    ...(action.Order === undefined ? {} : { Order: action.Order }),
    ForwardConfig: {
      TargetGroups: targets.map((target) => ({
        TargetGroupArn: target.targetGroupArn,
        Weight: target.weight,
      })),
      ...(stickiness === undefined ? {} : { TargetGroupStickinessConfig: stickiness }),
    },
  };
  return observed.actions.map((other, i) => (i === observed.index ? forward : reusable(other)));
}

/**
 * An action as read, made fit to send back. Describe never returns an OIDC client secret, and
 * ModifyListener without one is refused unless told to keep the secret it has.
 */
function reusable(action: Action): Action {
  const oidc = action.AuthenticateOidcConfig;
  if (oidc === undefined || oidc.ClientSecret !== undefined) return action;
  return { ...action, AuthenticateOidcConfig: { ...oidc, UseExistingClientSecret: true } };
}

/** The name part of a target group ARN (`targetgroup/<name>/<id>`), for messages. */
export function targetGroupName(targetGroupArn: string): string {
  return /:targetgroup\/([^/]+)\//.exec(targetGroupArn)?.[1] ?? targetGroupArn;
}
