import type { FaultOf } from './fault.ts';

/**
 * Page tokens. Two kinds, as the services hand them out:
 * - offset markers (Lambda `Marker`, ELBv2 `Marker`, Scheduler `NextToken`): the index of the
 *   next item as a decimal string;
 * - index tokens (ECS and CloudWatch `NextToken`): opaque base64 of `{"index":N}`, so a client
 *   cannot mistake them for a count.
 * Either way a token that does not name a place in the listing is refused with the service's
 * fault, as AWS refuses a token it did not issue.
 */
export interface Page<T> {
  items: T[];
  /** Where the next page starts, when there is one. */
  next?: number;
}

/** Items `[start, start + size)`, and where the next page starts if any remain. */
export function pageAt<T>(all: readonly T[], start: number, size: number): Page<T> {
  const end = Math.min(all.length, start + size);
  const page: Page<T> = { items: all.slice(start, end) };
  if (end < all.length) page.next = end;
  return page;
}

/** Reads an offset marker; absent is the first item, anything past the end is refused. */
export function readOffsetMarker(
  marker: string | null | undefined,
  total: number,
  invalid: FaultOf,
  message: string,
): number {
  if (marker === undefined || marker === null) return 0;
  const start = Number(marker);
  if (!Number.isInteger(start) || start < 0 || start > total) throw invalid(message);
  return start;
}

export function encodeIndexToken(index: number): string {
  return Buffer.from(JSON.stringify({ index })).toString('base64');
}

export function decodeIndexToken(
  token: string | undefined,
  invalid: FaultOf,
  message: string,
): number {
  if (token === undefined) return 0;
  try {
    const { index } = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as {
      index?: unknown;
    };
    if (typeof index === 'number' && Number.isInteger(index) && index >= 0) return index;
  } catch {
    // falls through to the same answer as a well-formed but meaningless token
  }
  throw invalid(message);
}
