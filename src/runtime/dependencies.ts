import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CloudWatchAlarmReader } from '../aws/cloudwatch-alarms.ts';
import { CloudWatchMetricReader } from '../aws/cloudwatch-metrics.ts';
import { DynamoBakeStore } from '../aws/dynamo-bakes.ts';
import { DynamoReleaseLedger } from '../aws/dynamo-ledger.ts';
import { DynamoServiceLock } from '../aws/dynamo-lock.ts';
import { EventBridgeLifecycleEvents } from '../aws/eventbridge-events.ts';
import { SfnTaskCallbacks } from '../aws/sfn-callbacks.ts';
import type {
  AlarmReader,
  BakeStore,
  LifecycleEvents,
  MetricReader,
  ReleaseLedger,
  ServiceLock,
  TaskCallbacks,
  TrafficTarget,
} from '../core/ports.ts';
import type { ServiceConfig } from '../core/service-config.ts';
import { AlbListenerTarget } from '../targets/alb-listener.ts';
import { LambdaAliasTarget } from '../targets/lambda-alias.ts';
import { parseRuntimeConfig, type RuntimeConfig } from './config.ts';

/** The ports a step works through. Tests and the local cloud build their own. */
export interface StepDependencies {
  config: RuntimeConfig;
  ledger: ReleaseLedger;
  lock: ServiceLock;
  events: LifecycleEvents;
  alarms: AlarmReader;
  metrics: MetricReader;
  bakes: BakeStore;
  callbacks: TaskCallbacks;
  targetFor(service: ServiceConfig): TrafficTarget;
  dynamo: DynamoDBClient;
  now(): Date;
}

/**
 * Builds the production dependencies from the environment. SDK clients take region,
 * credentials and endpoint (AWS_ENDPOINT_URL, which is how the local cloud plugs in) from the
 * standard configuration chain.
 */
export function createDependencies(
  env: Record<string, string | undefined> = process.env,
): StepDependencies {
  const config = parseRuntimeConfig(env);
  const dynamo = new DynamoDBClient({});
  const documents = DynamoDBDocumentClient.from(dynamo, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const lambdaAlias = new LambdaAliasTarget({ client: new LambdaClient({}) });
  const cloudwatch = new CloudWatchClient({});
  // Made on first use: a stage with Lambda services only never builds the ELBv2 and ECS clients.
  let albListener: AlbListenerTarget | undefined;
  return {
    config,
    ledger: new DynamoReleaseLedger({ client: documents, tableName: config.ledgerTable }),
    lock: new DynamoServiceLock({ client: documents, tableName: config.ledgerTable }),
    events: new EventBridgeLifecycleEvents({
      client: new EventBridgeClient({}),
      busName: config.busName,
    }),
    alarms: new CloudWatchAlarmReader({ client: cloudwatch }),
    metrics: new CloudWatchMetricReader({ client: cloudwatch }),
    bakes: new DynamoBakeStore({ client: documents, tableName: config.ledgerTable }),
    callbacks: new SfnTaskCallbacks({ client: new SFNClient({}) }),
    targetFor: (service) => {
      switch (service.target.kind) {
        case 'lambda-alias':
          return lambdaAlias;
        case 'alb-listener':
          albListener ??= new AlbListenerTarget({
            elbv2: new ElasticLoadBalancingV2Client({}),
            ecs: new ECSClient({}),
            ecsSingleAttempt: new ECSClient({ maxAttempts: 1 }),
          });
          return albListener;
      }
    },
    dynamo,
    now: () => new Date(),
  };
}

let shared: StepDependencies | undefined;

/** One set per process (per Lambda execution environment), made on first use. */
export function sharedDependencies(): StepDependencies {
  shared ??= createDependencies();
  return shared;
}
