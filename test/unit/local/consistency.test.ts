import { describe, expect, it } from 'vitest';
import type { StepRecord } from '../../../src/core/records.ts';
import {
  type ConsistencySnapshot,
  checkConsistency,
  Invariant,
  type ReleaseSnapshot,
} from '../../../src/local/consistency.ts';
import { aReleaseRecord } from '../../support/builders.ts';

// Each invariant is broken on purpose in a snapshot that is otherwise consistent: the check
// must name exactly that invariant, so none of them can pass whatever happens.

function aStep(step: string, at: string, extra: Partial<StepRecord> = {}): StepRecord {
  return {
    key: step,
    step,
    at,
    outcome: 'succeeded',
    reason: step,
    phase: 'Finalized',
    ...extra,
  };
}

function aFinalizedRelease(
  version: string,
  colours: { blue: string; green: string },
  minute: number,
): ReleaseSnapshot {
  const at = (second: number) =>
    `2026-12-06T10:${String(minute).padStart(2, '0')}:${String(second).padStart(2, '0')}.000Z`;
  const record = aReleaseRecord({
    service: 'checkout',
    version,
    phase: 'Finalized',
    colours,
    greenPercent: 100,
    stepIndex: 1,
    updatedAt: at(9),
  });
  return {
    record,
    greens: [colours.green],
    steps: [
      aStep('register', at(1)),
      aStep('lock', at(2)),
      aStep('provision', at(3)),
      aStep('test', at(4)),
      aStep('shift', at(5), { greenPercent: 10 }),
      aStep('gate', at(6)),
      aStep('shift', at(7), { greenPercent: 100 }),
      aStep('finalize', at(8)),
    ],
  };
}

/** Two releases one after the other: 1 → 2 → 3, all traffic on 3, everything settled. */
function aConsistentSnapshot(): ConsistencySnapshot {
  const first = aFinalizedRelease('1.1.0', { blue: '1', green: '2' }, 1);
  const second = aFinalizedRelease('1.2.0', { blue: '2', green: '3' }, 2);
  const events = [first, second].flatMap(({ record }) => [
    {
      detailType: 'Release Started',
      releaseId: record.releaseId,
      eventKey: `${record.releaseId}#start`,
    },
    {
      detailType: 'Release Finalized',
      releaseId: record.releaseId,
      eventKey: `${record.releaseId}#finalize`,
    },
  ]);
  return {
    services: [
      {
        service: 'checkout',
        releases: [second, first],
        traffic: { '3': 100 },
        colours: ['1', '2', '3'],
      },
    ],
    executions: [
      { name: 'first', status: 'SUCCEEDED', pendingCallbacks: [] },
      { name: 'second', status: 'SUCCEEDED', pendingCallbacks: [] },
    ],
    events,
  };
}

function serviceOf(snapshot: ConsistencySnapshot) {
  const [service] = snapshot.services;
  if (!service) throw new Error('the snapshot has no service');
  return service;
}

/** The second release (the snapshot lists newest first). */
function latestOf(snapshot: ConsistencySnapshot): ReleaseSnapshot {
  const [latest] = serviceOf(snapshot).releases;
  if (!latest) throw new Error('the snapshot has no release');
  return latest;
}

function firstOf(snapshot: ConsistencySnapshot): ReleaseSnapshot {
  const first = serviceOf(snapshot).releases[1];
  if (!first) throw new Error('the snapshot has no first release');
  return first;
}

const invariantsOf = (snapshot: ConsistencySnapshot) =>
  [...new Set(checkConsistency(snapshot).map((v) => v.invariant))].sort();

