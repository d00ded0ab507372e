import { describe, expect, it } from 'vitest';
import {
  approversForPrincipal,
  describeIdentity,
  MappablePrincipalArnPattern,
} from '../../../src/core/caller-identity.ts';

const mapping = [
  { arn: 'arn:aws:iam::123456789012:user/ops/dana', approver: 'U0DANA' },
  {
    arn: 'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/Releasers',
    approver: 'U0LEAD',
  },
  { arn: 'arn:aws:sts::123456789012:assumed-role/Operators/sam@example.com', approver: 'U0SAM' },
];

describe('approversForPrincipal', () => {
  it('maps an IAM user by its exact ARN', () => {
    expect(approversForPrincipal(mapping, 'arn:aws:iam::123456789012:user/ops/dana')).toEqual([
      'U0DANA',
    ]);
  });

  it('maps every session of a role by its name, as STS reports it (no path)', () => {
    expect(
      approversForPrincipal(
        mapping,
        'arn:aws:sts::123456789012:assumed-role/Releasers/anyone@example.com',
      ),
    ).toEqual(['U0LEAD']);
  });

  it('maps one session of a role exactly (one SSO user), not its other sessions', () => {
    expect(
      approversForPrincipal(
        mapping,
        'arn:aws:sts::123456789012:assumed-role/Operators/sam@example.com',
      ),
    ).toEqual(['U0SAM']);
    expect(
      approversForPrincipal(
        mapping,
        'arn:aws:sts::123456789012:assumed-role/Operators/mallory@example.com',
      ),
    ).toEqual([]);
  });

  it('maps nothing from another account, another partition, or a same-named user', () => {
    for (const arn of [
      'arn:aws:sts::999999999999:assumed-role/Releasers/lead',
      'arn:aws-cn:sts::123456789012:assumed-role/Releasers/lead',
      'arn:aws:iam::123456789012:user/Releasers',
      'arn:aws:iam::123456789012:user/dana',
      'arn:aws:iam::123456789012:role/Releasers',
    ]) {
      expect(approversForPrincipal(mapping, arn), arn).toEqual([]);
    }
  });
});

describe('MappablePrincipalArnPattern', () => {
  it('accepts users, roles and assumed-role sessions', () => {
    for (const arn of mapping.map((m) => m.arn)) {
      expect(MappablePrincipalArnPattern.test(arn), arn).toBe(true);
    }
    expect(
      MappablePrincipalArnPattern.test('arn:aws-us-gov:iam::123456789012:role/Releasers'),
    ).toBe(true);
  });

  it('refuses wildcards, policy variables, roots and other resources', () => {
    for (const arn of [
      'arn:aws:iam::123456789012:role/*',
      'arn:aws:iam::123456789012:user/dan?',
      'arn:aws:sts::123456789012:assumed-role/Releasers/*',
      // A policy variable: IAM would substitute it in a policy.
      `arn:aws:iam::123456789012:user/${'$'}{aws:username}`,
      'arn:aws:iam::*:role/Releasers',
      'arn:aws:iam::123456789012:root',
      'arn:aws:iam::123456789012:group/Releasers',
      'arn:aws:sts::123456789012:federated-user/dana',
      'arn:aws:iam::123456789012:role/Releasers ',
      `arn:aws:iam::123456789012:role/${'r'.repeat(65)}`,
    ]) {
      expect(MappablePrincipalArnPattern.test(arn), arn).toBe(false);
    }
  });
});

describe('describeIdentity', () => {
  it('labels where each identity came from', () => {
    expect(
      describeIdentity({
        source: 'aws-sts',
        actor: 'dana',
        principalArn: 'arn:aws:iam::123456789012:user/dana',
      }),
    ).toBe('dana, AWS principal arn:aws:iam::123456789012:user/dana (STS GetCallerIdentity)');
    expect(
      describeIdentity({ source: 'slack-signature', actor: 'dana', slackUserId: 'U0DANA' }),
    ).toBe('dana (U0DANA), Slack user (request signature verified)');
  });
});
