import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { formatRelease, type RenderStyle } from '../cli/format-timeline.ts';
import { ReleasePhase, TerminalPhases } from '../core/phases.ts';
import { IdleColourState, type ReleaseRecord } from '../core/records.ts';
import type { Artifact } from '../core/release-event.ts';
import { deriveReleaseId } from '../core/release-id.ts';
import { buildReleaseRequestEntry } from '../core/release-request-entry.ts';
import { DemoShop } from './data-plane/local-alb.ts';
import { DemoArtifactBucket, DemoUpdates } from './demo-registry.ts';
import { describeTraffic, startAliasTraffic } from './demo-traffic.ts';
import { type GreenlightLocal, LocalNames } from './greenlight-local.ts';
import { describeLoad, startHttpLoad, summarizeLoad } from './http-load.ts';

/** The demo's releases of `checkout`, in order, and how each is expected to end. */
export const demoReleases = [
  {
    title:
      'A good release: canary 10%, bake, gate, then 100%; blue stays warm for 5 s, then its schedule tears it down',
    version: '1.1.0',
    artifact: 'checkout/1.1.0.zip',
    expected: 'Finalized',
  },
  {
    title: 'A broken build: green fails its health test before any user sees it',
    version: '1.2.0',
    artifact: 'checkout/1.2.0-broken.zip',
    expected: 'RolledBack',
  },
  {
    title:
      'A faulty build: passes its test, then throws on real traffic; the errors alarm fires during the bake',
    version: '1.3.0',
    artifact: 'checkout/1.3.0-faulty.zip',
    expected: 'RolledBack',
  },
] as const;

/** The demo's releases of the ALB service `shop`, each under HTTP load through its listener. */
export const demoShopReleases = [
  {
    title: 'An ALB release under load: canary 20% through the listener, bake, gate, then 100%',
    version: '1.1.0',
    image: '1.1.0',
    expected: 'Finalized',
  },
  {
    title:
      'A faulty ALB release: green answers 5xx once it takes traffic; its 5xx alarm fires during the bake',
    version: '1.3.0',
    image: '1.3.0-5xx',
    expected: 'RolledBack',
  },
] as const;

export interface DemoOutcome {
  service: string;
  version: string;
  expected: string;
  release: ReleaseRecord;
}

/**
 * Runs the demo releases one after the other under steady traffic, the way CI would send them
 * (PutEvents on the greenlight bus), and prints each release's timeline from the ledger and
 * what users saw: `checkout` with traffic through `checkout:live`, then, when the local cloud
 * has the demo shop, `shop` with HTTP load through its production listener.
 */
export async function runDemo(
  local: GreenlightLocal,
  out: (line: string) => void,
  style: RenderStyle,
): Promise<DemoOutcome[]> {
  const events = new EventBridgeClient(local.clientConfig);
  const lambda = new LambdaClient(local.clientConfig);
  const outcomes: DemoOutcome[] = [];
  const attempt = 1;
  const shop = local.shop;
  const total = demoReleases.length + (shop === undefined ? 0 : demoShopReleases.length);
  const send = async (service: string, version: string, artifact: Artifact) => {
    await events.send(
      new PutEventsCommand({
        Entries: [
          buildReleaseRequestEntry({
            bus: LocalNames.bus,
            source: 'greenlight.demo',
            detail: {
              service,
              version,
              attempt,
              artifact,
              actor: 'demo',
              ci: { provider: 'local', runUrl: 'http://127.0.0.1/demo' },
            },
          }),
        ],
      }),
    );
    return deriveReleaseId(service, version, attempt);
  };
  try {
    for (const [i, demo] of demoReleases.entries()) {
      out('');
      out(`── Demo ${i + 1}/${total}: ${demo.title}`);
      const traffic = startAliasTraffic({
        client: lambda,
        functionName: 'checkout',
        alias: 'live',
        intervalMs: 25,
      });
      const releaseId = await send('checkout', demo.version, {
        s3: { bucket: DemoArtifactBucket, key: demo.artifact },
      });
      let release = await waitForEnd(local, releaseId);
      // A finalized release keeps blue warm for its window; users stay on green meanwhile.
      if (release.phase === ReleasePhase.Finalized)
        release = await waitForTeardown(local, releaseId);
      await traffic.stop();
      for (const line of formatRelease(release, await local.ledger.listSteps(releaseId), style))
        out(line);
      out(`  users saw  ${describeTraffic(traffic.counts)}`);
      out(`  slack      ${describeUpdates(local, releaseId)}`);
      outcomes.push({
        service: 'checkout',
        version: demo.version,
        expected: demo.expected,
        release,
      });
    }
    if (shop !== undefined) {
      for (const [i, demo] of demoShopReleases.entries()) {
        out('');
        out(`── Demo ${demoReleases.length + i + 1}/${total}: ${demo.title}`);
        // Users with kept-alive connections through the production listener; bounded, so that a
        // stuck release cannot leave it running.
        const load = startHttpLoad({
          url: shop.productionUrl,
          concurrency: 4,
          pauseMs: 20,
          maxRequests: 50_000,
          maxDurationMs: 120_000,
        });
        const releaseId = await send(shop.name, demo.version, {
          imageUri: DemoShop.image(demo.image),
        });
        let release = await waitForEnd(local, releaseId);
        // With the database the shop keeps blue warm for seconds (its migration story needs the
        // teardowns): the next release waits for this one's, as checkout's do.
        if (release.phase === ReleasePhase.Finalized && local.database !== undefined)
          release = await waitForTeardown(local, releaseId);
        const report = await load.stop();
        for (const line of formatRelease(release, await local.ledger.listSteps(releaseId), style))
          out(line);
        out(`  users saw  ${describeLoad(summarizeLoad(report.responses))}`);
        out(`  slack      ${describeUpdates(local, releaseId)}`);
        outcomes.push({
          service: shop.name,
          version: demo.version,
          expected: demo.expected,
          release,
        });
      }
    }
  } finally {
    events.destroy();
    lambda.destroy();
  }
  return outcomes;
}

/**
 * The release's message in the demo's updates channel, as the Slack stand-in holds it: its
 * current text and how many thread replies and in-place updates it has had.
 */
export function describeUpdates(local: GreenlightLocal, releaseId: string): string {
  const parent = local.slack
    .messages(DemoUpdates.channel)
    .find(
      (m) => m.threadTs === undefined && JSON.stringify(m.blocks).includes(`Release ${releaseId}`),
    );
  if (parent === undefined) return `no message in ${DemoUpdates.channel}`;
  const replies = local.slack.replies(DemoUpdates.channel, parent.ts).length;
  return `${DemoUpdates.channel}: "${parent.text}" (updated ${parent.history.length}x, ${replies} replies in thread)`;
}

/** Waits for the release's idle colour to be torn down by its schedule (or otherwise settled). */
async function waitForTeardown(local: GreenlightLocal, releaseId: string): Promise<ReleaseRecord> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const release = await local.ledger.getRelease(releaseId);
    if (release && release.idle?.state !== IdleColourState.Warm) return release;
    if (Date.now() > deadline) {
      throw new Error(
        `Demo release ${releaseId}: its idle colour was not torn down within a minute`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function waitForEnd(local: GreenlightLocal, releaseId: string): Promise<ReleaseRecord> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const release = await local.ledger.getRelease(releaseId);
    if (release && TerminalPhases.has(release.phase)) return release;
    if (Date.now() > deadline)
      throw new Error(`Demo release ${releaseId} did not end within 2 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
