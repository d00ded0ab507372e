import { describe, expect, it } from 'vitest';
import { ReleasePhase } from '../../../src/core/phases.ts';
import { provisionGreenStep } from '../../../src/steps/provision-green.ts';
import { anAborted, aReleaseRecord, specOf } from '../../support/builders.ts';
import { aFakeWorld, failNext } from '../../support/fakes.ts';

const provisioning = aReleaseRecord({ phase: ReleasePhase.Provisioning });
const id = provisioning.releaseId;
const input = { release: specOf(provisioning) };

describe('provisionGreenStep', () => {
  it('makes green ready beside blue once, records the colours, and announces it once', async () => {
    const world = aFakeWorld({ releases: [provisioning] });

    const first = await provisionGreenStep.run(input, world.deps);
    const second = await provisionGreenStep.run(input, world.deps);

    expect(first).toEqual({ blue: '7', green: '8' });
    expect(second).toEqual(first);
    expect(world.target.changes).toEqual(['provision 1.4.2 as 8']);
    expect(world.target.greenPercent).toBe(0);
    expect(world.ledger.release(id)).toMatchObject({
      phase: 'Testing',
      colours: { blue: '7', green: '8' },
      reason: 'Green 8 provisioned beside blue 7',
    });
    expect(world.events.types()).toEqual(['Green Provisioned']);
    expect(world.events.published[0]?.detail).toMatchObject({
      eventKey: `${id}#GreenProvisioned`,
      colours: { blue: '7', green: '8' },
    });
    const [entry] = await world.ledger.listSteps(id);
    expect(entry).toMatchObject({
      key: 'provision',
      outcome: 'succeeded',
      phase: 'Testing',
      reason: 'Green is version 8; blue stays version 7',
    });
    expect(entry).not.toHaveProperty('evidence');
    expect(world.ledger.updates).toHaveLength(1);
  });

  it('records what the target warns of before traffic moves, in the timeline and the event', async () => {
    const world = aFakeWorld({ releases: [provisioning] });
    world.target.warningsToGive = ['Sticky sessions on blue will move to green at finalize'];

    await provisionGreenStep.run(input, world.deps);

    const [entry] = await world.ledger.listSteps(id);
    expect(entry?.evidence).toEqual({
      warnings: ['Sticky sessions on blue will move to green at finalize'],
    });
    expect(world.events.published[0]?.detail.warnings).toEqual([
      'Sticky sessions on blue will move to green at finalize',
    ]);
  });

  it('stays Provisioning with nothing announced when the target fails; the retry goes on', async () => {
    const world = aFakeWorld({ releases: [provisioning] });
    failNext(world.target, 'provision', new Error('CodeStorageExceededException'));

    await expect(provisionGreenStep.run(input, world.deps)).rejects.toThrow(
      'CodeStorageExceededException',
    );
    expect(world.ledger.release(id).phase).toBe('Provisioning');
    expect(world.events.published).toEqual([]);

    await provisionGreenStep.run(input, world.deps);
    expect(world.ledger.release(id).phase).toBe('Testing');
  });

  it('provisions nothing for a release that does not hold its lock yet', async () => {
    const world = aFakeWorld({ releases: [aReleaseRecord()] });

    await expect(provisionGreenStep.run(input, world.deps)).rejects.toMatchObject({
      name: 'InvalidTransition',
    });
    expect(world.target.calls).toEqual([]);
  });

  it('provisions nothing for a release an operator aborted', async () => {
    const world = aFakeWorld({ releases: [anAborted(provisioning)] });

    await expect(provisionGreenStep.run(input, world.deps)).rejects.toMatchObject({
      name: 'OperatorAborted',
      message: 'Aborted by dana: wrong build',
    });
    expect(world.target.calls).toEqual([]);
  });
});
