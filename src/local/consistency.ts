import { ReleasePhase, TerminalPhases } from '../core/phases.ts';
import {
  type ApprovalRecord,
  ApprovalStatus,
  type ReleaseRecord,
  type StepRecord,
} from '../core/records.ts';

/**
 * What must hold once every execution of a service has ended, whatever failed on the way:
 * the properties the fault matrix (src/local/fault-matrix.ts) checks after each run. The check
 * is a pure function of a snapshot, so that each invariant can be broken on purpose in a unit
 * test; readConsistencySnapshot (consistency-snapshot.ts) reads one from the local cloud.
 */
export const Invariant = {
  /** Traffic is where the ledger says: all of it on the colour the last settled release left live. */
  Traffic: 'traffic',
  /** A release built exactly one green (Lambda version, task definition revision), and it is the ledger's. */
  OneGreen: 'one-green',
  /** The service's lock is free and nobody is left waiting for it. */
  Lock: 'lock',
  /** No execution still running, no callback task still waiting. */
  Executions: 'executions',
  /** Each lifecycle event once per eventKey, and the terminal one published. */
  EventOnce: 'event-once',
  /** Every release in a terminal phase, with the steps that phase needs in its timeline. */
  Timeline: 'timeline',
  /**
   * Every approval a release asked for holds one decision once the release ended, and the
   * timeline records that decision, once: a second decision (a click racing the timeout, a
   * click delivered twice) neither replaces the first in the ledger nor in the timeline.
   */
  Approvals: 'approvals',
} as const;
export type Invariant = (typeof Invariant)[keyof typeof Invariant];

export interface Violation {
  invariant: Invariant;
  /** The service, release or execution it is about. */
  subject: string;
  message: string;
}

export interface ReleaseSnapshot {
  record: ReleaseRecord;
  steps: StepRecord[];
  /** The colours (Lambda versions, task definition revisions) built for this release. */
  greens: string[];
  /** The approvals the release asked for, as the ledger holds them (absent: none read). */
  approvals?: ApprovalSnapshot[];
}

export type ApprovalSnapshot = Pick<
  ApprovalRecord,
  'approvalId' | 'stage' | 'status' | 'decidedBy' | 'decidedAt' | 'decidedVia'
>;

export interface ServiceSnapshot {
  service: string;
  releases: ReleaseSnapshot[];
  /** Percent of production traffic per colour (Lambda version, ALB slot); 0% colours omitted. */
  traffic: Record<string, number>;
  /** Colours that exist and could take traffic (Lambda versions; ALB slots). */
  colours: string[];
  /** Who holds the service's lock, when someone does. */
  lockHolder?: string;
  /** Releases still waiting in the service's lock queue. */
  queued?: string[];
  /**
   * Whether a green built is itself a colour (a Lambda version), so that the ledger's green
   * must be it; an ALB slot runs the revision instead. @default true
   */
  greensAreColours?: boolean;
}

export interface ExecutionSnapshot {
  name: string;
  status: string;
  /** Callback tasks of this execution still waiting for a token. */
  pendingCallbacks: string[];
}

export interface LifecycleEventSnapshot {
  detailType: string;
  releaseId?: string;
  eventKey?: string;
}

export interface ConsistencySnapshot {
  services: ServiceSnapshot[];
  executions: ExecutionSnapshot[];
  events: LifecycleEventSnapshot[];
}

/** Steps after which a release's traffic is settled: its colour is the one left live. */
const settlingSteps = new Set(['finalize', 'rollback', 'revert']);

/** Every violation of the invariants in a snapshot; empty when the run ended consistent. */
export function checkConsistency(snapshot: ConsistencySnapshot): Violation[] {
  return [
    ...snapshot.services.flatMap(checkService),
    ...snapshot.executions.flatMap(checkExecution),
    ...checkEvents(snapshot),
  ];
}

