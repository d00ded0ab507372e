import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { handlerEntry, listHandlers, sdkPackagesIn } from './bundle-size.ts';
import {
  copyPackagedFiles,
  type SdkPlacement,
  sstBuildAllOptions,
  sstBuildOptions,
  sstBundleFile,
} from './sst-esbuild.ts';
import { percentile } from './stats.ts';
import { formatBytes, formatMs, type TableSection } from './table.ts';

const run = promisify(execFile);
const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/** One handler's bundle in one SDK placement, and its cold import next to its floor's. */
export interface ColdStartMeasure {
  bytes: number;
  /** Median milliseconds of `await import(bundle)` in a fresh Node process. */
  importMs: number;
  /** The same for the floor: only the SDK packages the bundle holds, whole. */
  floorMs: number;
  /** Median over runs of import / floor, each pair measured back to back. */
  ratio: number;
  /**
   * The same ratio in CPU time (user + system) of the importing process. Other work on a
   * shared machine stretches wall time but hardly the CPU an import takes, so where the two
   * ratios disagree this one is the steadier; on Lambda an import has its CPU to itself.
   */
  cpuRatio: number;
}

export interface ColdStartRow {
  handler: string;
  /** The @aws-sdk packages in the handler's bundle, without the scope. */
  sdk: string[];
  /** As SST 4.17.1 builds it without `nodejs.esbuild.external`: the SDK bundled in. */
  bundled: ColdStartMeasure;
  /** As shipped: `@aws-sdk/*` external, imported from the runtime's SDK (here: node_modules). */
  external: ColdStartMeasure;
}

export interface ColdStartResult {
  runs: number;
  rows: ColdStartRow[];
}

export interface ColdStartOptions {
  /** Timed imports of each bundle and floor, after one untimed round. @default 7 */
  runs?: number;
}

// Runs in the child: the import alone, not Node's own start, which is the same for all.
const timeImport = `
const cpu = process.cpuUsage();
const started = performance.now();
const loaded = await import(process.argv[1]);
const ms = performance.now() - started;
const used = process.cpuUsage(cpu);
if (typeof loaded.handler !== 'function' && loaded.sdk === undefined) process.exit(2);
process.stdout.write(JSON.stringify({ ms, cpuMs: (used.user + used.system) / 1000 }));`;

interface Sample {
  ms: number;
  cpuMs: number;
}

/**
 * Cold start of every handler: the bytes of its bundle with the AWS SDK external (as shipped)
 * and bundled, and how long a fresh Node process takes to import each, next to its floor:
 * importing only the SDK packages that bundle holds (found in esbuild's metafile), bundled
 * the same way or, for the external placement, from node_modules as the Lambda runtime would.
 *
 * Each import runs in its own process with an empty environment; a handler's and its floor's
 * run back to back, so that load from other work on the machine falls on both. Files stay in
 * the OS page cache (one untimed round first): this is the cost of loading and evaluating the
 * code, not of reading the disk.
 */
