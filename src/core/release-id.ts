import { createHash } from 'node:crypto';

/** Step Functions execution names allow 1-80 characters; DynamoDB keys take anything shorter. */
const MaxLength = 80;
const HashLength = 10;
const UnsafeCharacters = /[^A-Za-z0-9_-]/g;

/**
 * Deterministic id of one release attempt: the same (service, version, attempt) always yields
 * the same id, so a duplicate event maps onto the release that already exists.
 *
 * The readable part is lossy ("1.2.3" and "1-2-3" both read "1-2-3", long versions are cut), so
 * the suffix hashes the exact inputs: ids differ whenever the inputs differ.
 */
export function deriveReleaseId(service: string, version: string, attempt: number): string {
  const hash = createHash('sha256')
    // JSON keeps the fields apart: ("a-b", "c") and ("a", "b-c") hash differently.
    .update(JSON.stringify([service, version, attempt]))
    .digest('hex')
    .slice(0, HashLength);
  const budget = MaxLength - HashLength - 1;
  const serviceLabel = sanitize(service).slice(0, budget);
  const attemptLabel = `-a${sanitize(String(attempt))}`;
  // Cut the version first: service and attempt are what an operator scans a list for.
  const versionBudget = budget - serviceLabel.length - attemptLabel.length - 1;
  const versionLabel = sanitize(version).slice(0, Math.max(versionBudget, 0));
  const readable = [serviceLabel, versionLabel].filter((part) => part !== '').join('-');
  const prefix = `${readable}${attemptLabel}`.slice(0, budget);
  return `${prefix}-${hash}`;
}

function sanitize(value: string): string {
  return value.replace(UnsafeCharacters, '-');
}
