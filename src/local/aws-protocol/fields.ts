import type { FaultOf } from './fault.ts';

/**
 * Readers of request members. Simulators read members from untyped JSON or awsQuery input, and
 * AWS answers a missing or mistyped member with a client error whose wording each service picks:
 * every reader that can refuse takes the service's fault (`FaultOf`) and, where AWS words it the
 * same across services, the message comes from `constraintViolation`.
 */
export type Input = Record<string, unknown>;

/** The member if it is a string (empty included), else undefined. */
export function stringMember(input: Input, field: string): string | undefined {
  const value = input[field];
  return typeof value === 'string' ? value : undefined;
}

/** The value if it is a non-empty string, else undefined: awsQuery and ECS treat `''` as absent. */
export function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A non-empty string member, else `fault(missing)`. */
export function requiredString(input: Input, field: string, fault: FaultOf, missing: string) {
  const value = nonEmptyString(input[field]);
  if (value === undefined) throw fault(missing);
  return value;
}

/** A string member or undefined when absent or null; any other type is refused. */
export function strictOptionalString(
  input: Input,
  field: string,
  fault: FaultOf,
): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw fault(`${field} must be a string.`);
  return value;
}

/** The strings of a list member; absent or not a list reads as empty. */
export function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The strings of a list member, or undefined when it is not a list. */
export function optionalStringList(input: Input, field: string): string[] | undefined {
  const value = input[field];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined;
}

export function optionalList(value: unknown): unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}

/**
 * The message AWS's request validation (Coral) gives a member that breaks its model:
 * `1 validation error detected: Value null at 'pageSize' failed to satisfy constraint: …`.
 * `path` is the member's name as the model spells it (lower camel case).
 */
export function constraintViolation(value: string, path: string, constraint: string): string {
  return `1 validation error detected: Value ${value} at '${path}' failed to satisfy constraint: ${constraint}`;
}

/** `constraintViolation` for a required member that is missing, its path from `Field`. */
export function notNullViolation(field: string): string {
  return constraintViolation('null', lowerCamel(field), 'Member must not be null');
}

function lowerCamel(field: string): string {
  return field.charAt(0).toLowerCase() + field.slice(1);
}
