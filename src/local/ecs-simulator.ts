import { createHash } from 'node:crypto';
import type { LocalArtifactStore } from './artifact-store.ts';
import type { TaskProcess, TaskRunner } from './data-plane/task-runner.ts';
import { type LocalElbv2, TargetHealthState, type TargetRef } from './elbv2-simulator.ts';
import {
  awsJsonResult,
  type LocalRequest,
  type LocalResponse,
  type LocalService,
  targetOperation,
} from './http.ts';

/** Operations whose next response `failNextResponse` can lose (the change still happens). */
export const EcsFaultableOperation = {
  UpdateService: 'UpdateService',
  RegisterTaskDefinition: 'RegisterTaskDefinition',
} as const;
export type EcsFaultableOperation =
  (typeof EcsFaultableOperation)[keyof typeof EcsFaultableOperation];

export interface LocalEcsOptions {
  elbv2: LocalElbv2;
  artifacts: LocalArtifactStore;
  runner: TaskRunner;
  /** @default 'us-east-1' */
  region?: string;
  /** @default '000000000000' */
  accountId?: string;
  /** @default () => new Date() */
  now?: () => Date;
  /** How long a stopping task may drain after SIGTERM before SIGKILL (ECS: stopTimeout, 30 s). @default 2000 */
  stopTimeoutMs?: number;
  /** Pause before the scheduler retries after a task failed to start or crashed. @default 250 */
  restartDelayMs?: number;
  /** Failed task starts in one deployment before its rollout is FAILED and it stops trying. @default 3 */
  failedTasksLimit?: number;
}

export interface CreateServiceInput {
  cluster: string;
  serviceName: string;
  /** family, family:revision or ARN. */
  taskDefinition: string;
  desiredCount: number;
  /** The target group the service's tasks join, and the container and port that serve it. */
  loadBalancer?: { targetGroupArn: string; containerName: string; containerPort: number };
}

export interface RegisterTaskDefinitionInput {
  family: string;
  containerDefinitions: {
    name: string;
    image: string;
    essential?: boolean;
    portMappings?: { containerPort: number; protocol?: string }[];
    environment?: { name: string; value: string }[];
  }[];
  cpu?: string;
  memory?: string;
  tags?: { key: string; value: string }[];
}

/** What a test or the demo sees of a service, without going through the API. */
export interface ServiceSnapshot {
  desiredCount: number;
  runningCount: number;
  taskDefinition: string;
  deployments: {
    id: string;
    status: string;
    taskDefinition: string;
    rolloutState: string;
    runningCount: number;
  }[];
  tasks: {
    taskArn: string;
    lastStatus: string;
    image: string;
    deploymentId: string;
    port?: number;
    pid?: number;
  }[];
}

type Dict = Record<string, unknown>;

interface TaskDefinitionRecord {
  arn: string;
  family: string;
  revision: number;
  status: 'ACTIVE' | 'INACTIVE';
  /** The registered fields other than family and tags, as given. */
  body: Dict;
  tags: { key: string; value: string }[];
  registeredAt: Date;
}

type DeploymentStatus = 'PRIMARY' | 'ACTIVE';
type RolloutState = 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';

interface DeploymentRecord {
  id: string;
  status: DeploymentStatus;
  taskDefinitionArn: string;
  desiredCount: number;
  createdAt: Date;
  updatedAt: Date;
  rolloutState: RolloutState;
  rolloutStateReason: string;
  failedTasks: number;
}

type TaskStatus = 'PROVISIONING' | 'RUNNING' | 'DEACTIVATING' | 'STOPPING' | 'STOPPED';

interface TaskRecord {
  arn: string;
  id: string;
  serviceName: string;
  deploymentId: string;
  taskDefinitionArn: string;
  containerName: string;
  image: string;
  containerPort: number;
  lastStatus: TaskStatus;
  desiredStatus: 'RUNNING' | 'STOPPED';
  createdAt: Date;
  startedAt?: Date;
  stoppingAt?: Date;
  stoppedAt?: Date;
  stoppedReason?: string;
  stopCode?: string;
  exitCode?: number;
  process?: TaskProcess;
  target?: TargetRef;
}

interface ServiceRecord {
  arn: string;
  name: string;
  cluster: ClusterRecord;
  desiredCount: number;
  taskDefinitionArn: string;
  loadBalancers: { targetGroupArn: string; containerName: string; containerPort: number }[];
  deployments: DeploymentRecord[];
  events: { id: string; createdAt: Date; message: string }[];
  createdAt: Date;
  steady: boolean;
}

interface ClusterRecord {
  arn: string;
  name: string;
  services: Map<string, ServiceRecord>;
  tasks: Map<string, TaskRecord>;
}

class EcsFault extends Error {
  readonly type: string;
  readonly status: number;

