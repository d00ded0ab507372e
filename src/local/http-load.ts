import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface HttpLoadOptions {
  /** Where the load goes, e.g. the production listener's router `http://127.0.0.1:41234`. */
  url: string;
  /** @default '/' */
  path?: string;
  /** Clients sending one request after another, each over its own kept-alive connection. */
  concurrency: number;
  /** A client's pause between the end of one request and the next. @default 0 */
  pauseMs?: number;
  /** The load stops by itself after this many requests... */
  maxRequests: number;
  /** ...or after this long, whichever comes first. */
  maxDurationMs: number;
  /** A request with no complete answer within this long counts as failed. @default 5000 */
  requestTimeoutMs?: number;
}

/** One request of the load, with the router's account of who served it. */
export interface LoadResponse {
  /** performance.now() when the request was sent and when its answer (or failure) was complete. */
  sentAt: number;
  receivedAt: number;
  /** Absent when no answer came (connection refused or reset, timeout). */
  status?: number;
  error?: string;
  /** `x-greenlight-target-group` and `x-greenlight-target` (`host:port`). */
  targetGroup?: string;
  target?: string;
  /** The version the shop-web task answered with. */
  version?: string;
}

export type LoadStop = 'caller' | 'max-requests' | 'max-duration';

export interface LoadReport {
  responses: LoadResponse[];
  stoppedBy: LoadStop;
  durationMs: number;
}

export interface RunningLoad {
  /** Everything answered so far (grows while the load runs). */
  readonly responses: readonly LoadResponse[];
  /** Resolves when the load has stopped, by itself or when told. */
  readonly done: Promise<LoadReport>;
  /** Stops sending, waits for the requests in flight, and reports. */
  stop(): Promise<LoadReport>;
}

/** What a load balancer answers itself when no target can: never a user-visible success. */
const loadBalancerErrors = new Set([502, 503, 504]);

/**
 * Bounded HTTP load over loopback, as a handful of real users with keep-alive browsers: each
 * client sends a request, reads the whole answer, pauses, and sends the next. It stops by itself
 * at `maxRequests` or `maxDurationMs`, so a test that forgets to stop it still ends.
 */
export function startHttpLoad(options: HttpLoadOptions): RunningLoad {
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const responses: LoadResponse[] = [];
  const started = performance.now();
  const timeoutMs = options.requestTimeoutMs ?? 5_000;
  let sent = 0;
  let stopReason: LoadStop | undefined;
  let deadline: NodeJS.Timeout | undefined;
  const stopWith = (reason: LoadStop) => {
    stopReason ??= reason;
  };
  deadline = setTimeout(() => stopWith('max-duration'), options.maxDurationMs);

  const client = async () => {
    while (stopReason === undefined) {
      if (sent >= options.maxRequests) {
        stopWith('max-requests');
        break;
      }
      sent += 1;
      responses.push(await send(options.url, options.path ?? '/', agent, timeoutMs));
      if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  };
  const done = Promise.all(Array.from({ length: options.concurrency }, client)).then(() => {
    clearTimeout(deadline);
    deadline = undefined;
    agent.destroy();
    return {
      responses,
      stoppedBy: stopReason ?? 'caller',
      durationMs: performance.now() - started,
    };
  });
  return {
    responses,
    done,
    stop: () => {
      stopWith('caller');
      return done;
    },
  };
}

function send(url: string, path: string, agent: Agent, timeoutMs: number): Promise<LoadResponse> {
  const sentAt = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const settle = (response: Omit<LoadResponse, 'sentAt' | 'receivedAt'>) => {
      if (settled) return;
      settled = true;
      resolve({ sentAt, receivedAt: performance.now(), ...response });
    };
    const req = request(`${url}${path}`, { agent, headers: { accept: 'application/json' } });
    req.setTimeout(timeoutMs, () => {
      req.destroy(new Error(`no answer within ${timeoutMs} ms`));
    });
    req.on('error', (error) => settle({ error: error.message }));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (error) => settle({ error: error.message }));
      res.on('end', () => {
        const targetGroup = res.headers['x-greenlight-target-group'];
        const target = res.headers['x-greenlight-target'];
        const version = versionOf(Buffer.concat(chunks).toString('utf8'));
        settle({
          status: res.statusCode ?? 0,
          ...(typeof targetGroup === 'string' ? { targetGroup } : {}),
          ...(typeof target === 'string' ? { target } : {}),
          ...(version === undefined ? {} : { version }),
        });
      });
    });
    req.end();
  });
}

function versionOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { version?: unknown };
    return typeof parsed.version === 'string' ? parsed.version : undefined;
  } catch {
    return undefined;
  }
}

/** Counts by who answered: `shop-a 1.0.0` → ok and 5xx answers. */
export interface LoadSummary {
  requests: number;
  /** No answer at all, or a load balancer error (502/503/504): what a switch must never cause. */
  failed: number;
  /** 5xx answers from a task (the release's own faults, which the alarm is for). */
  target5xx: number;
  byColour: Record<string, { ok: number; errors: number }>;
}

/** `colourOf` names a response's colour; by default its target group's name and the version. */
export function summarizeLoad(
  responses: readonly LoadResponse[],
  colourOf: (response: LoadResponse) => string = defaultColour,
): LoadSummary {
  const summary: LoadSummary = { requests: 0, failed: 0, target5xx: 0, byColour: {} };
  for (const response of responses) {
    summary.requests += 1;
    if (isFailed(response)) {
      summary.failed += 1;
      continue;
    }
    const status = response.status ?? 0;
    const colour = colourOf(response);
    const counts = summary.byColour[colour] ?? { ok: 0, errors: 0 };
    summary.byColour[colour] = counts;
    if (status >= 500) {
      summary.target5xx += 1;
      counts.errors += 1;
    } else {
      counts.ok += 1;
    }
  }
  return summary;
}

/** A request that got no answer, or only the load balancer's own error. */
export function isFailed(response: LoadResponse): boolean {
  return response.status === undefined || loadBalancerErrors.has(response.status);
}

/** `2412 requests, 0 failed: shop-a 1.0.0 2170 ok, shop-b 1.1.0 230 ok / 12 5xx` */
export function describeLoad(summary: LoadSummary): string {
  const colours = Object.entries(summary.byColour)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([colour, counts]) => {
      const errors = counts.errors > 0 ? ` / ${counts.errors} 5xx` : '';
      return `${colour} ${counts.ok} ok${errors}`;
    });
  return `${summary.requests} requests, ${summary.failed} failed${colours.length > 0 ? `: ${colours.join(', ')}` : ''}`;
}

function defaultColour(response: LoadResponse): string {
  const group = /:targetgroup\/([^/]+)\//.exec(response.targetGroup ?? '')?.[1] ?? '?';
  return response.version === undefined ? group : `${group} ${response.version}`;
}
