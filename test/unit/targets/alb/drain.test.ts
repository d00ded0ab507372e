import { describe, expect, it } from 'vitest';
import {
  canScaleDownIdle,
  idleColourReleaseTime,
  minimumIdleSecondsOf,
  stickinessOf,
} from '../../../../src/targets/alb/drain.ts';

const attributes = (values: Record<string, string>) =>
  Object.entries(values).map(([Key, Value]) => ({ Key, Value }));

describe('minimumIdleSecondsOf', () => {
  it('is the deregistration delay when nothing is sticky', () => {
    expect(minimumIdleSecondsOf(attributes({ 'deregistration_delay.timeout_seconds': '30' }))).toBe(
      30,
    );
  });

  it("falls back to ALB's 300s default when the delay is not reported", () => {
    expect(minimumIdleSecondsOf([])).toBe(300);
  });

  it('is the stickiness duration when that is longer and stickiness is on', () => {
    const sticky = {
      'deregistration_delay.timeout_seconds': '300',
      'stickiness.type': 'app_cookie',
      'stickiness.app_cookie.duration_seconds': '900',
    };
    expect(minimumIdleSecondsOf(attributes({ ...sticky, 'stickiness.enabled': 'true' }))).toBe(900);
    expect(minimumIdleSecondsOf(attributes({ ...sticky, 'stickiness.enabled': 'false' }))).toBe(
      300,
    );
  });

  it("counts the forward's group stickiness only when it is enabled", () => {
    const delay = attributes({ 'deregistration_delay.timeout_seconds': '300' });
    expect(minimumIdleSecondsOf(delay, { Enabled: true, DurationSeconds: 3600 })).toBe(3600);
    expect(minimumIdleSecondsOf(delay, { Enabled: false, DurationSeconds: 3600 })).toBe(300);
  });
});

describe('stickinessOf', () => {
  it("uses ALB's one-day default when a sticky group reports no duration", () => {
    expect(stickinessOf(attributes({ 'stickiness.enabled': 'true' }))).toEqual({
      type: 'lb_cookie',
      durationSeconds: 86_400,
    });
  });
});

describe('canScaleDownIdle', () => {
  const lastTrafficAt = new Date('2025-03-01T10:00:00.000Z');

  it('refuses before the minimum idle time has passed since the last traffic', () => {
    expect(canScaleDownIdle(lastTrafficAt, 300, new Date('2025-03-01T10:04:59.500Z'))).toEqual({
      allowed: false,
      notBefore: new Date('2025-03-01T10:05:00.000Z'),
      reason:
        'Idle colour may still serve draining or sticky requests until 2025-03-01T10:05:00.000Z (300s after its last traffic at 2025-03-01T10:00:00.000Z); 1s to go',
    });
  });

  it('allows it from that moment on', () => {
    expect(canScaleDownIdle(lastTrafficAt, 300, new Date('2025-03-01T10:05:00.000Z'))).toEqual({
      allowed: true,
      notBefore: new Date('2025-03-01T10:05:00.000Z'),
      reason: 'Idle colour has had no traffic for at least 300s (since 2025-03-01T10:00:00.000Z)',
    });
  });

  it('computes the release time from the last traffic', () => {
    expect(idleColourReleaseTime(lastTrafficAt, 3600)).toEqual(
      new Date('2025-03-01T11:00:00.000Z'),
    );
  });
});
