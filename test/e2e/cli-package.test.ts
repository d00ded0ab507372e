import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCli, type PackedCli, packCli } from '../../scripts/build-cli.ts';
import { deriveReleaseId } from '../../src/core/release-id.ts';
import { type GreenlightLocal, startGreenlightLocal } from '../../src/local/greenlight-local.ts';
import { runProcess } from '../support/run-process.ts';

/**
 * The npm package's promise: one file that runs on the oldest Node its `engines` accepts. The
 * machine's own node is that Node 20 (FACTS.md); this suite runs on the project's Node 24.
 */
const machineNode = '/usr/bin/node';
const nodeMajor = (node: string) =>
  Number(execFileSync(node, ['-p', 'process.versions.node.split(".")[0]']).toString().trim());
const node20 = nodeMajor(machineNode) === 20 ? machineNode : undefined;

let work: string;
let packed: PackedCli;
let local: GreenlightLocal;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'greenlight-cli-package-'));
  packed = await packCli(work);
  local = await startGreenlightLocal();
}, 120_000);

afterAll(async () => {
  await local?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** The environment a CI job gives the CLI: the local cloud as its AWS, nothing of ours. */
function ciEnv(node: string): NodeJS.ProcessEnv {
  return {
    PATH: `${dirname(node)}:/usr/bin:/bin`,
    HOME: work,
    AWS_ENDPOINT_URL: local.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  };
}

describe('the CLI bundle', () => {
  it('holds nothing of SST, Pulumi, the local cloud or the infra code', async () => {
    const metafile = await buildCli(join(work, 'inputs'));
    const inputs = Object.keys(metafile.inputs);
    expect(inputs.some((input) => input.includes('node_modules/@aws-sdk/client-eventbridge'))).toBe(
      true,
    );
    expect(
      inputs.filter((input) => /node_modules\/(sst|@pulumi)\/|src\/(local|infra)\//.test(input)),
    ).toEqual([]);
  });

  it('packs as a package with a bin, engines >= 20, no dependencies and only its files', async () => {
    const manifest = JSON.parse(await readFile(join(packed.packageDir, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({
      bin: { greenlight: 'dist/greenlight.mjs' },
      engines: { node: '>=20' },
    });
    expect(manifest.dependencies).toBeUndefined();
    const listed = execFileSync('tar', ['-tzf', packed.tarball]).toString().trim().split('\n');
    expect(listed.sort()).toEqual([
      'package/README.md',
      'package/dist/greenlight.mjs',
      'package/package.json',
    ]);
  });

  it('runs from a fresh directory with only npx, and no registry to reach', async () => {
    const fresh = await mkdtemp(join(work, 'fresh-'));
    // `--package` because npx runs a bare path as a command of its own, not as a package.
    const result = await runProcess(
      'npx',
      ['--yes', '--package', packed.tarball, 'greenlight', '--help'],
      {
        cwd: fresh,
        env: {
          ...ciEnv(node20 ?? process.execPath),
          // An empty cache and a registry nothing listens on: whatever npx needs must be in the
          // tarball, or this fails.
          npm_config_cache: join(fresh, 'npm-cache'),
          npm_config_registry: 'http://127.0.0.1:9/',
          npm_config_fetch_retries: '0',
          npm_config_update_notifier: 'false',
        },
      },
    );
    expect(result.stderr).not.toMatch(/ERR!/);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: greenlight <command>/);
  });
});

const nodes = [
  ...(node20 === undefined ? [] : [{ label: 'Node 20', node: node20 }]),
  { label: 'Node 24', node: process.execPath },
];

describe.each(nodes)('the packed CLI on $label', ({ node }) => {
  const bundle = () => join(packed.packageDir, 'dist', 'greenlight.mjs');
  const greenlight = (...args: string[]) =>
    runProcess(node, [bundle(), ...args], { env: ciEnv(node), cwd: work });
  const version = `pkg-${nodeMajor(node)}`;

  it('prints its usage with --help and exits 0', async () => {
    const { code, stdout } = await greenlight('--help');
    expect(code).toBe(0);
    expect(stdout).toContain('release   announce a release on the greenlight bus');
  });

  it('releases with --wait to Finalized (exit 0), and status reads it back as --json', async () => {
    const released = await greenlight(
      'release',
      '--service',
      'checkout',
      '--version',
      `${version}.0`,
      '--s3',
      's3://greenlight-demo-artifacts/checkout/1.1.0.zip',
      '--wait',
      '--poll-interval',
      '0.2',
      '--json',
    );
    expect(released.stderr).not.toMatch(/greenlight:|Error/);
    expect(released.code).toBe(0);
    const lines = released.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const releaseId = deriveReleaseId('checkout', `${version}.0`, 1);
    expect(lines[0]).toMatchObject({ type: 'requested', releaseId });
    expect(lines.at(-1)).toMatchObject({
      type: 'finished',
      exitCode: 0,
      release: { phase: 'Finalized' },
    });

    const status = await greenlight('status', '--release', releaseId, '--json');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      release: { releaseId, phase: 'Finalized' },
    });
  });

  it('exits 3 when the release is rolled back', async () => {
    const { code, stdout } = await greenlight(
      'release',
      '--service',
      'checkout',
      '--version',
      `${version}.1`,
      '--s3',
      's3://greenlight-demo-artifacts/checkout/1.2.0-broken.zip',
      '--wait',
      '--poll-interval',
      '0.2',
    );
    expect(stdout).toMatch(/^RolledBack: /m);
    expect(code).toBe(3);
  });

  it('sends config to the greenlight checkout with a usage error', async () => {
    const { code, stderr } = await greenlight('config', 'check');
    expect(stderr).toContain('bin/greenlight config');
    expect(code).toBe(2);
  });
});
