import { ReleasePhase, TerminalPhases } from './phases.ts';
import {
  type Colours,
  type IdleColourRecord,
  IdleColourState,
  type ReleaseRecord,
} from './records.ts';

/** EventBridge Scheduler names: 1-64 of `[0-9A-Za-z_.-]`. */
const maxScheduleNameLength = 64;
const schedulePrefix = 'teardown-';
// Release ids end in `-` and a 10-character hash of their exact inputs (release-id.ts).
const releaseIdHashTail = 11;

/**
 * The one-time schedule that tears down a release's idle colour. Deterministic, so that a
 * retried finalize finds the schedule it made rather than making a second one.
 */
export function teardownScheduleName(releaseId: string): string {
  const name = `${schedulePrefix}${releaseId}`;
  if (name.length <= maxScheduleNameLength) return name;
  // Too long: cut the readable part and keep the hash, which tells release ids apart.
  const tail = releaseId.slice(-releaseIdHashTail);
  const head = releaseId.slice(0, maxScheduleNameLength - schedulePrefix.length - tail.length);
  return `${schedulePrefix}${head}${tail}`;
}

/** The end of the warm window, on a whole second (schedules fire at second precision). */
export function teardownTime(idleSince: Date, warmWindowSeconds: number): Date {
  const end = idleSince.getTime() + warmWindowSeconds * 1_000;
  return new Date(Math.ceil(end / 1_000) * 1_000);
}

/** `at(2026-11-21T10:15:00)`: a one-time schedule expression, in UTC. */
export function atExpression(at: Date): string {
  return `at(${at.toISOString().slice(0, 19)})`;
}

