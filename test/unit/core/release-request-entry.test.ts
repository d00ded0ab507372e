import { describe, expect, it } from 'vitest';
import { ReleaseRequestedV1 } from '../../../src/core/release-event.ts';
import { buildReleaseRequestEntry } from '../../../src/core/release-request-entry.ts';
import { releaseRulePattern } from '../../../src/core/release-rule.ts';

describe('buildReleaseRequestEntry', () => {
  it('builds the PutEvents entry with the detail-type the release rule matches', () => {
    const entry = buildReleaseRequestEntry({
      bus: 'greenlight-prod',
      source: 'greenlight.ci.payments',
      detail: {
        service: 'checkout',
        version: '1.4.2',
        artifact: { imageUri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1.4.2' },
      },
    });
    expect(entry).toEqual({
      EventBusName: 'greenlight-prod',
      Source: 'greenlight.ci.payments',
      DetailType: 'Release Requested',
      Detail:
        '{"schemaVersion":1,"service":"checkout","version":"1.4.2","artifact":{"imageUri":"123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1.4.2"}}',
    });
    expect(releaseRulePattern['detail-type']).toContain(entry.DetailType);
  });

  it('writes schema version 1 so that a detail without one still passes the schema', () => {
    const entry = buildReleaseRequestEntry({
      bus: 'greenlight',
      source: 'greenlight.cli',
      detail: {
        service: 'checkout',
        version: '2.0.0',
        artifact: { s3: { bucket: 'artifacts', key: 'checkout/2.0.0.zip' } },
        attempt: 3,
        allowOlder: true,
      },
      time: new Date('2026-12-06T06:00:00Z'),
    });
    const parsed = ReleaseRequestedV1.parse(JSON.parse(entry.Detail));
    expect(parsed).toMatchObject({ schemaVersion: 1, attempt: 3, allowOlder: true });
    expect(entry.Time).toEqual(new Date('2026-12-06T06:00:00Z'));
  });
});
