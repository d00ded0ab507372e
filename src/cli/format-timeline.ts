import { describeIdentity } from '../core/caller-identity.ts';
import type { WarmWindow } from '../core/idle-colour.ts';
import { formatHourlyCost } from '../core/idle-cost.ts';
import { inertValue } from '../core/inert-text.ts';
import { ReleasePhase as Phase, type ReleasePhase, TerminalPhases } from '../core/phases.ts';
import {
  type IdleColourRecord,
  IdleColourState,
  type ReleaseRecord,
  type StepRecord,
} from '../core/records.ts';
import type { Env } from './options.ts';

/*
 * Everything in a record came from outside at some point: an event's `actor` and `version`, a
 * reason quoting them, an alarm's reason, an operator's --reason. Every exported function here
 * takes records and makes their text inert (inertValue: control characters, ESC sequences,
 * bidi controls shown as `\u001b`-style escapes) before a line is built, so that the only
 * escape sequences a line can hold are the colours `paint` adds.
 */

/** How text is rendered: colour only on a terminal, never when NO_COLOR is set. */
export interface RenderStyle {
  color: boolean;
}

const BarWidth = 20;

const Ansi = {
  bold: '1',
  dim: '2',
  red: '31',
  green: '32',
  yellow: '33',
  cyan: '36',
} as const;
type AnsiStyle = keyof typeof Ansi;

/** https://no-color.org: any non-empty NO_COLOR turns colour off, whatever the terminal. */
export function shouldUseColor(env: Env, isTty: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTty;
}

