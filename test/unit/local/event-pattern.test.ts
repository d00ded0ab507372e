import { describe, expect, it } from 'vitest';
import { matchesPattern } from '../../../src/local/event-pattern.ts';

const releaseRequested = {
  version: '0',
  id: 'c3f1a2b4-0000-4000-8000-000000000001',
  'detail-type': 'Release Requested',
  source: 'ci.github',
  account: '000000000000',
  time: '2025-01-01T00:00:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:lambda:us-east-1:000000000000:function:checkout'],
  detail: {
    schemaVersion: 1,
    service: 'checkout',
    version: 'v42',
    attempt: 2,
    tags: ['canary', 'eu'],
    ci: { provider: 'GitHub', runUrl: 'https://ci.example/run/7' },
    commit: null,
  },
};

describe('matchesPattern', () => {
  it('matches when every named field has one of the listed values', () => {
    expect(matchesPattern(releaseRequested, { 'detail-type': ['Release Requested'] })).toBe(true);
    expect(
      matchesPattern(releaseRequested, {
        source: ['ci.gitlab', 'ci.github'],
        detail: { service: ['checkout'], schemaVersion: [1] },
      }),
    ).toBe(true);
  });

  it('does not match when any named field has another value', () => {
    expect(matchesPattern(releaseRequested, { 'detail-type': ['Release Finalized'] })).toBe(false);
    expect(
      matchesPattern(releaseRequested, {
        source: ['ci.github'],
        detail: { service: ['payments'] },
      }),
    ).toBe(false);
  });

  it('does not match a string value against a number in the pattern', () => {
    expect(matchesPattern(releaseRequested, { detail: { schemaVersion: ['1'] } })).toBe(false);
  });

  it('matches nested objects and array values element by element', () => {
    expect(matchesPattern(releaseRequested, { detail: { ci: { provider: ['GitHub'] } } })).toBe(
      true,
    );
    expect(matchesPattern(releaseRequested, { detail: { tags: ['eu'] } })).toBe(true);
    expect(matchesPattern(releaseRequested, { detail: { tags: ['us'] } })).toBe(false);
  });

  it('matches null only against a null value, not a missing one', () => {
    expect(matchesPattern(releaseRequested, { detail: { commit: [null] } })).toBe(true);
    expect(matchesPattern(releaseRequested, { detail: { actor: [null] } })).toBe(false);
  });

  it('applies prefix, suffix and equals-ignore-case filters to strings', () => {
    expect(matchesPattern(releaseRequested, { source: [{ prefix: 'ci.' }] })).toBe(true);
    expect(matchesPattern(releaseRequested, { source: [{ prefix: 'greenlight' }] })).toBe(false);
    expect(matchesPattern(releaseRequested, { detail: { version: [{ suffix: '42' }] } })).toBe(
      true,
    );
    expect(matchesPattern(releaseRequested, { detail: { version: [{ suffix: '43' }] } })).toBe(
      false,
    );
    expect(
      matchesPattern(releaseRequested, {
        'detail-type': [{ 'equals-ignore-case': 'release requested' }],
      }),
    ).toBe(true);
    expect(
      matchesPattern(releaseRequested, { source: [{ prefix: { 'equals-ignore-case': 'CI.' } }] }),
    ).toBe(true);
  });

  it('treats exists as presence of the field', () => {
    expect(matchesPattern(releaseRequested, { detail: { version: [{ exists: true }] } })).toBe(
      true,
    );
    expect(matchesPattern(releaseRequested, { detail: { actor: [{ exists: true }] } })).toBe(false);
    expect(matchesPattern(releaseRequested, { detail: { actor: [{ exists: false }] } })).toBe(true);
    expect(matchesPattern(releaseRequested, { detail: { version: [{ exists: false }] } })).toBe(
      false,
    );
  });

  it('matches anything-but only when the value is present and excluded', () => {
    expect(
      matchesPattern(releaseRequested, { detail: { service: [{ 'anything-but': ['payments'] }] } }),
    ).toBe(true);
    expect(
      matchesPattern(releaseRequested, { detail: { service: [{ 'anything-but': 'checkout' }] } }),
    ).toBe(false);
    expect(
      matchesPattern(releaseRequested, {
        source: [{ 'anything-but': { prefix: 'ci.' } }],
      }),
    ).toBe(false);
    expect(
      matchesPattern(releaseRequested, { detail: { actor: [{ 'anything-but': 'robot' }] } }),
    ).toBe(false);
  });

  it('compares numbers with numeric ranges', () => {
    expect(matchesPattern(releaseRequested, { detail: { attempt: [{ numeric: ['>', 1] }] } })).toBe(
      true,
    );
    expect(
      matchesPattern(releaseRequested, { detail: { attempt: [{ numeric: ['>', 0, '<=', 1] }] } }),
    ).toBe(false);
    expect(matchesPattern(releaseRequested, { detail: { attempt: [{ numeric: ['=', 2] }] } })).toBe(
      true,
    );
    expect(matchesPattern(releaseRequested, { detail: { version: [{ numeric: ['>', 0] }] } })).toBe(
      false,
    );
  });

  it('matches when any $or branch matches', () => {
    expect(
      matchesPattern(releaseRequested, {
        $or: [{ source: ['greenlight'] }, { detail: { service: ['checkout'] } }],
      }),
    ).toBe(true);
    expect(
      matchesPattern(releaseRequested, {
        $or: [{ source: ['greenlight'] }, { detail: { service: ['payments'] } }],
      }),
    ).toBe(false);
  });

  it('rejects a pattern whose leaf is not an array', () => {
    expect(() => matchesPattern(releaseRequested, { source: 'ci.github' })).toThrow(
      /leaves must be arrays/,
    );
  });
});
