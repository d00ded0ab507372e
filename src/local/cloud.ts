import { startLocalDynamo } from './dynamo.ts';
import { startEndpoint } from './endpoint.ts';
import { LocalEventBridge } from './event-bus.ts';
import type { LocalService } from './http.ts';
import { LocalStepFunctions, type LocalStepFunctionsOptions } from './step-functions.ts';

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
}

export interface LocalCloud {
  /** `http://127.0.0.1:PORT`: the one endpoint for every SDK client and the AWS CLI. */
  url: string;
  port: number;
  stepFunctions: LocalStepFunctions;
  eventBridge: LocalEventBridge;
  /** dynalite's own URL; the shared `url` serves DynamoDB too. */
  dynamoEndpoint: string;
  close(): Promise<void>;
}

/** Starts Step Functions, EventBridge and DynamoDB (plus any extra services) on one endpoint. */
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
  const dynamo = await startLocalDynamo();
  let endpoint: Awaited<ReturnType<typeof startEndpoint>>;
  try {
    endpoint = await startEndpoint(
      [...(options.services ?? []), stepFunctions, eventBridge, dynamo.service],
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
    dynamoEndpoint: dynamo.endpoint,
    close: async () => {
      // Executions first: their handlers may still be talking to the endpoint and DynamoDB.
      await stepFunctions.close();
      await endpoint.close();
      await dynamo.close();
    },
  };
}
