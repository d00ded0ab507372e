import { describe, expect, it } from 'vitest';
import { deriveReleaseId } from '../../../src/core/release-id.ts';

const ExecutionName = /^[A-Za-z0-9_-]{1,80}$/;

describe('deriveReleaseId', () => {
  it('returns the same id for the same service, version and attempt', () => {
    expect(deriveReleaseId('checkout', '1.4.2', 1)).toBe(deriveReleaseId('checkout', '1.4.2', 1));
  });

  it('starts with a readable service, version and attempt', () => {
    expect(deriveReleaseId('checkout', '1.4.2', 3)).toMatch(/^checkout-1-4-2-a3-[0-9a-f]{10}$/);
  });

  it('gives different ids to versions that read the same once sanitized', () => {
    expect(deriveReleaseId('checkout', '1.2.3', 1)).not.toBe(
      deriveReleaseId('checkout', '1-2-3', 1),
    );
  });

  it('gives different ids to different attempts of one version', () => {
    expect(deriveReleaseId('checkout', '1.4.2', 1)).not.toBe(
      deriveReleaseId('checkout', '1.4.2', 2),
    );
  });

  it('keeps service and version apart when their dashes could shift between them', () => {
    expect(deriveReleaseId('a-b', 'c', 1)).not.toBe(deriveReleaseId('a', 'b-c', 1));
  });

  it('is a valid execution name for characters Step Functions rejects', () => {
    expect(deriveReleaseId('checkout', '2.0.0+build.7', 1)).toMatch(ExecutionName);
  });

  it('stays within 80 characters for the longest service, version and attempt', () => {
    const id = deriveReleaseId('s'.repeat(40), `1.${'9'.repeat(62)}`, 999);

    expect(id).toMatch(ExecutionName);
    expect(id).toHaveLength(80);
    expect(id.startsWith(`${'s'.repeat(40)}-1-9`)).toBe(true);
    expect(id).toContain('-a999-');
  });

  it('distinguishes long versions that differ only past the cut', () => {
    const base = `1.${'0'.repeat(60)}`;

    expect(deriveReleaseId('s'.repeat(40), `${base}1`, 1)).not.toBe(
      deriveReleaseId('s'.repeat(40), `${base}2`, 1),
    );
  });
});
