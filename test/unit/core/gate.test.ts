import { describe, expect, it } from 'vitest';
import { decideGate } from '../../../src/core/gate.ts';
import type { AlarmEvidence } from '../../../src/core/records.ts';

function anAlarm(overrides: Partial<AlarmEvidence> = {}): AlarmEvidence {
  return {
    name: 'checkout-errors',
    state: 'OK',
    reason: 'Threshold Crossed: no datapoints were received',
    updatedAt: '2026-11-21T10:00:00.000Z',
    ...overrides,
  };
}

describe('decideGate', () => {
  it('passes when every watched alarm exists and none is in ALARM', () => {
    const decision = decideGate(['checkout-errors'], [anAlarm()]);
    expect(decision).toEqual({
      passed: true,
      missing: [],
      firing: [],
      reason: '1 alarm not in ALARM',
    });
  });

  it('rolls back when any alarm is in ALARM, naming it and its reason', () => {
    const firing = anAlarm({
      name: 'checkout-latency',
      state: 'ALARM',
      reason: 'p99 above 800 ms',
    });
    const decision = decideGate(['checkout-errors', 'checkout-latency'], [anAlarm(), firing]);
    expect(decision.passed).toBe(false);
    expect(decision.firing).toEqual([firing]);
    expect(decision.reason).toBe('Alarm checkout-latency in ALARM: p99 above 800 ms');
  });

  it('fails on a watched alarm that does not exist, saying how to fix it', () => {
    const decision = decideGate(['checkout-errors', 'checkout-typo'], [anAlarm()]);
    expect(decision.passed).toBe(false);
    expect(decision.missing).toEqual(['checkout-typo']);
    expect(decision.reason).toContain(
      'Gate alarm not found: checkout-typo. Create it in CloudWatch',
    );
  });

  it('passes INSUFFICIENT_DATA, which a quiet canary reports', () => {
    expect(decideGate(['checkout-errors'], [anAlarm({ state: 'INSUFFICIENT_DATA' })]).passed).toBe(
      true,
    );
  });

  it('ignores alarms it does not watch', () => {
    const decision = decideGate([], [anAlarm({ state: 'ALARM' })]);
    expect(decision).toMatchObject({ passed: true, reason: 'No alarms to watch' });
  });
});
