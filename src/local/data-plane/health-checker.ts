import { request } from 'node:http';
import type { LocalElbv2 } from '../elbv2/simulator.ts';
import type { HealthCheckJob, HealthCheckResult } from '../elbv2/types.ts';

export interface HealthCheckerOptions {
  elbv2: LocalElbv2;
  /**
   * Time between two checks of one target, for every target group. Target groups count in
   * seconds (HealthCheckIntervalSeconds, at least 5 on AWS); the local cloud wants milliseconds.
   * @default each target group's own interval
   */
  intervalMs?: number;
  /** Upper bound on a check's timeout, whatever the target group says. @default 2000 */
  timeoutMs?: number;
}

/**
 * ALB's health checks, for real: GETs each registered target's health path over HTTP (a new
 * connection each time, as ELB-HealthChecker does) and reports the outcome to the local ELBv2,
 * which turns N passes in a row into healthy and M failures into unhealthy.
 */
export class HealthChecker {
  readonly #elbv2: LocalElbv2;
  readonly #intervalMs: number | undefined;
  readonly #timeoutMs: number;
  readonly #lastChecked = new Map<string, number>();
  readonly #running = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: HealthCheckerOptions) {
    this.#elbv2 = options.elbv2;
    this.#intervalMs = options.intervalMs;
    this.#timeoutMs = options.timeoutMs ?? 2_000;
  }

  /** Starts checking; the first round runs at once. */
  start(): void {
    if (this.#timer || this.#closed) return;
    const tick = Math.max(10, Math.min(this.#intervalMs ?? 1_000, 1_000));
    const loop = () => {
      this.#round();
      if (!this.#closed) this.#timer = setTimeout(loop, tick);
    };
    loop();
  }

  /** Checks every target once, now, and waits for the answers (tests use it to step). */
  async checkAll(): Promise<void> {
    await Promise.all(this.#elbv2.healthCheckJobs().map((job) => this.#check(job)));
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #round(): void {
    const now = Date.now();
    for (const job of this.#elbv2.healthCheckJobs()) {
      const key = jobKey(job);
      const interval = this.#intervalMs ?? job.intervalMs;
      if (this.#running.has(key) || now - (this.#lastChecked.get(key) ?? 0) < interval) continue;
      void this.#check(job);
    }
  }

  async #check(job: HealthCheckJob): Promise<void> {
    const key = jobKey(job);
    this.#running.add(key);
    this.#lastChecked.set(key, Date.now());
    try {
      const result = await probe(job, Math.min(job.timeoutMs, this.#timeoutMs));
      if (!this.#closed) this.#elbv2.recordHealthCheck(job.targetGroupArn, job.target, result);
    } finally {
      this.#running.delete(key);
    }
  }
}

function probe(job: HealthCheckJob, timeoutMs: number): Promise<HealthCheckResult> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: job.target.id,
        port: job.target.port,
        path: job.path,
        method: 'GET',
        agent: false,
        headers: { 'user-agent': 'ELB-HealthChecker/2.0', connection: 'close' },
      },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        res.on('end', () => resolve({ ok: matches(job.matcher, status), status }));
        res.on('error', () => resolve({ ok: false }));
      },
    );
    req.setTimeout(timeoutMs, () => {
      req.destroy();
      resolve({ ok: false, timedOut: true });
    });
    req.on('error', () => resolve({ ok: false }));
    req.end();
  });
}

/** ALB matchers: `200`, `200,202`, `200-299`. */
export function matches(matcher: string, status: number): boolean {
  return matcher.split(',').some((part) => {
    const [from, to] = part.trim().split('-').map(Number);
    if (from === undefined || Number.isNaN(from)) return false;
    return to === undefined ? status === from : status >= from && status <= to;
  });
}

function jobKey(job: HealthCheckJob): string {
  return `${job.targetGroupArn}|${job.target.id}:${job.target.port}`;
}
