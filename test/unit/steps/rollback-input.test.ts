import { describe, expect, it } from 'vitest';
import { FailureSchema } from '../../../src/steps/inputs.ts';
import { failureMessage } from '../../../src/steps/rollback.ts';

// What a Catch hands Rollback differs by engine: Step Functions documents `Cause` as optional,
// Lambda tasks give an error document as JSON, other engines a bare message or nothing.
const read = (failure: unknown) => failureMessage(FailureSchema.parse(failure));

describe('Rollback’s failure input', () => {
  it('reads the message of a Lambda error document, as Step Functions hands it', () => {
    const cause = JSON.stringify({
      errorType: 'GreenTestFailed',
      errorMessage: 'health answered 500',
      trace: ['GreenTestFailed: health answered 500', '    at run (test-green.ts:40:11)'],
    });
    expect(read({ Error: 'GreenTestFailed', Cause: cause })).toBe('health answered 500');
  });

  it('takes a bare message, as a local engine hands it', () => {
    expect(read({ Error: 'GreenTestFailed', Cause: 'health answered 500' })).toBe(
      'health answered 500',
    );
  });

  it('rolls back with a stated reason when the Cause is missing, null or empty', () => {
    expect(read({ Error: 'States.Timeout' })).toBe('(no cause given)');
    expect(read({ Error: 'States.Timeout', Cause: null })).toBe('(no cause given)');
    expect(read({ Error: 'States.Timeout', Cause: '' })).toBe('(no cause given)');
  });

  it('takes a Cause that is JSON but not an error document, or not a string at all', () => {
    expect(read({ Error: 'X', Cause: '{"reason":"quota"}' })).toBe('{"reason":"quota"}');
    expect(read({ Error: 'X', Cause: { errorMessage: 'as an object' } })).toBe('as an object');
    expect(read({ Error: 'X', Cause: 42 })).toBe('42');
  });

  it('never refuses a failure, even one without an error name', () => {
    expect(FailureSchema.parse({ Cause: 'lost' })).toEqual({
      Error: 'States.Unknown',
      Cause: 'lost',
    });
    expect(FailureSchema.parse({ Error: null })).toEqual({ Error: 'States.Unknown' });
  });
});
