import { execFile } from 'node:child_process';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm, stat, symlink } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handlerEntry, listHandlers, sdkPackagesIn } from '../../bench/bundle-size.ts';
import {
  copyPackagedFiles,
  sstBuildAllOptions,
  sstBuildOptions,
  sstBundleFile,
} from '../../bench/sst-esbuild.ts';
import { GreenlightFunction, handlerBundling, packagedFiles } from '../../src/infra/functions.ts';
import { calledActions } from '../../src/infra/permissions.ts';

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
 * The bundles live outside the project, as in Lambda's /var/task, with nothing above them but
 * a stand-in for the runtime's own modules: `runtime/node_modules` holding only `@aws-sdk`
 * (the SDK the nodejs24.x runtime provides; here our pinned one). A bundle loads only if
 * everything else it needs but Node's built-ins is inside it.
 */
let outDir = '';
let bundleDir = '';
/** The bundles as shipped: `@aws-sdk/*` external (handlerBundling). */
let metafile: Metafile | undefined;
/** The same bundles with the SDK bundled in, as SST builds them without the external. */
let bundledMetafile: Metafile | undefined;

/** Bytes of a shipped bundle at most (issue 10): minified, without its source map. */
const maxBundleBytes = 250_000;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'greenlight-bundles-'));
  const runtimeModules = join(outDir, 'node_modules');
  await mkdir(runtimeModules);
  const projectModules = fileURLToPath(new URL('../../node_modules/', import.meta.url));
  await symlink(join(projectModules, '@aws-sdk'), join(runtimeModules, '@aws-sdk'), 'dir');
  bundleDir = join(outDir, 'task');
  const entries = Object.fromEntries(handlers.map((handler) => [handler, handlerEntry(handler)]));
  const result = await build(sstBuildAllOptions(entries, bundleDir));
  // Without it the externals check below would pass on nothing.
  if (!result.metafile) throw new Error('sstBuildAllOptions must ask esbuild for a metafile');
  metafile = result.metafile;
  // Each package as SST zips it: the files copyFiles puts beside the bundle (packagedFiles).
  await copyPackagedFiles(bundleDir);
  const bundled = await build({
    ...sstBuildAllOptions(entries, join(outDir, 'sdk-bundled'), { sdk: 'bundled' }),
    write: false,
  });
  bundledMetafile = bundled.metafile;
});

