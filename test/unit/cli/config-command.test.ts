import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoServiceRegistry } from '../../../src/aws/dynamo-registry.ts';
import { registryTableInput } from '../../../src/aws/dynamo-tables.ts';
import { type RegistryOpener, runConfigCommand } from '../../../src/cli/config-command.ts';
import { ExitCode } from '../../../src/cli/exit-codes.ts';
import type { GreenlightDeployConfig } from '../../../src/infra/deploy-config.ts';
import { GreenlightFunction } from '../../../src/infra/functions.ts';
import { useFreshLedgerTable } from '../../support/dynalite.ts';
import { aConfigOfSize } from '../../support/registry-of-size.ts';
import { aContext } from './fixtures.ts';

const loading = (config: GreenlightDeployConfig) => async () => config;
/** Grants naming every service's resources (IAM scope "arn"): they grow with the registry. */
const byArn = (config: GreenlightDeployConfig): GreenlightDeployConfig => ({
  ...config,
  iam: { scope: 'arn' },
});

describe('greenlight config check', () => {
  it('passes the repository’s greenlight.config.ts, measured per function and role', async () => {
    const { context, out } = aContext();

    const code = await runConfigCommand(['check', '--json'], context);

    const report = JSON.parse(out.join('\n'));
    expect(code).toBe(ExitCode.Finalized);
    expect(report).toMatchObject({ ok: true, services: 1, problems: [] });
    const environments = report.quotas.filter(
      (use: { kind: string }) => use.kind === 'environment-bytes',
    );
    expect(environments.map((use: { resource: string }) => use.resource).sort()).toEqual(
      Object.values(GreenlightFunction)
        .map((fn) => `function greenlight-prod-${fn}`)
        .sort(),
    );
    for (const use of report.quotas) {
      expect(use.used).toBeGreaterThanOrEqual(0);
      expect(use.used).toBeLessThanOrEqual(use.limit);
    }
  });

  it('fails a stage whose grants by ARN outgrow a role’s inline policy quota, saying where', async () => {
    const { context, out } = aContext();

    const code = await runConfigCommand(
      ['check', '--json', '--stage', 'test'],
      context,
      loading(byArn(aConfigOfSize(40))),
    );

    const report = JSON.parse(out.join('\n'));
    expect(code).toBe(ExitCode.Failure);
    expect(report.ok).toBe(false);
    expect(report.services).toBe(40);
    expect(report.problems).toContainEqual(
      expect.stringMatching(
        /^role greenlight-test-provision-green: inline policy characters \d+ > 10240; IAM refuses/,
      ),
    );
    const over = report.quotas.filter(
      (use: { used: number; limit: number }) => use.used > use.limit,
    );
    expect(over.length).toBe(report.problems.length);
  });

  it('prints the use closest to each limit, and the problems on stderr', async () => {
    const { context, out, err } = aContext();

    const code = await runConfigCommand(['check'], context, loading(byArn(aConfigOfSize(40))));

    expect(code).toBe(ExitCode.Failure);
    expect(out[0]).toBe('greenlight.config.ts: 40 services');
    expect(out[1]).toMatch(/^ {2}environment-bytes: \d+ of 4096 \(\d+%\), most in function /);
    expect(out[2]).toMatch(/^ {2}inline-policy-characters: \d+ of 10240 \(\d+%\), most in role /);
    expect(err.length).toBeGreaterThan(0);
    expect(err.every((line) => line.startsWith('problem: '))).toBe(true);
  });

  it('measures the bus policy against EventBridge’s quota, and fails a stage of too many CI teams', async () => {
    const teams = (count: number): GreenlightDeployConfig => ({
      ...aConfigOfSize(2),
      ci: {
        principals: [],
        teams: Object.fromEntries(
          Array.from({ length: count }, (_, i) => [
            `team-${String.fromCharCode(97 + (i % 26))}${i}`,
            { principals: [`arn:aws:iam::123456789012:role/team-${i}-ci`] },
          ]),
        ),
      },
    });
    const check = async (config: GreenlightDeployConfig) => {
      const { context, out } = aContext();
      const code = await runConfigCommand(['check', '--json'], context, loading(config));
      const report = JSON.parse(out.join('\n'));
      const bus = report.quotas.filter(
        (use: { kind: string }) => use.kind === 'bus-policy-characters',
      );
      return { code, report, bus };
    };

    const few = await check(teams(3));
    expect(few.report.problems).toEqual([]);
    expect(few.code).toBe(ExitCode.Finalized);
    expect(few.bus).toEqual([
      {
        resource: 'bus greenlight-prod',
        kind: 'bus-policy-characters',
        used: expect.any(Number),
        limit: 10240,
      },
    ]);
    const many = await check(teams(30));
    expect(many.bus[0].used).toBeGreaterThan(few.bus[0].used + 27 * 400);
    expect(many.code).toBe(ExitCode.Failure);
    expect(many.report.problems).toContainEqual(
      expect.stringMatching(
        /^bus greenlight-prod: bus policy characters \d+ > 10240; EventBridge refuses/,
      ),
    );
  });

  it('reports a config the parser refuses, with the field, and no quotas', async () => {
    const { context, out } = aContext();
    const config = { ...aConfigOfSize(1), ci: { principals: ['*'] } };

    const code = await runConfigCommand(['check', '--json'], context, loading(config));

    expect(code).toBe(ExitCode.Failure);
    expect(JSON.parse(out.join('\n'))).toMatchObject({
      ok: false,
      quotas: [],
      problems: [expect.stringMatching(/^ci\.principals\.0: must be an IAM role or user ARN/)],
    });
  });

  it('refuses an unknown subcommand or flag as a usage error', async () => {
    const { context, err } = aContext();
    expect(await runConfigCommand(['lint'], context)).toBe(ExitCode.Usage);
    expect(await runConfigCommand(['check', '--stag', 'x'], context)).toBe(ExitCode.Usage);
    expect(err.join('\n')).toMatch(/Did you mean --stage\?/);
  });
});

