import { startLocalDynamo } from './dynamo.ts';
import { startEndpoint } from './endpoint.ts';
import { LocalEventBridge } from './event-bus.ts';
import type { LocalService } from './http.ts';
import { LocalStepFunctions, type LocalStepFunctionsOptions } from './step-functions.ts';
import { LocalSts } from './sts-standin.ts';

export interface LocalCloudOptions {
  /** @default 0 (any free port) */
  port?: number;
  /** Extra simulators (Lambda, CloudWatch, ...), asked before the built-in services. */
  services?: LocalService[];
  /** @default 'us-east-1' */
  region?: string;
  /** @default '000000000000' */
  accountId?: string;
  now?: () => Date;
  waitOverrideMs?: LocalStepFunctionsOptions['waitOverrideMs'];
  retryIntervalOverrideMs?: number;
  /** Access key id → principal ARN for STS GetCallerIdentity; other keys are IAM users. */
  principals?: Record<string, string>;
}

export interface LocalCloud {
  /** `http://127.0.0.1:PORT`: the one endpoint for every SDK client and the AWS CLI. */
  url: string;
  port: number;
  stepFunctions: LocalStepFunctions;
  eventBridge: LocalEventBridge;
  /** Who each access key is (GetCallerIdentity): `sts.mapAccessKey(key, arn)`. */
  sts: LocalSts;
  /** dynalite's own URL; the shared `url` serves DynamoDB too. */
  dynamoEndpoint: string;
  close(): Promise<void>;
}

/** Starts Step Functions, EventBridge, STS and DynamoDB (plus any extra services) on one endpoint. */
export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const stepFunctions = new LocalStepFunctions({
    region,
    accountId,
    ...(options.now ? { now: options.now } : {}),
    ...(options.waitOverrideMs ? { waitOverrideMs: options.waitOverrideMs } : {}),
    ...(options.retryIntervalOverrideMs === undefined
      ? {}
      : { retryIntervalOverrideMs: options.retryIntervalOverrideMs }),
  });
  const eventBridge = new LocalEventBridge({
    region,
    accountId,
    ...(options.now ? { now: options.now } : {}),
  });
  const sts = new LocalSts({
    accountId,
    ...(options.principals ? { principals: options.principals } : {}),
  });
  const dynamo = await startLocalDynamo();
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
  try {
    endpoint = await startEndpoint(
      [...(options.services ?? []), stepFunctions, eventBridge, sts, dynamo.service],
      options.port ?? 0,
    );
  } catch (error) {
    await dynamo.close();
    throw error;
  }
  return {
    url: endpoint.url,
    port: endpoint.port,
    stepFunctions,
    eventBridge,
    sts,
    dynamoEndpoint: dynamo.endpoint,
    close: async () => {
      // Executions first: their handlers may still be talking to the endpoint and DynamoDB.
      await stepFunctions.close();
      await endpoint.close();
      await dynamo.close();
    },
  };
}
