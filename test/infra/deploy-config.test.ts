import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { greenlight } from '../../greenlight.config.ts';
import type { ServiceConfigInput } from '../../src/core/service-config.ts';
import { ecrRepositoryArn } from '../../src/infra/arns.ts';
import {
  checkDeployConfig,
  type GreenlightDeployConfig,
  parseDeployConfig,
} from '../../src/infra/deploy-config.ts';
import { GreenlightFunction } from '../../src/infra/functions.ts';
import { greenlightNames, isProductionStage } from '../../src/infra/names.ts';
import { busPolicy } from '../../src/infra/orchestration.ts';
import { functionPolicy, IamScope } from '../../src/infra/permissions.ts';
import { StageTagKey, stageTagGuardPolicy, TagCharacters } from '../../src/infra/stage-tag.ts';
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

  it('needs the Slack secrets for an updates channel, as for Slack approval', () => {
    const [service] = greenlight.services;
    const withUpdates = (updates?: { channel: string }) =>
      parseDeployConfig(
        {
          ...greenlight,
          services: [
            {
              ...service,
              approval: { type: 'none' },
              strategies: { canary: { type: 'canary', percent: 10, bakeSeconds: 300 } },
              defaultStrategy: 'canary',
              ...(updates ? { updates } : {}),
            },
          ],
        } as typeof greenlight,
        names,
      ).usesSlack;
    expect(withUpdates()).toBe(false);
    expect(withUpdates({ channel: 'C0DEPLOYS' })).toBe(true);
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

  it('refuses a service that names greenlight’s own function or roles', () => {
    const config = aConfigOfSize(2);
    const [lambda, alb] = config.services as [ServiceConfigInput, ServiceConfigInput];
    const own = {
      ...config,
      services: [
        {
          ...lambda,
          target: { kind: 'lambda-alias', functionName: 'greenlight-prod-register', alias: 'live' },
        },
        {
          ...alb,
          target: {
            ...(alb.target as object),
            passRoles: ['arn:aws:iam::123456789012:role/greenlight-prod-operator'],
          },
        },
      ],
    } as GreenlightDeployConfig;

    const { config: parsed, problems } = checkDeployConfig(own, names);

    expect(parsed).toBeUndefined();
    expect(problems).toEqual([
      expect.stringMatching(
        /^services\[0\]\.target\.functionName: "greenlight-prod-register" looks like one of greenlight's own functions/,
      ),
      expect.stringMatching(
        /^services\[1\]\.target\.passRoles\[0\]: .* looks like one of greenlight's own roles/,
      ),
    ]);
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

describe('parseDeployConfig, for CI teams', () => {
  const payments = 'arn:aws:iam::123456789012:role/payments-ci';
  const search = 'arn:aws:iam::123456789012:role/search-ci';
  const [service] = greenlight.services;
  const withTeams = (
    ci: GreenlightDeployConfig['ci'],
    extra: Partial<GreenlightDeployConfig> = {},
  ): GreenlightDeployConfig => ({
    ...greenlight,
    services: [{ ...service, ci: { team: 'payments' } } as ServiceConfigInput],
    ci,
    ...extra,
  });

  it('carries each team’s principals, sorted, teams in name order', () => {
    const config = parseDeployConfig(
      withTeams({
        principals: [],
        teams: {
          search: { principals: [search] },
          payments: { principals: [payments, search.replace('search', 'a')] },
        },
      }),
      names,
    );
    expect(config.ciPrincipals).toEqual([]);
    expect(config.ciTeams).toEqual([
      { team: 'payments', principals: ['arn:aws:iam::123456789012:role/a-ci', payments] },
      { team: 'search', principals: [search] },
    ]);
    expect(config.registry[0]?.ci).toEqual({ team: 'payments' });
  });

  it('refuses a config with no CI principal at all', () => {
    expect(() => parseDeployConfig({ ...greenlight, ci: { principals: [] } }, names)).toThrow(
      /ci\.principals: names no CI principal/,
    );
  });

  it('refuses a principal in two teams, or in a team and the platform’s', () => {
    expect(() =>
      parseDeployConfig(
        withTeams({
          principals: [],
          teams: { payments: { principals: [payments] }, search: { principals: [payments] } },
        }),
        names,
      ),
    ).toThrow(/ci\.teams\.search\.principals\.0: is already in team "payments"/);
    expect(() =>
      parseDeployConfig(
        withTeams({ principals: [payments], teams: { payments: { principals: [payments] } } }),
        names,
      ),
    ).toThrow(/ci\.teams\.payments\.principals\.0: is already in ci\.principals/);
  });

  it('refuses a team principal that is also an operator', () => {
    expect(() =>
      parseDeployConfig(
        withTeams(
          { principals: [], teams: { payments: { principals: [payments] } } },
          { operators: { principals: [payments] } },
        ),
        names,
      ),
    ).toThrow(/ci\.teams\.payments\.principals: .* is also an operator/);
  });

  it('refuses a service naming a team nobody declared, and a team name IAM ids cannot carry', () => {
    expect(() => parseDeployConfig(withTeams({ principals: [payments] }), names)).toThrow(
      /services\[0\]\.ci\.team: team "payments" is not declared/,
    );
    expect(() =>
      parseDeployConfig(
        withTeams({ principals: [], teams: { 'pay-1': { principals: [payments] } } }),
        names,
      ),
    ).toThrow(/ci\.teams\.pay-1: .*each starting with a letter/);
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

  it('keeps each team’s principals to its own source, under either reading of events:source', () => {
    const payments = 'arn:aws:iam::123456789012:role/payments-ci';
    const eu = 'arn:aws:iam::210987654321:role/payments-eu-ci';
    const policy = busPolicy({
      busArn,
      ciPrincipals: [ci],
      ciTeams: [
        { team: 'payments-eu', principals: [eu] },
        { team: 'payments', principals: [payments] },
      ],
      publisherRoleArns: [],
    });
    const bySid = (sid: string) => policy.Statement.find((s) => s.Sid === sid);
    expect(bySid('CiPutsReleaseRequests')?.Principal).toEqual({ AWS: [ci, eu, payments].sort() });
    expect(bySid('CiTeamPaymentsPutsOnlyItsSource')).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: [payments] },
      Condition: { 'ForAnyValue:StringNotEquals': { 'events:source': ['greenlight.ci.payments'] } },
    });
    expect(bySid('CiTeamPaymentsEuPutsOnlyItsSource')).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: [eu] },
      Condition: {
        'ForAnyValue:StringNotEquals': { 'events:source': ['greenlight.ci.payments-eu'] },
      },
    });
    expect(bySid('CiTeamsNameASource')).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: [eu, payments].sort() },
      Condition: { Null: { 'events:source': 'true' } },
    });
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
  for (const scope of [IamScope.Tag, IamScope.Arn]) {
    it(`drops a statement whose resources the registry leaves empty instead of widening it (scope ${scope})`, () => {
      const registry = parseDeployConfig(greenlight, names).registry.map((s) => ({
        ...s,
        artifacts: { s3Buckets: [], imageRepositories: [] },
      }));
      const policy = functionPolicy(ReleaseFunction.ProvisionGreen, {
        at,
        names,
        registry,
        scope,
      });
      const actions = policy.Statement.flatMap((s) => s.Action);
      expect(actions).not.toContain('s3:GetObject');
      expect(policy.Statement.every((s) => s.Resource.length > 0)).toBe(true);
    });
  }

  it('conditions every grant on service resources on the stage tag in scope "tag"', () => {
    const registry = parseDeployConfig(greenlight, names).registry;
    const policy = functionPolicy(ReleaseFunction.ProvisionGreen, {
      at,
      names,
      registry,
      scope: IamScope.Tag,
    });
    const lambda = policy.Statement.find((s) => s.Action.includes('lambda:UpdateFunctionCode'));
    expect(lambda).toMatchObject({
      Resource: ['arn:aws:lambda:eu-west-1:123456789012:function:*'],
      Condition: { StringEquals: { 'aws:ResourceTag/greenlight:stage': 'test' } },
    });
    const objects = policy.Statement.find((s) => s.Action.includes('s3:GetObject'));
    expect(objects).toMatchObject({
      Resource: ['arn:aws:s3:::*/*'],
      Condition: { StringEquals: { 'aws:ResourceTag/greenlight:stage': 'test' } },
    });
  });

  it('defaults to scope "tag" and takes "arn" from the config', () => {
    expect(parseDeployConfig(greenlight, names).iamScope).toBe(IamScope.Tag);
    expect(parseDeployConfig({ ...greenlight, iam: { scope: 'arn' } }, names).iamScope).toBe(
      IamScope.Arn,
    );
    expect(() =>
      parseDeployConfig(
        { ...greenlight, iam: { scope: 'tags' } } as unknown as typeof greenlight,
        names,
      ),
    ).toThrow(/iam\.scope/);
  });

  it('leaves execution data (task tokens) out of the execution log unless the stage asks', () => {
    expect(parseDeployConfig(greenlight, names).logExecutionData).toBe(false);
    expect(
      parseDeployConfig({ ...greenlight, executionLogs: { includeExecutionData: true } }, names)
        .logExecutionData,
    ).toBe(true);
    expect(() =>
      parseDeployConfig(
        { ...greenlight, executionLogs: { includeData: true } } as unknown as typeof greenlight,
        names,
      ),
    ).toThrow(/executionLogs/);
  });
});

