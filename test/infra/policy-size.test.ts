import { describe, expect, it } from 'vitest';
import { checkDeployConfig } from '../../src/infra/deploy-config.ts';
import { greenlightNames } from '../../src/infra/names.ts';
import { IamScope } from '../../src/infra/permissions.ts';
import { AwsQuota, QuotaKind, type QuotaUse } from '../../src/infra/quotas.ts';
import { aConfigOfSize } from '../support/registry-of-size.ts';

/**
 * IAM's share of issue 10 (500 services per stage): each role's inline policies, measured by
 * the deploy's own check (checkDeployConfig → measureQuotas) on configs of the README's Lambda
 * and ALB shapes alternating. Only the policy figures: the registry still travels in the
 * functions' environment, which outgrows Lambda's 4 KB long before.
 */

const names = greenlightNames('prod');
/** Well within: room for the table to grow, and for a longer stage name or partition. */
const margin = 0.6;

const policySizes = (count: number, scope: IamScope): Map<string, number> => {
  const checked = checkDeployConfig({ ...aConfigOfSize(count), iam: { scope } }, names);
  expect(checked.config?.registry).toHaveLength(count);
  return new Map(
    checked.quotas
      .filter((use: QuotaUse) => use.kind === QuotaKind.InlinePolicyCharacters)
      .map((use) => [use.resource, use.used]),
  );
};
const largest = (sizes: Map<string, number>) =>
  [...sizes].reduce((top, each) => (each[1] > top[1] ? each : top));

describe('role policy sizes for a stage of many services', () => {
  it('keeps every role within 60% of IAM’s 10,240 characters at 500 services (scope "tag")', () => {
    const sizes = policySizes(500, IamScope.Tag);
    const [role, used] = largest(sizes);
    expect(used, `largest: ${role}`).toBeLessThanOrEqual(
      AwsQuota.roleInlinePolicyCharacters * margin,
    );
  });

  it('does not grow with the number of services from 5 to 500 (scope "tag")', () => {
    // Five services of the two shapes already need every grant a service can bring.
    const five = policySizes(5, IamScope.Tag);
    for (const count of [50, 500]) {
      expect(policySizes(count, IamScope.Tag), `${count} services`).toEqual(five);
    }
  });

  it('grows with every service when the roles name each resource (scope "arn")', () => {
    const fifty = largest(policySizes(50, IamScope.Arn))[1];
    expect(fifty).toBeGreaterThan(largest(policySizes(5, IamScope.Arn))[1]);
    expect(fifty).toBeGreaterThan(AwsQuota.roleInlinePolicyCharacters);
    const checked = checkDeployConfig({ ...aConfigOfSize(50), iam: { scope: 'arn' } }, names);
    expect(checked.problems).toContainEqual(
      expect.stringMatching(/inline policy characters \d+ > 10240; .*iam: \{ scope: "tag" \}/),
    );
  });
});
