import { describe, expect, it } from 'vitest';
import { runConfigCommand } from '../../../src/cli/config-command.ts';
import { ExitCode } from '../../../src/cli/exit-codes.ts';
import type { GreenlightDeployConfig } from '../../../src/infra/deploy-config.ts';
import { GreenlightFunction } from '../../../src/infra/functions.ts';
import { aConfigOfSize } from '../../support/registry-of-size.ts';
import { aContext } from './fixtures.ts';

const loading = (config: GreenlightDeployConfig) => async () => config;

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

  it('fails a stage whose registry outgrows a function’s 4 KB environment, saying where', async () => {
    const { context, out } = aContext();

    const code = await runConfigCommand(
      ['check', '--json', '--stage', 'test'],
      context,
      loading(aConfigOfSize(6)),
    );

    const report = JSON.parse(out.join('\n'));
    expect(code).toBe(ExitCode.Failure);
    expect(report.ok).toBe(false);
    expect(report.services).toBe(6);
    expect(report.problems).toContainEqual(
      expect.stringMatching(
        /^function greenlight-test-register: environment bytes \d+ > 4096; Lambda refuses/,
      ),
    );
    const over = report.quotas.filter(
      (use: { used: number; limit: number }) => use.used > use.limit,
    );
    expect(over.length).toBe(report.problems.length);
  });

  it('prints the use closest to each limit, and the problems on stderr', async () => {
    const { context, out, err } = aContext();

    const code = await runConfigCommand(['check'], context, loading(aConfigOfSize(6)));

    expect(code).toBe(ExitCode.Failure);
    expect(out[0]).toBe('greenlight.config.ts: 6 services');
    expect(out[1]).toMatch(/^ {2}environment-bytes: \d+ of 4096 \(\d+%\), most in function /);
    expect(err.length).toBeGreaterThan(0);
    expect(err.every((line) => line.startsWith('problem: '))).toBe(true);
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
