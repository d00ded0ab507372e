import type { TestEvidence } from '../../core/records.ts';
import type { AlbListenerTargetConfig, HttpCheck } from '../../core/service-config.ts';

export type SmokeSettings = AlbListenerTargetConfig['smoke'];

export interface SmokeRuntime {
  fetch: typeof fetch;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

interface Attempt {
  passed: boolean;
  statusCode?: number;
  detail: string;
}

// A check that cannot get `consecutivePasses` in a row within this many times that many tries
// is failing, not flaky.
const triesPerRequiredPass = 3;
const maxBodyInDetail = 200;

/** Every smoke path (GET, expect 200) followed by the declared checks, in order. */
export function smokeChecksOf(smoke: SmokeSettings): HttpCheck[] {
  return [
    ...smoke.paths.map(
      (path): HttpCheck => ({
        name: `GET ${path}`,
        method: 'GET',
        path,
        headers: {},
        expectStatus: 200,
      }),
    ),
    ...smoke.checks,
  ];
}

/**
 * Runs one check until it passes `consecutivePasses` times in a row, or until it no longer can
 * within `consecutivePasses * 3` tries. Any failure resets the run. Never throws: a failure is
 * evidence.
 */
export async function runSmokeCheck(
  baseUrl: string,
  check: HttpCheck,
  smoke: SmokeSettings,
  runtime: SmokeRuntime,
): Promise<TestEvidence> {
  const url = `${baseUrl.replace(/\/+$/, '')}${check.path}`;
  const needed = smoke.consecutivePasses;
  const maxTries = needed * triesPerRequiredPass;
  const started = runtime.now();
  let streak = 0;
  let best = 0;
  let tries = 0;
  let last: Attempt = { passed: false, detail: 'not run' };
  while (tries < maxTries) {
    if (tries > 0) await runtime.sleep(smoke.intervalMs);
    last = await attempt(url, check, smoke.timeoutMs, runtime.fetch);
    tries += 1;
    streak = last.passed ? streak + 1 : 0;
    best = Math.max(best, streak);
    if (streak >= needed || streak + (maxTries - tries) < needed) break;
  }
  const durationMs = Math.max(0, Math.round(runtime.now() - started));
  const base = {
    name: check.name,
    durationMs,
    ...(last.statusCode === undefined ? {} : { statusCode: last.statusCode }),
  };
  if (streak >= needed) {
    return {
      ...base,
      passed: true,
      detail: `passed ${needed} times in a row (${tries} ${tries === 1 ? 'try' : 'tries'})`,
    };
  }
  return {
    ...base,
    passed: false,
    detail: `${last.detail}; best run ${best} of ${needed} passes in a row over ${tries} tries`,
  };
}

async function attempt(
  url: string,
  check: HttpCheck,
  timeoutMs: number,
  fetchFn: typeof fetch,
): Promise<Attempt> {
  let response: Response;
  let body: string;
  try {
    // The timeout covers the body too: a server that sends headers then stalls still fails.
    response = await fetchFn(url, {
      method: check.method,
      headers: check.headers,
      ...(check.body === undefined ? {} : { body: check.body }),
      // A redirect is an answer to check, never a reason to go somewhere other than green.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    body = await response.text();
  } catch (error) {
    return { passed: false, detail: describeFailure(error, timeoutMs) };
  }
  const statusCode = response.status;
  if (statusCode !== check.expectStatus) {
    return {
      passed: false,
      statusCode,
      detail: `status ${statusCode}, expected ${check.expectStatus}${body === '' ? '' : `: ${truncate(body)}`}`,
    };
  }
  if (check.bodyIncludes !== undefined && !body.includes(check.bodyIncludes)) {
    return {
      passed: false,
      statusCode,
      detail: `body does not include ${JSON.stringify(check.bodyIncludes)}: ${truncate(body)}`,
    };
  }
  return { passed: true, statusCode, detail: `status ${statusCode}` };
}

function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') {
    return `no response within ${timeoutMs}ms`;
  }
  if (!(error instanceof Error)) return `request failed: ${String(error)}`;
  // fetch reports connection errors as "fetch failed" with the socket error as the cause.
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `request failed: ${error.message}${cause}`;
}

function truncate(text: string): string {
  return text.length > maxBodyInDetail ? `${text.slice(0, maxBodyInDetail)}…` : text;
}
