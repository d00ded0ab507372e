import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handlerEntry, listHandlers, sdkPackagesIn } from '../../bench/bundle-size.ts';
import { sstBuildAllOptions, sstBuildOptions, sstBundleFile } from '../../bench/sst-esbuild.ts';
import { GreenlightFunction } from '../../src/infra/functions.ts';
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
 * The bundles live outside the project, as in Lambda's /var/task: no node_modules above them,
 * so a bundle loads only if everything but Node's built-ins is inside it.
 */
let outDir = '';
let metafile: Metafile | undefined;
/** The same bundles with `@aws-sdk/*` external, as the SDK the Lambda runtime provides. */
let externalMetafile: Metafile | undefined;

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'greenlight-bundles-'));
  const entries = Object.fromEntries(handlers.map((handler) => [handler, handlerEntry(handler)]));
  const result = await build(sstBuildAllOptions(entries, outDir));
  // Without it the externals check below would pass on nothing.
  if (!result.metafile) throw new Error('sstBuildAllOptions must ask esbuild for a metafile');
  metafile = result.metafile;
  const external = await build({
    ...sstBuildAllOptions(entries, join(outDir, 'sdk-external'), { sdk: 'external' }),
    write: false,
  });
  externalMetafile = external.metafile;
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

const F = GreenlightFunction;
const dynamodb = ['client-dynamodb', 'lib-dynamodb'];
const events = 'client-eventbridge';
const callbacks = 'client-sfn';
const alarms = 'client-cloudwatch';
const lambda = 'client-lambda';
const elbv2 = 'client-elastic-load-balancing-v2';
const ecs = 'client-ecs';

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
  [F.SetWeight]: [...dynamodb, events, lambda, elbv2],
  [F.StartBake]: [...dynamodb, events, alarms, callbacks],
  [F.EndBake]: [...dynamodb, callbacks],
  [F.BakeTick]: [...dynamodb, events, alarms, callbacks],
  [F.CheckGates]: [...dynamodb, events, alarms],
  [F.Finalize]: [...dynamodb, events, callbacks, lambda, elbv2, ecs, 'client-scheduler'],
  [F.Rollback]: [...dynamodb, events, callbacks, lambda, elbv2],
  [F.RequestApproval]: [...dynamodb, callbacks],
  [F.ApprovalTimeout]: [...dynamodb, events],
  [F.SlackInteractions]: [...dynamodb, callbacks],
  [F.Operator]: [...dynamodb, events, callbacks, lambda, elbv2],
  [F.AlarmEvent]: [...dynamodb, events, callbacks],
  [F.Teardown]: [...dynamodb, events, lambda, elbv2, ecs],
  [F.Sweeper]: [...dynamodb, events, lambda, elbv2, ecs],
};

/** The SDK client that sends an IAM action's requests, by the action's service prefix. */
const clientOfService: Record<string, string> = {
  dynamodb: 'client-dynamodb',
  events,
  cloudwatch: alarms,
  lambda,
  elasticloadbalancing: elbv2,
  ecs,
  states: callbacks,
  scheduler: 'client-scheduler',
};

describe('the AWS SDK in each handler bundle', () => {
  it.each(handlers)('%s holds only the clients of the ports its step names', (handler) => {
    const want = [...(expectedSdk[handler as GreenlightFunction] ?? [])].sort();
    expect(sdkPackagesIn(metafile as Metafile, handler)).toEqual(want);
  });

  it.each(handlers)('%s imports only those with the SDK left to the runtime', (handler) => {
    // Unused imports of an external package stay in the bundle (esbuild cannot know it has no
    // side effects), so this holds only if no module in the entry's graph imports another client.
    const want = [...(expectedSdk[handler as GreenlightFunction] ?? [])].sort();
    expect(sdkPackagesIn(externalMetafile as Metafile, handler)).toEqual(want);
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