describe('checkConsistency', () => {
  it('finds nothing wrong in a consistent run', () => {
    expect(checkConsistency(aConsistentSnapshot())).toEqual([]);
  });

  it('finds traffic left on a colour the ledger did not leave live', () => {
    const snapshot = aConsistentSnapshot();
    serviceOf(snapshot).traffic = { '2': 100 };
    expect(checkConsistency(snapshot)).toEqual([
      {
        invariant: Invariant.Traffic,
        subject: 'checkout',
        message: expect.stringContaining('left 3 live (Finalized), traffic is 100% on 2'),
      },
    ]);
  });

  it('finds traffic still split after the last release settled', () => {
    const snapshot = aConsistentSnapshot();
    serviceOf(snapshot).traffic = { '3': 90, '2': 10 };
    expect(invariantsOf(snapshot)).toEqual([Invariant.Traffic]);
  });

  it('reads a rollback as blue live, and a later finalize as green live', () => {
    const snapshot = aConsistentSnapshot();
    const second = latestOf(snapshot);
    second.record.phase = 'RolledBack';
    second.steps.push(aStep('rollback', '2026-12-06T10:02:10.000Z'));
    snapshot.events.push({
      detailType: 'Release Rolled Back',
      releaseId: second.record.releaseId,
      eventKey: `${second.record.releaseId}#rollback`,
    });
    expect(invariantsOf(snapshot)).toEqual([Invariant.Traffic]);
    serviceOf(snapshot).traffic = { '2': 100 };
    expect(checkConsistency(snapshot)).toEqual([]);
  });

  it('finds the live colour gone (torn down under a rollback)', () => {
    const snapshot = aConsistentSnapshot();
    serviceOf(snapshot).colours = ['1', '2'];
    expect(checkConsistency(snapshot)).toEqual([
      expect.objectContaining({
        invariant: Invariant.Traffic,
        message: expect.stringContaining('no longer exists'),
      }),
    ]);
  });

  it('finds a second green built for one release', () => {
    const snapshot = aConsistentSnapshot();
    latestOf(snapshot).greens = ['3', '4'];
    expect(checkConsistency(snapshot)).toEqual([
      expect.objectContaining({
        invariant: Invariant.OneGreen,
        message: '2 greens built for one release: 3, 4',
      }),
    ]);
  });

  it('finds a ledger green that is not the one the release built', () => {
    const snapshot = aConsistentSnapshot();
    firstOf(snapshot).greens = ['5'];
    expect(invariantsOf(snapshot)).toEqual([Invariant.OneGreen]);
  });

  it('does not hold an ALB release’s slot against the revision it built', () => {
    const snapshot = aConsistentSnapshot();
    serviceOf(snapshot).greensAreColours = false;
    firstOf(snapshot).greens = ['arn:aws:ecs:us-east-1:000000000000:task-definition/web:2'];
    expect(checkConsistency(snapshot)).toEqual([]);
  });

  it('finds the lock still held', () => {
    const snapshot = aConsistentSnapshot();
    serviceOf(snapshot).lockHolder = 'checkout-1-2-0-a1-x';
    expect(checkConsistency(snapshot)).toEqual([
      {
        invariant: Invariant.Lock,
        subject: 'checkout',
        message: 'still held by checkout-1-2-0-a1-x after every execution ended',
      },
    ]);
  });

  it('finds a release left waiting in the lock queue', () => {
    const snapshot = aConsistentSnapshot();
    serviceOf(snapshot).queued = ['checkout-1-3-0-a1-x'];
    expect(checkConsistency(snapshot)).toEqual([
      {
        invariant: Invariant.Lock,
        subject: 'checkout',
        message: 'still queued for the lock after every execution ended: checkout-1-3-0-a1-x',
      },
    ]);
  });

  it('finds an execution still running and a callback still waiting', () => {
    const snapshot = aConsistentSnapshot();
    snapshot.executions[1] = {
      name: 'second',
      status: 'RUNNING',
      pendingCallbacks: ['WatchGates'],
    };
    expect(checkConsistency(snapshot)).toEqual([
      { invariant: Invariant.Executions, subject: 'second', message: 'still running' },
      {
        invariant: Invariant.Executions,
        subject: 'second',
        message: 'callback tasks still waiting: WatchGates',
      },
    ]);
  });

  it('finds a lifecycle event published twice under one eventKey', () => {
    const snapshot = aConsistentSnapshot();
    snapshot.events.push({ ...(snapshot.events[0] as (typeof snapshot.events)[0]) });
    expect(checkConsistency(snapshot)).toEqual([
      expect.objectContaining({
        invariant: Invariant.EventOnce,
        message: 'published 2 times (Release Started, Release Started)',
      }),
    ]);
  });

  it('finds a finalized release whose Release Finalized event never went out', () => {
    const snapshot = aConsistentSnapshot();
    snapshot.events = snapshot.events.filter((e) => e.eventKey?.endsWith('#finalize') !== true);
    expect(invariantsOf(snapshot)).toEqual([Invariant.EventOnce]);
  });

  it('finds a release left mid-phase', () => {
    const snapshot = aConsistentSnapshot();
    const second = latestOf(snapshot);
    second.record.phase = 'Shifting';
    second.record.reason = 'Shifting to 10%';
    // Shifting is not settled: traffic is judged by the first release, so make it agree.
    serviceOf(snapshot).traffic = { '2': 100 };
    expect(checkConsistency(snapshot)).toEqual([
      {
        invariant: Invariant.Timeline,
        subject: second.record.releaseId,
        message: 'left in Shifting (Shifting to 10%)',
      },
    ]);
  });

  it.each([
    ['register', 'no register step'],
    ['provision', 'colours 2/3 but no provision step'],
    ['test', 'finalized without a passed test step'],
    ['finalize', 'finalized without a finalize step'],
  ])('finds a finalized timeline without its %s step', (step, message) => {
    const snapshot = aConsistentSnapshot();
    const second = latestOf(snapshot);
    second.steps = second.steps.filter((s) => s.step !== step);
    // The finalize step also dates the settlement; without it the record's time does.
    expect(checkConsistency(snapshot)).toEqual([
      { invariant: Invariant.Timeline, subject: second.record.releaseId, message },
    ]);
  });

  it('finds a finalized timeline whose last shift is not at 100%', () => {
    const snapshot = aConsistentSnapshot();
    const second = latestOf(snapshot);
    second.steps = second.steps.filter((s) => !(s.step === 'shift' && s.greenPercent === 100));
    expect(checkConsistency(snapshot)).toEqual([
      expect.objectContaining({
        invariant: Invariant.Timeline,
        message: 'finalized, yet its last shift step is at 10%',
      }),
    ]);
  });

  it('takes a release promoted out of a forward-only hold without tests or shifts, not without a finalize', () => {
    const snapshot = aConsistentSnapshot();
    const second = latestOf(snapshot);
    const hold = {
      ...(second.steps[0] as StepRecord),
      key: 'hold',
      step: 'hold',
      outcome: 'held' as const,
    };
    second.record.forwardOnly = { migrationId: '0009_drop_note', since: second.record.updatedAt };
    second.steps = [...second.steps.filter((s) => s.step !== 'test' && s.step !== 'shift'), hold];
    expect(checkConsistency(snapshot)).toEqual([]);
    second.steps = second.steps.filter((s) => s.step !== 'finalize');
    expect(checkConsistency(snapshot)).toEqual([
      expect.objectContaining({ message: 'finalized without a finalize step' }),
    ]);
  });

  it('finds a rolled-back release without a rollback step', () => {
    const snapshot = aConsistentSnapshot();
    const second = latestOf(snapshot);
    second.record.phase = 'RolledBack';
    serviceOf(snapshot).traffic = { '2': 100 };
    snapshot.events.push({
      detailType: 'Release Rolled Back',
      releaseId: second.record.releaseId,
      eventKey: `${second.record.releaseId}#rollback`,
    });
    expect(checkConsistency(snapshot)).toEqual([
      expect.objectContaining({
        invariant: Invariant.Timeline,
        message: 'rolled back without a rollback or revert step',
      }),
    ]);
  });

  describe('approvals', () => {
    const decidedAt = '2026-12-06T10:02:04.500Z';
    /** The latest release approved before shift by an approver in Slack, recorded once. */
    function anApprovedSnapshot(): ConsistencySnapshot {
      const snapshot = aConsistentSnapshot();
      const latest = latestOf(snapshot);
      latest.approvals = [
        {
          approvalId: `${latest.record.releaseId}-before-shift`,
          stage: 'before-shift',
          status: 'approved',
          decidedBy: 'U0LEAD',
          decidedAt,
          decidedVia: 'slack',
        },
      ];
      latest.steps.push(
        aStep('approval', decidedAt, {
          key: 'approval#before-shift',
          reason: `Approved by lead (U0LEAD) via slack at ${decidedAt}`,
        }),
      );
      return snapshot;
    }
    const approvalOf = (snapshot: ConsistencySnapshot) => {
      const [approval] = latestOf(snapshot).approvals ?? [];
      if (!approval) throw new Error('the snapshot has no approval');
      return approval;
    };

    it('finds nothing wrong with one decision recorded once', () => {
      expect(checkConsistency(anApprovedSnapshot())).toEqual([]);
    });

    it('finds an approval left pending after its release ended', () => {
      const snapshot = anApprovedSnapshot();
      const approval = approvalOf(snapshot);
      approval.status = 'pending';
      delete approval.decidedBy;
      expect(checkConsistency(snapshot)).toEqual([
        expect.objectContaining({
          invariant: Invariant.Approvals,
          message: expect.stringMatching(/still pending after the release ended Finalized$/),
        }),
      ]);
    });

    it('finds a decision whose timeline entry a second decision rewrote', () => {
      const snapshot = anApprovedSnapshot();
      const entry = latestOf(snapshot).steps.find((s) => s.step === 'approval');
      if (!entry) throw new Error('no approval entry');
      // The timeout's entry, written after the approver's click had won.
      entry.at = '2026-12-06T10:02:05.900Z';
      entry.reason = 'No decision by 2026-12-06T10:02:05.000Z; the release goes on';
      expect(invariantsOf(snapshot)).toEqual([Invariant.Approvals]);
    });

    it('finds a person’s decision missing from the timeline', () => {
      const snapshot = anApprovedSnapshot();
      const latest = latestOf(snapshot);
      latest.steps = latest.steps.filter((s) => s.step !== 'approval');
      expect(checkConsistency(snapshot)).toEqual([
        expect.objectContaining({
          invariant: Invariant.Approvals,
          message: expect.stringContaining('approved by U0LEAD, but not in the timeline'),
        }),
      ]);
    });

    it('finds a decision without who, when and how', () => {
      const snapshot = anApprovedSnapshot();
      delete approvalOf(snapshot).decidedAt;
      expect(invariantsOf(snapshot)).toEqual([Invariant.Approvals]);
    });
  });
});
