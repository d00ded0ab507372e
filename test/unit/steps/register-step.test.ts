import { describe, expect, it } from 'vitest';
import { ReleasePhase } from '../../../src/core/phases.ts';
import type { ServiceRegistryReader } from '../../../src/core/registry.ts';
import { registerStep } from '../../../src/steps/register.ts';
import { aReleaseEvent, aReleaseSpec, aService } from '../../support/builders.ts';
import { aFakeWorld, failNext } from '../../support/fakes.ts';

// Register's own rules with in-memory ports; register.test.ts covers hostile sizes against
// the real ledger and bus adapters.

const machine = 'arn:aws:states:eu-west-1:123456789012:execution:greenlight-release';
// Register fixes the service's lock policy on the release, for the queue to judge it by.
const spec = { ...aReleaseSpec(), lockPolicy: 'queue' as const };
const id = spec.releaseId;

describe('registerStep', () => {
  it('records a valid release as Requested, owned by its execution, once for two runs', async () => {
    const world = aFakeWorld();
    const input = { event: aReleaseEvent(), executionId: `${machine}:exec-1` };

    const first = await registerStep.run(input, world.deps);
    world.clock.advance(2);
    const second = await registerStep.run(input, world.deps);

    expect(first).toEqual({ ...spec, duplicate: false });
    expect(second).toEqual(first);
    expect(world.ledger.release(id)).toEqual({
      ...spec,
      phase: ReleasePhase.Requested,
      reason: 'Requested by dana@example.com from github-actions: canary strategy, 2 steps',
      executionId: `${machine}:exec-1`,
      greenPercent: 0,
      stepIndex: -1,
      updatedAt: '2026-11-21T10:00:00.250Z',
    });
    expect(await world.ledger.timeline(id)).toEqual(['register:succeeded']);
    expect(world.events.published).toEqual([]);
  });

  it('tells a second execution for the same release to stop, and notes the duplicate', async () => {
    const world = aFakeWorld();
    await registerStep.run(
      { event: aReleaseEvent(), executionId: `${machine}:exec-1` },
      world.deps,
    );

    const duplicate = await registerStep.run(
      { event: aReleaseEvent({}, { id: 'redelivered' }), executionId: `${machine}:exec-2` },
      world.deps,
    );

    expect(duplicate).toEqual({ ...spec, duplicate: true });
    expect(world.ledger.release(id).executionId).toBe(`${machine}:exec-1`);
    const steps = await world.ledger.listSteps(id);
    expect(steps.find((step) => step.key === 'duplicate#exec-2')).toMatchObject({
      step: 'duplicate',
      outcome: 'skipped',
      phase: 'Requested',
      reason: 'Duplicate request ignored: execution exec-1 already owns this release',
    });
  });

  it('takes the request time from the event, and the clock only when the event has none', async () => {
    const world = aFakeWorld();

    const timed = await registerStep.run(
      {
        event: aReleaseEvent({}, { time: '2026-11-21T09:59:00Z' }),
        executionId: `${machine}:exec-1`,
      },
      world.deps,
    );
    const untimed = await registerStep.run(
      {
        event: aReleaseEvent({ version: '1.4.3' }, { time: 'yesterday' }),
        executionId: `${machine}:exec-2`,
      },
      world.deps,
    );

    expect(timed.requestedAt).toBe('2026-11-21T09:59:00Z');
    expect(untimed.requestedAt).toBe('2026-11-21T10:00:00.250Z');
  });

  it('reads the registration past any cache, so a change applies to the next release', async () => {
    const asked: { name: string; fresh: boolean | undefined }[] = [];
    const registry: ServiceRegistryReader = {
      find: async (name, options) => {
        asked.push({ name, fresh: options?.fresh });
        return aService({ defaultStrategy: 'all-at-once' });
      },
      list: async () => [aService()],
    };
    const world = aFakeWorld();
    world.deps.registry = registry;

    const release = await registerStep.run(
      { event: aReleaseEvent(), executionId: `${machine}:exec-1` },
      world.deps,
    );

    expect(asked).toEqual([{ name: 'checkout', fresh: true }]);
    expect(release.plan).toEqual([{ index: 0, percent: 100, bakeSeconds: 0 }]);
  });

  it('rejects an unregistered service with InvalidReleaseEvent, recorded and announced', async () => {
    const world = aFakeWorld();
    const event = aReleaseEvent({ service: 'payments' }, { id: 'event-7' });

    await expect(
      registerStep.run({ event, executionId: `${machine}:exec-1` }, world.deps),
    ).rejects.toMatchObject({ name: 'InvalidReleaseEvent' });
    await expect(
      registerStep.run({ event, executionId: `${machine}:exec-1` }, world.deps),
    ).rejects.toMatchObject({ name: 'InvalidReleaseEvent' });

    expect(world.ledger.releases.size).toBe(0);
    expect(await world.ledger.getRejection('event-7')).toMatchObject({
      key: 'rejected',
      step: 'register',
      outcome: 'failed',
      phase: 'Rejected',
      evidence: { issues: [{ path: 'detail.service', message: expect.any(String) }] },
    });
    // A retry announces again under the same key, for consumers to drop the repeat.
    expect(world.events.types()).toEqual(['Release Rejected', 'Release Rejected']);
    expect(new Set(world.events.published.map((e) => e.detail.eventKey))).toEqual(
      new Set(['rejected#event-7']),
    );
    expect(world.events.published[0]?.detail).toMatchObject({
      eventId: 'event-7',
      service: 'payments',
      version: '1.4.2',
      phase: 'Rejected',
    });
  });

  it('files a rejection without a usable event id under the execution’s name', async () => {
    const world = aFakeWorld();
    const event = aReleaseEvent({ version: '' }, { id: 'not an id' });

    await expect(
      registerStep.run({ event, executionId: `${machine}:exec-9` }, world.deps),
    ).rejects.toMatchObject({ name: 'InvalidReleaseEvent' });

    expect(await world.ledger.getRejection('exec-9')).toMatchObject({ outcome: 'failed' });
    expect(world.events.published[0]?.detail).not.toHaveProperty('version');
  });

  it('fails without a ledger entry when the ledger is down, and the retry registers', async () => {
    const world = aFakeWorld();
    const input = { event: aReleaseEvent(), executionId: `${machine}:exec-1` };
    failNext(world.ledger, 'createRelease', new Error('InternalServerError'));

    await expect(registerStep.run(input, world.deps)).rejects.toThrow('InternalServerError');
    expect(world.ledger.releases.size).toBe(0);

    expect((await registerStep.run(input, world.deps)).duplicate).toBe(false);
  });

  it('keys its idempotency on the execution, not on the release', () => {
    expect(
      registerStep.idempotencyKey({ event: aReleaseEvent(), executionId: `${machine}:exec-1` }),
    ).toEqual({ step: 'register', executionId: `${machine}:exec-1` });
  });
});
