import { describe, expect, it } from 'vitest';
import { resolveSharedOptions, suggestFlag, UsageError } from '../../../src/cli/options.ts';

describe('resolveSharedOptions', () => {
  it('uses the defaults when neither flag nor environment says otherwise', () => {
    expect(resolveSharedOptions({}, {})).toEqual({
      bus: 'greenlight',
      ledgerTable: 'greenlight-ledger',
      json: false,
    });
  });

  it('prefers flags over the environment', () => {
    const env = { GREENLIGHT_BUS: 'env-bus', GREENLIGHT_LEDGER_TABLE: 'env-ledger' };
    expect(resolveSharedOptions({}, env)).toMatchObject({
      bus: 'env-bus',
      ledgerTable: 'env-ledger',
    });
    expect(
      resolveSharedOptions({ bus: 'flag-bus', 'ledger-table': 'flag-ledger' }, env),
    ).toMatchObject({ bus: 'flag-bus', ledgerTable: 'flag-ledger' });
  });

  it('passes region and endpoint through only when given', () => {
    expect(
      resolveSharedOptions({ region: 'eu-west-1', 'endpoint-url': 'http://127.0.0.1:4010' }, {}),
    ).toMatchObject({ region: 'eu-west-1', endpointUrl: 'http://127.0.0.1:4010' });
  });

  it('takes the region from AWS_DEFAULT_REGION when it is the only one set', () => {
    expect(resolveSharedOptions({}, { AWS_DEFAULT_REGION: 'eu-central-1' })).toMatchObject({
      region: 'eu-central-1',
    });
  });

  it('prefers AWS_REGION over AWS_DEFAULT_REGION, as the AWS CLI does', () => {
    const env = { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'eu-central-1' };
    expect(resolveSharedOptions({}, env)).toMatchObject({ region: 'eu-west-1' });
  });

  it('prefers --region over both region variables', () => {
    const env = { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'eu-central-1' };
    expect(resolveSharedOptions({ region: 'ap-south-1' }, env)).toMatchObject({
      region: 'ap-south-1',
    });
  });

  it('leaves the region to the SDK (the profile) when neither flag nor variable is set', () => {
    expect(resolveSharedOptions({}, { AWS_REGION: '', AWS_DEFAULT_REGION: '' })).not.toHaveProperty(
      'region',
    );
  });

  it('rejects an endpoint that is not a URL', () => {
    expect(() => resolveSharedOptions({ 'endpoint-url': '127.0.0.1 4010' }, {})).toThrow(
      UsageError,
    );
  });
});

describe('suggestFlag', () => {
  it('suggests the closest flag within two edits', () => {
    expect(suggestFlag('ledger-tabel', ['bus', 'ledger-table', 'json'])).toBe('ledger-table');
  });

  it('suggests nothing when no flag is close', () => {
    expect(suggestFlag('frobnicate', ['bus', 'ledger-table', 'json'])).toBeUndefined();
  });
});
