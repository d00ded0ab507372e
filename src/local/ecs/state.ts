import { createHash } from 'node:crypto';
import { ecsFault } from './faults.ts';
import type { Registration, TaskDefinitionQuery } from './rules.ts';
import type {
  ClusterRecord,
  DeploymentRecord,
  ServiceRecord,
  TaskDefinitionRecord,
  TaskRecord,
} from './types.ts';

/**
 * ECS's model: clusters with their services and tasks, and task definitions by family with
 * their revisions. Lookups answer ECS's not-found faults. Ids and ARNs come from creation order,
 * so a seeded world has the same ARNs every run.
 */
export class EcsState {
  readonly #region: string;
  readonly #accountId: string;
  readonly #now: () => Date;
  readonly clusters = new Map<string, ClusterRecord>();
  readonly #taskDefinitions = new Map<string, TaskDefinitionRecord[]>();
  #sequence = 0;

  constructor(region: string, accountId: string, now: () => Date) {
    this.#region = region;
    this.#accountId = accountId;
    this.#now = now;
  }

  arnPrefix(): string {
    return `arn:aws:ecs:${this.#region}:${this.#accountId}:`;
  }

  createCluster(name: string): ClusterRecord {
    const existing = this.clusters.get(name);
    if (existing) return existing;
    const cluster: ClusterRecord = {
      arn: `${this.arnPrefix()}cluster/${name}`,
      name,
      services: new Map(),
      tasks: new Map(),
    };
    this.clusters.set(name, cluster);
    return cluster;
  }

  register(registration: Registration): TaskDefinitionRecord {
    const { family } = registration;
    const revisions = this.#taskDefinitions.get(family) ?? [];
    const revision = revisions.length + 1;
    const record: TaskDefinitionRecord = {
      arn: `${this.arnPrefix()}task-definition/${family}:${revision}`,
      family,
      revision,
      status: 'ACTIVE',
      body: structuredClone(registration.body),
      tags: structuredClone(registration.tags),
      registeredAt: this.#now(),
    };
    revisions.push(record);
    this.#taskDefinitions.set(family, revisions);
    return record;
  }

  /** Task definitions matching a ListTaskDefinitions query, in its order. */
  taskDefinitions(query: TaskDefinitionQuery): TaskDefinitionRecord[] {
    const all = [...this.#taskDefinitions.values()]
      .flat()
      .filter((d) => query.family === undefined || d.family === query.family)
      .filter((d) => query.status === 'ALL' || d.status === query.status)
      .sort((a, b) =>
        a.family === b.family ? a.revision - b.revision : a.family < b.family ? -1 : 1,
      );
    if (query.sort === 'DESC') all.reverse();
    return all;
  }

  requireCluster(nameOrArn: string): ClusterRecord {
    const cluster = this.clusters.get(nameOrArn.split('/').at(-1) ?? nameOrArn);
    if (!cluster) throw ecsFault('ClusterNotFoundException', 'Cluster not found.');
    return cluster;
  }

  requireService(cluster: ClusterRecord, nameOrArn: string): ServiceRecord {
    const service = cluster.services.get(serviceNameOf(nameOrArn));
    if (!service) throw ecsFault('ServiceNotFoundException', 'Service not found.');
    return service;
  }

  /** Accepts `family` (newest ACTIVE revision), `family:revision` or a full ARN. */
  requireTaskDefinition(
    ref: string,
    errorType: string,
    message = 'TaskDefinition not found.',
  ): TaskDefinitionRecord {
    const name = ref.startsWith('arn:') ? (ref.split('/').at(-1) ?? '') : ref;
    const [family = '', revision] = name.split(':');
    const revisions = this.#taskDefinitions.get(family) ?? [];
    const found =
      revision === undefined
        ? revisions.filter((d) => d.status === 'ACTIVE').at(-1)
        : revisions.find((d) => d.revision === Number(revision));
    if (!found || (ref.startsWith('arn:') && found.arn !== ref)) {
      throw ecsFault(errorType, message);
    }
    return found;
  }

  tasksOf(service: ServiceRecord): TaskRecord[] {
    return [...service.cluster.tasks.values()].filter((t) => t.serviceName === service.name);
  }

  allServices(): ServiceRecord[] {
    return [...this.clusters.values()].flatMap((c) => [...c.services.values()]);
  }

  newDeployment(taskDefinitionArn: string, desiredCount: number): DeploymentRecord {
    const now = this.#now();
    const digits = createHash('sha256')
      .update(`deployment#${++this.#sequence}`)
      .digest()
      .readBigUInt64BE()
      .toString()
      .padStart(20, '0')
      .slice(0, 19);
    return {
      id: `ecs-svc/${digits}`,
      status: 'PRIMARY',
      taskDefinitionArn,
      desiredCount,
      createdAt: now,
      updatedAt: now,
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: 'ECS deployment in progress.',
      failedTasks: 0,
    };
  }

  /** Ids come from creation order, so a seeded world has the same ARNs every run. */
  newId(seed: string): string {
    return createHash('sha256')
      .update(`${seed}#${++this.#sequence}`)
      .digest('hex')
      .slice(0, 32);
  }
}

export function serviceNameOf(nameOrArn: string): string {
  return nameOrArn.split('/').at(-1) ?? nameOrArn;
}