function checkService(service: ServiceSnapshot): Violation[] {
  const violations: Violation[] = [];
  const add = (invariant: Invariant, subject: string, message: string) =>
    violations.push({ invariant, subject, message });

  const live = liveColourOf(service.releases);
  const shown = describeTraffic(service.traffic);
  if (live) {
    if (service.traffic[live.colour] !== 100) {
      add(
        Invariant.Traffic,
        service.service,
        `the ledger says ${live.releaseId} left ${live.colour} live (${live.phase}), traffic is ${shown}`,
      );
    }
    if (!service.colours.includes(live.colour)) {
      add(
        Invariant.Traffic,
        service.service,
        `the ledger's live colour ${live.colour} (${live.releaseId}) no longer exists`,
      );
    }
  } else if (Object.values(service.traffic).some((percent) => percent !== 100)) {
    add(Invariant.Traffic, service.service, `no release moved traffic, yet it is split: ${shown}`);
  }

  for (const { record, greens } of service.releases) {
    if (greens.length > 1) {
      add(
        Invariant.OneGreen,
        record.releaseId,
        `${greens.length} greens built for one release: ${greens.join(', ')}`,
      );
    }
    const green = record.colours?.green;
    const comparable = service.greensAreColours ?? true;
    if (comparable && green !== undefined && greens.length > 0 && !greens.includes(green)) {
      add(
        Invariant.OneGreen,
        record.releaseId,
        `the ledger's green ${green} is not the one built for the release (${greens.join(', ')})`,
      );
    }
  }

  if ((service.queued ?? []).length > 0) {
    add(
      Invariant.Lock,
      service.service,
      `still queued for the lock after every execution ended: ${service.queued?.join(', ')}`,
    );
  }
  if (service.lockHolder !== undefined) {
    add(
      Invariant.Lock,
      service.service,
      `still held by ${service.lockHolder} after every execution ended`,
    );
  }

  for (const release of service.releases) {
    for (const message of timelineGaps(release)) {
      add(Invariant.Timeline, release.record.releaseId, message);
    }
    for (const message of approvalFaults(release)) {
      add(Invariant.Approvals, release.record.releaseId, message);
    }
  }
  return violations;
}

/**
 * The colour the ledger says is live: that of the release whose traffic settled last
 * (finalized: its green; rolled back: its blue). Releases that never moved traffic do not count.
 */
function liveColourOf(
  releases: readonly ReleaseSnapshot[],
): { colour: string; releaseId: string; phase: string } | undefined {
  let latest: { at: string; colour: string; releaseId: string; phase: string } | undefined;
  for (const { record, steps } of releases) {
    if (!record.colours) continue;
    let colour: string;
    if (record.phase === ReleasePhase.Finalized) colour = record.colours.green;
    else if (record.phase === ReleasePhase.RolledBack) colour = record.colours.blue;
    else continue;
    const settled = steps
      .filter((step) => settlingSteps.has(step.step))
      .map((step) => step.at)
      .sort()
      .at(-1);
    const at = settled ?? record.updatedAt;
    if (!latest || at > latest.at) {
      latest = { at, colour, releaseId: record.releaseId, phase: record.phase };
    }
  }
  return latest;
}

/** What a release's timeline lacks for the phase it ended in. */
function timelineGaps({ record, steps }: ReleaseSnapshot): string[] {
  const gaps: string[] = [];
  const has = (step: string, outcome?: StepRecord['outcome']) =>
    steps.some((s) => s.step === step && (outcome === undefined || s.outcome === outcome));
  if (!TerminalPhases.has(record.phase)) {
    gaps.push(`left in ${record.phase} (${record.reason})`);
    return gaps;
  }
  if (!has('register')) gaps.push('no register step');
  if (record.colours && !has('provision', 'succeeded')) {
    gaps.push(`colours ${record.colours.blue}/${record.colours.green} but no provision step`);
  }
  // Promoted out of a forward-only hold: it failed (maybe its tests) and an operator sent it
  // on, all traffic to green at finalize; the hold and the finalize are what it must show.
  const promotedFromHold = record.forwardOnly !== undefined && has('hold', 'held');
  if (record.phase === ReleasePhase.Finalized && promotedFromHold) {
    if (!has('finalize', 'succeeded')) gaps.push('finalized without a finalize step');
  } else if (record.phase === ReleasePhase.Finalized) {
    if (!has('test', 'succeeded')) gaps.push('finalized without a passed test step');
    const shifts = steps.filter((s) => s.step === 'shift');
    if (shifts.at(-1)?.greenPercent !== 100) {
      gaps.push(
        `finalized, yet its last shift step is at ${shifts.at(-1)?.greenPercent ?? 'none'}%`,
      );
    }
    if (!has('finalize', 'succeeded')) gaps.push('finalized without a finalize step');
  }
  if (record.phase === ReleasePhase.RolledBack && !has('rollback') && !has('revert')) {
    gaps.push('rolled back without a rollback or revert step');
  }
  return gaps;
}

