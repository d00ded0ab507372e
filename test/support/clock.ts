/**
 * A clock the test moves by hand. Steps take `now` from their dependencies; tests give them
 * this one, so no outcome depends on what the machine's clock says or on a second boundary
 * crossed while a test runs (the suite also runs with the machine's clock years ahead).
 */
export interface TestClock {
  now(): Date;
  /** Moves the clock on, as time passing between two steps would. */
  advance(seconds: number): void;
  /** Seconds since the epoch, as Slack signs a request's timestamp. */
  epochSeconds(): number;
}

/**
 * Starts mid-second on purpose: a step that rounds a time up to the next whole second (a
 * teardown schedule) then sees a later time than `now`, as it does in production.
 */
export const testClockStart = '2026-11-21T10:00:00.250Z';

export function aTestClock(start: string = testClockStart): TestClock {
  let ms = Date.parse(start);
  if (Number.isNaN(ms)) throw new Error(`aTestClock: "${start}" is not an ISO date`);
  return {
    now: () => new Date(ms),
    advance: (seconds) => {
      if (!(seconds >= 0)) throw new Error(`aTestClock: cannot go back ${seconds}s`);
      ms += seconds * 1_000;
    },
    epochSeconds: () => Math.floor(ms / 1_000),
  };
}
