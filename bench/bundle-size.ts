import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { sstBuildOptions, sstBundleFile } from './sst-esbuild.ts';

export interface BundleSizeRow {
  handler: string;
  rawBytes: number;
  gzipBytes: number;
}

const functionsDir = fileURLToPath(new URL('../functions/', import.meta.url));

/** Every handler's name, one per functions/*.ts, sorted. */
export async function listHandlers(): Promise<string[]> {
  return (await readdir(functionsDir))
    .filter((file) => file.endsWith('.ts'))
    .map((file) => file.slice(0, -'.ts'.length))
    .sort();
}

/**
 * The AWS SDK packages a handler's bundle holds: its service clients (`client-*`) and their
 * libraries (`lib-dynamodb`), from the metafile of an sstBuildAllOptions build, sorted. Not the
 * SDK's own internals (core, middleware, credential providers), which every client brings.
 */
export function sdkPackagesIn(metafile: Metafile, handler: string): string[] {
  const suffix = `${handler}/${sstBundleFile}`;
  const output = Object.entries(metafile.outputs).find(([path]) => path.endsWith(`/${suffix}`));
  if (!output) throw new Error(`the metafile has no output ${suffix}`);
  const found = new Set<string>();
  for (const input of Object.keys(output[1].inputs)) {
    const name = /node_modules\/@aws-sdk\/((?:client|lib)-[a-z0-9-]+)\//.exec(input)?.[1];
    if (name) found.add(name);
  }
  // With the SDK external, its packages are imports of the bundle instead.
  for (const { path } of output[1].imports) {
    const name = /^@aws-sdk\/((?:client|lib)-[a-z0-9-]+)$/.exec(path)?.[1];
    if (name) found.add(name);
  }
  return [...found].sort();
}

/** The entry point SST bundles for a handler. */
export function handlerEntry(handler: string): string {
  return `${functionsDir}${handler}.ts`;
}

/**
 * Each handler's `bundle.mjs` as `sst deploy` zips it (bench/sst-esbuild.ts): minified ESM for
 * es2024 with the createRequire banner, `@aws-sdk/*` left to the Lambda runtime
 * (handlerBundling, src/infra/functions.ts). The linked source map stays out of the zip and the
 * count.
 */
export async function measureBundleSizes(): Promise<BundleSizeRow[]> {
  return Promise.all((await listHandlers()).map(measureBundle));
}

async function measureBundle(handler: string): Promise<BundleSizeRow> {
  // The directory only names the in-memory files; nothing is written.
  const outDir = join(tmpdir(), 'greenlight-bundles', handler);
  const result = await build(sstBuildOptions(handlerEntry(handler), outDir));
  const code = result.outputFiles.find((file) => file.path.endsWith(`/${sstBundleFile}`));
  if (!code) throw new Error(`esbuild produced no ${sstBundleFile} for functions/${handler}.ts`);
  return {
    handler,
    rawBytes: code.contents.byteLength,
    gzipBytes: gzipSync(code.contents).byteLength,
  };
}
