import { ReleaseFunction } from '../../workflows/release.ts';

/** Functions outside the release workflow, invoked on a schedule. */
export const ScheduledFunction = {
  /** Invoked by a release's one-time schedule at the end of its warm window. */
  Teardown: 'teardown',
  /** Invoked daily: tears down idle colours left warm past their window. */
  Sweeper: 'sweeper',
} as const;
export type ScheduledFunction = (typeof ScheduledFunction)[keyof typeof ScheduledFunction];

/**
 * greenlight's functions outside the workflow, invoked by what happens outside it: the Slack
 * interactivity endpoint (a function URL), the operator function (the bus's Operator Command
 * rule) and the alarm-event function (the default bus's rule for the gate alarms' state
 * changes, which cuts a bake short within seconds) and the release-updates function (the bus's
 * rule for greenlight's own lifecycle events, which keeps each release's Slack thread).
 */
export const EdgeFunction = {
  SlackInteractions: 'slack-interactions',
  Operator: 'operator',
  AlarmEvent: 'alarm-event',
  ReleaseUpdates: 'release-updates',
} as const;
export type EdgeFunction = (typeof EdgeFunction)[keyof typeof EdgeFunction];

/**
 * Every Lambda function greenlight deploys, by logical name (functions/<name>.ts), each with
 * its own role.
 */
export const GreenlightFunction = {
  ...ReleaseFunction,
  ...ScheduledFunction,
  ...EdgeFunction,
} as const;
export type GreenlightFunction = (typeof GreenlightFunction)[keyof typeof GreenlightFunction];

/** Functions that talk to Slack's Web API: they get the bot token. */
export const SlackFunctions: ReadonlySet<GreenlightFunction> = new Set([
  GreenlightFunction.RequestApproval,
  GreenlightFunction.ApprovalTimeout,
  GreenlightFunction.SlackInteractions,
  GreenlightFunction.ReleaseUpdates,
]);

/**
 * How SST bundles every handler (`nodejs` of sst.aws.Function): minified ESM, and the AWS SDK
 * left out of the bundle, to be imported from the Lambda runtime. The nodejs24.x runtime
 * includes the AWS SDK for JavaScript v3 (Lambda Developer Guide, "Building Lambda functions
 * with Node.js", lambda-nodejs.html, and its "Runtime-included SDK versions"). SST 4.17.1 passes
 * `esbuild.external` to esbuild as is (pkg/runtime/node/build.go; bench/sst-esbuild.ts).
 *
 * Measured (bench section 8): the SDK bundled made each bundle 559-811 KB and its import
 * 1.2-1.5x that of the SDK clients alone; external, every bundle is under 250 KB.
 *
 * The trade-off: the SDK a function runs is the runtime's, not the version package.json pins
 * and the tests ran, and AWS updates it with the runtime (an older or newer 3.x). greenlight
 * uses long-standing operations of v3 clients only, so it accepts this for the cold start; a
 * stage that must pin the SDK can bundle it again by dropping the `esbuild` line (bundles
 * then outgrow 250 KB) or ship it in a layer.
 */
export const handlerBundling = {
  format: 'esm',
  minify: true,
  esbuild: { external: ['@aws-sdk/*'] },
} as const;

/**
 * Files a function's package holds beside its bundle (SST `copyFiles`, `to` relative to the
 * package root, where SST puts `bundle.mjs`). The migrate function classifies plans with
 * libpg-query, whose Emscripten loader reads `libpg-query.wasm` from the directory of the
 * script that loads it (`__dirname`, which SST's banner sets to the bundle's): shipped as a
 * file there, not inlined, since 1.7 MB of base64 in the bundle would outgrow the 250 KB every
 * bundle keeps to (and cost the cold start of every invocation to parse).
 * test/infra/bundles.test.ts builds the bundle, puts these files beside it and classifies a
 * statement with it, and without them sees it fail.
 */
export const packagedFiles: Partial<
  Record<GreenlightFunction, readonly { from: string; to: string }[]>
> = {
  [GreenlightFunction.Migrate]: [
    { from: 'node_modules/libpg-query/wasm/libpg-query.wasm', to: 'libpg-query.wasm' },
  ],
};