describe('the stage tag', () => {
  it('is guarded in the README by exactly the policy stageTagGuardPolicy builds', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const blocks = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    const shown = blocks.find((block) => block.includes('OnlyAdminsSetTheGreenlightStageTag'));
    expect(shown, 'the guard in README "Security boundary"').toBeDefined();
    expect(JSON.parse(shown ?? '{}')).toEqual(
      stageTagGuardPolicy(['arn:aws:iam::123456789012:role/platform-admin']),
    );
  });

  it('fits the tag key and value rules of every service greenlight tags', () => {
    expect(StageTagKey).toMatch(TagCharacters);
    expect(StageTagKey.length).toBeLessThanOrEqual(128);
    expect(StageTagKey.toLowerCase().startsWith('aws:')).toBe(false);
    // The longest stage names allow, in the value.
    const stage = greenlightNames('a'.repeat(34)).stage;
    expect(stage).toMatch(TagCharacters);
    expect(stage.length).toBeLessThanOrEqual(256);
  });
});

describe('the teardown rows', () => {
  const registry = parseDeployConfig(greenlight, names).registry;

  it('let the teardown and the sweeper delete versions, never a whole function', () => {
    for (const fn of [GreenlightFunction.Teardown, GreenlightFunction.Sweeper]) {
      const exact = functionPolicy(fn, { at, names, registry, scope: IamScope.Arn });
      const deletes = exact.Statement.filter((s) => s.Action.includes('lambda:DeleteFunction'));
      expect(deletes.map((s) => s.Resource)).toEqual([
        ['arn:aws:lambda:eu-west-1:123456789012:function:checkout:*'],
      ]);
      const tagged = functionPolicy(fn, { at, names, registry, scope: IamScope.Tag });
      expect(
        tagged.Statement.filter((s) => s.Action.includes('lambda:DeleteFunction')).map(
          (s) => s.Resource,
        ),
      ).toEqual([['arn:aws:lambda:eu-west-1:123456789012:function:*:*']]);
    }
  });

  it('let finalize create schedules in greenlight’s group only', () => {
    const policy = functionPolicy(GreenlightFunction.Finalize, {
      at,
      names,
      registry,
      scope: IamScope.Tag,
    });
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
