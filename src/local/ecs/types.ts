import type { LocalArtifactStore } from '../artifact-store.ts';
import type { TaskProcess, TaskRunner } from '../data-plane/task-runner.ts';
import type { LocalElbv2 } from '../elbv2/simulator.ts';
import type { TargetRef } from '../elbv2/types.ts';

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
    /** awslogs: where RunTask's tasks write their stdout (the local CloudWatch Logs). */
    logConfiguration?: { logDriver: string; options?: Record<string, string> };
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

export type Dict = Record<string, unknown>;

export interface TaskDefinitionRecord {
  arn: string;
  family: string;
  revision: number;
  status: 'ACTIVE' | 'INACTIVE';
  /** The registered fields other than family and tags, as given. */
  body: Dict;
  tags: { key: string; value: string }[];
  registeredAt: Date;
}

export type DeploymentStatus = 'PRIMARY' | 'ACTIVE';
export type RolloutState = 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';

export interface DeploymentRecord {
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

export type TaskStatus = 'PROVISIONING' | 'RUNNING' | 'DEACTIVATING' | 'STOPPING' | 'STOPPED';

export interface TaskRecord {
  arn: string;
  id: string;
  /** '' for a task RunTask started. */
  serviceName: string;
  /** DescribeTasks' `group`: `service:NAME`, or `family:FAMILY` for a RunTask task. */
  group?: string;
  /** A service task's deployment; RunTask's `startedBy`. */
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

export interface ServiceRecord {
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

export interface ClusterRecord {
  arn: string;
  name: string;
  services: Map<string, ServiceRecord>;
  tasks: Map<string, TaskRecord>;
}
