import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';
import { handlerBundling, packagedFiles } from '../src/infra/functions.ts';

/**
 * The esbuild options SST 4.17.1 uses for an `sst.aws.Function` built as stacks/functions.ts
 * declares ours: runtime `nodejs24.x`, `nodejs: handlerBundling` (src/infra/functions.ts:
 * `format: 'esm', minify: true, esbuild: { external: ['@aws-sdk/*'] }`), no `nodejs.install`,
 * `loader`, `banner`, `sourcemap` or `splitting`, and `dev: false`, so `sst deploy` runs the
 * production branch.
 *
 * Read from SST's source at tag v4.17.0 (commit 8bfe1c1bd, github.com/anomalyco/sst), the
 * newest the mirror holds; 4.17.1 is not tagged there. The pinned binary
 * node_modules/sst-linux-x64/bin/sst embeds platform/src/components/aws/function.ts
 * byte-identical to that tag's and holds pkg/runtime/node/build.go's banner lines and log
 * messages, so the build below is the one 4.17.1 runs. The SST binary links esbuild v0.27.2
 * (its Go build info); we bundle with our devDependency, 0.28.2, whose changelog since then
 * lists bug fixes only, so sizes may differ from a deploy by a few bytes.
 *
 * Sources, pkg/runtime/node/build.go unless named:
 * - ESM, `.mjs`, one file named `bundle`: lines 48-57 (format "cjs" is the only alternative).
 * - platform node, bundle, metafile, write: lines 126-139.
 * - target es2024: `targetMap` lines 25-33 maps nodejs24.x to ES2024, used at line 140 when
 *   `nodejs.esbuild.target` is unset.
 * - external `sharp` and `pg-native` (`forceExternal`, lines 21-23), plus `nodejs.install`
 *   (empty for us) and `nodejs.esbuild.external` (lines 114-115): our `@aws-sdk/*`. Nothing in
 *   build.go or function.ts marks the SDK external by itself: without that option SST bundles
 *   it in.
 * - keepNames true: line 131 (`ResolveKeepNames(true)`, pkg/runtime/node/node.go 168-173).
 * - sourcemap linked: line 137; lines 178-180 never turn it off. Lines 233-241 report the
 *   `.map` files and function.ts (`buildHandler` zip step, `ignore: sourcemaps`) leaves them
 *   out of the zip, uploading them to the bootstrap bucket instead; what ships is the `.mjs`
 *   with its `//# sourceMappingURL` comment.
 * - mainFields module, main: line 141; conditions unset (esbuild's defaults): line 142.
 * - banner: lines 143-152, the five lines below joined by "\n" plus `nodejs.banner` (empty), so
 *   the banner ends in a newline. It gives the ESM bundle the `require`, `__filename` and
 *   `__dirname` that bundled CommonJS code expects; without it esbuild's `__require` shim
 *   throws "Dynamic require of ... is not supported".
 * - minify whitespace, syntax and identifiers: lines 172-177, from `nodejs.minify`; esbuild's
 *   `minify: true` sets the same three.
 * - splitting off, no loaders, no define, no nodePaths: lines 59-67, 133, 153-154.
 * - plugins: only `sst-version-check` (lines 69-110), which resolves `sst` and checks its
 *   version; no handler imports `sst`, so it changes no output and is left out here.
 */
export const sstBanner = [
  `import { createRequire as topLevelCreateRequire } from 'module';`,
  'const require = topLevelCreateRequire(import.meta.url);',
  `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
  'const __filename = topLevelFileUrlToPath(import.meta.url)',
  'const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))',
  '',
].join('\n');

/** SST writes each function's bundle as `bundle.mjs` in its own output directory. */
export const sstBundleFile = 'bundle.mjs';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));

const sstOptions = {
  // The sst CLI runs esbuild from the project root; it only shapes paths in the map.
  absWorkingDir: projectRoot,
  platform: 'node',
  external: ['sharp', 'pg-native'],
  keepNames: true,
  bundle: true,
  splitting: false,
  metafile: true,
  sourcemap: 'linked',
  format: 'esm',
  target: 'es2024',
  mainFields: ['module', 'main'],
  banner: { js: sstBanner },
  minify: true,
  logLevel: 'silent',
} as const satisfies BuildOptions;

/**
 * Where the AWS SDK comes from. `external` is what ships: stacks/functions.ts gives SST
 * `nodejs.esbuild.external: ['@aws-sdk/*']` (handlerBundling; build.go lines 114-115), so the
 * bundle imports the SDK that the nodejs24.x runtime provides, at the runtime's version rather
 * than ours. `bundled` is what SST does without that option, kept for comparison.
 */
export type SdkPlacement = 'bundled' | 'external';

export interface SstBuildChoices {
  /** @default 'external', as shipped */
  sdk?: SdkPlacement;
}

function externalsFor({ sdk = 'external' }: SstBuildChoices) {
  return sdk === 'bundled'
    ? sstOptions.external
    : [...sstOptions.external, ...handlerBundling.esbuild.external];
}

/**
 * Options to bundle `entry` (a functions/*.ts path) as SST deploys it, into `outDir/bundle.mjs`
 * and its map, kept in memory (SST writes them; the bytes are the same).
 */
export function sstBuildOptions(entry: string, outDir: string, choices: SstBuildChoices = {}) {
  return {
    ...sstOptions,
    external: externalsFor(choices),
    entryPoints: [entry],
    outfile: join(outDir, sstBundleFile),
    write: false,
  } satisfies BuildOptions;
}

/**
 * The same options for several handlers in one esbuild call, each written to
 * `outDir/<handler>/bundle.mjs`. Without splitting each entry point is linked on its own, so the
 * bundles are byte-identical to SST's one-at-a-time builds (test/infra/bundles.test.ts checks
 * one), while the modules they share, the AWS SDK above all, are parsed once: measured 5 s
 * instead of 31 s for the 18 handlers on 2 cores.
 */
export function sstBuildAllOptions(
  entries: Readonly<Record<string, string>>,
  outDir: string,
  choices: SstBuildChoices = {},
) {
  return {
    ...sstOptions,
    external: externalsFor(choices),
    entryPoints: Object.fromEntries(
      Object.entries(entries).map(([handler, entry]) => [
        `${handler}/${sstBundleFile.slice(0, -'.mjs'.length)}`,
        entry,
      ]),
    ),
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    write: true,
  } satisfies BuildOptions;
}

/**
 * Puts beside each handler's bundle in `outDir` (an sstBuildAllOptions output) the files its
 * package holds (packagedFiles, SST copyFiles): as the function is shipped, without which the
 * migrate bundle cannot load its parser.
 */
export async function copyPackagedFiles(outDir: string): Promise<void> {
  const root = fileURLToPath(new URL('../', import.meta.url));
  for (const [handler, files] of Object.entries(packagedFiles)) {
    for (const file of files ?? []) {
      await copyFile(join(root, file.from), join(outDir, handler, file.to));
    }
  }
}
