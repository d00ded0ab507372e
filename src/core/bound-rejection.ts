import type { FieldIssue } from './errors.ts';

/**
 * How much of a rejected event greenlight keeps. A rejection is written as one DynamoDB item
 * (the ledger's `rejected#<event id>`) and announced as one PutEvents entry (Release Rejected),
 * and both echo the input: zod reports one issue per unknown field, messages quote names and
 * values. Unbounded, an event of 4,000 unknown fields (38 KB) made an item over DynamoDB's
 * 400 KB, so the rejection was never recorded. These budgets hold whatever the input:
 *
 * - DynamoDB counts an item as the UTF-8 bytes of its attribute names and values ("Item
 *   sizes and formats", Amazon DynamoDB Developer Guide: 400 KB per item).
 * - EventBridge counts an entry as the UTF-8 bytes of Source, DetailType, Detail and Resources
 *   plus 14 for Time ("Calculating Amazon EventBridge PutEvents event entry size", EventBridge
 *   User Guide: 256 KB per entry).
 *
 * A UTF-16 code unit is at most 3 UTF-8 bytes, and JSON escapes a control character as 6 bytes
 * (`\u001b`). So the issues take at most 20 × (200 + 500 + 40) × 6 ≈ 89 KB of JSON and the reason
 * at most (4,000 + 740 + 40) × 6 ≈ 29 KB: a Release Rejected detail stays under 125 KB, half of
 * PutEvents' limit; the ledger item (UTF-8, plus the 32 KB event echo) under 100 KB, a quarter
 * of DynamoDB's. test/unit/core/bound-rejection.test.ts checks both with worst-case text.
 */
export const RejectionBudget = {
  /** Issues kept in full; the rest are counted (`issuesOmitted`). */
  issues: 20,
  /** Characters (UTF-16 code units) of one issue's path, a cut included. */
  pathChars: 200,
  /** Characters of one issue's message, a cut included. */
  messageChars: 500,
  /** Characters of the reason the issues are listed in, past which they are counted instead. */
  reasonChars: 4_000,
  /** UTF-8 bytes of the event's JSON kept with the rejection, for debugging. */
  eventBytes: 32 * 1024,
} as const;

export interface BoundedRejection {
  /** `Release event rejected: <path>: <message>; ...; …and N more issues` */
  reason: string;
  /** At most `RejectionBudget.issues`, each path and message cut to its budget. */
  issues: FieldIssue[];
  /** How many issues were found beyond `issues`. */
  issuesOmitted: number;
}

/**
 * The issues of a rejected event, cut to the budgets above, and the reason that lists them.
 * Idempotent: bounding a bounded rejection's issues gives them back unchanged.
 */
export function boundRejection(issues: readonly FieldIssue[], omittedBefore = 0): BoundedRejection {
  const kept = issues.slice(0, RejectionBudget.issues).map(
    (issue): FieldIssue => ({
      path: cutText(issue.path, RejectionBudget.pathChars),
      message: cutText(issue.message, RejectionBudget.messageChars),
    }),
  );
  const issuesOmitted = omittedBefore + issues.length - kept.length;
  return { reason: describeIssues(kept, issuesOmitted), issues: kept, issuesOmitted };
}

/**
 * The reason for a rejection. Lists issues until the reason would pass its budget (always at
 * least one), then says how many it did not list.
 */
function describeIssues(issues: readonly FieldIssue[], omitted: number): string {
  const listed: string[] = [];
  let length = 0;
  for (const issue of issues) {
    const text = `${issue.path || '(event)'}: ${issue.message}`;
    if (listed.length > 0 && length + text.length + 2 > RejectionBudget.reasonChars) break;
    listed.push(text);
    length += text.length + 2;
  }
  const more = omitted + issues.length - listed.length;
  const tail = more > 0 ? `; …and ${groupDigits(more)} more issue${more === 1 ? '' : 's'}` : '';
  return `Release event rejected: ${listed.join('; ')}${tail}`;
}

/**
 * `text` in at most `maxChars` UTF-16 code units: kept whole when it fits, else its head and
 * how much was cut (`…(+12,345 characters)`). Never splits a surrogate pair.
 */
export function cutText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  // The tail's length depends on the count it shows; the count's digits at most the text's.
  const reserve = `…(+${groupDigits(text.length)} characters)`.length;
  let end = Math.max(0, maxChars - reserve);
  if (end > 0 && isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
  return `${text.slice(0, end)}…(+${groupDigits(text.length - end)} characters)`;
}

/** The start of a rejected event as JSON, with its full size, kept with the rejection. */
export interface EventEcho {
  /** The event's JSON, cut at a character boundary to `RejectionBudget.eventBytes`. */
  json: string;
  /** UTF-8 bytes of the whole JSON, before any cut. */
  bytes: number;
  truncated: boolean;
}

/** `event` as JSON within `RejectionBudget.eventBytes`, and how big it was. */
export function echoEvent(
  event: unknown,
  maxBytes: number = RejectionBudget.eventBytes,
): EventEcho {
  let json: string;
  try {
    json = JSON.stringify(event) ?? 'null';
  } catch {
    json = String(event);
  }
  // Well-formed: JSON.stringify escapes lone surrogates, so every character has a UTF-8 form.
  json = json.toWellFormed();
  const encoder = new TextEncoder();
  const bytes = encoder.encode(json).byteLength;
  if (bytes <= maxBytes) return { json, bytes, truncated: false };
  // encodeInto writes whole characters only: `read` ends on a character boundary.
  const { read } = encoder.encodeInto(json, new Uint8Array(maxBytes));
  return { json: json.slice(0, read), bytes, truncated: true };
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

/** `3980` → `3,980`, the same on every machine (no locale). */
function groupDigits(value: number): string {
  return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