  constructor(type: string, message: string, status = 400) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

const targetPrefix = 'AmazonEC2ContainerServiceV20141113';
const jsonContentType = 'application/x-amz-json-1.1';
const localIp = '127.0.0.1';
const maxEvents = 100;

/**
 * Amazon ECS for the local cloud, on the AWS JSON 1.1 protocol `@aws-sdk/client-ecs` speaks.
 * Task definitions are stored and revised as ECS does; services run REAL tasks: each task is a
 * child process (see data-plane/task-runner.ts) serving its image's app on 127.0.0.1.
 *
 * The service scheduler does a rolling update as ECS does with minimumHealthyPercent 100 and
 * maximumPercent 200: UpdateService with a new task definition starts a PRIMARY deployment whose
 * tasks register in the service's target group when running; an old task is stopped only while
 * enough new tasks are healthy in the target group, and stopping one first deregisters it
 * (the target drains its in-flight requests), then SIGTERM, then SIGKILL after the stop timeout.
 * A crashed task is replaced; after `failedTasksLimit` tasks fail to start, the rollout is FAILED.
 */
export class LocalEcs implements LocalService {
  readonly name = 'ecs';
  readonly #elbv2: LocalElbv2;
  readonly #artifacts: LocalArtifactStore;
  readonly #runner: TaskRunner;
  readonly #region: string;
  readonly #accountId: string;
  readonly #now: () => Date;
  readonly #stopTimeoutMs: number;
  readonly #restartDelayMs: number;
  readonly #failedTasksLimit: number;
  readonly #clusters = new Map<string, ClusterRecord>();
  readonly #taskDefinitions = new Map<string, TaskDefinitionRecord[]>();
  readonly #faults = new Map<EcsFaultableOperation, number>();
  readonly #pending = new Map<ServiceRecord, NodeJS.Immediate>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #deregistrations = new Map<string, () => void>();
  readonly #steadyWaiters = new Set<() => void>();
  readonly #unsubscribe: () => void;
  #sequence = 0;
  #closed = false;

