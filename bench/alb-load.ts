import { performance } from 'node:perf_hooks';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { TerminalPhases } from '../src/core/phases.ts';
import type { ReleaseRecord } from '../src/core/records.ts';
import { deriveReleaseId } from '../src/core/release-id.ts';
import { buildReleaseRequestEntry } from '../src/core/release-request-entry.ts';
import { DemoShop } from '../src/local/data-plane/local-alb.ts';
import type { GreenlightLocal } from '../src/local/greenlight-local.ts';
import { isFailed, type LoadResponse, startHttpLoad } from '../src/local/http-load.ts';
import { UnexpectedReleaseOutcomeError } from './release-driver.ts';
import { percentile, type Summary, summarize } from './stats.ts';

type Shop = DemoShop;

export interface LoadWindowRow {
  /** `steady before (blue only)`, `during shift (20% on green)`, `steady after (green only)`. */
  phase: string;
  requests: number;
  failed: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
}

/** Users as closed-loop clients with no think time: what the router sustains on this machine. */
const saturatingLoad = { concurrency: 8, pauseMs: 0, maxRequests: 500_000, maxDurationMs: 60_000 };
// Connections open and the router and tasks warm up in the first second; it is not measured.
const warmupMs = 1_000;
const steadyMs = 2_500;

/**
 * Requests per second and latency through the production listener's router while blue alone
 * serves (before the release), while a canary splits traffic between blue and green (from the
 * first weight change to 100% on green), and while green alone serves (after finalize). Everything (router, load, greenlight's handlers
 * and engine) shares this process; the tasks are child processes.
 */
export async function measureShiftLoad(options: {
  local: GreenlightLocal;
  shop: Shop;
  version: string;
}): Promise<LoadWindowRow[]> {
  const { local, shop } = options;
  const changes = watchGreenWeight(local, shop);
  const load = startHttpLoad({ url: shop.productionUrl, ...saturatingLoad });
  try {
    await new Promise((resolve) => setTimeout(resolve, warmupMs + steadyMs));
    const releaseAt = performance.now();
    const release = await sendRelease(local, shop, options.version, '1.1.0');
    expectPhase(release, 'Finalized');
    const finalizedAt = performance.now();
    await new Promise((resolve) => setTimeout(resolve, steadyMs));
    const report = await load.stop();
    const [split, whole] = [changes.at(0), changes.find((change) => change.green === 100)];
    if (split === undefined || whole === undefined) {
      throw new UnexpectedReleaseOutcomeError(
        `Release ${options.version} of ${shop.name} finalized without a split: ${JSON.stringify(changes)}`,
      );
    }
    const started = (report.responses[0]?.sentAt ?? releaseAt) + warmupMs;
    return [
      windowRow('steady before (blue only)', report.responses, started, releaseAt),
      windowRow(`during shift (${split.green}% on green)`, report.responses, split.at, whole.at),
      windowRow('steady after (green only)', report.responses, finalizedAt, finalizedAt + steadyMs),
    ];
  } finally {
    await load.stop();
    changes.stop();
  }
}

/**
 * From the moment the local CloudWatch puts the 5xx alarm into ALARM to the moment the listener
 * sends all traffic to blue: the alarm's state change event, the alarm-event handler failing
 * the bake's token, the workflow's Catch, the rollback step's ModifyListener. One faulty
 * release per shop (each shop has its own alarm, so no release starts with one still firing).
 */
export async function measureAlarmToBlue(options: {
  local: GreenlightLocal;
  shops: readonly Shop[];
  versionPrefix: string;
}): Promise<Summary> {
  const samples: number[] = [];
  for (const [i, shop] of options.shops.entries()) {
    const { local } = options;
    let alarmAt: number | undefined;
    const stopAlarm = local.cloudwatch.onStateChange((change) => {
      if (change.alarmName === shop.targetErrorsAlarm.AlarmName && change.state.value === 'ALARM') {
        alarmAt ??= performance.now();
      }
    });
    const changes = watchGreenWeight(local, shop);
    const load = startHttpLoad({
      url: shop.productionUrl,
      concurrency: 4,
      pauseMs: 5,
      maxRequests: 100_000,
      maxDurationMs: 60_000,
    });
    try {
      const release = await sendRelease(
        local,
        shop,
        `${options.versionPrefix}.${i + 1}`,
        '1.3.0-5xx',
      );
      expectPhase(release, 'RolledBack');
      const report = await load.stop();
      const back = changes.find((change) => change.green === 0 && change.at > (alarmAt ?? 0));
      if (alarmAt === undefined || back === undefined || report.responses.some(isFailed)) {
        throw new UnexpectedReleaseOutcomeError(
          `Faulty release of ${shop.name}: alarm at ${alarmAt}, weights ${JSON.stringify(changes)}, ${report.responses.filter(isFailed).length} failed requests`,
        );
      }
      samples.push(back.at - alarmAt);
    } finally {
      await load.stop();
      changes.stop();
      stopAlarm();
    }
  }
  return summarize(samples);
}

function windowRow(
  phase: string,
  responses: readonly LoadResponse[],
  from: number,
  to: number,
): LoadWindowRow {
  const inWindow = responses.filter((r) => r.sentAt >= from && r.sentAt < to);
  const latencies = inWindow.map((r) => r.receivedAt - r.sentAt);
  return {
    phase,
    requests: inWindow.length,
    failed: inWindow.filter(isFailed).length,
    requestsPerSecond: inWindow.length / ((to - from) / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

/**
 * Green's share (percent) of the shop's production listener after each change, on
 * performance.now(). Every shop here is released for the first time, so green is slot b.
 */
function watchGreenWeight(local: GreenlightLocal, shop: Shop) {
  const green = shop.slots.b.targetGroupArn;
  const changes: { at: number; green: number }[] = [];
  const stop = local.alb.elbv2.onChange((change) => {
    if (change.type !== 'listener' || change.listenerArn !== shop.listenerArn) return;
    const weights = local.alb.elbv2.weightsOf(shop.listenerArn);
    const total = Object.values(weights).reduce((sum, weight) => sum + weight, 0);
    changes.push({
      at: performance.now(),
      green: Math.round(((weights[green] ?? 0) / total) * 100),
    });
  });
  return Object.assign(changes, { stop });
}

async function sendRelease(
  local: GreenlightLocal,
  shop: Shop,
  version: string,
  tag: string,
): Promise<ReleaseRecord> {
  const events = new EventBridgeClient(local.clientConfig);
  try {
    const put = await events.send(
      new PutEventsCommand({
        Entries: [
          buildReleaseRequestEntry({
            bus: 'greenlight',
            source: 'greenlight.bench',
            detail: { service: shop.name, version, artifact: { imageUri: DemoShop.image(tag) } },
          }),
        ],
      }),
    );
    if (put.FailedEntryCount) {
      throw new UnexpectedReleaseOutcomeError(`PutEvents rejected ${shop.name} ${version}`);
    }
  } finally {
    events.destroy();
  }
  const releaseId = deriveReleaseId(shop.name, version, 1);
  const deadline = performance.now() + 60_000;
  for (;;) {
    const release = await local.ledger.getRelease(releaseId);
    if (release !== undefined && TerminalPhases.has(release.phase)) return release;
    if (performance.now() > deadline) {
      throw new UnexpectedReleaseOutcomeError(`Release ${releaseId} did not end within 60 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function expectPhase(release: ReleaseRecord, phase: string): void {
  if (release.phase !== phase) {
    throw new UnexpectedReleaseOutcomeError(
      `Release ${release.releaseId} ended ${release.phase}, expected ${phase}: ${release.reason}`,
    );
  }
}