/** The time of an `at(yyyy-mm-ddThh:mm:ss)` expression read as UTC; undefined for anything else. */
export function parseAtExpression(expression: string): Date | undefined {
  const match = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(expression);
  if (!match) return undefined;
  const at = new Date(`${match[1]}Z`);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/** What an operator rollback needs to know about a finalized release's idle colour. */
export interface WarmWindow {
  /**
   * True while the idle colour still runs and its window is not over: putting all traffic
   * back on `colours.blue` undoes the release in one switch.
   */
  open: boolean;
  /** The release's colours: the switch back sends traffic to `blue`, away from `green`. */
  colours: Colours;
  state: IdleColourRecord['state'];
  teardownAt: string;
  reason: string;
}

/** The warm window of a finalized release at `now`, or undefined when it has none. */
export function warmWindowOf(release: ReleaseRecord, now: Date): WarmWindow | undefined {
  const idle = release.idle;
  if (release.phase !== ReleasePhase.Finalized || idle === undefined) return undefined;
  const colours = { blue: idle.colour, green: idle.live };
  const base = { colours, state: idle.state, teardownAt: idle.teardownAt };
  if (idle.state === IdleColourState.TornDown) {
    return { ...base, open: false, reason: `Blue ${idle.colour} was torn down: ${idle.reason}` };
  }
  if (idle.state === IdleColourState.LiveAgain) {
    return { ...base, open: false, reason: `Blue ${idle.colour} is live again: ${idle.reason}` };
  }
  const left = Date.parse(idle.teardownAt) - now.getTime();
  if (left <= 0) {
    return {
      ...base,
      open: false,
      reason: `The warm window closed at ${idle.teardownAt}; blue ${idle.colour} is being torn down`,
    };
  }
  return {
    ...base,
    open: true,
    reason: `Blue ${idle.colour} is warm until ${idle.teardownAt} (${Math.ceil(left / 1_000)}s left): a rollback is one switch back`,
  };
}

/** The newest finalized release of a list ordered newest first (as the ledger lists them). */
export function lastFinalized(releases: readonly ReleaseRecord[]): ReleaseRecord | undefined {
  return releases.find((release) => release.phase === ReleasePhase.Finalized);
}

export type TeardownDecision =
  | { action: 'tear-down'; reason: string }
  /** Leave it running for good: it took traffic again. */
  | { action: 'leave-live'; reason: string }
  /** Not now: a release in flight may use it. The sweeper tries again later. */
  | { action: 'defer'; reason: string }
  /** Already settled by an earlier run. */
  | { action: 'settled'; reason: string };

// Scheduler fires on the second and the clocks of two machines differ: a teardown that comes
// this much early is on time. Anything earlier (a hand-made invocation) waits for the window.
const earlyToleranceMs = 60_000;

/**
 * Whether to tear an idle colour down now. Before its warm window ends, or while a release in
 * flight uses the colour or has not yet chosen its colours (an ALB release puts green on the
 * idle slot), the teardown is deferred; a colour that takes traffic otherwise is live again (a
 * rollback or a later release made it so) and is left alone for good.
 */
export function decideTeardown(input: {
  idle: IdleColourRecord;
  now: Date;
  takesTraffic: boolean;
  /** The service's other releases, any phase; only those not yet ended count. */
  releases: readonly Pick<ReleaseRecord, 'releaseId' | 'phase' | 'colours'>[];
}): TeardownDecision {
  const { idle } = input;
  if (idle.state !== IdleColourState.Warm) {
    return { action: 'settled', reason: `Already ${idle.state}: ${idle.reason}` };
  }
  if (input.now.getTime() < Date.parse(idle.teardownAt) - earlyToleranceMs) {
    return { action: 'defer', reason: `Still in its warm window until ${idle.teardownAt}` };
  }
  for (const release of input.releases) {
    if (TerminalPhases.has(release.phase)) continue;
    if (release.colours === undefined) {
      return {
        action: 'defer',
        reason: `Release ${release.releaseId} is in flight (${release.phase}) and has not chosen its colours yet; trying again later`,
      };
    }
    if (release.colours.blue === idle.colour || release.colours.green === idle.colour) {
      return {
        action: 'defer',
        reason: `Release ${release.releaseId} in flight (${release.phase}) uses ${idle.colour}; trying again later`,
      };
    }
  }
  if (input.takesTraffic) {
    return {
      action: 'leave-live',
      reason: `${idle.colour} takes production traffic again (a rollback or a later release made it live); left running`,
    };
  }
  return {
    action: 'tear-down',
    reason: `Warm window over (${idle.teardownAt}) and ${idle.colour} takes no traffic`,
  };
}

/** Colours that releases in flight use: a teardown never removes them. */
export function coloursInFlight(
  releases: readonly Pick<ReleaseRecord, 'phase' | 'colours'>[],
): Set<string> {
  return new Set(
    releases
      .filter((release) => !TerminalPhases.has(release.phase))
      .flatMap((release) => (release.colours ? [release.colours.blue, release.colours.green] : [])),
  );
}

/**
 * When the idle colour last took production traffic: the finalize that left it idle, or later,
 * the end of a release that has since moved traffic onto it (a green on the idle ALB slot that
 * was rolled back after its canary). An ALB slot drains from this time, not from the finalize:
 * clients of the rolled-back green may still hold sticky sessions to it.
 */
export function lastTrafficAt(
  idle: Pick<IdleColourRecord, 'colour' | 'idleSince'>,
  releases: readonly Pick<ReleaseRecord, 'phase' | 'colours' | 'stepIndex' | 'updatedAt'>[],
): Date {
  let last = Date.parse(idle.idleSince);
  for (const release of releases) {
    if (!TerminalPhases.has(release.phase) || release.stepIndex < 0) continue;
    if (release.colours?.blue !== idle.colour && release.colours?.green !== idle.colour) continue;
    last = Math.max(last, Date.parse(release.updatedAt));
  }
  return new Date(last);
}

/**
 * Which published Lambda versions a teardown deletes: all but the `keep` newest, never a
 * protected one (live, routed by any alias, used by a release in flight). `$LATEST` is not a
 * published version and is never listed here.
 */
export function planVersionRetention(input: {
  versions: readonly string[];
  keep: number;
  protectedVersions: ReadonlySet<string>;
}): { remove: string[]; kept: string[] } {
  const published = input.versions
    .filter((version) => /^\d+$/.test(version))
    .sort((a, b) => Number(b) - Number(a));
  const newest = new Set(published.slice(0, Math.max(input.keep, 0)));
  const remove = published
    .filter((version) => !newest.has(version) && !input.protectedVersions.has(version))
    .sort((a, b) => Number(a) - Number(b));
  const removed = new Set(remove);
  return { remove, kept: published.filter((version) => !removed.has(version)).reverse() };
}