afterAll(async () => {
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

function bundlePath(handler: string): string {
  return join(bundleDir, handler, sstBundleFile);
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

  it('leave only Node built-ins and the runtime’s AWS SDK to be resolved at run time', () => {
    expect(handlerBundling.esbuild.external).toEqual(['@aws-sdk/*']);
    const external = Object.values(metafile?.inputs ?? {}).flatMap(({ imports }) =>
      imports.filter((found) => found.external).map((found) => found.path),
    );
    // `<runtime>` is esbuild's own helper module, inlined into every bundle.
    const unresolved = external.filter((path) => path !== '<runtime>' && !isBuiltin(path));
    expect(unresolved.length).toBeGreaterThan(0);
    expect(new Set(unresolved.filter((path) => !path.startsWith('@aws-sdk/')))).toEqual(new Set());
  });

  it.each(handlers)(`%s is at most ${maxBundleBytes} bytes`, async (handler) => {
    expect((await stat(bundlePath(handler))).size).toBeLessThanOrEqual(maxBundleBytes);
  });

  it('hold no classic zod and no @slack/web-api', () => {
    const inputs = Object.keys(metafile?.inputs ?? {});
    expect(inputs.filter((path) => /node_modules\/zod\/v4\/classic\//.test(path))).toEqual([]);
    expect(inputs.filter((path) => /node_modules\/@slack\//.test(path))).toEqual([]);
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

// Classifies one statement with the parser inside the bundle, in a fresh process.
const classifyWithBundle = `
const bundle = await import(process.argv[1]);
const result = await bundle.classifyMigration('ALTER TABLE orders RENAME COLUMN total TO amount', 'expand');
console.log(JSON.stringify(result.statements.map((s) => s.effects.map((e) => e.effect))));`;

describe('the migrate package', () => {
  const projectRoot = fileURLToPath(new URL('../../', import.meta.url));
  const files = packagedFiles[GreenlightFunction.Migrate] ?? [];

  it('ships the parser’s .wasm as a file beside the bundle, not inlined', async () => {
    expect(files).toEqual([
      { from: 'node_modules/libpg-query/wasm/libpg-query.wasm', to: 'libpg-query.wasm' },
    ]);
    const wasm = await stat(join(projectRoot, files[0]?.from ?? ''));
    expect(wasm.size).toBeGreaterThan(1_000_000);
    // Inlined, the bundle could not stay under the bound it is checked against above.
    expect(wasm.size).toBeGreaterThan(maxBundleBytes);
  });

  it('classifies a statement with the bundle as shipped, and fails without the .wasm', async () => {
    // A package as SST zips it: the bundle, and the files copied beside it.
    const shipped = join(outDir, 'migrate-package');
    const alone = join(outDir, 'migrate-alone');
    await mkdir(shipped, { recursive: true });
    await mkdir(alone, { recursive: true });
    const bundle = bundlePath(GreenlightFunction.Migrate);
    await cp(bundle, join(shipped, sstBundleFile));
    await cp(bundle, join(alone, sstBundleFile));
    // libpg-query compiles its .wasm when the bundle is imported: without it nothing loads.
    for (const file of files) await copyFile(join(projectRoot, file.from), join(shipped, file.to));
    // Under the stand-in runtime's node_modules, as the bundles above load.
    const classify = (dir: string) =>
      run(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          classifyWithBundle,
          pathToFileURL(join(dir, sstBundleFile)).href,
        ],
        { env: {} },
      );

    const { stdout } = await classify(shipped);
    expect(JSON.parse(stdout)).toEqual([['renames-column']]);
    await expect(classify(alone)).rejects.toThrow(/libpg-query\.wasm/);
  });
});

const F = GreenlightFunction;
const dynamodb = ['client-dynamodb', 'lib-dynamodb'];
const events = 'client-eventbridge';
const callbacks = 'client-sfn';
const alarms = 'client-cloudwatch';
const lambda = 'client-lambda';
const elbv2 = 'client-elastic-load-balancing-v2';
const ecs = 'client-ecs';
// An ECS task migration runner's reply is read from its log stream.
const logs = 'client-cloudwatch-logs';

/**
 * The AWS SDK packages each function's bundle may hold: the clients of the ports its step
 * names (functions/<name>.ts), and no others. Every client costs cold start once imported,
 * which is why only the functions that take or free the service lock hold Step Functions for it
 * (buildLock: waking the next release); the others build it without (buildLockBystander).
 * sent a request or not. Three hold one more than their IAM grants call for, because a helper
 * they share may need it though their own path never does: approval-timeout's advanceRelease
 * may publish (its approval transitions publish nothing), bake-tick's interruptBake may answer
 * a token (polled bakes have none), and operator's revert may move an ALB service's traffic
 * (its grants have no ELBv2 action yet).
 */
const expectedSdk: Record<GreenlightFunction, readonly string[]> = {
  [F.Register]: [...dynamodb, events],
  [F.AcquireLock]: [...dynamodb, events, callbacks],
  [F.ProvisionGreen]: [...dynamodb, events, lambda, elbv2, ecs],
  [F.TestGreen]: [...dynamodb, events, alarms, lambda, elbv2],
  [F.Migrate]: [...dynamodb, lambda, elbv2, ecs, logs],
  [F.SetWeight]: [...dynamodb, events, lambda, elbv2],
  [F.StartBake]: [...dynamodb, events, alarms, callbacks],
  [F.EndBake]: [...dynamodb, callbacks],
  [F.BakeTick]: [...dynamodb, events, alarms, callbacks],
  [F.CheckGates]: [...dynamodb, events, alarms],
  [F.Finalize]: [...dynamodb, events, callbacks, lambda, elbv2, ecs, 'client-scheduler'],
  [F.Rollback]: [...dynamodb, events, callbacks, lambda, elbv2],
  [F.RequestApproval]: [...dynamodb, callbacks],
  [F.ApprovalTimeout]: [...dynamodb, events],
  [F.VerifyCallback]: [...dynamodb],
  [F.SlackInteractions]: [...dynamodb, callbacks],
  [F.Operator]: [...dynamodb, events, callbacks, lambda, elbv2],
  [F.AlarmEvent]: [...dynamodb, events, callbacks],
  [F.ReleaseUpdates]: [...dynamodb],
  [F.Teardown]: [...dynamodb, events, lambda, elbv2, ecs, logs],
  [F.Sweeper]: [...dynamodb, events, lambda, elbv2, ecs, logs],
};

/** The SDK client that sends an IAM action's requests, by the action's service prefix. */
const clientOfService: Record<string, string> = {
  dynamodb: 'client-dynamodb',
  events,
  cloudwatch: alarms,
  lambda,
  elasticloadbalancing: elbv2,
  ecs,
  logs,
  states: callbacks,
  scheduler: 'client-scheduler',
};

describe('the AWS SDK in each handler bundle', () => {
  it.each(handlers)('%s imports only the clients of the ports its step names', (handler) => {
    // Unused imports of an external package stay in the bundle (esbuild cannot know it has no
    // side effects), so this holds only if no module in the entry's graph imports another client.
    const want = [...(expectedSdk[handler as GreenlightFunction] ?? [])].sort();
    expect(sdkPackagesIn(metafile as Metafile, handler)).toEqual(want);
  });

  it.each(handlers)('%s holds only those with the SDK bundled in', (handler) => {
    const want = [...(expectedSdk[handler as GreenlightFunction] ?? [])].sort();
    expect(sdkPackagesIn(bundledMetafile as Metafile, handler)).toEqual(want);
  });

  it.each(handlers)('%s holds every client its IAM grants call for', (handler) => {
    const granted = [...calledActions(handler as GreenlightFunction)].map((action) => {
      const service = action.slice(0, action.indexOf(':'));
      const client = clientOfService[service];
      if (client === undefined) throw new Error(`no SDK client known for ${action}`);
      return client;
    });
    expect(expectedSdk[handler as GreenlightFunction]).toEqual(expect.arrayContaining(granted));
  });
});

/** Node echoes the failing minified line, a megabyte long; the error and stack are what help. */
function readableFailure(error: { stderr?: string; message: string }): string {
  const lines = (error.stderr ?? error.message).split('\n');
  return lines.filter((line) => line.length < 500).join('\n') || error.message;
}