  constructor(options: LocalEcsOptions) {
    this.#elbv2 = options.elbv2;
    this.#artifacts = options.artifacts;
    this.#runner = options.runner;
    this.#region = options.region ?? 'us-east-1';
    this.#accountId = options.accountId ?? '000000000000';
    this.#now = options.now ?? (() => new Date());
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 2_000;
    this.#restartDelayMs = options.restartDelayMs ?? 250;
    this.#failedTasksLimit = options.failedTasksLimit ?? 3;
    this.#unsubscribe = this.#elbv2.onChange((change) => {
      if (change.type === 'deregistered') {
        const key = registrationKey(change.targetGroupArn, change.target);
        this.#deregistrations.get(key)?.();
        this.#deregistrations.delete(key);
      }
      if (change.type === 'health' || change.type === 'deregistered') {
        for (const service of this.#allServices()) {
          if (service.loadBalancers.some((lb) => lb.targetGroupArn === change.targetGroupArn)) {
            this.#schedule(service);
          }
        }
      }
    });
  }

  // ---- seeding and inspection ----------------------------------------------------------------

  createCluster(name: string): { clusterArn: string } {
    const existing = this.#clusters.get(name);
    if (existing) return { clusterArn: existing.arn };
    const arn = `${this.#arnPrefix()}cluster/${name}`;
    this.#clusters.set(name, { arn, name, services: new Map(), tasks: new Map() });
    return { clusterArn: arn };
  }

  registerTaskDefinition(input: RegisterTaskDefinitionInput): { taskDefinitionArn: string } {
    const { family, tags, ...body } = input;
    return { taskDefinitionArn: this.#register({ family, ...body, tags: tags ?? [] }).arn };
  }

  createService(input: CreateServiceInput): { serviceArn: string } {
    const cluster = this.#requireCluster(input.cluster);
    if (cluster.services.has(input.serviceName)) {
      throw new Error(`Service ${input.serviceName} already exists in cluster ${cluster.name}`);
    }
    const definition = this.#requireTaskDefinition(input.taskDefinition, 'ClientException');
    const now = this.#now();
    const service: ServiceRecord = {
      arn: `${this.#arnPrefix()}service/${cluster.name}/${input.serviceName}`,
      name: input.serviceName,
      cluster,
      desiredCount: input.desiredCount,
      taskDefinitionArn: definition.arn,
      loadBalancers: input.loadBalancer ? [input.loadBalancer] : [],
      deployments: [],
      events: [],
      createdAt: now,
      steady: false,
    };
    service.deployments.push(this.#newDeployment(definition.arn, input.desiredCount));
    cluster.services.set(service.name, service);
    this.#schedule(service);
    return { serviceArn: service.arn };
  }

  /** Resolves once the service has one deployment, COMPLETED (every task running and healthy). */
  async waitForSteadyState(
    cluster: string,
    serviceName: string,
    timeoutMs = 15_000,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const service = this.#requireService(this.#requireCluster(cluster), serviceName);
      if (
        service.deployments.length === 1 &&
        service.deployments[0]?.rolloutState === 'COMPLETED'
      ) {
        return;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `Service ${serviceName} did not reach a steady state within ${timeoutMs} ms: ${JSON.stringify(this.describeService(cluster, serviceName))}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, 100));
        const waiters = this.#steadyWaiters;
        function done(): void {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        }
        waiters.add(done);
      });
    }
  }

  describeService(cluster: string, serviceName: string): ServiceSnapshot {
    const c = this.#requireCluster(cluster);
    const service = this.#requireService(c, serviceName);
    const tasks = this.#tasksOf(service);
    return {
      desiredCount: service.desiredCount,
      runningCount: tasks.filter((t) => t.lastStatus === 'RUNNING').length,
      taskDefinition: service.taskDefinitionArn,
      deployments: service.deployments.map((d) => ({
        id: d.id,
        status: d.status,
        taskDefinition: d.taskDefinitionArn,
        rolloutState: d.rolloutState,
        runningCount: tasks.filter((t) => t.deploymentId === d.id && t.lastStatus === 'RUNNING')
          .length,
      })),
      tasks: tasks
        .filter((t) => t.lastStatus !== 'STOPPED')
        .map((t) => ({
          taskArn: t.arn,
          lastStatus: t.lastStatus,
          image: t.image,
          deploymentId: t.deploymentId,
          ...(t.target ? { port: t.target.port } : {}),
          ...(t.process ? { pid: t.process.pid } : {}),
        })),
    };
  }

  /** See LocalElbv2.failNextResponse. */
  failNextResponse(operation: EcsFaultableOperation, times = 1): void {
    this.#faults.set(operation, (this.#faults.get(operation) ?? 0) + times);
  }

  /** Stops every task at once (SIGKILL after a short grace) and the scheduler. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe();
    for (const immediate of this.#pending.values()) clearImmediate(immediate);
    this.#pending.clear();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const resolve of this.#deregistrations.values()) resolve();
    this.#deregistrations.clear();
    const stops: Promise<unknown>[] = [];
    for (const service of this.#allServices()) {
      for (const task of this.#tasksOf(service)) {
        if (task.process) stops.push(task.process.stop(200));
      }
    }
    await Promise.all(stops);
    await this.#runner.close();
  }

  // ---- wire protocol -------------------------------------------------------------------------

  async handle(request: LocalRequest): Promise<LocalResponse | undefined> {
    const operation = targetOperation(request, targetPrefix);
    if (operation === undefined) return undefined;
    try {
      const input = parseInput(request);
      const result = this.#dispatch(operation, input);
      if (
        operation in EcsFaultableOperation &&
        this.#takeFault(operation as EcsFaultableOperation)
      ) {
        return ecsError(
          new EcsFault(
            'ServerException',
            'The local cloud lost this response on purpose (failNextResponse).',
            500,
          ),
        );
      }
      return awsJsonResult(result, jsonContentType);
    } catch (error) {
      if (error instanceof EcsFault) return ecsError(error);
      throw error;
    }
  }

  #dispatch(operation: string, input: Dict): Dict {
    switch (operation) {
      case 'DescribeServices':
        return this.#describeServices(input);
      case 'UpdateService':
        return this.#updateService(input);
      case 'DescribeTaskDefinition':
        return this.#describeTaskDefinition(input);
      case 'RegisterTaskDefinition':
        return this.#registerTaskDefinition(input);
      case 'ListTaskDefinitions':
        return this.#listTaskDefinitions(input);
      case 'ListTasks':
        return this.#listTasks(input);
      case 'DescribeTasks':
        return this.#describeTasks(input);
      default:
        throw new EcsFault('InvalidAction', `The local ECS does not serve ${operation}`);
    }
  }

  #describeServices(input: Dict): Dict {
    const cluster = this.#requireCluster(optionalString(input.cluster) ?? 'default');
    const names = stringList(input.services);
    if (names.length === 0 || names.length > 10) {
      throw new EcsFault(
        'InvalidParameterException',
        'services should have between 1 and 10 entries.',
      );
    }
    const services: Dict[] = [];
    const failures: Dict[] = [];
    for (const name of names) {
      const service = cluster.services.get(serviceNameOf(name));
      if (service) services.push(this.#toService(service));
      else {
        failures.push({
          arn: name.startsWith('arn:')
            ? name
            : `${this.#arnPrefix()}service/${cluster.name}/${name}`,
          reason: 'MISSING',
        });
      }
    }
    return { services, failures };
  }

  #updateService(input: Dict): Dict {
    const cluster = this.#requireCluster(optionalString(input.cluster) ?? 'default');
    const service = this.#requireService(cluster, requireString(input, 'service'));
    const desiredCount = input.desiredCount;
    if (
      desiredCount !== undefined &&
      (typeof desiredCount !== 'number' || !Number.isInteger(desiredCount) || desiredCount < 0)
    ) {
      throw new EcsFault('InvalidParameterException', 'Desired count must be a whole number >= 0.');
    }
    const taskDefinition = optionalString(input.taskDefinition);
    const definition =
      taskDefinition === undefined
        ? undefined
        : this.#requireTaskDefinition(taskDefinition, 'ClientException');
    if (definition?.status === 'INACTIVE') {
      throw new EcsFault('ClientException', 'TaskDefinition is inactive');
    }
    if (typeof desiredCount === 'number') service.desiredCount = desiredCount;
    const primary = service.deployments[0] as DeploymentRecord;
    const changesCode = definition !== undefined && definition.arn !== service.taskDefinitionArn;
    if (changesCode || input.forceNewDeployment === true) {
      service.taskDefinitionArn = definition?.arn ?? service.taskDefinitionArn;
      primary.status = 'ACTIVE';
      primary.updatedAt = this.#now();
      service.deployments.unshift(
        this.#newDeployment(service.taskDefinitionArn, service.desiredCount),
      );
      service.steady = false;
    } else if (primary.desiredCount !== service.desiredCount) {
      primary.desiredCount = service.desiredCount;
      primary.updatedAt = this.#now();
      if (primary.rolloutState === 'COMPLETED') primary.rolloutState = 'IN_PROGRESS';
      service.steady = false;
    }
    this.#schedule(service);
    return { service: this.#toService(service) };
  }

  #describeTaskDefinition(input: Dict): Dict {
    const definition = this.#requireTaskDefinition(
      requireString(input, 'taskDefinition'),
      'ClientException',
      'Unable to describe task definition.',
    );
    const result: Dict = { taskDefinition: toTaskDefinition(definition) };
    if (stringList(input.include).includes('TAGS')) result.tags = definition.tags;
    return result;
  }

  #registerTaskDefinition(input: Dict): Dict {
    const definition = this.#register(input);
    return { taskDefinition: toTaskDefinition(definition), tags: definition.tags };
  }

  #register(input: Dict): TaskDefinitionRecord {
    const family = requireString(input, 'family');
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(family)) {
      throw new EcsFault(
        'ClientException',
        'Family contains invalid characters. Up to 255 letters (uppercase and lowercase), numbers, hyphens, and underscores are allowed.',
      );
    }
    const containers = Array.isArray(input.containerDefinitions)
      ? (input.containerDefinitions as Dict[])
      : [];
    if (containers.length === 0) {
      throw new EcsFault('ClientException', 'Container list cannot be empty.');
    }
    const names = new Set<string>();
    for (const container of containers) {
      const name = optionalString(container.name);
      if (!name)
        throw new EcsFault('ClientException', 'Container.name should not be null or empty.');
      if (names.has(name)) {
        throw new EcsFault('ClientException', 'Duplicate container names are not allowed.');
      }
      names.add(name);
      if (!optionalString(container.image)) {
        throw new EcsFault('ClientException', 'Container.image should not be null or empty.');
      }
    }
    const tags = Array.isArray(input.tags) ? (input.tags as { key: string; value: string }[]) : [];
    const { family: _family, tags: _tags, ...body } = input;
    const revisions = this.#taskDefinitions.get(family) ?? [];
    const revision = revisions.length + 1;
    const record: TaskDefinitionRecord = {
      arn: `${this.#arnPrefix()}task-definition/${family}:${revision}`,
      family,
      revision,
      status: 'ACTIVE',
      body: structuredClone(body),
      tags: structuredClone(tags),
      registeredAt: this.#now(),
    };
    revisions.push(record);
    this.#taskDefinitions.set(family, revisions);
    return record;
  }

  #listTaskDefinitions(input: Dict): Dict {
    // Despite its name, familyPrefix matches a whole family name, as in ECS.
    const family = optionalString(input.familyPrefix);
    const status = optionalString(input.status) ?? 'ACTIVE';
    const sort = optionalString(input.sort) ?? 'ASC';
    if (sort !== 'ASC' && sort !== 'DESC') {
      throw new EcsFault('InvalidParameterException', `Invalid sort order: ${sort}`);
    }
    const all = [...this.#taskDefinitions.values()]
      .flat()
      .filter((d) => family === undefined || d.family === family)
      .filter((d) => status === 'ALL' || d.status === status)
      .sort((a, b) =>
        a.family === b.family ? a.revision - b.revision : a.family < b.family ? -1 : 1,
      );
    if (sort === 'DESC') all.reverse();
    const maxResults = typeof input.maxResults === 'number' ? input.maxResults : 100;
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 100) {
      throw new EcsFault('InvalidParameterException', 'maxResults must be between 1 and 100.');
    }
    const start = decodeToken(optionalString(input.nextToken));
    const page = all.slice(start, start + maxResults);
    const result: Dict = { taskDefinitionArns: page.map((d) => d.arn) };
    if (start + maxResults < all.length) result.nextToken = encodeToken(start + maxResults);
    return result;
  }

  #listTasks(input: Dict): Dict {
    const cluster = this.#requireCluster(optionalString(input.cluster) ?? 'default');
    const serviceName = optionalString(input.serviceName);
    if (serviceName !== undefined) this.#requireService(cluster, serviceName);
    const desired = optionalString(input.desiredStatus) ?? 'RUNNING';
    const family = optionalString(input.family);
    const tasks = [...cluster.tasks.values()]
      .filter((t) => serviceName === undefined || t.serviceName === serviceNameOf(serviceName))
      .filter((t) => t.desiredStatus === desired)
      .filter((t) => family === undefined || t.taskDefinitionArn.includes(`/${family}:`));
    return { taskArns: tasks.map((t) => t.arn) };
  }

  #describeTasks(input: Dict): Dict {
    const cluster = this.#requireCluster(optionalString(input.cluster) ?? 'default');
    const ids = stringList(input.tasks);
    if (ids.length === 0 || ids.length > 100) {
      throw new EcsFault('InvalidParameterException', 'Tasks cannot be empty.');
    }
    const tasks: Dict[] = [];
    const failures: Dict[] = [];
    for (const id of ids) {
      const task = cluster.tasks.get(id.split('/').at(-1) ?? id);
      if (task) tasks.push(this.#toTask(cluster, task));
      else failures.push({ arn: id, reason: 'MISSING' });
    }
    return { tasks, failures };
  }

  // ---- the service scheduler -----------------------------------------------------------------

  #schedule(service: ServiceRecord, delayMs = 0): void {
    if (this.#closed) return;
    if (delayMs > 0) {
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        this.#schedule(service);
      }, delayMs);
      this.#timers.add(timer);
      return;
    }
    if (this.#pending.has(service)) return;
    this.#pending.set(
      service,
      setImmediate(() => {
        this.#pending.delete(service);
        if (!this.#closed) this.#reconcile(service);
      }),
    );
  }

  /**
   * Compares desired with observed and starts or stops tasks; safe to run any number of times.
   * Decisions are synchronous (a task's status changes before any await), so two passes never
   * act on the same task.
   */
  #reconcile(service: ServiceRecord): void {
    const primary = service.deployments[0] as DeploymentRecord;
    const tasks = this.#tasksOf(service).filter((t) => t.desiredStatus === 'RUNNING');
    const primaryTasks = tasks.filter((t) => t.deploymentId === primary.id);
    const oldTasks = tasks.filter((t) => t.deploymentId !== primary.id);

    if (primary.rolloutState !== 'FAILED') {
      for (let i = primaryTasks.length; i < primary.desiredCount; i += 1) {
        this.#launch(service, primary);
      }
    }
    if (primaryTasks.length > primary.desiredCount) {
      // Scale in: unhealthy and newest tasks go first.
      const surplus = [...primaryTasks]
        .sort((a, b) => Number(this.#isHealthy(service, a)) - Number(this.#isHealthy(service, b)))
        .slice(0, primaryTasks.length - primary.desiredCount);
      for (const task of surplus) {
        this.#stop(service, task, `Scaling activity initiated by (deployment ${primary.id})`);
      }
    }

    // Old tasks go only while enough healthy tasks remain (minimumHealthyPercent 100).
    let healthy = tasks.filter((t) => this.#isHealthy(service, t)).length;
    const byHealth = [...oldTasks].sort(
      (a, b) => Number(this.#isHealthy(service, a)) - Number(this.#isHealthy(service, b)),
    );
    for (const task of byHealth) {
      const taskHealthy = this.#isHealthy(service, task);
      if (taskHealthy && healthy - 1 < primary.desiredCount) continue;
      if (taskHealthy) healthy -= 1;
      this.#stop(service, task, `Task stopped by deployment ${primary.id} replacing it`);
    }

    const everyTask = this.#tasksOf(service).filter((t) => t.lastStatus !== 'STOPPED');
    for (const deployment of service.deployments.slice(1)) {
      if (!everyTask.some((t) => t.deploymentId === deployment.id)) {
        service.deployments = service.deployments.filter((d) => d !== deployment);
      }
    }
    const primaryLive = everyTask.filter((t) => t.deploymentId === primary.id);
    const complete =
      service.deployments.length === 1 &&
      primaryLive.length === primary.desiredCount &&
      primaryLive.every((t) => t.desiredStatus === 'RUNNING' && this.#isHealthy(service, t));
    if (complete && primary.rolloutState === 'IN_PROGRESS') {
      primary.rolloutState = 'COMPLETED';
      primary.rolloutStateReason = `ECS deployment ${primary.id} completed.`;
      primary.updatedAt = this.#now();
    }
    if (complete && !service.steady) {
      service.steady = true;
      this.#event(service, `(service ${service.name}) has reached a steady state.`);
      for (const wake of [...this.#steadyWaiters]) wake();
    }
  }

  #isHealthy(service: ServiceRecord, task: TaskRecord): boolean {
    if (task.lastStatus !== 'RUNNING' || !task.target) return false;
    const target = task.target;
    return service.loadBalancers.every((lb) =>
      this.#elbv2
        .targetHealth(lb.targetGroupArn)
        .some(
          (t) =>
            t.id === target.id && t.port === target.port && t.state === TargetHealthState.Healthy,
        ),
    );
  }

  #launch(service: ServiceRecord, deployment: DeploymentRecord): void {
    const definition = this.#requireTaskDefinition(deployment.taskDefinitionArn, 'ClientException');
    const containers = (definition.body.containerDefinitions ?? []) as Dict[];
    const wanted = service.loadBalancers[0]?.containerName;
    const container =
      containers.find((c) => c.name === wanted) ??
      containers.find((c) => c.essential !== false) ??
      containers[0] ??
      {};
    const id = this.#newId(`task/${service.cluster.name}`);
    const task: TaskRecord = {
      arn: `${this.#arnPrefix()}task/${service.cluster.name}/${id}`,
      id,
      serviceName: service.name,
      deploymentId: deployment.id,
      taskDefinitionArn: definition.arn,
      containerName: String(container.name ?? ''),
      image: String(container.image ?? ''),
      containerPort: service.loadBalancers[0]?.containerPort ?? firstContainerPort(container),
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      createdAt: this.#now(),
    };
    service.cluster.tasks.set(id, task);
    void this.#run(service, deployment, task, container);
  }

  async #run(
    service: ServiceRecord,
    deployment: DeploymentRecord,
    task: TaskRecord,
    container: Dict,
  ): Promise<void> {
    const artifact = await this.#artifacts.resolveImage(task.image);
    if (!artifact) {
      this.#failStart(
        service,
        deployment,
        task,
        `CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref ${task.image}: not found`,
      );
      return;
    }
    const env: Record<string, string> = {};
    for (const pair of (container.environment ?? []) as Dict[]) {
      if (typeof pair.name === 'string') env[pair.name] = String(pair.value ?? '');
    }
    Object.assign(env, {
      GREENLIGHT_TASK_ARN: task.arn,
      GREENLIGHT_TASK_ID: task.id,
      GREENLIGHT_IMAGE: task.image,
      GREENLIGHT_CONTAINER_NAME: task.containerName,
    });
    let running: TaskProcess;
    try {
      running = await this.#runner.start({ imagePath: artifact.path, env });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.#failStart(service, deployment, task, `Essential container in task exited: ${reason}`);
      return;
    }
    task.process = running;
    void running.exited.then((exit) => this.#onExit(service, task, exit.code, exit.stderr));
    if (this.#closed || task.desiredStatus !== 'RUNNING') {
      await running.stop(this.#stopTimeoutMs);
      return;
    }
    task.lastStatus = 'RUNNING';
    task.startedAt = this.#now();
    task.target = { id: localIp, port: running.port };
    for (const lb of service.loadBalancers) {
      this.#elbv2.registerTarget(lb.targetGroupArn, task.target);
      this.#event(
        service,
        `(service ${service.name}) registered 1 targets in (target-group ${lb.targetGroupArn})`,
      );
    }
    this.#event(service, `(service ${service.name}) has started 1 tasks: (task ${task.id}).`);
    this.#schedule(service);
  }

  #failStart(
    service: ServiceRecord,
    deployment: DeploymentRecord,
    task: TaskRecord,
    reason: string,
  ): void {
    task.lastStatus = 'STOPPED';
    task.desiredStatus = 'STOPPED';
    task.stoppedAt = this.#now();
    task.stoppedReason = reason;
    task.stopCode = 'TaskFailedToStart';
    deployment.failedTasks += 1;
    if (
      deployment.failedTasks >= this.#failedTasksLimit &&
      deployment.rolloutState === 'IN_PROGRESS'
    ) {
      deployment.rolloutState = 'FAILED';
      deployment.rolloutStateReason = `ECS deployment circuit breaker: tasks failed to start. ${reason}`;
      deployment.updatedAt = this.#now();
    }
    this.#event(service, `(service ${service.name}) failed to start a task: ${reason}`);
    this.#schedule(service, this.#restartDelayMs);
  }

  /** A task's process ended: expected when stopping, a crash otherwise (deregistered, replaced). */
  #onExit(service: ServiceRecord, task: TaskRecord, code: number | null, stderr: string): void {
    if (code !== null) task.exitCode = code;
    if (task.lastStatus === 'STOPPED') return;
    const crashed = task.desiredStatus === 'RUNNING';
    task.desiredStatus = 'STOPPED';
    task.lastStatus = 'STOPPED';
    task.stoppedAt = this.#now();
    if (crashed) {
      task.stopCode = 'EssentialContainerExited';
      task.stoppedReason = `Essential container in task exited${stderr ? `: ${stderr.split('\n').at(-1)}` : ''}`;
      const deployment = service.deployments.find((d) => d.id === task.deploymentId);
      if (deployment) deployment.failedTasks += 1;
      if (task.target) {
        for (const lb of service.loadBalancers) {
          this.#elbv2.deregisterTarget(lb.targetGroupArn, task.target);
        }
      }
      this.#event(
        service,
        `(service ${service.name}) task ${task.id} stopped: ${task.stoppedReason}`,
      );
      this.#schedule(service, this.#restartDelayMs);
    }
  }

  /** Deregister (drain), then SIGTERM, then SIGKILL after the stop timeout. */
  #stop(service: ServiceRecord, task: TaskRecord, reason: string): void {
    task.desiredStatus = 'STOPPED';
    task.stoppingAt = this.#now();
    task.stoppedReason = reason;
    task.stopCode = 'ServiceSchedulerInitiated';
    if (task.lastStatus === 'PROVISIONING') return; // #run stops it once it has started
    task.lastStatus = 'DEACTIVATING';
    void (async () => {
      const target = task.target;
      if (target) {
        await Promise.all(
          service.loadBalancers.map((lb) => this.#deregisterAndWait(lb.targetGroupArn, target)),
        );
        this.#event(
          service,
          `(service ${service.name}) has stopped 1 running tasks: (task ${task.id}).`,
        );
      }
      task.lastStatus = 'STOPPING';
      await task.process?.stop(this.#stopTimeoutMs);
      task.lastStatus = 'STOPPED';
      task.stoppedAt = this.#now();
      this.#schedule(service);
    })();
  }

  #deregisterAndWait(targetGroupArn: string, target: TargetRef): Promise<void> {
    if (!this.#elbv2.isRegistered(targetGroupArn, target)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#deregistrations.set(registrationKey(targetGroupArn, target), resolve);
      this.#elbv2.deregisterTarget(targetGroupArn, target);
    });
  }

  #newDeployment(taskDefinitionArn: string, desiredCount: number): DeploymentRecord {
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

  #event(service: ServiceRecord, message: string): void {
    service.events.unshift({
      id: this.#newId('event').slice(0, 36),
      createdAt: this.#now(),
      message,
    });
    service.events.length = Math.min(service.events.length, maxEvents);
  }

  #toService(service: ServiceRecord): Dict {
    const tasks = this.#tasksOf(service);
    const count = (deploymentId: string | undefined, status: TaskStatus) =>
      tasks.filter(
        (t) =>
          (deploymentId === undefined || t.deploymentId === deploymentId) &&
          t.lastStatus === status,
      ).length;
    return {
      serviceArn: service.arn,
      serviceName: service.name,
      clusterArn: service.cluster.arn,
      loadBalancers: service.loadBalancers,
      status: 'ACTIVE',
      desiredCount: service.desiredCount,
      runningCount: count(undefined, 'RUNNING'),
      pendingCount: count(undefined, 'PROVISIONING'),
      launchType: 'FARGATE',
      platformVersion: 'LATEST',
      taskDefinition: service.taskDefinitionArn,
      deploymentConfiguration: {
        deploymentCircuitBreaker: { enable: false, rollback: false },
        maximumPercent: 200,
        minimumHealthyPercent: 100,
      },
      deployments: service.deployments.map((d) => ({
        id: d.id,
        status: d.status,
        taskDefinition: d.taskDefinitionArn,
        desiredCount: d.desiredCount,
        pendingCount: count(d.id, 'PROVISIONING'),
        runningCount: count(d.id, 'RUNNING'),
        failedTasks: d.failedTasks,
        createdAt: toEpoch(d.createdAt),
        updatedAt: toEpoch(d.updatedAt),
        launchType: 'FARGATE',
        rolloutState: d.rolloutState,
        rolloutStateReason: d.rolloutStateReason,
      })),
      events: service.events.map((e) => ({ ...e, createdAt: toEpoch(e.createdAt) })),
      createdAt: toEpoch(service.createdAt),
      schedulingStrategy: 'REPLICA',
      deploymentController: { type: 'ECS' },
      healthCheckGracePeriodSeconds: 0,
    };
  }

  #toTask(cluster: ClusterRecord, task: TaskRecord): Dict {
    const container: Dict = {
      containerArn: `${this.#arnPrefix()}container/${cluster.name}/${task.id}/${this.#newId('container').slice(0, 36)}`,
      taskArn: task.arn,
      name: task.containerName,
      image: task.image,
      lastStatus:
        task.lastStatus === 'PROVISIONING'
          ? 'PENDING'
          : task.lastStatus === 'STOPPED'
            ? 'STOPPED'
            : 'RUNNING',
      networkInterfaces: [{ attachmentId: task.id, privateIpv4Address: localIp }],
    };
    if (task.exitCode !== undefined) container.exitCode = task.exitCode;
    if (task.target) {
      container.networkBindings = [
        {
          bindIP: localIp,
          containerPort: task.containerPort,
          hostPort: task.target.port,
          protocol: 'tcp',
        },
      ];
    }
    const shape: Dict = {
      taskArn: task.arn,
      clusterArn: cluster.arn,
      taskDefinitionArn: task.taskDefinitionArn,
      lastStatus: task.lastStatus,
      desiredStatus: task.desiredStatus,
      group: `service:${task.serviceName}`,
      startedBy: task.deploymentId,
      launchType: 'FARGATE',
      createdAt: toEpoch(task.createdAt),
      healthStatus: 'UNKNOWN',
      containers: [container],
    };
    if (task.startedAt) shape.startedAt = toEpoch(task.startedAt);
    if (task.stoppingAt) shape.stoppingAt = toEpoch(task.stoppingAt);
    if (task.stoppedAt) shape.stoppedAt = toEpoch(task.stoppedAt);
    if (task.stoppedReason) shape.stoppedReason = task.stoppedReason;
    if (task.stopCode) shape.stopCode = task.stopCode;
    return shape;
  }

  #tasksOf(service: ServiceRecord): TaskRecord[] {
    return [...service.cluster.tasks.values()].filter((t) => t.serviceName === service.name);
  }

  #allServices(): ServiceRecord[] {
    return [...this.#clusters.values()].flatMap((c) => [...c.services.values()]);
  }

  #requireCluster(nameOrArn: string): ClusterRecord {
    const cluster = this.#clusters.get(nameOrArn.split('/').at(-1) ?? nameOrArn);
    if (!cluster) throw new EcsFault('ClusterNotFoundException', 'Cluster not found.');
    return cluster;
  }

  #requireService(cluster: ClusterRecord, nameOrArn: string): ServiceRecord {
    const service = cluster.services.get(serviceNameOf(nameOrArn));
    if (!service) throw new EcsFault('ServiceNotFoundException', 'Service not found.');
    return service;
  }

  /** Accepts `family` (newest ACTIVE revision), `family:revision` or a full ARN. */
  #requireTaskDefinition(
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
    if (!found || (ref.startsWith('arn:') && found.arn !== ref))
      throw new EcsFault(errorType, message);
    return found;
  }

  #takeFault(operation: EcsFaultableOperation): boolean {
    const left = this.#faults.get(operation) ?? 0;
    if (left <= 0) return false;
    this.#faults.set(operation, left - 1);
    return true;
  }

  #arnPrefix(): string {
    return `arn:aws:ecs:${this.#region}:${this.#accountId}:`;
  }

  /** Ids come from creation order, so a seeded world has the same ARNs every run. */
  #newId(seed: string): string {
    return createHash('sha256')
      .update(`${seed}#${++this.#sequence}`)
      .digest('hex')
      .slice(0, 32);
  }
}

