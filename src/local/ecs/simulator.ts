import type { LocalArtifactStore } from '../artifact-store.ts';
import { AwsFault } from '../aws-protocol/fault.ts';
import { stringList } from '../aws-protocol/fields.ts';
import { LostResponses, lostResponseMessage } from '../aws-protocol/lost-responses.ts';
import { encodeIndexToken, pageAt } from '../aws-protocol/pages.ts';
import type { TaskProcess, TaskRunner } from '../data-plane/task-runner.ts';
import type { LocalElbv2 } from '../elbv2/simulator.ts';
import { TargetHealthState, type TargetRef } from '../elbv2/types.ts';
import {
  awsJsonResult,
  type LocalRequest,
  type LocalResponse,
  type LocalService,
  targetOperation,
} from '../http.ts';
import { LocalCloudWatchLogs } from '../logs-standin.ts';
import { clientException, ecsFault } from './faults.ts';
import { OneOffTasks } from './one-off-tasks.ts';
import {
  optionalString,
  readDesiredCount,
  readRegistration,
  readServiceNames,
  readTaskDefinitionQuery,
  readTaskIds,
  requireString,
} from './rules.ts';
import { EcsState, serviceNameOf } from './state.ts';
import {
  type ClusterRecord,
  type CreateServiceInput,
  type DeploymentRecord,
  type Dict,
  EcsFaultableOperation,
  type LocalEcsOptions,
  type RegisterTaskDefinitionInput,
  type ServiceRecord,
  type ServiceSnapshot,
  type TaskRecord,
} from './types.ts';
import {
  ecsError,
  jsonContentType,
  localIp,
  parseInput,
  renderService,
  renderTask,
  renderTaskDefinition,
  targetPrefix,
} from './wire.ts';

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
 *
 * Its seams: wire.ts (the AWS JSON 1.1 codec), rules.ts (what ECS refuses), state.ts (clusters,
 * services, tasks and task definitions); this class ties them per operation and runs the
 * service scheduler.
 */
export class LocalEcs implements LocalService {
  readonly name = 'ecs';
  readonly #elbv2: LocalElbv2;
  readonly #artifacts: LocalArtifactStore;
  readonly #runner: TaskRunner;
  readonly #state: EcsState;
  readonly #now: () => Date;
  readonly #stopTimeoutMs: number;
  readonly #restartDelayMs: number;
  readonly #failedTasksLimit: number;
  readonly #lost = new LostResponses(EcsFaultableOperation);
  readonly #pending = new Map<ServiceRecord, NodeJS.Immediate>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #deregistrations = new Map<string, () => void>();
  readonly #steadyWaiters = new Set<() => void>();
  readonly #unsubscribe: () => void;
  /** RunTask's tasks, their stdout in `logs` (mount it on the endpoint next to this service). */
  readonly #oneOff: OneOffTasks;
  readonly logs: LocalCloudWatchLogs;
  /** RunTask's clientToken per cluster → the task it started. */
  readonly #clientTokens = new Map<string, string>();
  #closed = false;

