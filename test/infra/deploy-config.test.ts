import { describe, expect, it } from 'vitest';
import { greenlight } from '../../greenlight.config.ts';
import { ecrRepositoryArn } from '../../src/infra/arns.ts';
import { checkDeployConfig, parseDeployConfig } from '../../src/infra/deploy-config.ts';
import { GreenlightFunction } from '../../src/infra/functions.ts';
import { greenlightNames, isProductionStage } from '../../src/infra/names.ts';
import { busPolicy } from '../../src/infra/orchestration.ts';
import { functionPolicy } from '../../src/infra/permissions.ts';
import { tableSpecs } from '../../src/infra/tables.ts';
import { ReleaseFunction } from '../../workflows/release.ts';
import { aConfigOfSize } from '../support/registry-of-size.ts';

const names = greenlightNames('test');
const at = { partition: 'aws', region: 'eu-west-1', accountId: '123456789012' };

describe('parseDeployConfig', () => {
  it('accepts the example greenlight.config.ts', () => {
    const config = parseDeployConfig(greenlight, names);
    expect(config.registry.map((s) => s.name)).toEqual(['checkout']);
    expect(config.ciPrincipals).toEqual(greenlight.ci.principals);
  });

  it('refuses a service the handlers would refuse at load, saying why', () => {
    const [service] = greenlight.services;
    const byName = {
      ...greenlight,
      services: [{ ...service, approval: { type: 'slack', channel: '#rel', approvers: ['dana'] } }],
    } as typeof greenlight;
    expect(() => parseDeployConfig(byName, names)).toThrow(
      /approval\.approvers\[0\]: must be a Slack user id/,
    );
  });

  it('refuses CI principals that are not role or user ARNs', () => {
    expect(() => parseDeployConfig({ ...greenlight, ci: { principals: ['*'] } }, names)).toThrow(
      /ci\.principals\.0: must be an IAM role or user ARN/,
    );
  });

  it('keeps every function’s environment the same size whatever the registry holds', () => {
    const largest = (services: number) => {
      const checked = checkDeployConfig(aConfigOfSize(services), names);
      expect(checked.problems.filter((p) => p.includes('environment'))).toEqual([]);
      return Math.max(
        ...checked.quotas.filter((q) => q.kind === 'environment-bytes').map((q) => q.used),
      );
    };
    const one = largest(1);
    expect(largest(500)).toBe(one);
    expect(one).toBeLessThan(4096 / 2);
  });
});

describe('busPolicy', () => {
  const busArn = 'arn:aws:events:eu-west-1:123456789012:event-bus/greenlight-test';
  const ci = 'arn:aws:iam::123456789012:role/ci';
  const ops = 'arn:aws:iam::123456789012:role/ops';
  const both = 'arn:aws:iam::123456789012:role/release-manager';

  it('lets each principal put only its own kind of event, and both kinds to one that is both', () => {
    const policy = busPolicy({
      busArn,
      ciPrincipals: [ci, both],
      operatorPrincipals: [ops, both],
      publisherRoleArns: ['arn:aws:iam::123456789012:role/greenlight-test-operator'],
    });
    const own = (effect: 'Allow' | 'Deny', operator: string) =>
      policy.Statement.filter((s) => s.Effect === effect && s.Condition?.[operator]).map((s) => [
        s.Principal,
        s.Condition?.[operator]?.['events:detail-type'],
      ]);

    // Written for a multivalued events:detail-type (orchestration.ts says why).
    const kinds = [
      [{ AWS: [ci] }, ['Release Requested']],
      [{ AWS: [ops] }, ['Operator Command']],
      [{ AWS: [both] }, ['Release Requested', 'Operator Command']],
    ];
    expect(own('Allow', 'ForAllValues:StringEquals')).toEqual(kinds);
    expect(own('Deny', 'ForAnyValue:StringNotEquals')).toEqual(kinds);
    for (const allow of policy.Statement.filter((s) => s.Effect === 'Allow')) {
      expect(allow.Condition?.Null).toEqual({ 'events:detail-type': 'false' });
    }
    expect(own('Deny', 'Null')).toEqual([[{ AWS: [ci, ops, both].sort() }, 'true']]);
  });

  it('has no operator statements when no operators are named', () => {
    const policy = busPolicy({ busArn, ciPrincipals: [ci], publisherRoleArns: [] });
    expect(policy.Statement.map((s) => s.Sid)).toEqual([
      'CiPutsReleaseRequests',
      'OnlyCiOperatorsAndGreenlightPut',
      'CiPutsOnlyReleaseRequests',
      'CiAndOperatorsNameADetailType',
    ]);
  });
});

describe('functionPolicy', () => {
  it('drops a statement whose resources the registry leaves empty instead of widening it', () => {
    const registry = parseDeployConfig(greenlight, names).registry.map((s) => ({
      ...s,
      artifacts: { s3Buckets: [], imageRepositories: [] },
    }));
    const policy = functionPolicy(ReleaseFunction.ProvisionGreen, { at, names, registry });
    const actions = policy.Statement.flatMap((s) => s.Action);
    expect(actions).not.toContain('s3:GetObject');
    expect(policy.Statement.every((s) => s.Resource.length > 0)).toBe(true);
  });
});

describe('the teardown rows', () => {
  const registry = parseDeployConfig(greenlight, names).registry;

  it('let the teardown and the sweeper delete versions, never a whole function', () => {
    for (const fn of [GreenlightFunction.Teardown, GreenlightFunction.Sweeper]) {
      const policy = functionPolicy(fn, { at, names, registry });
      const deletes = policy.Statement.filter((s) => s.Action.includes('lambda:DeleteFunction'));
      expect(deletes.map((s) => s.Resource)).toEqual([
        ['arn:aws:lambda:eu-west-1:123456789012:function:checkout:*'],
      ]);
    }
  });

  it('let finalize create schedules in greenlight’s group only', () => {
    const policy = functionPolicy(GreenlightFunction.Finalize, { at, names, registry });
    const schedules = policy.Statement.find((s) => s.Action.includes('scheduler:CreateSchedule'));
    expect(schedules?.Resource).toEqual([
      'arn:aws:scheduler:eu-west-1:123456789012:schedule/greenlight-test/*',
    ]);
  });
});

describe('ecrRepositoryArn', () => {
  it('turns a repository URI into its ARN and refuses other registries', () => {
    expect(ecrRepositoryArn(at, '210987654321.dkr.ecr.us-east-1.amazonaws.com/team/app')).toBe(
      'arn:aws:ecr:us-east-1:210987654321:repository/team/app',
    );
    expect(() => ecrRepositoryArn(at, 'ghcr.io/acme/app')).toThrow(/ECR repository URI/);
  });
});

describe('greenlightNames', () => {
  it('refuses stages that cannot name AWS resources', () => {
    expect(() => greenlightNames('Prod_1')).toThrow(/lowercase/);
    expect(() => greenlightNames('x'.repeat(40))).toThrow(/too long/);
  });
});

describe('tableSpecs', () => {
  it('protects tables from deletion in production stages only', () => {
    expect(isProductionStage('prod')).toBe(true);
    expect(tableSpecs(names, true).every((t) => t.deletionProtection)).toBe(true);
    expect(tableSpecs(names, false).some((t) => t.deletionProtection)).toBe(false);
    expect(tableSpecs(names, false).every((t) => t.pointInTimeRecovery)).toBe(true);
  });
});
