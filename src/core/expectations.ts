/**
 * Pre-traffic test expectations: dotted paths into a JSON response and the values found there
 * must equal. Pure, so the same rules hold for every target that runs tests.
 */

export interface ExpectationResult {
  passed: boolean;
  /** The first mismatched path with expected and actual values, or a summary when all hold. */
  detail: string;
}

const absent = Symbol('absent');

export function checkExpectations(
  response: unknown,
  expect: Record<string, unknown>,
): ExpectationResult {
  const entries = Object.entries(expect);
  for (const [path, expected] of entries) {
    const actual = readPath(response, path);
    if (actual === absent) {
      return {
        passed: false,
        detail: `${path}: expected ${formatValue(expected)}, but the response has no such field`,
      };
    }
    if (!equalsDeeply(actual, expected)) {
      return {
        passed: false,
        detail: `${path}: expected ${formatValue(expected)}, got ${formatValue(actual)}`,
      };
    }
  }
  return {
    passed: true,
    detail:
      entries.length === 0
        ? 'no expectations'
        : `${entries.length} expectation${entries.length === 1 ? '' : 's'} met`,
  };
}

/** An empty path names the whole response; numeric segments index arrays. */
function readPath(value: unknown, path: string): unknown {
  if (path === '') return value;
  let current: unknown = value;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object') return absent;
    if (!Object.hasOwn(current, segment)) return absent;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** Structural equality over JSON values (responses are parsed JSON; expectations are config). */
function equalsDeeply(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => equalsDeeply(item, b[i]));
  }
  const aRecord = a as Record<string, unknown>;
  const bRecord = b as Record<string, unknown>;
  const aKeys = Object.keys(aRecord);
  if (aKeys.length !== Object.keys(bRecord).length) return false;
  return aKeys.every(
    (key) => Object.hasOwn(bRecord, key) && equalsDeeply(aRecord[key], bRecord[key]),
  );
}

const maxShownLength = 200;

function formatValue(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > maxShownLength ? `${text.slice(0, maxShownLength)}…` : text;
}