describe('greenlight config apply', () => {
  const table = useFreshLedgerTable('config-apply');
  const opened: string[] = [];
  /** The stage's registry table on dynalite, as the command would open it on AWS. */
  const onDynalite: RegistryOpener = (options) => {
    opened.push(options.tableName);
    return new DynamoServiceRegistry({ client: table().client, tableName: options.tableName });
  };
  const registryTable = async () => {
    const tableName = `${table().tableName}-registry`;
    await table().client.send(new CreateTableCommand(registryTableInput(tableName)));
    return tableName;
  };
  const apply = (args: string[], config: GreenlightDeployConfig) => {
    const { context, out, err } = aContext({ USER: 'dana' });
    const code = runConfigCommand(['apply', ...args], context, loading(config), onDynalite);
    return { code, out, err };
  };

  it('writes every service of the config to the stage’s registry, for the next release', async () => {
    const tableName = await registryTable();

    const { code, out } = apply(['--registry-table', tableName], aConfigOfSize(3));

    expect(await code).toBe(ExitCode.Finalized);
    expect(out).toEqual(['Applied 3 services: svc-001, svc-002, svc-003']);
    const registry = new DynamoServiceRegistry({ client: table().client, tableName });
    expect((await registry.list()).map((service) => service.name)).toEqual([
      'svc-001',
      'svc-002',
      'svc-003',
    ]);
    expect(await registry.find('svc-002')).toMatchObject({ target: { kind: 'alb-listener' } });
  });

  it('applies only the named services, and prunes the ones the config no longer lists', async () => {
    const tableName = await registryTable();
    await apply(['--registry-table', tableName], aConfigOfSize(3)).code;
    const smaller = aConfigOfSize(2);

    const only = apply(['--registry-table', tableName, '--service', 'svc-002', '--json'], smaller);
    expect(await only.code).toBe(ExitCode.Finalized);
    expect(JSON.parse(only.out.join(''))).toEqual({ applied: ['svc-002'], removed: [] });
    const pruned = apply(['--registry-table', tableName, '--prune', '--json'], smaller);
    expect(await pruned.code).toBe(ExitCode.Finalized);
    expect(JSON.parse(pruned.out.join(''))).toEqual({
      applied: ['svc-001', 'svc-002'],
      removed: ['svc-003'],
    });
    const registry = new DynamoServiceRegistry({ client: table().client, tableName });
    expect(await registry.find('svc-003')).toBeUndefined();
  });

  it('writes nothing from a config the parser refuses', async () => {
    const tableName = await registryTable();
    const config = aConfigOfSize(2);
    const broken = { ...config, services: [...config.services, { name: 'Bad Name' }] };

    const { code, err } = apply(['--registry-table', tableName], broken as GreenlightDeployConfig);

    expect(await code).toBe(ExitCode.Failure);
    expect(err.at(-1)).toBe('greenlight.config.ts: nothing applied');
    expect(opened).not.toContain(tableName);
  });

  it('opens the stage’s registry table unless told another', async () => {
    await table().client.send(
      new CreateTableCommand(registryTableInput('greenlight-test-registry')),
    );

    const { code } = apply(['--stage', 'test'], aConfigOfSize(1));

    expect(await code).toBe(ExitCode.Finalized);
    expect(opened.at(-1)).toBe('greenlight-test-registry');
  });

  it('refuses a service the config does not register, before opening anything', async () => {
    const before = opened.length;
    const { code, err } = apply(['--service', 'nobody'], aConfigOfSize(1));

    expect(await code).toBe(ExitCode.Usage);
    expect(err[0]).toBe('greenlight config: greenlight.config.ts registers no service "nobody".');
    expect(opened).toHaveLength(before);
  });
});
