import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
} from '@aws-sdk/client-ecs';
import {
  type Action,
  DescribeListenersCommand,
  DescribeRulesCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  GetAliasCommand,
  LambdaClient,
  ListVersionsByFunctionCommand,
} from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ApprovalStage } from '../core/records.ts';
import type { ServiceConfigInput } from '../core/service-config.ts';
import type {
  ApprovalSnapshot,
  ConsistencySnapshot,
  ExecutionSnapshot,
  LifecycleEventSnapshot,
  ServiceSnapshot,
} from './consistency.ts';
import { type GreenlightLocal, LocalNames } from './greenlight-local.ts';

type LambdaTarget = Extract<ServiceConfigInput['target'], { kind: 'lambda-alias' }>;
type AlbTarget = Extract<ServiceConfigInput['target'], { kind: 'alb-listener' }>;

/**
 * Reads what the consistency check needs about `services` from a local cloud: the ledger, the
 * lock, and the targets through the same AWS APIs the adapters use (so the read goes through
 * the simulators' public wire protocol, not their internals), plus the executions and
 * lifecycle events that concern those services.
 */
export async function readConsistencySnapshot(
  local: GreenlightLocal,
  services: readonly ServiceConfigInput[],
): Promise<ConsistencySnapshot> {
  const clients = {
    dynamo: DynamoDBDocumentClient.from(new DynamoDBClient(local.clientConfig)),
    lambda: new LambdaClient(local.clientConfig),
    elb: new ElasticLoadBalancingV2Client(local.clientConfig),
    ecs: new ECSClient(local.clientConfig),
  };
  try {
    const names = new Set(services.map((service) => service.name));
    const snapshots: ServiceSnapshot[] = [];
    for (const service of services) snapshots.push(await readService(local, clients, service));
    return {
      services: snapshots,
      executions: readExecutions(local, names),
      events: readEvents(local, names),
    };
  } finally {
    clients.dynamo.destroy();
    clients.lambda.destroy();
    clients.elb.destroy();
    clients.ecs.destroy();
  }
}

interface Clients {
  dynamo: DynamoDBDocumentClient;
  lambda: LambdaClient;
  elb: ElasticLoadBalancingV2Client;
  ecs: ECSClient;
}

async function readService(
  local: GreenlightLocal,
  clients: Clients,
  service: ServiceConfigInput,
): Promise<ServiceSnapshot> {
  const records = await local.ledger.listReleases(service.name, 100);
  const lock = await clients.dynamo.send(
    new GetCommand({
      TableName: LocalNames.ledgerTable,
      Key: { pk: `lock#${service.name}`, sk: 'lock' },
      ConsistentRead: true,
    }),
  );
  const holder = lock.Item?.holder;
  // Waiting releases, as the lock queue keeps them (src/aws/dynamo-release-queue.ts).
  const waiting = await clients.dynamo.send(
    new QueryCommand({
      TableName: LocalNames.ledgerTable,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :entry)',
      ExpressionAttributeValues: { ':pk': `queue#${service.name}`, ':entry': 'entry#' },
      ConsistentRead: true,
    }),
  );
  const queued = (waiting.Items ?? []).map((item) => String(item.releaseId ?? item.sk));
  const target =
    service.target.kind === 'lambda-alias'
      ? await readLambda(clients.lambda, service.target)
      : await readAlb(clients, service.target as AlbTarget);
  const releases = [];
  for (const record of records) {
    releases.push({
      record,
      steps: await local.ledger.listSteps(record.releaseId),
      greens: target.greensOf(record.releaseId),
      approvals: await readApprovals(clients.dynamo, record.releaseId),
    });
  }
  return {
    service: service.name,
    releases,
    traffic: target.traffic,
    colours: target.colours,
    greensAreColours: target.greensAreColours,
    ...(queued.length > 0 ? { queued } : {}),
    ...(typeof holder === 'string' ? { lockHolder: holder } : {}),
  };
}

/** The release's approvals, where src/aws/dynamo-approvals.ts keeps them. */
async function readApprovals(
  dynamo: DynamoDBDocumentClient,
  releaseId: string,
): Promise<ApprovalSnapshot[]> {
  const found: ApprovalSnapshot[] = [];
  for (const stage of Object.values(ApprovalStage)) {
    const { Item } = await dynamo.send(
      new GetCommand({
        TableName: LocalNames.ledgerTable,
        // approvalIdOf (src/steps/request-approval.ts): the release id and the stage.
        Key: { pk: `approval#${releaseId}-${stage}`, sk: 'meta' },
        ConsistentRead: true,
      }),
    );
    if (!Item) continue;
    const text = (key: string) => (typeof Item[key] === 'string' ? { [key]: Item[key] } : {});
    found.push({
      approvalId: String(Item.approvalId),
      stage,
      status: Item.status,
      ...text('decidedBy'),
      ...text('decidedAt'),
      ...text('decidedVia'),
    });
  }
  return found;
}

interface TargetReading {
  greensAreColours: boolean;
  traffic: Record<string, number>;
  colours: string[];
  greensOf: (releaseId: string) => string[];
}

