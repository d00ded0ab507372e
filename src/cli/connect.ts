import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CloudWatchAlarmReader } from '../aws/cloudwatch-alarms.ts';
import { CloudWatchMetricReader } from '../aws/cloudwatch-metrics.ts';
import { DynamoApprovalStore } from '../aws/dynamo-approvals.ts';
import { DynamoCommandLog } from '../aws/dynamo-commands.ts';
import { DynamoReleaseLedger } from '../aws/dynamo-ledger.ts';
import { DynamoServiceRegistry } from '../aws/dynamo-registry.ts';
import { S3EcrArtifactProbe } from '../aws/s3-ecr-artifacts.ts';
import { SfnTaskCallbacks } from '../aws/sfn-callbacks.ts';
import { StsCallerIdentity } from '../aws/sts-identity.ts';
import type { PlanPorts } from '../core/plan.ts';
import { SlackChannelProbe } from '../slack/channel-probe.ts';
import { WebApiSlackMessenger } from '../slack/messenger.ts';
import { AlbIdleColours } from '../targets/alb-idle.ts';
import { AlbListenerTarget } from '../targets/alb-listener.ts';
import { LambdaAliasTarget } from '../targets/lambda-alias.ts';
import { LambdaIdleColours } from '../targets/lambda-idle.ts';
import { type Env, nonEmpty, type SharedOptions } from './options.ts';
import { putEventsWith } from './release-command.ts';

/** The registry table `approve` and `reject` read approvers from, as the ledger's default. */
export const defaultRegistryTable = 'greenlight-registry';

/** The only place real AWS clients are made; without flags the SDK's own chain decides. */
export function connect(
  options: SharedOptions & { registryTable?: string },
  env: Env = process.env,
) {
  const config = {
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.endpointUrl === undefined ? {} : { endpoint: options.endpointUrl }),
  };
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient(config), {
    marshallOptions: { removeUndefinedValues: true },
  });
  const tableName = options.ledgerTable;
  const slackToken = nonEmpty(env.SLACK_BOT_TOKEN);
  const slackApiUrl = nonEmpty(env.SLACK_API_URL);
  return {
    ledger: new DynamoReleaseLedger({ client: documents, tableName }),
    putEvents: putEventsWith(new EventBridgeClient(config)),
    commands: new DynamoCommandLog({ client: documents, tableName }),
    approvals: new DynamoApprovalStore({ client: documents, tableName }),
    callbacks: new SfnTaskCallbacks({ client: new SFNClient(config) }),
    // Who the credentials belong to: asked once per command, recorded with what it sends.
    identity: new StsCallerIdentity({ client: new STSClient(config) }),
    registry: new DynamoServiceRegistry({
      client: documents,
      tableName: options.registryTable ?? defaultRegistryTable,
    }),
    ...(slackToken === undefined
      ? {}
      : {
          slack: new WebApiSlackMessenger({
            token: slackToken,
            ...(slackApiUrl === undefined ? {} : { slackApiUrl }),
          }),
        }),
  };
}

/**
 * The read-only clients `greenlight plan` looks at a service's target and gates with. Separate
 * from connect() so that other commands make no Lambda, ELB, ECS or CloudWatch client.
 */
export function connectPlan(
  options: SharedOptions & { registryTable?: string },
  env: Env = process.env,
  now: () => number = Date.now,
): PlanPorts {
  const config = {
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.endpointUrl === undefined ? {} : { endpoint: options.endpointUrl }),
  };
  const { registry } = connect(options, env);
  const slackToken = nonEmpty(env.SLACK_BOT_TOKEN);
  const slackApiUrl = nonEmpty(env.SLACK_API_URL);
  const lambda = new LambdaClient(config);
  const elbv2 = new ElasticLoadBalancingV2Client(config);
  const ecs = new ECSClient(config);
  const cloudWatch = new CloudWatchClient(config);
  const lambdaTarget = new LambdaAliasTarget({ client: lambda });
  // Plan never provisions, so the single-attempt client RegisterTaskDefinition needs is never used.
  const albTarget = new AlbListenerTarget({ elbv2, ecs, ecsSingleAttempt: ecs });
  const lambdaIdle = new LambdaIdleColours({ client: lambda });
  const albIdle = new AlbIdleColours({ elbv2, ecs, listener: albTarget });
  const ecrByRegion = new Map<string, ECRClient>();
  const artifacts = new S3EcrArtifactProbe({
    s3: new S3Client(config),
    ecrFor: (region) => {
      const client = ecrByRegion.get(region) ?? new ECRClient({ ...config, region });
      ecrByRegion.set(region, client);
      return client;
    },
  });
  return {
    registry,
    inspectorFor: (service) => (service.target.kind === 'lambda-alias' ? lambdaTarget : albTarget),
    idleCost: (service, colour) =>
      (service.target.kind === 'lambda-alias' ? lambdaIdle : albIdle).cost(service, colour),
    alarms: new CloudWatchAlarmReader({ client: cloudWatch }),
    metrics: new CloudWatchMetricReader({ client: cloudWatch }),
    artifacts,
    // Without a bot token the plan says the channels were not checked, rather than guess.
    ...(slackToken === undefined
      ? {}
      : {
          approvalChannel: new SlackChannelProbe(
            new WebApiSlackMessenger({
              token: slackToken,
              ...(slackApiUrl === undefined ? {} : { slackApiUrl }),
            }),
          ),
        }),
    now: new Date(now()),
  };
}
