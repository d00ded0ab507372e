import type { AlarmEvidence, Colours } from './records.ts';
import { AlarmScope, type GateAlarm, type TargetConfig } from './service-config.ts';

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

/**
 * The two colours of a release as CloudWatch names them: what a gate alarm must watch to
 * watch green, and what a metric gate compares.
 */
export type ReleaseSubject =
  | {
      kind: 'lambda-alias';
      functionName: string;
      alias: string;
      /** Version numbers. */
      blue: string;
      green: string;
    }
  | {
      kind: 'alb-listener';
      /** `app/name/id`, the LoadBalancer dimension. */
      loadBalancer: string;
      /** `targetgroup/name/id`, the TargetGroup dimension of each colour's slot. */
      blue: string;
      green: string;
    };

/** Reads the colours' CloudWatch identities from the service's target and the release's colours. */
export function releaseSubjectOf(target: TargetConfig, colours: Colours): ReleaseSubject {
  if (target.kind === 'lambda-alias') {
    return {
      kind: 'lambda-alias',
      functionName: target.functionName,
      alias: target.alias,
      blue: colours.blue,
      green: colours.green,
    };
  }
  const slotOf = (colour: string) => {
    if (colour !== 'a' && colour !== 'b') {
      throw new Error(`An ALB colour is slot "a" or "b", not "${colour}"`);
    }
    return target.slots[colour];
  };
  return {
    kind: 'alb-listener',
    loadBalancer: loadBalancerDimension(target.listenerArn),
    blue: targetGroupDimension(slotOf(colours.blue).targetGroupArn),
    green: targetGroupDimension(slotOf(colours.green).targetGroupArn),
  };
}

/** `arn:...:targetgroup/web-a/0123456789abcdef` → `targetgroup/web-a/0123456789abcdef` */
export function targetGroupDimension(targetGroupArn: string): string {
  return targetGroupArn.slice(targetGroupArn.lastIndexOf(':') + 1);
}

/** `arn:...:listener/app/shop/0123456789abcdef/fedcba9876543210` → `app/shop/0123456789abcdef` */
export function loadBalancerDimension(listenerArn: string): string {
  const resource = listenerArn.slice(listenerArn.lastIndexOf(':') + 1);
  return resource.split('/').slice(1, 4).join('/');
}

export interface AlarmWatch {
  watchesGreen: boolean;
  /** What the alarm watches, in words: "watches checkout:live, blue and green together". */
  reason: string;
  /** How to make it watch green; empty when it does. */
  fix: string;
}

/**
 * Whether an alarm watches green alone. Lambda: the Errors (or any) metric of the service's
 * function by `ExecutedVersion` = green, or with `Resource` = `function:green`. ALB: a metric
 * of green's target group (`TargetGroup` dimension). An alarm on the alias or the whole load
 * balancer sees green diluted by blue; an alarm on blue's colour never sees green at all.
 */
export function assessAlarmWatch(alarm: AlarmEvidence, subject: ReleaseSubject): AlarmWatch {
  const dims = alarm.dimensions ?? {};
  const fixFor = (what: string) =>
    `make it watch ${what}, or mark it { "name": "${alarm.name}", "scope": "service" } if it is meant to watch the whole service`;
  if (alarm.namespace === undefined || alarm.metric === undefined) {
    return {
      watchesGreen: false,
      reason:
        'is a metric-math or composite alarm, so greenlight cannot tell which colour it watches',
      fix: fixFor('one metric of green'),
    };
  }
  const subjectText = `${alarm.namespace} ${alarm.metric}${formatDimensions(dims)}`;
  if (subject.kind === 'lambda-alias') {
    const fn = subject.functionName;
    const fix = fixFor(
      `green (dimensions FunctionName = ${fn}, Resource = ${fn}:${subject.alias}, ExecutedVersion = ${subject.green}; or Resource = ${fn}:${subject.green})`,
    );
    const no = (why: string): AlarmWatch => ({ watchesGreen: false, reason: why, fix });
    if (alarm.namespace !== 'AWS/Lambda') return no(`watches ${subjectText}, not Lambda`);
    if (dims.FunctionName !== fn) {
      return no(`watches ${subjectText}, not function ${fn}`);
    }
    const version = dims.ExecutedVersion;
    const resource = dims.Resource;
    if (version === subject.green || resource === `${fn}:${subject.green}`) {
      return { watchesGreen: true, reason: `watches green: ${subjectText}`, fix: '' };
    }
    if (version !== undefined) {
      return no(
        `watches version ${version}${version === subject.blue ? ' (blue)' : ''}, not green (${subject.green})`,
      );
    }
    if (resource === `${fn}:${subject.alias}`) {
      return no(`watches ${resource}, blue and green together`);
    }
    if (resource !== undefined) {
      return no(
        `watches ${resource}${resource === `${fn}:${subject.blue}` ? ' (blue)' : ''}, not green (${fn}:${subject.green})`,
      );
    }
    return no(`watches every version of ${fn} together`);
  }
  const fix = fixFor(`green's target group (dimension TargetGroup = ${subject.green})`);
  const no = (why: string): AlarmWatch => ({ watchesGreen: false, reason: why, fix });
  if (alarm.namespace !== 'AWS/ApplicationELB') {
    return no(`watches ${subjectText}, not the load balancer's target groups`);
  }
  const targetGroup = dims.TargetGroup;
  if (targetGroup === subject.green) {
    return { watchesGreen: true, reason: `watches green: ${subjectText}`, fix: '' };
  }
  if (targetGroup === subject.blue) return no(`watches blue's target group ${targetGroup}`);
  if (targetGroup !== undefined) return no(`watches target group ${targetGroup}, not green's`);
  return no('watches the whole load balancer, blue and green together');
}