/** The ways a human decision reaches the ledger (src/steps/verify-callback.ts). */
const humanChannels: ReadonlySet<string> = new Set(['slack', 'cli']);

/**
 * What is wrong with the approvals of an ended release. The decision of a person is written
 * to the approval and to the timeline at one `at` (src/slack/decide-approval.ts), so an entry
 * at another time, or naming someone else, was written by a second decision.
 */
function approvalFaults({ record, steps, approvals }: ReleaseSnapshot): string[] {
  if (!TerminalPhases.has(record.phase)) return [];
  const faults: string[] = [];
  for (const approval of approvals ?? []) {
    const { approvalId, status } = approval;
    if (status === ApprovalStatus.Pending) {
      faults.push(`${approvalId} still pending after the release ended ${record.phase}`);
      continue;
    }
    if (!approval.decidedBy || !approval.decidedAt || !approval.decidedVia) {
      faults.push(`${approvalId} is ${status} without who, when and how`);
      continue;
    }
    const entries = steps.filter(
      (step) => step.step === 'approval' && step.key === `approval#${approval.stage}`,
    );
    const human = humanChannels.has(approval.decidedVia);
    if (entries.length > 1) {
      faults.push(`${approvalId}: ${entries.length} timeline entries for one decision`);
    } else if (entries.length === 0 && (human || status === ApprovalStatus.TimedOut)) {
      faults.push(`${approvalId} ${status} by ${approval.decidedBy}, but not in the timeline`);
    }
    const [entry] = entries;
    const same = entry?.at === approval.decidedAt && entry.reason.includes(approval.decidedBy);
    if (human && entry && !same) {
      faults.push(
        `${approvalId} ${status} by ${approval.decidedBy} at ${approval.decidedAt}, but the timeline records "${entry.reason}" at ${entry.at}`,
      );
    }
  }
  return faults;
}

function checkExecution(execution: ExecutionSnapshot): Violation[] {
  const violations: Violation[] = [];
  if (execution.status === 'RUNNING') {
    violations.push({
      invariant: Invariant.Executions,
      subject: execution.name,
      message: 'still running',
    });
  }
  if (execution.pendingCallbacks.length > 0) {
    violations.push({
      invariant: Invariant.Executions,
      subject: execution.name,
      message: `callback tasks still waiting: ${execution.pendingCallbacks.join(', ')}`,
    });
  }
  return violations;
}

const terminalEvents: Partial<Record<string, string>> = {
  [ReleasePhase.Finalized]: 'Release Finalized',
  [ReleasePhase.RolledBack]: 'Release Rolled Back',
};

function checkEvents(snapshot: ConsistencySnapshot): Violation[] {
  const violations: Violation[] = [];
  const byKey = new Map<string, LifecycleEventSnapshot[]>();
  for (const event of snapshot.events) {
    if (event.eventKey === undefined) {
      violations.push({
        invariant: Invariant.EventOnce,
        subject: event.releaseId ?? event.detailType,
        message: `${event.detailType} carries no eventKey`,
      });
      continue;
    }
    byKey.set(event.eventKey, [...(byKey.get(event.eventKey) ?? []), event]);
  }
  for (const [key, events] of byKey) {
    if (events.length > 1) {
      violations.push({
        invariant: Invariant.EventOnce,
        subject: key,
        message: `published ${events.length} times (${events.map((e) => e.detailType).join(', ')})`,
      });
    }
  }
  for (const service of snapshot.services) {
    for (const { record } of service.releases) {
      const expected = terminalEvents[record.phase];
      if (
        expected &&
        !snapshot.events.some((e) => e.releaseId === record.releaseId && e.detailType === expected)
      ) {
        violations.push({
          invariant: Invariant.EventOnce,
          subject: record.releaseId,
          message: `${record.phase} without a ${expected} event`,
        });
      }
    }
  }
  return violations;
}

function describeTraffic(traffic: Record<string, number>): string {
  const entries = Object.entries(traffic);
  if (entries.length === 0) return 'nowhere';
  return entries.map(([colour, percent]) => `${percent}% on ${colour}`).join(', ');
}
