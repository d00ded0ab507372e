import { beforeAll, describe, expect, it } from 'vitest';
import { GreenlightFunction } from '../../src/infra/functions.ts';
import { calledActions, functionGrants, implicitActions } from '../../src/infra/permissions.ts';
import { explain, recordScenarios, type ScenarioRecording, scenarios } from './scenarios.ts';

/**
 * The permissions table against what the code really sends: every scenario of scenarios.ts
 * runs the real handlers over faked AWS clients, and each function's recorded actions must be
 * exactly the non-implicit actions of its row.
 */
describe('each step function’s IAM actions', () => {
  let actions: ScenarioRecording['actions'];
  let broken: ScenarioRecording['broken'] = new Map();

  beforeAll(async () => {
    ({ actions, broken } = await recordScenarios());
  }, 120_000);

  const brokenSummary = () =>
    [...broken.values()]
      .map(({ scenario, step, error }) => `"${scenario}" broke at "${step}": ${explain(error)}`)
      .join('\n');

  for (const scenario of scenarios) {
    it(`runs the scenario "${scenario.name}" to its end`, () => {
      const failure = broken.get(scenario.name);
      if (failure !== undefined) {
        throw new Error(`broke at "${failure.step}": ${explain(failure.error)}`, {
          cause: failure.error,
        });
      }
    });
  }

  for (const fn of Object.values(GreenlightFunction)) {
    it(`${fn}: the table grants exactly the actions its code sends`, () => {
      expect(
        [...actions[fn]].sort(),
        broken.size === 0 ? undefined : `with scenarios that broke:\n${brokenSummary()}`,
      ).toEqual([...calledActions(fn)].sort());
    });
  }

  it('gives every implicit grant a documented reason and no SDK call that explains it', () => {
    for (const fn of Object.values(GreenlightFunction)) {
      for (const action of implicitActions(fn)) {
        expect(actions[fn].has(action), `${fn} sends ${action}`).toBe(false);
      }
      for (const grant of functionGrants[fn]) {
        if (grant.implicit !== undefined) expect(grant.implicit.length).toBeGreaterThan(40);
      }
    }
  });

  it('has no wildcard action in the table', () => {
    const all = Object.values(functionGrants).flatMap((grants) =>
      grants.flatMap((grant) => grant.actions),
    );
    expect(all.filter((action) => action.includes('*'))).toEqual([]);
    for (const action of all) expect(action).toMatch(/^[a-z0-9-]+:[A-Za-z]+$/);
  });
});