/** `[##########----------] 50% green` */
export function formatBar(percent: number, width: number = BarWidth): string {
  const clamped = Math.min(Math.max(percent, 0), 100);
  const filled = Math.round((clamped / 100) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${formatPercent(clamped)} green`;
}

function formatPercent(percent: number): string {
  return `${Number(percent.toFixed(1))}%`;
}

/** Compact, human-sized: `850ms`, `42s`, `2m05s`, `1h02m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const totalSeconds = Math.round(ms / 1000);
  if (totalSeconds < 60) return `${totalSeconds}s`;
  const minutes = Math.floor(totalSeconds / 60);
  if (minutes < 60) return `${minutes}m${pad2(totalSeconds % 60)}s`;
  return `${Math.floor(minutes / 60)}h${pad2(minutes % 60)}m`;
}

/** The step's line, then one indented line per piece of evidence. */
export function formatStep(
  record: StepRecord,
  previousAt: string | undefined,
  style: RenderStyle,
): string[] {
  const step = inertValue(record);
  const elapsed =
    previousAt === undefined
      ? ''
      : `+${formatDuration(Date.parse(step.at) - Date.parse(previousAt))}`;
  const parts = [
    formatClock(step.at),
    elapsed.padEnd(7),
    step.step.padEnd(14),
    paint(style, outcomeStyle[step.outcome], step.outcome.padEnd(9)),
  ];
  if (step.greenPercent !== undefined) parts.push(formatBar(step.greenPercent));
  parts.push(step.reason);
  return [
    `  ${parts.join(' ')}`.trimEnd(),
    ...(step.identity ? [`      by ${describeIdentity(step.identity)}`] : []),
    ...formatEvidence(step, style),
  ];
}

/** Steps in time order, each with the time since the one before (the first: since `startedAt`). */
export function formatTimeline(
  steps: readonly StepRecord[],
  startedAt: string | undefined,
  style: RenderStyle,
): string[] {
  const lines: string[] = [];
  let previousAt = startedAt;
  for (const step of sortSteps(steps)) {
    lines.push(...formatStep(step, previousAt, style));
    previousAt = step.at;
  }
  return lines;
}

/** Ledger order is by key; a timeline reads by time. The sort is stable for equal times. */
export function sortSteps(steps: readonly StepRecord[]): StepRecord[] {
  return [...steps].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/** Everything an operator asks first about one release, then its timeline. */
export function formatRelease(
  record: ReleaseRecord,
  steps: readonly StepRecord[],
  style: RenderStyle,
): string[] {
  const release = inertValue(record);
  const lines = [
    paint(
      style,
      'bold',
      `${release.service} ${release.version} (attempt ${release.attempt})  ${release.releaseId}`,
    ),
    `  phase      ${formatPhase(release.phase, style)}  ${release.reason}`,
    `  traffic    ${formatBar(release.greenPercent)}`,
  ];
  if (release.colours !== undefined) {
    lines.push(`  colours    blue ${release.colours.blue} -> green ${release.colours.green}`);
  }
  if (release.idle !== undefined) lines.push(`  idle       ${formatIdleColour(release.idle)}`);
  const migration = formatMigration(release);
  if (migration !== undefined) lines.push(`  migration  ${migration}`);
  const forwardOnly = formatForwardOnly(release);
  if (forwardOnly !== undefined) lines.push(`  forward    ${paint(style, 'red', forwardOnly)}`);
  lines.push(`  strategy   ${release.strategy}${formatPlan(release)}`);
  lines.push(`  requested  ${release.requestedAt}${formatOrigin(release)}`);
  const took = Date.parse(release.updatedAt) - Date.parse(release.requestedAt);
  lines.push(
    TerminalPhases.has(release.phase)
      ? `  took       ${formatDuration(took)} (ended ${release.updatedAt})`
      : `  updated    ${release.updatedAt} (${formatDuration(took)} in)`,
  );
  if (release.ci !== undefined)
    lines.push(`  ci         ${release.ci.provider} ${release.ci.runUrl}`);
  lines.push('', 'Timeline');
  if (steps.length === 0) lines.push('  (no steps recorded yet)');
  lines.push(...formatTimeline(steps, release.requestedAt, style));
  return lines;
}

/**
 * The release's migration in one line: its kind and id, and where it stands. A contract not
 * applied yet waits for the teardown of this release's idle colour, and says when that is.
 */
export function formatMigration(record: ReleaseRecord): string | undefined {
  const release = inertValue(record);
  const migration = release.migration;
  if (migration === undefined) return undefined;
  const what = `${migration.kind} ${migration.id}${migration.completes ? ` (completes ${migration.completes})` : ''}`;
  const state = release.migrationState;
  if (state !== undefined) return `${what}: ${state.status} at ${state.at} - ${state.reason}`;
  const ended = TerminalPhases.has(release.phase) && release.phase !== Phase.Finalized;
  if (migration.kind !== 'contract') return `${what}: ${ended ? 'never ran' : 'not run yet'}`;
  if (ended) return `${what}: never applied, the release ended ${release.phase}`;
  if (release.phase !== Phase.Finalized) {
    return `${what}: pending, applied at the teardown of this release's idle colour once it finalizes`;
  }
  const idle = release.idle;
  if (idle?.state === IdleColourState.LiveAgain) {
    return `${what}: not applied, blue ${idle.colour} took traffic again (${idle.reason})`;
  }
  return idle?.state === IdleColourState.Warm
    ? `${what}: pending, applied when blue ${idle.colour} is torn down at ${idle.teardownAt}`
    : `${what}: pending, applied at the next teardown attempt (the daily sweeper, if none is scheduled)`;
}

/**
 * A forward-only release in one line: which migration made it so and since when, and, while
 * it is held, what an operator can do; after a knowing rollback, who did it and why.
 */
export function formatForwardOnly(record: ReleaseRecord): string | undefined {
  const release = inertValue(record);
  const forwardOnly = release.forwardOnly;
  if (forwardOnly === undefined) return undefined;
  const since = `forward-only since irreversible ${forwardOnly.migrationId} ran at ${forwardOnly.since}`;
  const knowing = forwardOnly.rolledBackKnowingly;
  if (knowing !== undefined) {
    return `${since}; rolled back knowingly by ${knowing.by} at ${knowing.at}: ${knowing.reason}`;
  }
  if (release.phase === Phase.Held) {
    return `${since}; HELD with traffic where it was: "greenlight promote ${release.releaseId}" finalizes, "greenlight abort ${release.releaseId} --knowingly --reason ..." rolls back to code the data may not fit`;
  }
  return `${since}: a failure holds traffic instead of rolling back`;
}

/**
 * The idle colour in one line: while warm, when it goes and what it costs meanwhile; after,
 * what became of it.
 */
export function formatIdleColour(record: IdleColourRecord): string {
  const idle = inertValue(record);
  switch (idle.state) {
    case IdleColourState.Warm: {
      const cost =
        idle.cost === undefined
          ? ''
          : `; while it runs ${formatHourlyCost(idle.cost)} (${idle.cost.basis})`;
      return `blue ${idle.colour} warm until ${idle.teardownAt}: ${idle.reason}${cost}`;
    }
    case IdleColourState.TornDown:
      return `blue ${idle.colour} torn down at ${idle.settledAt ?? '?'}: ${idle.reason}`;
    case IdleColourState.LiveAgain:
      return `blue ${idle.colour} left running at ${idle.settledAt ?? '?'}: ${idle.reason}`;
  }
}

/** A service's warm window, for its last finalized release: can one switch roll it back? */
export function formatWarmWindow(version: string, window: WarmWindow, style: RenderStyle): string {
  const verdict = window.open
    ? paint(style, 'green', 'rollback is one switch')
    : paint(style, 'dim', 'warm window closed');
  return `  warm window of ${inertValue(version)}: ${verdict} - ${inertValue(window.reason)}`;
}

/** One line of a service's release list. */
export function formatReleaseRow(record: ReleaseRecord, style: RenderStyle): string {
  const release = inertValue(record);
  return [
    `  ${release.requestedAt.replace('T', ' ').slice(0, 16)}`,
    release.version.padEnd(12),
    `a${release.attempt}`.padEnd(4),
    formatPhase(release.phase, style, 16),
    `${formatPercent(release.greenPercent).padStart(4)} green`,
    release.reason,
  ].join(' ');
}

/** The closing line of a `--wait`: how it ended and why. */
export function formatOutcome(record: ReleaseRecord, style: RenderStyle): string {
  const release = inertValue(record);
  const took = formatDuration(Date.parse(release.updatedAt) - Date.parse(release.requestedAt));
  return `${formatPhase(release.phase, style)}: ${release.reason} (${formatBar(release.greenPercent)}, took ${took})`;
}

export function formatPhase(phase: ReleasePhase, style: RenderStyle, width = 0): string {
  return paint(style, phaseStyle[phase], phase.padEnd(width));
}

const outcomeStyle: Record<StepRecord['outcome'], AnsiStyle> = {
  started: 'cyan',
  succeeded: 'green',
  failed: 'red',
  skipped: 'dim',
  held: 'yellow',
};

const phaseStyle: Record<ReleasePhase, AnsiStyle> = {
  [Phase.Requested]: 'cyan',
  [Phase.Provisioning]: 'cyan',
  [Phase.Testing]: 'cyan',
  [Phase.AwaitingApproval]: 'yellow',
  [Phase.Shifting]: 'cyan',
  [Phase.Finalized]: 'green',
  [Phase.RollingBack]: 'red',
  [Phase.RolledBack]: 'red',
  [Phase.Rejected]: 'red',
  [Phase.Superseded]: 'yellow',
  [Phase.Aborted]: 'yellow',
  [Phase.Held]: 'red',
};

function formatEvidence(step: StepRecord, style: RenderStyle): string[] {
  const evidence = step.evidence;
  if (evidence === undefined) return [];
  const indent = '      ';
  const lines: string[] = [];
  for (const alarm of evidence.alarms ?? []) {
    const state = paint(style, alarm.state === 'ALARM' ? 'red' : 'dim', alarm.state);
    const watches =
      alarm.namespace === undefined || alarm.metric === undefined
        ? ''
        : ` (${formatMetric(alarm.namespace, alarm.metric, alarm.dimensions ?? {})})`;
    lines.push(
      `${indent}alarm ${alarm.name}${watches}: ${state}${alarm.reason ? ` - ${alarm.reason}` : ''}`,
    );
  }
  for (const gate of evidence.metrics ?? []) {
    const colour = gate.verdict === 'pass' ? 'green' : gate.verdict === 'fail' ? 'red' : 'yellow';
    lines.push(
      `${indent}metric ${gate.gate} (${gate.metric}): ${paint(style, colour, gate.verdict)} - ${gate.reason}`,
    );
    const held = gate.holds === 0 ? 'not held' : `held ${gate.holds}x, ${gate.heldSeconds}s`;
    lines.push(
      `${indent}  window ${formatClock(gate.window.start)}-${formatClock(gate.window.end)}, ${held}`,
    );
    for (const query of gate.queries) {
      const value = query.value === undefined ? 'no data' : String(query.value);
      const points = `${query.datapoints} datapoint${query.datapoints === 1 ? '' : 's'}`;
      lines.push(
        `${indent}  ${query.colour.padEnd(5)} ${formatMetric(query.namespace, query.metric, query.dimensions)} ${query.stat} = ${value} (${points})`,
      );
    }
  }
  for (const test of evidence.tests ?? []) {
    const verdict = paint(style, test.passed ? 'green' : 'red', test.passed ? 'passed' : 'failed');
    const facts = [
      test.statusCode === undefined ? undefined : `status ${test.statusCode}`,
      test.functionError,
      formatDuration(test.durationMs),
    ].filter((fact) => fact !== undefined);
    lines.push(
      `${indent}test ${test.name}: ${verdict} (${facts.join(', ')})${test.detail ? ` - ${test.detail}` : ''}`,
    );
  }
  lines.push(...formatIssues(evidence, indent));
  for (const warning of evidence.warnings ?? []) {
    lines.push(`${indent}${paint(style, 'yellow', 'warning')} ${warning}`);
  }
  if (evidence.error !== undefined) {
    lines.push(`${indent}${paint(style, 'red', evidence.error.name)}: ${evidence.error.message}`);
  }
  lines.push(...formatMigrationEvidence(evidence.migration, indent, style));
  return lines;
}

/** A runner's answer: its statements; the plan's classification; the runner's failure. */
function formatMigrationEvidence(
  migration: NonNullable<StepRecord['evidence']>['migration'],
  indent: string,
  style: RenderStyle,
): string[] {
  if (migration === undefined) return [];
  const lines: string[] = [];
  for (const statement of migration.reply?.statements ?? [])
    lines.push(`${indent}sql ${statement}`);
  const omitted = migration.reply?.statementsOmitted ?? 0;
  if (omitted > 0) lines.push(`${indent}(${omitted} more statements not kept)`);
  const classification = migration.classification;
  if (classification !== undefined) {
    const verdict = classification.verdict === 'accepted' ? 'green' : 'red';
    lines.push(
      `${indent}classified ${classification.statements} statements: ${paint(style, verdict, classification.verdict)}`,
    );
    for (const refused of classification.refused) {
      lines.push(`${indent}  #${refused.index + 1} ${refused.effects.join(', ')}: ${refused.text}`);
    }
  }
  if (migration.error !== undefined) {
    const type = migration.error.errorType ? ` (${migration.error.errorType})` : '';
    lines.push(
      `${indent}${paint(style, 'red', migration.error.name)}${type}: ${migration.error.message}`,
    );
  }
  return lines;
}

/**
 * Why an event was rejected, from the rejection the ledger keeps under its event id: the
 * reason, then one line per field issue (the ledger keeps the first few and counts the rest).
 */
export function formatRejection(record: StepRecord): string[] {
  const rejection = inertValue(record);
  return [`Rejected: ${rejection.reason}`, ...formatIssues(rejection.evidence ?? {}, '  ')];
}

function formatIssues(
  evidence: Pick<NonNullable<StepRecord['evidence']>, 'issues' | 'issuesOmitted'>,
  indent: string,
): string[] {
  const lines = (evidence.issues ?? []).map(
    (issue) => `${indent}${issue.path || '(event)'}: ${issue.message}`,
  );
  const omitted = evidence.issuesOmitted ?? 0;
  if (omitted > 0) {
    lines.push(`${indent}…and ${omitted} more issue${omitted === 1 ? '' : 's'} not recorded`);
  }
  return lines;
}

/** `AWS/Lambda Errors{FunctionName=checkout, ExecutedVersion=2}` */
function formatMetric(
  namespace: string,
  metric: string,
  dimensions: Record<string, string>,
): string {
  const dims = Object.entries(dimensions).map(([name, value]) => `${name}=${value}`);
  return `${namespace} ${metric}${dims.length === 0 ? '' : `{${dims.join(', ')}}`}`;
}

function formatPlan(release: ReleaseRecord): string {
  if (release.plan.length === 0) return '';
  const steps = release.plan.map((step) => `${formatPercent(step.percent)}`).join(' -> ');
  return ` (${steps})`;
}

function formatOrigin(release: ReleaseRecord): string {
  const parts = [
    release.actor === undefined ? undefined : `by ${release.actor}`,
    release.commit === undefined ? undefined : `commit ${release.commit.slice(0, 12)}`,
  ].filter((part) => part !== undefined);
  return parts.length === 0 ? '' : ` ${parts.join(', ')}`;
}

/** `HH:MM:SS` in UTC: the ledger stores UTC, and CI logs from several machines must agree. */
function formatClock(at: string): string {
  const time = Date.parse(at);
  return Number.isNaN(time) ? at : new Date(time).toISOString().slice(11, 19);
}

function paint(style: RenderStyle, ansi: AnsiStyle, text: string): string {
  return style.color ? `\u001b[${Ansi[ansi]}m${text}\u001b[0m` : text;
}

function pad2(value: number): string {
  return String(value).padStart(2, '0');
}
