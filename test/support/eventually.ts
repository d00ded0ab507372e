import { setTimeout as sleep } from 'node:timers/promises';

export interface EventuallyOptions {
  /**
   * What is awaited, completing "Timed out after … ms waiting for …". A function is called
   * only on timeout, so it can show the last value the probe saw.
   */
  what: string | (() => string);
  /** @default 10_000 */
  timeoutMs?: number;
  /** Pause between two probes. @default 20 */
  intervalMs?: number;
}

/**
 * Probes until it returns something other than `undefined`, and resolves to that. The deadline
 * is kept on the monotonic clock (performance.now()): the suite also runs with the machine's
 * clock shifted years ahead, and a wall-clock step (NTP, a VM resumed) must not end a wait
 * early or stretch it. The probe runs once more after the deadline has passed, so a slow last
 * interval cannot turn a success into a timeout. A probe that throws ends the wait with its
 * error.
 */
export async function eventually<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  options: EventuallyOptions,
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 20;
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) {
      const what = typeof options.what === 'function' ? options.what() : options.what;
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(intervalMs);
  }
}
