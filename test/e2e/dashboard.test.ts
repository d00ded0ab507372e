import { existsSync, mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/cli/connect.ts';
import { serveDashboard } from '../../src/cli/dashboard/command.ts';
import type { Dashboard } from '../../src/cli/dashboard/server.ts';
import type { CommandContext } from '../../src/cli/options.ts';
import { ReleasePhase } from '../../src/core/phases.ts';
import { deriveReleaseId } from '../../src/core/release-id.ts';
import { type GreenlightLocal, LocalNames } from '../../src/local/greenlight-local.ts';
import {
  aLambdaService,
  artifact,
  requestRelease,
  useLocalCloud,
  waitForPhase,
} from './local-release.ts';

// The dashboard in a real headless Chromium (Debian's `chromium`, driven by playwright-core)
// against the local cloud: what it shows comes from the ledger, and its buttons go through the
// CLI's operator-command path. CI installs the browser (.ci/run); elsewhere the test says it
// skips rather than pass without a browser.
const ChromiumPath = '/usr/bin/chromium';
const hasChromium = existsSync(ChromiumPath);
if (!hasChromium) {
  console.warn(
    `dashboard browser test skipped: ${ChromiumPath} is missing (Debian: apt-get install chromium)`,
  );
}

const slowSteps = (name: string, bakeSeconds: number) => {
  const fixture = aLambdaService(name, bakeSeconds);
  fixture.service.strategies = {
    canary: {
      type: 'steps',
      steps: [
        { percent: 10, bakeSeconds },
        { percent: 50, bakeSeconds },
      ],
    },
  };
  return fixture;
};
const fixtures = [
  aLambdaService('finished', 1),
  slowSteps('followed', 2),
  slowSteps('promoted', 60),
];

let local: GreenlightLocal;
useLocalCloud(fixtures, (cloud) => {
  ({ local } = cloud);
});

let dashboard: Dashboard;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!hasChromium) return;
  const context: CommandContext = {
    out: () => {},
    err: () => {},
    env: { USER: 'dana' },
    now: () => Date.now(),
    sleep: (ms) => sleep(ms),
    isTty: false,
  };
  dashboard = await serveDashboard(
    0,
    {
      bus: LocalNames.bus,
      ledgerTable: LocalNames.ledgerTable,
      registryTable: LocalNames.registryTable,
      region: LocalNames.region,
      endpointUrl: local.url,
      json: false,
    },
    context,
    connect,
  );
  // The browser is a tool here, not code under test: under scripts/test-clock-ahead.sh it runs
  // on the machine's real clock (libfaketime's LD_PRELOAD and FAKETIME* dropped), as a user's
  // browser would, while the server and the local cloud keep the shifted one.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined && entry[0] !== 'LD_PRELOAD' && !entry[0].startsWith('FAKETIME'),
    ),
  );
  browser = await chromium.launch({ executablePath: ChromiumPath, headless: true, env });
  page = await browser.newPage();
  await page.goto(dashboard.url);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
});

async function open(releaseId: string): Promise<void> {
  const link = page.locator(`a[data-release-id="${releaseId}"]`);
  await link.waitFor({ timeout: 15_000 });
  await link.click();
  await page.locator(`#release[data-release-id="${releaseId}"]`).waitFor({ timeout: 15_000 });
}

