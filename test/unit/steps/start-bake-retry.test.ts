import { describe, expect, it } from 'vitest';
import type { AlarmEvidence, BakeRecord } from '../../../src/core/records.ts';
import { StaticServiceRegistry } from '../../../src/core/registry.ts';
import { ServiceConfig } from '../../../src/core/service-config.ts';
import { endBakeStep } from '../../../src/steps/end-bake.ts';
import { startBakeStep } from '../../../src/steps/start-bake.ts';
import { aReleaseRecord, aReleaseSpec, aService } from '../../support/builders.ts';

// The fault matrix's WatchGates x response-lost: start-bake stores its token and its answer is
// lost; before Step Functions' retry runs, the bake's time is up and end-bake answers the
// stored token (of the failed try). The retry comes with a new token, which someone must answer.

const release = aReleaseSpec();
const step = { index: 0, percent: 10, bakeSeconds: 60 };
const colours = { blue: '7', green: '8' };
const service = ServiceConfig.parse(aService());

const token = (bake: BakeRecord) => (bake.taskToken ? { taskToken: bake.taskToken } : {});

/** Just enough of the ports start-bake and end-bake use, kept in memory. */
function aWorld() {
  let bake: BakeRecord | undefined;
  const answered: string[] = [];
  const record = aReleaseRecord({ phase: 'Shifting', stepIndex: 0, greenPercent: 10, colours });
  const okAlarm: AlarmEvidence = {
    name: 'checkout-errors',
    state: 'OK',
    reason: 'fine',
    updatedAt: '2026-11-21T10:00:00.000Z',
  };
  const deps = {
    now: () => new Date('2026-11-21T10:00:00.000Z'),
    registry: new StaticServiceRegistry([service]),
    alarms: {
      describe: async (names: readonly string[]) => names.map((name) => ({ ...okAlarm, name })),
    },
    ledger: {
      getRelease: async () => record,
      recordStep: async () => {},
      updateRelease: async () => record,
    },
    events: { publish: async () => {} },
    lock: { release: async () => {} },
    bakes: {
      begin: async (next: BakeRecord) => {
        bake = bake?.stepIndex === next.stepIndex ? { ...next, ...bake, ...token(next) } : next;
        return bake;
      },
      get: async () => bake,
      settle: async (_id: string, index: number, status: 'ended' | 'interrupted') => {
        if (bake?.stepIndex !== index || bake.status !== 'baking')
          return { changed: false, record: bake };
        bake = { ...bake, status };
        return { changed: true, record: bake };
      },
      watch: async () => {},
      unwatch: async () => {},
      watchers: async () => [],
    },
    callbacks: {
      succeed: async (token: string) => {
        answered.push(`succeed:${token}`);
        return 'delivered' as const;
      },
      fail: async (token: string, error: string) => {
        answered.push(`fail:${token}:${error}`);
        return 'delivered' as const;
      },
    },
  };
  return { deps: deps as never, answered };
}

describe('startBakeStep, retried after its bake already ended', () => {
  it('answers the new token, which nobody else would', async () => {
    const world = aWorld();
    await startBakeStep.run({ release, colours, step, taskToken: 'token-1' }, world.deps);
    await endBakeStep.run({ release, colours, step }, world.deps);

    await startBakeStep.run({ release, colours, step, taskToken: 'token-2' }, world.deps);

    expect(world.answered).toEqual(['succeed:token-1', 'succeed:token-2']);
  });

  it('answers nothing while the bake still runs', async () => {
    const world = aWorld();
    await startBakeStep.run({ release, colours, step, taskToken: 'token-1' }, world.deps);

    await startBakeStep.run({ release, colours, step, taskToken: 'token-2' }, world.deps);

    expect(world.answered).toEqual([]);
  });
});
