import type {
  TargetGroupAttribute,
  TargetGroupStickinessConfig,
} from '@aws-sdk/client-elastic-load-balancing-v2';

/** A target group's session stickiness, as its attributes describe it. */
export interface TargetStickiness {
  type: string;
  durationSeconds: number;
  cookieName?: string;
}

/** Whether the idle colour may be scaled down now, and why. */
export interface IdleScaleDownDecision {
  allowed: boolean;
  /** The earliest time the idle colour may go. */
  notBefore: Date;
  reason: string;
}

// ALB's documented defaults, for attributes a response leaves out.
const defaultDeregistrationDelaySeconds = 300;
const defaultStickinessSeconds = 86_400;

export function attributeOf(
  attributes: readonly TargetGroupAttribute[],
  key: string,
): string | undefined {
  return attributes.find((attribute) => attribute.Key === key)?.Value;
}

/** Target-level stickiness when it is on (`lb_cookie` or `app_cookie`), else undefined. */
export function stickinessOf(
  attributes: readonly TargetGroupAttribute[],
): TargetStickiness | undefined {
  if (attributeOf(attributes, 'stickiness.enabled') !== 'true') return undefined;
  const type = attributeOf(attributes, 'stickiness.type') ?? 'lb_cookie';
  const duration = Number(attributeOf(attributes, `stickiness.${type}.duration_seconds`));
  const cookieName = attributeOf(attributes, `stickiness.${type}.cookie_name`);
  return {
    type,
    durationSeconds: Number.isFinite(duration) ? duration : defaultStickinessSeconds,
    ...(cookieName === undefined ? {} : { cookieName }),
  };
}

/**
 * How long a colour must have had no traffic before its tasks may stop: in-flight requests
 * drain for the deregistration delay, and a sticky client (to a target, or to the target group
 * through the forward's group stickiness) may come back until its stickiness expires.
 */
export function minimumIdleSecondsOf(
  attributes: readonly TargetGroupAttribute[],
  groupStickiness?: TargetGroupStickinessConfig,
): number {
  const delay = Number(attributeOf(attributes, 'deregistration_delay.timeout_seconds'));
  return Math.max(
    Number.isFinite(delay) ? delay : defaultDeregistrationDelaySeconds,
    stickinessOf(attributes)?.durationSeconds ?? 0,
    groupStickiness?.Enabled === true ? (groupStickiness.DurationSeconds ?? 0) : 0,
  );
}

/** When a colour that last had traffic at `lastTrafficAt` may be scaled down. */
export function idleColourReleaseTime(lastTrafficAt: Date, minimumIdleSeconds: number): Date {
  return new Date(lastTrafficAt.getTime() + minimumIdleSeconds * 1_000);
}

/** The idle colour is never scaled down before `minimumIdleSeconds` since it last had traffic. */
export function canScaleDownIdle(
  lastTrafficAt: Date,
  minimumIdleSeconds: number,
  now: Date,
): IdleScaleDownDecision {
  const notBefore = idleColourReleaseTime(lastTrafficAt, minimumIdleSeconds);
  const waitSeconds = Math.ceil((notBefore.getTime() - now.getTime()) / 1_000);
  if (waitSeconds > 0) {
    return {
      allowed: false,
      notBefore,
      reason: `Idle colour may still serve draining or sticky requests until ${notBefore.toISOString()} (${minimumIdleSeconds}s after its last traffic at ${lastTrafficAt.toISOString()}); ${waitSeconds}s to go`,
    };
  }
  return {
    allowed: true,
    notBefore,
    reason: `Idle colour has had no traffic for at least ${minimumIdleSeconds}s (since ${lastTrafficAt.toISOString()})`,
  };
}