describe.skipIf(!hasChromium)('greenlight dashboard in headless Chromium', () => {
  it('renders a finished release: phase, timeline and a chart of green weight', async () => {
    const releaseId = deriveReleaseId('finished', '1.1.0', 1);
    await requestRelease(local, {
      service: 'finished',
      version: '1.1.0',
      artifact: artifact('1.1.0'),
    });
    expect(await waitForPhase(local, releaseId)).toMatchObject({ phase: 'Finalized' });

    await open(releaseId);

    await expect.poll(() => page.locator('#phase').textContent()).toBe('Finalized');
    const steps = await local.ledger.listSteps(releaseId);
    expect(await page.locator('#steps tbody tr').count()).toBe(steps.length);
    const weights = await page
      .locator('#chart circle')
      .evaluateAll((dots) => dots.map((d) => Number(d.getAttribute('data-weight'))));
    expect(weights).toContain(10);
    expect(weights.at(-1)).toBe(100);
    await expect.poll(() => page.locator('#idle').textContent()).toContain('idle colour');
    mkdirSync('test-artifacts', { recursive: true });
    await page.screenshot({ path: 'test-artifacts/dashboard-finished.png', fullPage: true });
  }, 60_000);

  it('follows a running release without a reload', async () => {
    const releaseId = deriveReleaseId('followed', '1.1.0', 1);
    await requestRelease(local, {
      service: 'followed',
      version: '1.1.0',
      artifact: artifact('1.1.0'),
    });
    await waitForPhase(local, releaseId, new Set([ReleasePhase.Shifting]));
    await open(releaseId);
    const firstDots = await page.locator('#chart circle').count();
    await page.evaluate(() => {
      (globalThis as unknown as { marker: string }).marker = 'same page';
    });

    await expect
      .poll(() => page.locator('#phase').textContent(), { timeout: 30_000 })
      .toBe('Finalized');

    expect(await page.evaluate(() => (globalThis as unknown as { marker?: string }).marker)).toBe(
      'same page',
    );
    expect(await page.locator('#traffic').textContent()).toContain('green 100%');
    expect(await page.locator('#chart circle').count()).toBeGreaterThan(firstDots);
  }, 60_000);

  it('promotes a baking release through the CLI command path', async () => {
    const releaseId = deriveReleaseId('promoted', '1.1.0', 1);
    await requestRelease(local, {
      service: 'promoted',
      version: '1.1.0',
      artifact: artifact('1.1.0'),
    });
    await waitForPhase(local, releaseId, new Set([ReleasePhase.Shifting]));
    await open(releaseId);

    await page.locator('button[data-command="promote"]').click();

    // A 60 s bake per step: only the promote ends it within the wait.
    const final = await waitForPhase(local, releaseId, undefined, 30_000);
    expect(final.phase).toBe('Finalized');
    const promoted = (await local.ledger.listSteps(releaseId)).find(
      (s) => s.identity?.actor === 'dana',
    );
    expect(promoted?.identity).toMatchObject({ source: 'aws-sts', actor: 'dana' });
    await expect
      .poll(() => page.locator('#command-result').textContent(), { timeout: 15_000 })
      .toContain('promote (exit 0)');
    await expect.poll(() => page.locator('#phase').textContent()).toBe('Finalized');
    await page.screenshot({ path: 'test-artifacts/dashboard-promoted.png', fullPage: true });
  }, 60_000);

  it('refuses a POST without the page token, from another origin, or to another host', async () => {
    const path = `${dashboard.url}api/releases/${deriveReleaseId('finished', '1.1.0', 1)}/abort`;
    const origin = dashboard.url.replace(/\/$/, '');
    const token = await page.locator('meta[name="greenlight-token"]').getAttribute('content');
    const post = (headers: Record<string, string>) =>
      fetch(path, { method: 'POST', headers, body: '{"reason":"forged"}' });

    const noToken = await post({ origin });
    const wrongToken = await post({ origin, 'x-greenlight-token': 'guess' });
    const foreignOrigin = await post({
      origin: 'http://evil.example',
      'x-greenlight-token': token ?? '',
    });
    // fetch may not set Host; a DNS-rebinding page's requests name its own host.
    const wrongHost = await new Promise<number | undefined>((resolve, reject) => {
      request(dashboard.url, { headers: { host: 'evil.example:7777' } }, (response) => {
        response.resume();
        resolve(response.statusCode);
      })
        .on('error', reject)
        .end();
    });

    expect(token).toMatch(/^[\w-]{43}$/);
    expect([noToken.status, wrongToken.status, foreignOrigin.status]).toEqual([403, 403, 403]);
    expect(wrongHost).toBe(421);
    expect((await local.ledger.getRelease(deriveReleaseId('finished', '1.1.0', 1)))?.phase).toBe(
      'Finalized',
    );
  });
});
