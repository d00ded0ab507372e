/**
 * Text that came from outside (an event's `actor`, a reason echoing it, an S3 key) must never
 * act on whoever reads it. A terminal acts on control characters: ESC starts sequences that
 * clear the screen, move the cursor or draw OSC 8 hyperlinks; C1 controls (U+0080–U+009F) are
 * the same sequences in one code point; bidi controls reorder what is shown so that it reads
 * differently from what it is; line separators break a line where none was meant; a lone
 * surrogate is not text at all (it has no UTF-8 form). These are the characters this module
 * refuses (in schemas) and neutralizes (for display). Everything else, including non-Latin
 * scripts and emoji, is printable text and passes unchanged.
 */

/**
 * One of the characters above: `Cc` is C0 (U+0000–U+001F), DEL and C1; `Bidi_Control` is
 * U+061C, U+200E, U+200F, U+202A–U+202E and U+2066–U+2069; `Zl`/`Zp` are U+2028/U+2029; `Cs`
 * matches a surrogate only when it is lone (a well-formed pair is one code point under `u`).
 */
const unsafe = /[\p{Cc}\p{Bidi_Control}\p{Zl}\p{Zp}\p{Cs}]/u;
const unsafeGlobal = new RegExp(unsafe.source, 'gu');

/**
 * The same rule as a whole-string pattern over UTF-16 code units, without the `u` flag and
 * property escapes, so that it survives into JSON Schema and any ECMA-262 validator reads it as
 * we do. A test checks that it agrees with `isInertText` on every code unit and pair.
 */
export const InertTextPattern =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: naming control characters is the point.
  /^(?:[^\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])*$/;

/** The short escapes people read without a table; every other character shows as `\uXXXX`. */
const shortEscapes: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** Whether `text` has no character that could act on a terminal or hide what it says. */
export function isInertText(text: string): boolean {
  return !unsafe.test(text);
}

/**
 * The first character of `text` that is not inert, described for an error message
 * (`U+001B (a control character) at position 3`), or undefined when there is none.
 */
export function describeUnsafeCharacter(text: string): string | undefined {
  const match = unsafe.exec(text);
  if (match === null) return undefined;
  const unit = match[0].charCodeAt(0);
  const code = `U+${unit.toString(16).toUpperCase().padStart(4, '0')}`;
  const kind =
    unit >= 0xd800 && unit <= 0xdfff
      ? 'a lone surrogate'
      : /\p{Bidi_Control}/u.test(match[0])
        ? 'a bidirectional control'
        : /[\p{Zl}\p{Zp}]/u.test(match[0])
          ? 'a line separator'
          : 'a control character';
  return `${code} (${kind}) at position ${match.index}`;
}

/**
 * `text` with every character that is not inert replaced by a visible escape (`\u001b`, `\n`),
 * so that it shows what was sent and does nothing. Idempotent: the escapes are printable.
 * A backslash is left as it is, so a sender can make text *look* escaped; it still does nothing.
 */
export function inertText(text: string): string {
  return text.replace(
    unsafeGlobal,
    (char) => shortEscapes[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * `line` with every character that is not inert escaped as `\uXXXX`, except the C0 controls
 * (ESC, newline, tab, ...): for a writer that also passes greenlight's own colours and line
 * breaks. The escape is JSON's own, and these characters can only stand inside a JSON string,
 * so a JSON document passed through keeps its exact value while DEL, C1 controls, bidi
 * controls and line separators (which JSON.stringify writes raw) are shown, not obeyed.
 */
export function inertBeyondC0(line: string): string {
  return line.replace(unsafeGlobal, (char) =>
    char.charCodeAt(0) < 0x20 ? char : `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * `value` with `inertText` applied to every string in it, keys included, through plain objects
 * and arrays: for showing a whole record read back from the ledger. Other values pass as they are.
 */
export function inertValue<T>(value: T): T {
  return inertAny(value) as T;
}

function inertAny(value: unknown): unknown {
  if (typeof value === 'string') return inertText(value);
  if (Array.isArray(value)) return value.map(inertAny);
  if (typeof value === 'object' && value !== null && isPlainObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [inertText(key), inertAny(inner)]),
    );
  }
  return value;
}

function isPlainObject(value: object): boolean {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
