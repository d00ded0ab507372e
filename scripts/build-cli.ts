import { execFile } from 'node:child_process';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/** Where the npm package lives; its package.json names these files in `bin` and `files`. */
export const cliPackageDir = join(projectRoot, 'packages', 'cli');

/** The bundles the package ships, by entry point. */
export const cliBundles = {
  /** `greenlight`, the package's bin. */
  'greenlight.mjs': 'src/cli/package-main.ts',
  /** The GitHub Action's entry (action.yml `runs.main`); not in the npm package's `files`. */
  'action.mjs': 'src/action/main.ts',
} as const;

/**
 * Bundled CommonJS (parts of the AWS SDK and its dependencies) calls `require`, which an ES
 * module lacks; without this esbuild's shim throws "Dynamic require of ... is not supported",
 * as SST's handler bundles would (FACTS.md). The shebang makes the file the package's bin.
 */
const banner = [
  '#!/usr/bin/env node',
  "import { createRequire as topLevelCreateRequire } from 'node:module';",
  'const require = topLevelCreateRequire(import.meta.url);',
].join('\n');

/**
 * Builds the CLI package's bundles into `outDir` (default packages/cli/dist): everything,
 * AWS SDK included, in one file per entry, so the package has no dependencies and `npx` installs
 * nothing but it. Target Node 20: the oldest Node the package's `engines` accepts and the
 * runtime of GitHub's `node20` actions.
 */
export async function buildCli(outDir = join(cliPackageDir, 'dist')): Promise<Metafile> {
  await rm(outDir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: projectRoot,
    entryPoints: Object.entries(cliBundles).map(([out, entry]) => ({
      in: entry,
      out: out.replace(/\.mjs$/, ''),
    })),
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    // Error names are public API (CI scripts and the workflow match on them): keep them.
    keepNames: true,
    banner: { js: banner },
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
  });
  return result.metafile;
}

/** A packed CLI package, as `npm pack` leaves it. */
export interface PackedCli {
  /** The package as it was packed: package.json, README.md, dist/. */
  packageDir: string;
  /** The `.tgz` that `npx` and `npm install` take. */
  tarball: string;
}

/**
 * Builds the package into `workDir/package` (leaving packages/cli alone, so that tests and the
 * bench can run beside a developer's build) and packs it with the machine's npm.
 */
export async function packCli(workDir: string): Promise<PackedCli> {
  const packageDir = join(workDir, 'package');
  await mkdir(packageDir, { recursive: true });
  for (const file of ['package.json', 'README.md']) {
    await copyFile(join(cliPackageDir, file), join(packageDir, file));
  }
  await buildCli(join(packageDir, 'dist'));
  const { stdout } = await promisify(execFile)(
    'npm',
    ['pack', '--json', '--pack-destination', workDir, '--loglevel=error'],
    { cwd: packageDir },
  );
  const [packed] = JSON.parse(stdout) as { filename: string }[];
  if (packed === undefined) throw new Error(`npm pack printed no file: ${stdout}`);
  return { packageDir, tarball: join(workDir, packed.filename) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const metafile = await buildCli();
  for (const [file, output] of Object.entries(metafile.outputs)) {
    process.stdout.write(`${file}  ${(output.bytes / 1024).toFixed(0)} KB\n`);
  }
}
