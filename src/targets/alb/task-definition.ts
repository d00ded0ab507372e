import type { RegisterTaskDefinitionCommandInput, Tag, TaskDefinition } from '@aws-sdk/client-ecs';
import { GreenProvisionFailed } from '../../core/errors.ts';

/** Marks the task definition revision a release registered, so a retry finds and reuses it. */
export const releaseTagKey = 'greenlight:release';

// What DescribeTaskDefinition returns that RegisterTaskDefinition also accepts. Everything else
// (arn, revision, status, requiresAttributes, compatibilities, registeredAt...) is AWS's own.
const registrableFields = [
  'taskRoleArn',
  'executionRoleArn',
  'networkMode',
  'volumes',
  'placementConstraints',
  'requiresCompatibilities',
  'cpu',
  'memory',
  'pidMode',
  'ipcMode',
  'proxyConfiguration',
  'inferenceAccelerators',
  'ephemeralStorage',
  'runtimePlatform',
  'enableFaultInjection',
] as const satisfies readonly (keyof TaskDefinition & keyof RegisterTaskDefinitionCommandInput)[];

/**
 * Green's task definition: blue's, with `containerName`'s image replaced by the release's and
 * tagged with the release id. Blue's tags are kept except its own release tag and `aws:` tags,
 * which AWS refuses from callers.
 */
export function greenTaskDefinitionInput(
  blue: TaskDefinition,
  blueTags: readonly Tag[],
  options: { containerName: string; imageUri: string; releaseId: string },
): RegisterTaskDefinitionCommandInput {
  const containers = blue.containerDefinitions ?? [];
  if (!containers.some((container) => container.name === options.containerName)) {
    throw new GreenProvisionFailed(
      `Blue's task definition ${blue.taskDefinitionArn ?? blue.family} has no container "${options.containerName}" (it has: ${containers.map((c) => c.name).join(', ') || 'none'}); set "containerName" to the container whose image a release replaces`,
      { taskDefinitionArn: blue.taskDefinitionArn, containerName: options.containerName },
    );
  }
  const input: RegisterTaskDefinitionCommandInput = {
    family: blue.family,
    containerDefinitions: containers.map((container) =>
      container.name === options.containerName
        ? { ...container, image: options.imageUri }
        : container,
    ),
  };
  const copied = input as unknown as Record<string, unknown>;
  for (const field of registrableFields) {
    if (blue[field] !== undefined) copied[field] = blue[field];
  }
  input.tags = [
    ...blueTags.filter(
      (tag) => tag.key !== releaseTagKey && !(tag.key ?? '').toLowerCase().startsWith('aws:'),
    ),
    { key: releaseTagKey, value: options.releaseId },
  ];
  return input;
}

/** Whether a revision is the one this release registered: its tag and its image. */
export function isReleaseRevision(
  taskDefinition: TaskDefinition,
  tags: readonly Tag[],
  options: { containerName: string; imageUri: string; releaseId: string },
): boolean {
  return (
    tags.some((tag) => tag.key === releaseTagKey && tag.value === options.releaseId) &&
    (taskDefinition.containerDefinitions ?? []).some(
      (container) =>
        container.name === options.containerName && container.image === options.imageUri,
    )
  );
}

/** `family` and `revision` of a task definition ARN (`...:task-definition/<family>:<revision>`). */
export function parseTaskDefinitionArn(
  arn: string,
): { family: string; revision: number } | undefined {
  const match = /:task-definition\/([^:/]+):(\d+)$/.exec(arn);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  return { family: match[1], revision: Number(match[2]) };
}
