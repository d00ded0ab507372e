import { describe, expect, it } from 'vitest';
import {
  atExpression,
  coloursInFlight,
  decideTeardown,
  lastFinalized,
  lastTrafficAt,
  parseAtExpression,
  planVersionRetention,
  teardownScheduleName,
  teardownTime,
  warmWindowOf,
} from '../../../src/core/idle-colour.ts';
import { ReleasePhase } from '../../../src/core/phases.ts';
import { IdleColourState } from '../../../src/core/records.ts';
import { deriveReleaseId } from '../../../src/core/release-id.ts';
import { anIdleColour, aReleaseRecord } from '../../support/builders.ts';

const afterWindow = new Date('2026-11-21T10:15:00.500Z');

describe('teardownScheduleName', () => {
  it('prefixes the release id, which is deterministic', () => {
    const releaseId = deriveReleaseId('checkout', '1.4.2', 1);
    expect(teardownScheduleName(releaseId)).toBe(`teardown-${releaseId}`);
    expect(teardownScheduleName(releaseId)).toBe(teardownScheduleName(releaseId));
  });

  it('fits Scheduler’s 64 characters for the longest release ids, keeping their hash apart', () => {
    const a = deriveReleaseId('a-very-long-service-name-for-payments', 'x'.repeat(60), 1);
    const b = deriveReleaseId('a-very-long-service-name-for-payments', `${'x'.repeat(59)}y`, 1);
    expect(a).toHaveLength(80);
    for (const name of [teardownScheduleName(a), teardownScheduleName(b)]) {
      expect(name.length).toBeLessThanOrEqual(64);
      expect(name).toMatch(/^[0-9A-Za-z_.-]+$/);
    }
    expect(teardownScheduleName(a)).not.toBe(teardownScheduleName(b));
    expect(teardownScheduleName(a).endsWith(a.slice(-11))).toBe(true);
  });
});

describe('teardownTime and at expressions', () => {
  it('ends the warm window on the whole second after it, in UTC', () => {
    const at = teardownTime(new Date('2026-11-21T10:00:00.250Z'), 900);
    expect(at.toISOString()).toBe('2026-11-21T10:15:01.000Z');
    expect(atExpression(at)).toBe('at(2026-11-21T10:15:01)');
  });

  it('reads back what it writes and nothing else', () => {
    expect(parseAtExpression('at(2026-11-21T10:15:01)')?.toISOString()).toBe(
      '2026-11-21T10:15:01.000Z',
    );
    expect(parseAtExpression('rate(5 minutes)')).toBeUndefined();
    expect(parseAtExpression('at(2026-11-21 10:15:01)')).toBeUndefined();
  });
});

describe('decideTeardown', () => {
  it('tears down a warm colour after its window when nothing else uses it', () => {
    const decision = decideTeardown({
      idle: anIdleColour(),
      now: afterWindow,
      takesTraffic: false,
      releases: [
        aReleaseRecord({ phase: ReleasePhase.Finalized, colours: { blue: '2', green: '3' } }),
      ],
    });
    expect(decision.action).toBe('tear-down');
  });

  it('leaves a colour that takes traffic again running, for good', () => {
    const decision = decideTeardown({
      idle: anIdleColour(),
      now: afterWindow,
      takesTraffic: true,
      releases: [],
    });
    expect(decision).toMatchObject({ action: 'leave-live' });
    expect(decision.reason).toContain('3 takes production traffic again');
  });

  it('defers while a release in flight uses the colour, even when it takes traffic', () => {
    const inFlight = aReleaseRecord({
      version: '1.5.0',
      phase: ReleasePhase.Shifting,
      colours: { blue: '4', green: '3' },
    });
    const decision = decideTeardown({
      idle: anIdleColour(),
      now: afterWindow,
      takesTraffic: true,
      releases: [inFlight],
    });
    expect(decision).toMatchObject({ action: 'defer' });
    expect(decision.reason).toContain(`Release ${inFlight.releaseId} in flight (Shifting) uses 3`);
  });

  it('defers while a release in flight has not chosen its colours yet', () => {
    const decision = decideTeardown({
      idle: anIdleColour(),
      now: afterWindow,
      takesTraffic: false,
      releases: [aReleaseRecord({ version: '1.5.0', phase: ReleasePhase.Provisioning })],
    });
    expect(decision).toMatchObject({ action: 'defer' });
    expect(decision.reason).toContain('has not chosen its colours yet');
  });

  it('defers a teardown asked for well before the window ends, not one a little early', () => {
    const idle = anIdleColour();
    const early = { idle, takesTraffic: false, releases: [] };
    expect(decideTeardown({ ...early, now: new Date('2026-11-21T10:10:00Z') })).toMatchObject({
      action: 'defer',
      reason: 'Still in its warm window until 2026-11-21T10:15:00.000Z',
    });
    expect(decideTeardown({ ...early, now: new Date('2026-11-21T10:14:59.900Z') }).action).toBe(
      'tear-down',
    );
  });

  it('does nothing again once the colour is settled', () => {
    const decision = decideTeardown({
      idle: anIdleColour({ state: IdleColourState.TornDown, reason: 'done' }),
      now: afterWindow,
      takesTraffic: false,
      releases: [],
    });
    expect(decision).toEqual({ action: 'settled', reason: 'Already torn-down: done' });
  });
});