  constructor(options: LocalEcsOptions) {
    this.#elbv2 = options.elbv2;
    this.#artifacts = options.artifacts;
    this.#runner = options.runner;
    this.#now = options.now ?? (() => new Date());
    this.#state = new EcsState(
      options.region ?? 'us-east-1',
      options.accountId ?? '000000000000',
      this.#now,
    );
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 2_000;
    this.#restartDelayMs = options.restartDelayMs ?? 250;
    this.#failedTasksLimit = options.failedTasksLimit ?? 3;
    this.logs = new LocalCloudWatchLogs({ now: this.#now });
    this.#oneOff = new OneOffTasks({ artifacts: this.#artifacts, logs: this.logs, now: this.#now });
    this.#unsubscribe = this.#elbv2.onChange((change) => {
      if (change.type === 'deregistered') {
        const key = registrationKey(change.targetGroupArn, change.target);
        this.#deregistrations.get(key)?.();
        this.#deregistrations.delete(key);
      }
      if (change.type === 'health' || change.type === 'deregistered') {
        for (const service of this.#state.allServices()) {
          if (service.loadBalancers.some((lb) => lb.targetGroupArn === change.targetGroupArn)) {
            this.#schedule(service);
          }
        }
      }
    });
  }

  // ---- seeding and inspection ----------------------------------------------------------------

  createCluster(name: string): { clusterArn: string } {
    return { clusterArn: this.#state.createCluster(name).arn };
  }

  registerTaskDefinition(input: RegisterTaskDefinitionInput): { taskDefinitionArn: string } {
    const { family, tags, ...body } = input;
    const registration = readRegistration({ family, ...body, tags: tags ?? [] });
    return { taskDefinitionArn: this.#state.register(registration).arn };
  }

  createService(input: CreateServiceInput): { serviceArn: string } {
    const cluster = this.#state.requireCluster(input.cluster);
    if (cluster.services.has(input.serviceName)) {
      throw new Error(`Service ${input.serviceName} already exists in cluster ${cluster.name}`);
    }
    const definition = this.#state.requireTaskDefinition(input.taskDefinition, 'ClientException');
    const now = this.#now();
    const service: ServiceRecord = {
      arn: `${this.#state.arnPrefix()}service/${cluster.name}/${input.serviceName}`,
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
    service.deployments.push(this.#state.newDeployment(definition.arn, input.desiredCount));
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
      const service = this.#state.requireService(this.#state.requireCluster(cluster), serviceName);
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
    const c = this.#state.requireCluster(cluster);
    const service = this.#state.requireService(c, serviceName);
    const tasks = this.#state.tasksOf(service);
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
    this.#lost.lose(operation, times);
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
    for (const service of this.#state.allServices()) {
      for (const task of this.#state.tasksOf(service)) {
        if (task.process) stops.push(task.process.stop(200));
      }
    }
    await Promise.all(stops);
    await this.#oneOff.close();
    await this.#runner.close();
  }

  // ---- wire protocol -------------------------------------------------------------------------

  async handle(request: LocalRequest): Promise<LocalResponse | undefined> {
    const operation = targetOperation(request, targetPrefix);
    if (operation === undefined) return undefined;
    try {
      const input = parseInput(request);
      const result = this.#dispatch(operation, input);
      if (this.#lost.take(operation)) {
        return ecsError(ecsFault('ServerException', lostResponseMessage, 500));
      }
      return awsJsonResult(result, jsonContentType);
    } catch (error) {
      if (error instanceof AwsFault) return ecsError(error);
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
      case 'RunTask':
        return this.#runTask(input);
      case 'StopTask':
        return this.#stopTask(input);
      default:
        throw ecsFault('InvalidAction', `The local ECS does not serve ${operation}`);
    }
  }

  #describeServices(input: Dict): Dict {
    const cluster = this.#state.requireCluster(optionalString(input.cluster) ?? 'default');
    const names = readServiceNames(input);
    const services: Dict[] = [];
    const failures: Dict[] = [];
    for (const name of names) {
      const service = cluster.services.get(serviceNameOf(name));
      if (service) services.push(this.#renderService(service));
      else {
        failures.push({
          arn: name.startsWith('arn:')
            ? name
            : `${this.#state.arnPrefix()}service/${cluster.name}/${name}`,
          reason: 'MISSING',
        });
      }
    }
    return { services, failures };
  }

  #updateService(input: Dict): Dict {
    const cluster = this.#state.requireCluster(optionalString(input.cluster) ?? 'default');
    const service = this.#state.requireService(cluster, requireString(input, 'service'));
    const desiredCount = readDesiredCount(input);
    const taskDefinition = optionalString(input.taskDefinition);
    const definition =
      taskDefinition === undefined
        ? undefined
        : this.#state.requireTaskDefinition(taskDefinition, 'ClientException');
    if (definition?.status === 'INACTIVE') {
      throw clientException('TaskDefinition is inactive');
    }
    if (desiredCount !== undefined) service.desiredCount = desiredCount;
    const primary = service.deployments[0] as DeploymentRecord;
    const changesCode = definition !== undefined && definition.arn !== service.taskDefinitionArn;
    if (changesCode || input.forceNewDeployment === true) {
      service.taskDefinitionArn = definition?.arn ?? service.taskDefinitionArn;
      primary.status = 'ACTIVE';
      primary.updatedAt = this.#now();
      service.deployments.unshift(
        this.#state.newDeployment(service.taskDefinitionArn, service.desiredCount),
      );
      service.steady = false;
    } else if (primary.desiredCount !== service.desiredCount) {
      primary.desiredCount = service.desiredCount;
      primary.updatedAt = this.#now();
      if (primary.rolloutState === 'COMPLETED') primary.rolloutState = 'IN_PROGRESS';
      service.steady = false;
    }
    this.#schedule(service);
    return { service: this.#renderService(service) };
  }

  #describeTaskDefinition(input: Dict): Dict {
    const definition = this.#state.requireTaskDefinition(
      requireString(input, 'taskDefinition'),
      'ClientException',
      'Unable to describe task definition.',
    );
    const result: Dict = { taskDefinition: renderTaskDefinition(definition) };
    if (stringList(input.include).includes('TAGS')) result.tags = definition.tags;
    return result;
  }

  #registerTaskDefinition(input: Dict): Dict {
    const definition = this.#state.register(readRegistration(input));
    return { taskDefinition: renderTaskDefinition(definition), tags: definition.tags };
  }

  #listTaskDefinitions(input: Dict): Dict {
    const query = readTaskDefinitionQuery(input);
    const page = pageAt(this.#state.taskDefinitions(query), query.start, query.maxResults);
    const result: Dict = { taskDefinitionArns: page.items.map((d) => d.arn) };
    if (page.next !== undefined) result.nextToken = encodeIndexToken(page.next);
    return result;
  }

  #listTasks(input: Dict): Dict {
    const cluster = this.#state.requireCluster(optionalString(input.cluster) ?? 'default');
    const serviceName = optionalString(input.serviceName);
    if (serviceName !== undefined) this.#state.requireService(cluster, serviceName);
    const desired = optionalString(input.desiredStatus) ?? 'RUNNING';
    const family = optionalString(input.family);
    const tasks = [...cluster.tasks.values()]
      .filter((t) => serviceName === undefined || t.serviceName === serviceNameOf(serviceName))
      .filter((t) => t.desiredStatus === desired)
      .filter((t) => family === undefined || t.taskDefinitionArn.includes(`/${family}:`));
    return { taskArns: tasks.map((t) => t.arn) };
  }

  #describeTasks(input: Dict): Dict {
    const cluster = this.#state.requireCluster(optionalString(input.cluster) ?? 'default');
    const ids = readTaskIds(input);
    const tasks: Dict[] = [];
    const failures: Dict[] = [];
    for (const id of ids) {
      const task = cluster.tasks.get(id.split('/').at(-1) ?? id);
      if (task) tasks.push(this.#renderTask(cluster, task));
      else failures.push({ arn: id, reason: 'MISSING' });
    }
    return { tasks, failures };
  }

  /**
   * A one-off Fargate task (Amazon ECS API Reference, RunTask): awsvpc subnets required, the
   * container's environment overridden, and a clientToken seen before in this cluster answers
   * the task it started ("Ensuring idempotency", Idempotency for RunTask).
   */
  #runTask(input: Dict): Dict {
    const cluster = this.#state.requireCluster(optionalString(input.cluster) ?? 'default');
    const definition = this.#state.requireTaskDefinition(
      requireString(input, 'taskDefinition'),
      'ClientException',
      'TaskDefinition not found.',
    );
    const token = optionalString(input.clientToken);
    const earlier =
      token === undefined ? undefined : this.#clientTokens.get(`${cluster.name}|${token}`);
    const seen = earlier === undefined ? undefined : cluster.tasks.get(earlier);
    if (seen) return { tasks: [this.#renderTask(cluster, seen)], failures: [] };
    const network = (input.networkConfiguration as Dict | undefined)?.awsvpcConfiguration as
      | Dict
      | undefined;
    if (stringList(network?.subnets).length === 0) {
      throw ecsFault(
        'InvalidParameterException',
        "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
      );
    }
    const containers = (definition.body.containerDefinitions ?? []) as Dict[];
    const container = containers.find((c) => c.essential !== false) ?? containers[0] ?? {};
    const overrides = (
      ((input.overrides as Dict | undefined)?.containerOverrides ?? []) as Dict[]
    ).find((o) => o.name === container.name);
    const id = this.#state.newId(`task/${cluster.name}`);
    const task: TaskRecord = {
      arn: `${this.#state.arnPrefix()}task/${cluster.name}/${id}`,
      id,
      serviceName: '',
      group: `family:${definition.family}`,
      deploymentId: optionalString(input.startedBy) ?? '',
      taskDefinitionArn: definition.arn,
      containerName: String(container.name ?? ''),
      image: String(container.image ?? ''),
      containerPort: 0,
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      createdAt: this.#now(),
    };
    cluster.tasks.set(id, task);
    if (token !== undefined) this.#clientTokens.set(`${cluster.name}|${token}`, id);
    void this.#oneOff.run({
      task,
      container,
      overrideEnvironment: (overrides?.environment ?? []) as Dict[],
    });
    return { tasks: [this.#renderTask(cluster, task)], failures: [] };
  }

  /** Stops a task RunTask started: SIGTERM, then SIGKILL after the stop timeout. */
  #stopTask(input: Dict): Dict {
    const cluster = this.#state.requireCluster(optionalString(input.cluster) ?? 'default');
    const ref = requireString(input, 'task');
    const task = cluster.tasks.get(ref.split('/').at(-1) ?? ref);
    if (!task) throw ecsFault('InvalidParameterException', 'The referenced task was not found.');
    if (task.serviceName !== '') {
      throw ecsFault('InvalidParameterException', 'The local ECS stops one-off tasks only.');
    }
    if (task.desiredStatus === 'RUNNING') {
      task.desiredStatus = 'STOPPED';
      task.stoppingAt = this.#now();
      task.stoppedReason = optionalString(input.reason) ?? 'Task stopped by user';
      void task.process?.stop(this.#stopTimeoutMs);
    }
    return { task: this.#renderTask(cluster, task) };
  }

  #renderService(service: ServiceRecord): Dict {
    return renderService(service, this.#state.tasksOf(service));
  }

  #renderTask(cluster: ClusterRecord, task: TaskRecord): Dict {
    // The container ARN takes a fresh id on each render, as before the split: ids are sequential.
    const containerArn = `${this.#state.arnPrefix()}container/${cluster.name}/${task.id}/${this.#state.newId('container').slice(0, 36)}`;
    return renderTask(cluster, task, containerArn);
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
    const tasks = this.#state.tasksOf(service).filter((t) => t.desiredStatus === 'RUNNING');
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

    const everyTask = this.#state.tasksOf(service).filter((t) => t.lastStatus !== 'STOPPED');
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
    const definition = this.#state.requireTaskDefinition(
      deployment.taskDefinitionArn,
      'ClientException',
    );
    const containers = (definition.body.containerDefinitions ?? []) as Dict[];
    const wanted = service.loadBalancers[0]?.containerName;
    const container =
      containers.find((c) => c.name === wanted) ??
      containers.find((c) => c.essential !== false) ??
      containers[0] ??
      {};
    const id = this.#state.newId(`task/${service.cluster.name}`);
    const task: TaskRecord = {
      arn: `${this.#state.arnPrefix()}task/${service.cluster.name}/${id}`,
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

  #event(service: ServiceRecord, message: string): void {
    service.events.unshift({
      id: this.#state.newId('event').slice(0, 36),
      createdAt: this.#now(),
      message,
    });
    service.events.length = Math.min(service.events.length, maxEvents);
  }
}

function firstContainerPort(container: Dict): number {
  const mappings = (container.portMappings ?? []) as Dict[];
  return Number(mappings[0]?.containerPort ?? 80);
}

function registrationKey(targetGroupArn: string, target: TargetRef): string {
  return `${targetGroupArn}|${target.id}:${target.port}`;
}
