import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../../scripts/build-cli.ts';
import { deriveReleaseId } from '../../src/core/release-id.ts';
import { type GreenlightLocal, startGreenlightLocal } from '../../src/local/greenlight-local.ts';
import { runProcess } from '../support/run-process.ts';

const root = new URL('../../', import.meta.url);

let work: string;
let entry: string;
let local: GreenlightLocal;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'greenlight-action-'));
  await buildCli(join(work, 'dist'));
  entry = join(work, 'dist', 'action.mjs');
  local = await startGreenlightLocal();
}, 120_000);

afterAll(async () => {
  await local?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Reads $GITHUB_OUTPUT's `name<<DELIMITER` blocks back into values, as the runner does. */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const pattern = /^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2\n/gm;
  for (const [, name = '', , value = ''] of text.matchAll(pattern)) outputs[name] = value;
  return outputs;
}

/** Runs the action's entry as the runner would: inputs as INPUT_*, its two files per step. */
async function runTheAction(name: string, inputs: Record<string, string>) {
  const outputFile = join(work, `${name}.output`);
  const summaryFile = join(work, `${name}.summary`);
  await writeFile(outputFile, '');
  await writeFile(summaryFile, '');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: work,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    'INPUT_ENDPOINT-URL': local.url,
  };
  for (const [input, value] of Object.entries(inputs)) env[`INPUT_${input.toUpperCase()}`] = value;
  // action.yml says `using: node24`: the runner's Node 24, as this suite's.
  const result = await runProcess(process.execPath, [entry], { env, cwd: work });
  return {
    ...result,
    outputs: parseOutputs(await readFile(outputFile, 'utf8')),
    summary: await readFile(summaryFile, 'utf8'),
  };
}

describe('action.yml', () => {
  it('runs the bundle scripts/build-cli.ts writes, and declares the inputs the entry reads', async () => {
    const metadata = await readFile(new URL('action.yml', root), 'utf8');
    expect(metadata).toMatch(
      /^runs:\n {2}using: node24\n {2}main: packages\/cli\/dist\/action\.mjs$/m,
    );
    for (const input of ['service', 'version', 'artifact', 'strategy', 'wait', 'endpoint-url']) {
      expect(metadata).toMatch(new RegExp(`^ {2}${input}:$`, 'm'));
    }
    for (const output of ['release-id', 'outcome', 'timeline-url']) {
      expect(metadata).toMatch(new RegExp(`^ {2}${output}:$`, 'm'));
    }
  });
});

describe('the GitHub Action against the local cloud', () => {
  it('follows a release to Finalized: outputs, a timeline summary, exit 0', async () => {
    const { code, stdout, stderr, outputs, summary } = await runTheAction('finalized', {
      service: 'checkout',
      version: 'action-1',
      artifact: 's3://greenlight-demo-artifacts/checkout/1.1.0.zip',
      wait: 'true',
    });
    expect(stderr).not.toMatch(/greenlight:|Error/);
    expect(code).toBe(0);
    expect(outputs).toEqual({
      'release-id': deriveReleaseId('checkout', 'action-1', 1),
      outcome: 'Finalized',
      'timeline-url': expect.stringMatching(
        /^https:\/\/us-east-1\.console\.aws\.amazon\.com\/states\/home\?region=us-east-1#\/v2\/executions\/details\/arn%3Aaws%3Astates%3Aus-east-1%3A/,
      ),
    });
    expect(summary).toMatch(/^### greenlight: checkout action-1 Finalized$/m);
    expect(summary).toMatch(/^\| \d\d:\d\d:\d\d \| \+\S+ \| finalize \| succeeded \|/m);
    expect(stdout).not.toContain('::error');
  });

  it('fails the job with the release reason when it is rolled back', async () => {
    const { code, stdout, outputs, summary } = await runTheAction('rolled-back', {
      service: 'checkout',
      version: 'action-2',
      artifact: 's3://greenlight-demo-artifacts/checkout/1.2.0-broken.zip',
      wait: 'true',
    });
    expect(code).toBe(3);
    expect(outputs).toMatchObject({
      'release-id': deriveReleaseId('checkout', 'action-2', 1),
      outcome: 'RolledBack',
    });
    expect(stdout).toMatch(
      /^::error title=greenlight::RolledBack: .*GreenTestFailed: Green failed 1 of 1 tests/m,
    );
    expect(summary).toMatch(/^### greenlight: checkout action-2 RolledBack$/m);
    expect(summary).toMatch(/^\| .* \| test \| failed \|/m);
  });

  it('fails the job and sends nothing when an input is missing', async () => {
    const { code, stdout, outputs } = await runTheAction('missing', {
      service: 'checkout',
      version: 'action-3',
    });
    expect(stdout).toContain('::error title=greenlight::Input required and not supplied: artifact');
    expect(code).toBe(2);
    expect(outputs).toEqual({});
  });
});