describe('coloursInFlight', () => {
  it('lists both colours of releases not yet ended', () => {
    const colours = coloursInFlight([
      aReleaseRecord({ phase: ReleasePhase.Testing, colours: { blue: '4', green: '5' } }),
      aReleaseRecord({ phase: ReleasePhase.RolledBack, colours: { blue: '4', green: '6' } }),
      aReleaseRecord({ phase: ReleasePhase.Requested }),
    ]);
    expect([...colours].sort()).toEqual(['4', '5']);
  });
});

describe('lastTrafficAt', () => {
  const idle = anIdleColour({ colour: 'a', idleSince: '2026-11-21T10:00:00.000Z' });
  const ended = (overrides: Parameters<typeof aReleaseRecord>[0]) =>
    aReleaseRecord({
      phase: ReleasePhase.RolledBack,
      colours: { blue: 'b', green: 'a' },
      stepIndex: 0,
      updatedAt: '2026-11-21T10:30:00.000Z',
      ...overrides,
    });

  it('is the finalize that left the colour idle when no release used it since', () => {
    expect(lastTrafficAt(idle, [ended({ colours: { blue: 'b', green: 'c' } })])).toEqual(
      new Date('2026-11-21T10:00:00.000Z'),
    );
  });

  it('is the end of a later release that moved traffic onto the colour', () => {
    expect(
      lastTrafficAt(idle, [ended({}), ended({ updatedAt: '2026-11-21T09:00:00.000Z' })]),
    ).toEqual(new Date('2026-11-21T10:30:00.000Z'));
  });

  it('ignores releases in flight and those that ended before any traffic moved', () => {
    expect(
      lastTrafficAt(idle, [ended({ phase: ReleasePhase.Shifting }), ended({ stepIndex: -1 })]),
    ).toEqual(new Date('2026-11-21T10:00:00.000Z'));
  });
});

describe('planVersionRetention', () => {
  it('deletes all but the newest versions, oldest first', () => {
    expect(
      planVersionRetention({
        versions: ['$LATEST', '1', '2', '3', '4', '5', '10'],
        keep: 3,
        protectedVersions: new Set(),
      }),
    ).toEqual({ remove: ['1', '2', '3'], kept: ['4', '5', '10'] });
  });

  it('never deletes a protected version, however old', () => {
    const plan = planVersionRetention({
      versions: ['1', '2', '3', '4', '5'],
      keep: 1,
      protectedVersions: new Set(['2', '4']),
    });
    expect(plan.remove).toEqual(['1', '3']);
    expect(plan.kept).toEqual(['2', '4', '5']);
  });

  it('deletes nothing within the retention', () => {
    expect(
      planVersionRetention({ versions: ['1', '2'], keep: 3, protectedVersions: new Set() }).remove,
    ).toEqual([]);
  });
});

describe('warmWindowOf', () => {
  const finalized = aReleaseRecord({
    phase: ReleasePhase.Finalized,
    colours: { blue: '3', green: '4' },
    idle: anIdleColour(),
  });

  it('is open while the idle colour is warm and its window has not ended', () => {
    expect(warmWindowOf(finalized, new Date('2026-11-21T10:05:00Z'))).toEqual({
      open: true,
      colours: { blue: '3', green: '4' },
      state: 'warm',
      teardownAt: '2026-11-21T10:15:00.000Z',
      reason:
        'Blue 3 is warm until 2026-11-21T10:15:00.000Z (600s left): a rollback is one switch back',
    });
  });

  it('is closed once the window has ended or the colour was torn down', () => {
    expect(warmWindowOf(finalized, afterWindow)?.open).toBe(false);
    const tornDown = { ...finalized, idle: anIdleColour({ state: IdleColourState.TornDown }) };
    expect(warmWindowOf(tornDown, new Date('2026-11-21T10:05:00Z'))).toMatchObject({
      open: false,
      state: 'torn-down',
    });
  });

  it('has none for a release that did not finalize', () => {
    expect(warmWindowOf(aReleaseRecord({ phase: ReleasePhase.RolledBack }), afterWindow)).toBe(
      undefined,
    );
  });
});

describe('lastFinalized', () => {
  it('finds the newest finalized release in a newest-first list', () => {
    const newest = aReleaseRecord({ version: '1.6.0', phase: ReleasePhase.Shifting });
    const finalized = aReleaseRecord({ version: '1.5.0', phase: ReleasePhase.Finalized });
    const older = aReleaseRecord({ version: '1.4.0', phase: ReleasePhase.Finalized });
    expect(lastFinalized([newest, finalized, older])).toBe(finalized);
    expect(lastFinalized([newest])).toBeUndefined();
  });
});
