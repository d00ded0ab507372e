import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handlerEntry, listHandlers } from '../../bench/bundle-size.ts';
import { sstBuildAllOptions, sstBuildOptions, sstBundleFile } from '../../bench/sst-esbuild.ts';
import { GreenlightFunction } from '../../src/infra/functions.ts';

const run = promisify(execFile);
const handlers = await listHandlers();

// Imports the bundle the way Lambda's ESM loader does and checks the export it would call.
const loadHandler = `
const bundle = await import(process.argv[1]);
if (typeof bundle.handler !== 'function') {
  console.error('the handler export is ' + typeof bundle.handler + ', not a function');
  process.exit(1);
}`;

/**
 * The bundles live outside the project, as in Lambda's /var/task: no node_modules above them,
 * so a bundle loads only if everything but Node's built-ins is inside it.
 */
let outDir = '';
let metafile: Metafile | undefined;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'greenlight-bundles-'));
  const entries = Object.fromEntries(handlers.map((handler) => [handler, handlerEntry(handler)]));
  const result = await build(sstBuildAllOptions(entries, outDir));
  // Without it the externals check below would pass on nothing.
  if (!result.metafile) throw new Error('sstBuildAllOptions must ask esbuild for a metafile');
  metafile = result.metafile;
});

afterAll(async () => {
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

function bundlePath(handler: string): string {
  return join(outDir, handler, sstBundleFile);
}

describe('the handler bundles SST deploys', () => {
  it('cover every function the stacks deploy', () => {
    expect(handlers).toEqual(Object.values(GreenlightFunction).sort());
  });

  it('are the bytes SST builds one function at a time', async () => {
    // The largest bundle, and one that needs the banner.
    const handler = GreenlightFunction.ApprovalTimeout;
    const alone = await build(sstBuildOptions(handlerEntry(handler), join(outDir, 'alone')));
    const code = alone.outputFiles.find((file) => file.path.endsWith(`/${sstBundleFile}`));
    expect(code?.contents).toEqual(new Uint8Array(await readFile(bundlePath(handler))));
  });

  it('leave only Node built-ins to be resolved at run time', () => {
    const external = Object.values(metafile?.inputs ?? {}).flatMap(({ imports }) =>
      imports.filter((found) => found.external).map((found) => found.path),
    );
    // `<runtime>` is esbuild's own helper module, inlined into every bundle.
    expect(new Set(external.filter((path) => path !== '<runtime>' && !isBuiltin(path)))).toEqual(
      new Set(),
    );
  });

  it.concurrent.each(handlers)('%s loads in a fresh Node process', async (handler) => {
    const bundle = pathToFileURL(bundlePath(handler)).href;
    // An empty environment: importing a handler must need no AWS region, credentials or
    // table names, and nothing from the developer's shell leaks in.
    const loaded = await run(process.execPath, ['--input-type=module', '-e', loadHandler, bundle], {
      env: {},
    }).then(
      () => '',
      (error: { stderr?: string; message: string }) => readableFailure(error),
    );
    expect(loaded, `functions/${handler}.ts bundle failed to load`).toBe('');
  });
});

/** Node echoes the failing minified line, a megabyte long; the error and stack are what help. */
function readableFailure(error: { stderr?: string; message: string }): string {
  const lines = (error.stderr ?? error.message).split('\n');
  return lines.filter((line) => line.length < 500).join('\n') || error.message;
}
