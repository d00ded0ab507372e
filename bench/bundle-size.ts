import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export interface BundleSizeRow {
  handler: string;
  rawBytes: number;
  gzipBytes: number;
}

const functionsDir = fileURLToPath(new URL('../functions/', import.meta.url));

/**
 * Each handler bundled as it would ship: minified ESM for Node 24 with the AWS SDK v3 left
 * external, because the Lambda runtime provides it.
 */
export async function measureBundleSizes(): Promise<BundleSizeRow[]> {
  const handlers = (await readdir(functionsDir))
    .filter((file) => file.endsWith('.ts'))
    .map((file) => file.slice(0, -'.ts'.length))
    .sort();
  return Promise.all(handlers.map(measureBundle));
}

async function measureBundle(handler: string): Promise<BundleSizeRow> {
  const result = await build({
    entryPoints: [`${functionsDir}${handler}.ts`],
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    external: ['@aws-sdk/*'],
    write: false,
    logLevel: 'silent',
  });
  // No outfile and no splitting: the one output file is the bundle.
  const code = result.outputFiles[0];
  if (!code) throw new Error(`esbuild produced no JavaScript for functions/${handler}.ts`);
  return {
    handler,
    rawBytes: code.contents.byteLength,
    gzipBytes: gzipSync(code.contents).byteLength,
  };
}
