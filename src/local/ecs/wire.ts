import type { AwsFault } from '../aws-protocol/fault.ts';
import { awsJson11, awsJsonFault, epochSeconds, parseJsonObject } from '../aws-protocol/json.ts';
import type { LocalRequest, LocalResponse } from '../http.ts';
import { ecsFault } from './faults.ts';
import type {
  ClusterRecord,
  Dict,
  ServiceRecord,
  TaskDefinitionRecord,
  TaskRecord,
  TaskStatus,
} from './types.ts';

/**
 * ECS's AWS JSON 1.1 wire codec: the operation a request names, its input, and the documents
 * ECS answers with (timestamps as epoch seconds). No rules and no state here.
 */
export const targetPrefix = 'AmazonEC2ContainerServiceV20141113';
export const jsonContentType = awsJson11;
export const localIp = '127.0.0.1';

export function parseInput(request: LocalRequest): Dict {
  return parseJsonObject(
    request,
    (message) => ecsFault('SerializationException', message),
    'The request body is not a JSON object.',
  );
}

export function ecsError(fault: AwsFault): LocalResponse {
  return awsJsonFault(fault, jsonContentType);
}

export function renderTaskDefinition(definition: TaskDefinitionRecord): Dict {
  return {
    ...definition.body,
    taskDefinitionArn: definition.arn,
    family: definition.family,
    revision: definition.revision,
    status: definition.status,
    compatibilities: ['EC2', 'FARGATE'],
    requiresAttributes: [],
    registeredAt: epochSeconds(definition.registeredAt),
    registeredBy: 'arn:aws:iam::000000000000:role/greenlight-local',
  };
}

/** A Service as DescribeServices and UpdateService answer it; `tasks` are the service's. */
export function renderService(service: ServiceRecord, tasks: readonly TaskRecord[]): Dict {
  const count = (deploymentId: string | undefined, status: TaskStatus) =>
    tasks.filter(
      (t) =>
        (deploymentId === undefined || t.deploymentId === deploymentId) && t.lastStatus === status,
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
      createdAt: epochSeconds(d.createdAt),
      updatedAt: epochSeconds(d.updatedAt),
      launchType: 'FARGATE',
      rolloutState: d.rolloutState,
      rolloutStateReason: d.rolloutStateReason,
    })),
    events: service.events.map((e) => ({ ...e, createdAt: epochSeconds(e.createdAt) })),
    createdAt: epochSeconds(service.createdAt),
    schedulingStrategy: 'REPLICA',
    deploymentController: { type: 'ECS' },
    healthCheckGracePeriodSeconds: 0,
  };
}

/** A Task as DescribeTasks answers it, its one container at `containerArn`. */
export function renderTask(cluster: ClusterRecord, task: TaskRecord, containerArn: string): Dict {
  const container: Dict = {
    containerArn,
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
    group: task.group ?? `service:${task.serviceName}`,
    startedBy: task.deploymentId,
    launchType: 'FARGATE',
    createdAt: epochSeconds(task.createdAt),
    healthStatus: 'UNKNOWN',
    containers: [container],
  };
  if (task.startedAt) shape.startedAt = epochSeconds(task.startedAt);
  if (task.stoppingAt) shape.stoppingAt = epochSeconds(task.stoppingAt);
  if (task.stoppedAt) shape.stoppedAt = epochSeconds(task.stoppedAt);
  if (task.stoppedReason) shape.stoppedReason = task.stoppedReason;
  if (task.stopCode) shape.stopCode = task.stopCode;
  return shape;
}