async function readLambda(lambda: LambdaClient, target: LambdaTarget): Promise<TargetReading> {
  const alias = await lambda.send(
    new GetAliasCommand({ FunctionName: target.functionName, Name: target.alias }),
  );
  const weights = alias.RoutingConfig?.AdditionalVersionWeights ?? {};
  const traffic: Record<string, number> = {};
  let rest = 100;
  for (const [version, weight] of Object.entries(weights)) {
    if (weight === 0) continue;
    traffic[version] = percentOf(weight);
    rest -= percentOf(weight);
  }
  if (alias.FunctionVersion && rest > 0) traffic[alias.FunctionVersion] = percentOf(rest / 100);
  const versions: { version: string; description: string }[] = [];
  let marker: string | undefined;
  do {
    const page = await lambda.send(
      new ListVersionsByFunctionCommand({ FunctionName: target.functionName, Marker: marker }),
    );
    for (const v of page.Versions ?? []) {
      if (v.Version && v.Version !== '$LATEST') {
        versions.push({ version: v.Version, description: v.Description ?? '' });
      }
    }
    marker = page.NextMarker;
  } while (marker);
  return {
    greensAreColours: true,
    traffic,
    colours: versions.map((v) => v.version),
    // How provisioning marks the version it publishes (src/targets/lambda-alias.ts).
    greensOf: (releaseId) =>
      versions.filter((v) => v.description === `greenlight ${releaseId}`).map((v) => v.version),
  };
}

async function readAlb(clients: Clients, target: AlbTarget): Promise<TargetReading> {
  let actions: Action[];
  if (target.ruleArn) {
    const rules = await clients.elb.send(new DescribeRulesCommand({ RuleArns: [target.ruleArn] }));
    actions = rules.Rules?.[0]?.Actions ?? [];
  } else {
    const listeners = await clients.elb.send(
      new DescribeListenersCommand({ ListenerArns: [target.listenerArn] }),
    );
    actions = listeners.Listeners?.[0]?.DefaultActions ?? [];
  }
  const slotOf = new Map(
    Object.entries(target.slots).map(([slot, config]) => [config.targetGroupArn, slot]),
  );
  const forward = actions.find((action) => action.Type === 'forward');
  const groups = forward?.ForwardConfig?.TargetGroups ?? [
    ...(forward?.TargetGroupArn ? [{ TargetGroupArn: forward.TargetGroupArn, Weight: 1 }] : []),
  ];
  const total = groups.reduce((sum, group) => sum + (group.Weight ?? 1), 0);
  const traffic: Record<string, number> = {};
  for (const group of groups) {
    const weight = group.Weight ?? 1;
    if (weight === 0 || total === 0) continue;
    const slot = slotOf.get(group.TargetGroupArn ?? '') ?? group.TargetGroupArn ?? '?';
    traffic[slot] = percentOf(weight / total);
  }

  // Revisions of the family tagged with the release that registered them.
  const revisions: { arn: string; releaseId?: string }[] = [];
  let nextToken: string | undefined;
  do {
    const page = await clients.ecs.send(
      new ListTaskDefinitionsCommand({
        familyPrefix: target.taskDefinitionFamily,
        nextToken,
      }),
    );
    for (const arn of page.taskDefinitionArns ?? []) {
      const described = await clients.ecs.send(
        new DescribeTaskDefinitionCommand({ taskDefinition: arn, include: ['TAGS'] }),
      );
      const tag = described.tags?.find((t) => t.key === 'greenlight:release');
      revisions.push({ arn, ...(tag?.value ? { releaseId: tag.value } : {}) });
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return {
    greensAreColours: false,
    traffic,
    colours: Object.keys(target.slots),
    greensOf: (releaseId) => revisions.filter((r) => r.releaseId === releaseId).map((r) => r.arn),
  };
}

/** A weight as a percent, rounded to a hundredth so 0.1 + 0.9 reads 100. */
function percentOf(weight: number): number {
  return Math.round(weight * 10_000) / 100;
}

function readExecutions(
  local: GreenlightLocal,
  services: ReadonlySet<string>,
): ExecutionSnapshot[] {
  const sfn = local.cloud.stepFunctions;
  return sfn
    .listExecutions()
    .filter((execution) => services.has(serviceOfInput(execution.input) ?? ''))
    .map((execution) => ({
      name: execution.name,
      status: execution.status,
      pendingCallbacks: sfn.pendingTasks(execution.executionArn).map((task) => task.stateName),
    }));
}

function readEvents(
  local: GreenlightLocal,
  services: ReadonlySet<string>,
): LifecycleEventSnapshot[] {
  return local.cloud.eventBridge
    .events(LocalNames.bus)
    .filter((event) => event.source === 'greenlight')
    .filter((event) => services.has(String(event.detail.service ?? '')))
    .map((event) => ({
      detailType: event['detail-type'],
      ...(typeof event.detail.releaseId === 'string' ? { releaseId: event.detail.releaseId } : {}),
      ...(typeof event.detail.eventKey === 'string' ? { eventKey: event.detail.eventKey } : {}),
    }));
}

/** The service a Release Requested event (an execution's input) names. */
function serviceOfInput(input: string): string | undefined {
  try {
    const service = (JSON.parse(input) as { detail?: { service?: unknown } }).detail?.service;
    return typeof service === 'string' ? service : undefined;
  } catch {
    return undefined;
  }
}
