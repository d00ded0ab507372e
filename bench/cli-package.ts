import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { packCli } from '../scripts/build-cli.ts';
import { type Summary, summarize } from './stats.ts';
import { formatBytes, formatMs, type TableSection } from './table.ts';

const run = promisify(execFile);
const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/** The machine's Node (20 on these machines, FACTS.md) and the project's Node 24. */
const machineNode = '/usr/bin/node';

export interface CliPackageResult {
  packedBytes: number;
  installedBytes: number;
  /** `npx --package <tarball> greenlight --help` from a fresh directory and an empty cache. */
  npxCold: Summary;
  /** `greenlight --help` of the installed package, by Node. */
  helpByNode: { node: string; summary: Summary }[];
  /** `bin/greenlight --help` in the checkout (Node 24 running the TypeScript sources). */
  checkoutHelp: Summary;
}

async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.isDirectory()) total += await bytesUnder(path);
    else if (entry.isFile()) total += (await stat(path)).size;
  }
  return total;
}

async function timed(
  file: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
) {
  const started = performance.now();
  await run(file, args, options);
  return performance.now() - started;
}

/**
 * Packs the CLI, installs it the way `npx` does (offline: an empty cache and a registry nothing
 * listens on, so only the tarball can be used), and times the first command a CI job runs.
 */
export async function measureCliPackage(options: { runs: number }): Promise<CliPackageResult> {
  const work = await mkdtemp(join(tmpdir(), 'greenlight-bench-cli-'));
  try {
    const packed = await packCli(work);
    const offline = (dir: string): NodeJS.ProcessEnv => ({
      PATH: `${dirname(machineNode)}:/bin`,
      HOME: dir,
      npm_config_cache: join(dir, 'npm-cache'),
      npm_config_registry: 'http://127.0.0.1:9/',
      npm_config_update_notifier: 'false',
    });

    const install = join(work, 'install');
    await mkdir(install);
    await run('npm', ['install', '--no-audit', '--no-fund', packed.tarball], {
      cwd: install,
      env: offline(install),
    });
    const bin = join(install, 'node_modules', 'greenlight-cli', 'dist', 'greenlight.mjs');

    const npxCold: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      const fresh = join(work, `npx-${i}`);
      await mkdir(fresh);
      npxCold.push(
        await timed('npx', ['--yes', '--package', packed.tarball, 'greenlight', '--help'], {
          cwd: fresh,
          env: offline(fresh),
        }),
      );
    }
    const helpByNode = [];
    for (const node of [machineNode, process.execPath]) {
      const { stdout: version } = await run(node, ['--version']);
      const samples: number[] = [];
      for (let i = 0; i < options.runs; i++) {
        samples.push(await timed(node, [bin, '--help'], { cwd: work, env: { PATH: '/bin' } }));
      }
      helpByNode.push({ node: version.trim(), summary: summarize(samples) });
    }
    const checkout: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      checkout.push(
        await timed('sh', ['bin/greenlight', '--help'], { cwd: projectRoot, env: process.env }),
      );
    }
    return {
      packedBytes: (await stat(packed.tarball)).size,
      installedBytes: await bytesUnder(join(install, 'node_modules')),
      npxCold: summarize(npxCold),
      helpByNode,
      checkoutHelp: summarize(checkout),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export function cliPackageSection(result: CliPackageResult): TableSection {
  const timing = (summary: Summary) =>
    `p50 ${formatMs(summary.p50, 0)} ms (${formatMs(summary.min, 0)}–${formatMs(summary.max, 0)}), n=${summary.n}`;
  return {
    title: '10. The CLI package (packages/cli: one bundle, no dependencies)',
    header: ['what', 'measured'],
    rows: [
      ['packed (npm pack .tgz), bytes', formatBytes(result.packedBytes)],
      [
        'installed (node_modules after npm install of the tarball), bytes',
        formatBytes(result.installedBytes),
      ],
      ['first command: npx --package <tgz> greenlight --help, empty cache', timing(result.npxCold)],
      ...result.helpByNode.map(({ node, summary }) => [
        `greenlight --help, installed, Node ${node}`,
        timing(summary),
      ]),
      ['for comparison: bin/greenlight --help in the checkout', timing(result.checkoutHelp)],
    ],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { formatTable } = await import('./table.ts');
  console.log(formatTable([cliPackageSection(await measureCliPackage({ runs: 5 }))]));
}
