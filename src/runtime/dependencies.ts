import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type {
  AlarmReader,
  BakeStore,
  LifecycleEvents,
  MetricReader,
  ReleaseLedger,
  ServiceLock,
  TaskCallbacks,
  TrafficRouter,
  TrafficTarget,
} from '../core/ports.ts';
import type { ServiceRegistryReader } from '../core/registry.ts';
import type { ServiceConfig } from '../core/service-config.ts';
import type { RuntimeConfig } from './config.ts';
import { buildAlarmReader } from './ports/alarms.ts';
import { buildBakes } from './ports/bakes.ts';
import { buildIdempotencyStore } from './ports/idempotency.ts';
import { buildLedger } from './ports/ledger.ts';
import { buildLifecycleEvents } from './ports/lifecycle-events.ts';
import { buildLock } from './ports/lock.ts';
import { buildMetricReader } from './ports/metrics.ts';
import { buildRegistry } from './ports/registry.ts';
import { buildTaskCallbacks } from './ports/task-callbacks.ts';
import { buildTrafficTarget } from './ports/traffic-target.ts';
import { composeDependencies, type Environment } from './wiring.ts';

/**
 * Every port a workflow step may work through. Each step names the ones it uses
 * (`Step<I, O, Pick<StepDependencies, ...>>`) and its entry point in functions/ builds just
 * those from src/runtime/ports/. Tests and the local cloud build their own.
 */
export interface StepDependencies {
  config: RuntimeConfig;
  registry: ServiceRegistryReader;
  ledger: ReleaseLedger;
  lock: ServiceLock;
  events: LifecycleEvents;
  alarms: AlarmReader;
  metrics: MetricReader;
  bakes: BakeStore;
  callbacks: TaskCallbacks;
  targetFor(service: ServiceConfig): TrafficTarget;
  /** Powertools' idempotency records go through it (createIdempotentStepHandler). */
  dynamo: DynamoDBClient;
  now(): Date;
}

/**
 * `targetFor` as the steps after provisioning use it: test green and move traffic. Built
 * without what only provisioning needs (ECS for an ALB service): src/runtime/ports/traffic-router.ts.
 */
export interface TrafficRouting {
  targetFor(service: ServiceConfig): TrafficRouter;
}

/** The factories of every StepDependencies port, for functions that build them all. */
export const stepPorts = [
  buildRegistry,
  buildLedger,
  buildLock,
  buildLifecycleEvents,
  buildAlarmReader,
  buildMetricReader,
  buildBakes,
  buildTaskCallbacks,
  buildTrafficTarget,
  buildIdempotencyStore,
] as const;

/**
 * All the step ports, built from the environment, for tests and the local cloud. A function
 * builds only those its step names (functions/*.ts).
 */
export function createDependencies(env: Environment = process.env): StepDependencies {
  return composeDependencies(env, ...stepPorts);
}