export type PreflightProblemKind = 'missing' | 'no-data' | 'not-green' | 'firing';

export interface PreflightProblem {
  alarm: string;
  kind: PreflightProblemKind;
  /** What is wrong and how to fix it. */
  message: string;
}

export interface PreflightDecision {
  passed: boolean;
  /**
   * The error to stop with: a missing alarm first (AWS would call it OK), then an unusable
   * one, then one already firing. Absent when passed.
   */
  error?: 'GateAlarmMissing' | 'GateAlarmUnusable' | 'AlarmGateFailed';
  problems: PreflightProblem[];
  reason: string;
}

/**
 * Checks, before any traffic moves, that every gate alarm can guard this release: it exists
 * (AWS treats a missing alarm as OK), it has data (an INSUFFICIENT_DATA alarm cannot fire on
 * what it does not see), it watches green unless marked service-wide, and it is not firing.
 */
export function decidePreflight(
  alarms: readonly GateAlarm[],
  evidence: readonly AlarmEvidence[],
  subject: ReleaseSubject,
): PreflightDecision {
  const byName = new Map(evidence.map((alarm) => [alarm.name, alarm]));
  const problems: PreflightProblem[] = [];
  for (const { name, scope } of alarms) {
    const alarm = byName.get(name);
    if (alarm === undefined) {
      problems.push({
        alarm: name,
        kind: 'missing',
        message: `${name} does not exist: create it in CloudWatch or remove it from the service's "alarms"`,
      });
      continue;
    }
    if (alarm.state === 'INSUFFICIENT_DATA') {
      problems.push({
        alarm: name,
        kind: 'no-data',
        message: `${name} is in INSUFFICIENT_DATA${alarm.reason ? ` (${alarm.reason})` : ''}: an alarm without data cannot fire; send its metric data or set its TreatMissingData to "notBreaching"`,
      });
    }
    if (scope === AlarmScope.Green) {
      const watch = assessAlarmWatch(alarm, subject);
      if (!watch.watchesGreen) {
        problems.push({
          alarm: name,
          kind: 'not-green',
          message: `${name} ${watch.reason}: ${watch.fix}`,
        });
      }
    }
    if (alarm.state === 'ALARM') {
      problems.push({
        alarm: name,
        kind: 'firing',
        message: `Alarm ${name} in ALARM: ${alarm.reason}`,
      });
    }
  }
  const has = (...kinds: PreflightProblemKind[]) => problems.some((p) => kinds.includes(p.kind));
  const error = has('missing')
    ? 'GateAlarmMissing'
    : has('no-data', 'not-green')
      ? 'GateAlarmUnusable'
      : has('firing')
        ? 'AlarmGateFailed'
        : undefined;
  if (error === undefined) {
    const greens = alarms.filter((a) => a.scope === AlarmScope.Green).length;
    return {
      passed: true,
      problems,
      reason:
        alarms.length === 0
          ? 'No gate alarms'
          : `${alarms.length} gate alarm${alarms.length === 1 ? '' : 's'} ready (${greens} on green, ${alarms.length - greens} service-wide), none in ALARM`,
    };
  }
  return { passed: false, error, problems, reason: problems.map((p) => p.message).join('; ') };
}

function formatDimensions(dims: Record<string, string>): string {
  const entries = Object.entries(dims);
  if (entries.length === 0) return '';
  return ` {${entries.map(([name, value]) => `${name}=${value}`).join(', ')}}`;
}