export async function measureColdStart(options: ColdStartOptions = {}): Promise<ColdStartResult> {
  const runs = options.runs ?? 7;
  const handlers = await listHandlers();
  const entries = Object.fromEntries(handlers.map((handler) => [handler, handlerEntry(handler)]));
  const outDir = await mkdtemp(join(tmpdir(), 'greenlight-cold-'));
  try {
    // External bundles and floors resolve `@aws-sdk/*` from here, as from /var/runtime in Lambda.
    await symlink(join(projectRoot, 'node_modules'), join(outDir, 'node_modules'), 'dir');
    const placements = ['bundled', 'external'] as const;
    const built = Object.fromEntries(
      await Promise.all(
        placements.map(async (sdk) => {
          const dir = join(outDir, sdk);
          const result = await build(sstBuildAllOptions(entries, dir, { sdk }));
          await copyPackagedFiles(dir);
          return [sdk, { dir, metafile: result.metafile }] as const;
        }),
      ),
    ) as Record<SdkPlacement, { dir: string; metafile: Metafile }>;

    const floors = new Map<string, Promise<Floors>>();
    const targets = await Promise.all(
      handlers.map(async (handler) => {
        const sdk = sdkPackagesIn(built.bundled.metafile, handler);
        const key = sdk.join('+');
        if (!floors.has(key)) floors.set(key, writeFloors(join(outDir, 'floors', key), sdk));
        const bundle = (placement: SdkPlacement) =>
          join(built[placement].dir, handler, sstBundleFile);
        return { handler, sdk, bundle, floors: await (floors.get(key) as Promise<Floors>) };
      }),
    );

    const samples = new Map<string, { handler: Sample[]; floor: Sample[] }>();
    for (let round = 0; round <= runs; round++) {
      for (const { handler, bundle, floors } of targets) {
        for (const placement of placements) {
          const floor = await coldImport(floors[placement], outDir);
          const imported = await coldImport(bundle(placement), outDir);
          if (round === 0) continue;
          const key = `${handler}/${placement}`;
          const got = samples.get(key) ?? { handler: [], floor: [] };
          got.handler.push(imported);
          got.floor.push(floor);
          samples.set(key, got);
        }
      }
    }

    const rows = await Promise.all(
      targets.map(async ({ handler, sdk, bundle }) => {
        const measure = async (placement: SdkPlacement): Promise<ColdStartMeasure> => {
          const got = samples.get(`${handler}/${placement}`) ?? { handler: [], floor: [] };
          const pairedRatio = (of: (sample: Sample) => number) =>
            percentile(
              got.handler.map((sample, i) => of(sample) / of(got.floor[i] as Sample)),
              50,
            );
          return {
            bytes: (await stat(bundle(placement))).size,
            importMs: percentile(
              got.handler.map((sample) => sample.ms),
              50,
            ),
            floorMs: percentile(
              got.floor.map((sample) => sample.ms),
              50,
            ),
            ratio: pairedRatio((sample) => sample.ms),
            cpuRatio: pairedRatio((sample) => sample.cpuMs),
          };
        };
        return {
          handler,
          sdk,
          bundled: await measure('bundled'),
          external: await measure('external'),
        };
      }),
    );
    return { runs, rows };
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

/**
 * The floor of a handler in each placement: a module that imports the SDK packages it holds,
 * whole. Bundled: built with SST's options like the handler. External: the packages
 * themselves from node_modules. Handlers with the same packages share their floor.
 */
async function writeFloors(dir: string, sdk: readonly string[]): Promise<Floors> {
  await mkdir(dir, { recursive: true });
  const imports = sdk.map((name, i) => `import * as sdk${i} from '@aws-sdk/${name}';`);
  const exported = `export const sdk = [${sdk.map((_, i) => `sdk${i}`).join(', ')}];`;
  const external = join(dir, 'external.mjs');
  await writeFile(external, `${[...imports, exported].join('\n')}\n`);
  // Namespaces kept whole: the floor is the packages, not the parts a handler's code reaches.
  await build({
    ...sstBuildOptions(external, join(dir, 'bundled'), { sdk: 'bundled' }),
    write: true,
  });
  return { bundled: join(dir, 'bundled', sstBundleFile), external };
}

type Floors = Record<SdkPlacement, string>;

async function coldImport(file: string, cwd: string): Promise<Sample> {
  const { stdout } = await run(
    process.execPath,
    ['--input-type=module', '-e', timeImport, pathToFileURL(file).href],
    // Nothing from the developer's shell: no NODE_OPTIONS, no AWS configuration.
    { cwd, env: {} },
  );
  return JSON.parse(stdout) as Sample;
}

/** The bench table: each handler's bytes and cold import next to its floor, in both placements. */
export function coldStartSection({ runs, rows }: ColdStartResult): TableSection {
  const cells = (measure: ColdStartMeasure) => [
    formatBytes(measure.bytes),
    formatMs(measure.importMs),
    formatMs(measure.floorMs),
    measure.ratio.toFixed(2),
    measure.cpuRatio.toFixed(2),
  ];
  return {
    title: `8. Cold start: each handler bundle's import in a fresh Node process (median of ${runs}) next to its floor, the @aws-sdk packages it holds; x = import / floor in wall time, cpu x in CPU time (target <= 1.3). Left: SDK bundled (SST without nodejs.esbuild.external, for comparison); right: as shipped, @aws-sdk/* from the runtime (target <= 250,000 bytes)`,
    header: [
      'handler',
      'bytes',
      'ms',
      'floor ms',
      'x',
      'cpu x',
      'external bytes',
      'ms',
      'floor ms',
      'x',
      'cpu x',
      'SDK packages (@aws-sdk/)',
    ],
    rows: rows.map((row) => [
      row.handler,
      ...cells(row.bundled),
      ...cells(row.external),
      row.sdk
        .map((name) => name.replace(/^client-/, '').replace('elastic-load-balancing-v2', 'elbv2'))
        .join(' '),
    ]),
  };
}
