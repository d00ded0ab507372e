import { describe, expect, it } from 'vitest';
import { eventually } from '../../support/eventually.ts';

describe('eventually', () => {
  it('resolves to the first answer other than undefined, false included', async () => {
    const answers = [undefined, undefined, false, true];

    expect(await eventually(() => answers.shift(), { what: 'an answer', intervalMs: 1 })).toBe(
      false,
    );
    expect(answers).toEqual([true]);
  });

  it('awaits a probe that answers with a promise, 0 included', async () => {
    let calls = 0;

    const value = await eventually(async () => (++calls < 3 ? undefined : 0), {
      what: 'the third call',
      intervalMs: 1,
    });

    expect([value, calls]).toEqual([0, 3]);
  });

  it('times out with what it waited for, described after the last probe', async () => {
    let seen = 0;

    const error = await eventually(
      () => {
        seen += 1;
        return undefined;
      },
      { what: () => `a value; ${seen} probes saw none`, timeoutMs: 30, intervalMs: 5 },
    ).catch((thrown: unknown) => thrown);

    expect(seen).toBeGreaterThan(1);
    expect(error).toEqual(
      new Error(`Timed out after 30 ms waiting for a value; ${seen} probes saw none`),
    );
  });

  it('ends the wait with the error a probe throws', async () => {
    await expect(
      eventually(
        () => {
          throw new Error('the ledger is down');
        },
        { what: 'never' },
      ),
    ).rejects.toThrow('the ledger is down');
  });
});