function toTaskDefinition(definition: TaskDefinitionRecord): Dict {
  return {
    ...definition.body,
    taskDefinitionArn: definition.arn,
    family: definition.family,
    revision: definition.revision,
    status: definition.status,
    compatibilities: ['EC2', 'FARGATE'],
    requiresAttributes: [],
    registeredAt: toEpoch(definition.registeredAt),
    registeredBy: 'arn:aws:iam::000000000000:role/greenlight-local',
  };
}

function firstContainerPort(container: Dict): number {
  const mappings = (container.portMappings ?? []) as Dict[];
  return Number(mappings[0]?.containerPort ?? 80);
}

function registrationKey(targetGroupArn: string, target: TargetRef): string {
  return `${targetGroupArn}|${target.id}:${target.port}`;
}

function serviceNameOf(nameOrArn: string): string {
  return nameOrArn.split('/').at(-1) ?? nameOrArn;
}

/** AWS JSON 1.1 carries timestamps as epoch seconds. */
function toEpoch(at: Date): number {
  return at.getTime() / 1000;
}

function encodeToken(index: number): string {
  return Buffer.from(JSON.stringify({ index })).toString('base64');
}

function decodeToken(token: string | undefined): number {
  if (token === undefined) return 0;
  try {
    const { index } = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as {
      index?: unknown;
    };
    if (typeof index === 'number' && Number.isInteger(index) && index >= 0) return index;
  } catch {
    // falls through to the same answer as a well-formed but meaningless token
  }
  throw new EcsFault('InvalidParameterException', 'Invalid nextToken.');
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function requireString(input: Dict, field: string): string {
  const value = optionalString(input[field]);
  if (value === undefined) {
    throw new EcsFault('InvalidParameterException', `${field} can not be blank.`);
  }
  return value;
}

function parseInput(request: LocalRequest): Dict {
  if (request.body.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(request.body.toString('utf8'));
    if (parsed && typeof parsed === 'object') return parsed as Dict;
  } catch {
    // falls through to the same answer as a non-object body
  }
  throw new EcsFault('SerializationException', 'The request body is not a JSON object.');
}

function ecsError(fault: EcsFault): LocalResponse {
  return {
    status: fault.status,
    headers: { 'content-type': jsonContentType, 'x-amzn-errortype': fault.type },
    body: JSON.stringify({ __type: fault.type, message: fault.message }),
  };
}
