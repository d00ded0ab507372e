/**
 * EventBridge event pattern matching, as documented in "Creating event patterns": a pattern
 * is an object whose leaves are arrays of allowed values or content filters; every field named
 * by the pattern must match (AND), any entry of an array may match (OR), and an event array
 * matches when any of its elements does. Supported filters: exact values (including null),
 * `prefix`, `suffix`, `equals-ignore-case`, `wildcard`, `exists`, `anything-but` (values,
 * `prefix`, `suffix`, `equals-ignore-case`), `numeric` and `$or`.
 */
export function matchesPattern(event: object, pattern: object): boolean {
  return matchesObject(event as Record<string, unknown>, pattern as Record<string, unknown>);
}

function matchesObject(
  event: Record<string, unknown> | undefined,
  pattern: Record<string, unknown>,
): boolean {
  for (const [key, expected] of Object.entries(pattern)) {
    if (key === '$or' && Array.isArray(expected)) {
      if (!expected.some((branch) => isRecord(branch) && matchesObject(event, branch))) {
        return false;
      }
      continue;
    }
    const actual = event?.[key];
    if (Array.isArray(expected)) {
      if (!matchesLeaf(actual, expected)) return false;
    } else if (isRecord(expected)) {
      // A nested pattern only looks inside objects; a missing branch can still satisfy
      // filters such as `exists: false` below it.
      if (!matchesObject(isRecord(actual) ? actual : undefined, expected)) return false;
    } else {
      throw new Error(
        `Invalid event pattern at "${key}": leaves must be arrays, e.g. { "${key}": [${JSON.stringify(expected)}] }`,
      );
    }
  }
  return true;
}

function matchesLeaf(actual: unknown, filters: readonly unknown[]): boolean {
  const values = Array.isArray(actual) ? actual : [actual];
  return filters.some((filter) => {
    if (isRecord(filter) && 'exists' in filter) {
      return filter.exists === (actual !== undefined);
    }
    if (actual === undefined) return false;
    return values.some((value) => matchesFilter(value, filter));
  });
}

function matchesFilter(value: unknown, filter: unknown): boolean {
  if (!isRecord(filter)) return value === filter;
  if ('prefix' in filter) return matchesText(value, filter.prefix, (v, p) => v.startsWith(p));
  if ('suffix' in filter) return matchesText(value, filter.suffix, (v, s) => v.endsWith(s));
  if ('equals-ignore-case' in filter) {
    return (
      typeof value === 'string' &&
      typeof filter['equals-ignore-case'] === 'string' &&
      value.toLowerCase() === filter['equals-ignore-case'].toLowerCase()
    );
  }
  if ('wildcard' in filter) {
    return typeof value === 'string' && typeof filter.wildcard === 'string'
      ? wildcardToRegExp(filter.wildcard).test(value)
      : false;
  }
  if ('anything-but' in filter) return !matchesAnythingBut(value, filter['anything-but']);
  if ('numeric' in filter && Array.isArray(filter.numeric)) {
    return typeof value === 'number' && matchesNumeric(value, filter.numeric);
  }
  throw new Error(`Unsupported event pattern filter ${JSON.stringify(filter)}`);
}

/** Whether `value` is one of the excluded values (so `anything-but` fails). */
function matchesAnythingBut(value: unknown, excluded: unknown): boolean {
  if (Array.isArray(excluded)) return excluded.some((candidate) => candidate === value);
  if (isRecord(excluded)) {
    if (Array.isArray(excluded['equals-ignore-case'])) {
      return excluded['equals-ignore-case'].some((candidate) =>
        matchesFilter(value, { 'equals-ignore-case': candidate }),
      );
    }
    return matchesFilter(value, excluded);
  }
  return value === excluded;
}

function matchesText(
  value: unknown,
  operand: unknown,
  test: (value: string, operand: string) => boolean,
): boolean {
  if (typeof value !== 'string') return false;
  if (typeof operand === 'string') return test(value, operand);
  if (isRecord(operand) && typeof operand['equals-ignore-case'] === 'string') {
    return test(value.toLowerCase(), operand['equals-ignore-case'].toLowerCase());
  }
  return false;
}

const numericComparisons: Record<string, (a: number, b: number) => boolean> = {
  '=': (a, b) => a === b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

function matchesNumeric(value: number, terms: readonly unknown[]): boolean {
  for (let i = 0; i < terms.length; i += 2) {
    const operator = terms[i];
    const operand = terms[i + 1];
    const compare = typeof operator === 'string' ? numericComparisons[operator] : undefined;
    if (!compare || typeof operand !== 'number') {
      throw new Error(`Invalid numeric filter ${JSON.stringify(terms)}`);
    }
    if (!compare(value, operand)) return false;
  }
  return true;
}

function wildcardToRegExp(wildcard: string): RegExp {
  const escaped = wildcard.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 's');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
