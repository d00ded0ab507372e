import { nonEmptyString, requiredString, stringList } from '../aws-protocol/fields.ts';
import { decodeIndexToken } from '../aws-protocol/pages.ts';
import { clientException, invalidParameter } from './faults.ts';
import type { Dict } from './types.ts';

/**
 * What ECS refuses, per the ECS API reference
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/): each reader answers ECS's
 * fault and changes nothing.
 */
export const optionalString = nonEmptyString;

export function requireString(input: Dict, field: string): string {
  return requiredString(input, field, invalidParameter, `${field} can not be blank.`);
}

/** UpdateService's desiredCount: absent, or a whole number ≥ 0. */
export function readDesiredCount(input: Dict): number | undefined {
  const desiredCount = input.desiredCount;
  if (desiredCount === undefined) return undefined;
  if (typeof desiredCount !== 'number' || !Number.isInteger(desiredCount) || desiredCount < 0) {
    throw invalidParameter('Desired count must be a whole number >= 0.');
  }
  return desiredCount;
}

/** DescribeServices takes 1 to 10 services. */
export function readServiceNames(input: Dict): string[] {
  const names = stringList(input.services);
  if (names.length === 0 || names.length > 10) {
    throw invalidParameter('services should have between 1 and 10 entries.');
  }
  return names;
}

/** DescribeTasks takes 1 to 100 tasks. */
export function readTaskIds(input: Dict): string[] {
  const ids = stringList(input.tasks);
  if (ids.length === 0 || ids.length > 100) throw invalidParameter('Tasks cannot be empty.');
  return ids;
}

export interface Registration {
  family: string;
  /** The registered fields other than family and tags, as given. */
  body: Dict;
  tags: { key: string; value: string }[];
}

/** RegisterTaskDefinition: a valid family and at least one container, each named once, with an image. */
export function readRegistration(input: Dict): Registration {
  const family = requireString(input, 'family');
  if (!/^[A-Za-z0-9_-]{1,255}$/.test(family)) {
    throw clientException(
      'Family contains invalid characters. Up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores are allowed.',
    );
  }
  const containers = Array.isArray(input.containerDefinitions)
    ? (input.containerDefinitions as Dict[])
    : [];
  if (containers.length === 0) throw clientException('Container list cannot be empty.');
  const names = new Set<string>();
  for (const container of containers) {
    const name = optionalString(container.name);
    if (!name) throw clientException('Container.name should not be null or empty.');
    if (names.has(name)) throw clientException('Duplicate container names are not allowed.');
    names.add(name);
    if (!optionalString(container.image)) {
      throw clientException('Container.image should not be null or empty.');
    }
    // Without task-level memory each container must say its own (ContainerDefinition: memory).
    if (input.memory === undefined && container.memory === undefined) {
      if (container.memoryReservation === undefined) {
        throw clientException(
          `Invalid setting for container '${name}'. At least one of 'memory' or 'memoryReservation' must be specified.`,
        );
      }
    }
  }
  const tags = Array.isArray(input.tags) ? (input.tags as { key: string; value: string }[]) : [];
  const { family: _family, tags: _tags, ...body } = input;
  return { family, body, tags };
}

export interface TaskDefinitionQuery {
  family: string | undefined;
  status: string;
  sort: 'ASC' | 'DESC';
  maxResults: number;
  start: number;
}

/** ListTaskDefinitions' filters and page. */
export function readTaskDefinitionQuery(input: Dict): TaskDefinitionQuery {
  // Despite its name, familyPrefix matches a whole family name, as in ECS.
  const family = optionalString(input.familyPrefix);
  const status = optionalString(input.status) ?? 'ACTIVE';
  const sort = optionalString(input.sort) ?? 'ASC';
  if (sort !== 'ASC' && sort !== 'DESC') throw invalidParameter(`Invalid sort order: ${sort}`);
  const maxResults = typeof input.maxResults === 'number' ? input.maxResults : 100;
  if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 100) {
    throw invalidParameter('maxResults must be between 1 and 100.');
  }
  const start = decodeIndexToken(
    optionalString(input.nextToken),
    invalidParameter,
    'Invalid nextToken.',
  );
  return { family, status, sort, maxResults, start };
}
