import type { AlarmEvidence } from './records.ts';

export interface GateDecision {
  passed: boolean;
  /** Alarms named in the configuration that do not exist. AWS would treat them as OK: we do not. */
  missing: string[];
  /** Alarms in ALARM. */
  firing: AlarmEvidence[];
  reason: string;
}

/**
 * Decides an alarm gate from the alarms a service watches and what CloudWatch reported.
 * INSUFFICIENT_DATA passes: a canary with little traffic has no datapoints yet, and treating
 * that as failure would roll back every quiet service.
 */
export function decideGate(
  watched: readonly string[],
  evidence: readonly AlarmEvidence[],
): GateDecision {
  const byName = new Map(evidence.map((alarm) => [alarm.name, alarm]));
  const missing = watched.filter((name) => !byName.has(name));
  const firing = watched.flatMap((name) => {
    const alarm = byName.get(name);
    return alarm?.state === 'ALARM' ? [alarm] : [];
  });
  if (missing.length > 0) {
    return {
      passed: false,
      missing,
      firing,
      reason: `Gate alarm${missing.length > 1 ? 's' : ''} not found: ${missing.join(', ')}. Create ${missing.length > 1 ? 'them' : 'it'} in CloudWatch or remove ${missing.length > 1 ? 'them' : 'it'} from the service's "alarms"`,
    };
  }
  if (firing.length > 0) {
    return {
      passed: false,
      missing,
      firing,
      reason: firing.map((alarm) => `Alarm ${alarm.name} in ALARM: ${alarm.reason}`).join('; '),
    };
  }
  return {
    passed: true,
    missing,
    firing,
    reason:
      watched.length === 0
        ? 'No alarms to watch'
        : `${watched.length} alarm${watched.length > 1 ? 's' : ''} not in ALARM`,
  };
}
