import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  buildReleaseDefinition,
  checkGraph,
  functionArnsFor,
  ReleaseState,
  TransientErrors,
} from '../../workflows/release.ts';

// asl-validator is CommonJS with a default-style export.
const validateAsl = createRequire(import.meta.url)('asl-validator') as (definition: unknown) => {
  isValid: boolean;
  errorsText: (separator?: string) => string;
};

const definition = buildReleaseDefinition({
  functionArns: functionArnsFor('eu-west-1', '123456789012'),
});

function statesOf(def: {
  States: Record<string, Record<string, unknown>>;
}): [string, Record<string, unknown>][] {
  return Object.entries(def.States).flatMap(([name, state]) => {
    const processor = state.ItemProcessor as
      | { States: Record<string, Record<string, unknown>> }
      | undefined;
    return [
      [name, state] as [string, Record<string, unknown>],
      ...(processor ? statesOf(processor) : []),
    ];
  });
}

describe('buildReleaseDefinition', () => {
  it('passes asl-validator with no findings', () => {
    // The validator annotates what it is given (it adds QueryLanguage): hand it a copy.
    const result = validateAsl(structuredClone(definition));
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('uses JSONPath only: no JSONata, no variables', () => {
    const text = JSON.stringify(definition);
    expect(text).not.toMatch(/"QueryLanguage":"JSONata"|"Assign"|\{%/);
    expect(text).toContain('"ItemsPath":"$.release.plan"');
  });

  it('catches into Rollback from every state after provisioning', () => {
    const topLevel = Object.keys(definition.States);
    const after = topLevel.slice(topLevel.indexOf(ReleaseState.ProvisionGreen));
    const withWork = after.filter((name) =>
      ['Task', 'Map'].includes(definition.States[name]?.Type ?? ''),
    );
    expect(withWork).toEqual([
      ReleaseState.ProvisionGreen,
      ReleaseState.TestGreen,
      ReleaseState.ShiftTraffic,
      ReleaseState.Finalize,
      ReleaseState.Rollback,
    ]);
    for (const name of withWork.filter((n) => n !== ReleaseState.Rollback)) {
      expect(definition.States[name]?.Catch, name).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: ReleaseState.Rollback },
      ]);
    }
  });

  it('retries transient AWS errors with backoff on every task, and never a domain error', () => {
    const tasks = statesOf(definition).filter(([, s]) => s.Type === 'Task');
    expect(tasks.length).toBe(8);
    for (const [name, state] of tasks) {
      const retry = state.Retry as { ErrorEquals: string[]; BackoffRate: number }[];
      expect(retry.length, name).toBeGreaterThan(0);
      expect(retry[0]?.BackoffRate, name).toBeGreaterThan(1);
      if (name !== ReleaseState.Rollback) {
        expect(retry[0]?.ErrorEquals, name).toEqual(TransientErrors);
        expect(retry[0]?.ErrorEquals, name).not.toContain('GreenTestFailed');
        expect(retry[0]?.ErrorEquals, name).not.toContain('AlarmGateFailed');
      }
    }
  });

  it('shifts weights strictly in order: set weight, bake wait, gate', () => {
    const map = definition.States[ReleaseState.ShiftTraffic] as Record<string, unknown>;
    expect(map.MaxConcurrency).toBe(1);
    const processor = map.ItemProcessor as {
      StartAt: string;
      States: Record<string, Record<string, unknown>>;
    };
    expect(processor.StartAt).toBe(ReleaseState.SetWeight);
    expect(processor.States[ReleaseState.SetWeight]?.Next).toBe(ReleaseState.Bake);
    expect(processor.States[ReleaseState.Bake]).toMatchObject({
      Type: 'Wait',
      SecondsPath: '$.step.bakeSeconds',
    });
    expect(processor.States[ReleaseState.Bake]?.Next).toBe(ReleaseState.CheckGates);
  });

  it('puts the given function ARNs on the tasks', () => {
    const resources = statesOf(definition)
      .filter(([, s]) => s.Type === 'Task')
      .map(([, s]) => s.Resource);
    expect(resources).toContain(
      'arn:aws:lambda:eu-west-1:123456789012:function:greenlight-provision-green',
    );
  });
});

describe('checkGraph', () => {
  it('names a missing Next target and how to fix it', () => {
    expect(() => checkGraph({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'B' } } })).toThrow(
      'state "A" goes to "B", which is not a state of the workflow; add it or fix the name',
    );
  });

  it('names an unreachable state', () => {
    expect(() =>
      checkGraph({ StartAt: 'A', States: { A: { Type: 'Succeed' }, B: { Type: 'Succeed' } } }),
    ).toThrow('state "B" cannot be reached from "A"');
  });

  it('checks the graph inside a Map iteration too', () => {
    expect(() =>
      checkGraph({
        StartAt: 'M',
        States: {
          M: {
            Type: 'Map',
            End: true,
            ItemProcessor: { StartAt: 'X', States: { X: { Type: 'Pass' } } },
          },
        },
      }),
    ).toThrow('state "X" has neither Next nor End');
  });
});
