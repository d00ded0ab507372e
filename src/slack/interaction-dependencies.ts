import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoApprovalStore, DynamoReplayGuard } from '../aws/dynamo-approvals.ts';
import { DynamoReleaseLedger } from '../aws/dynamo-ledger.ts';
import { DynamoServiceRegistry } from '../aws/dynamo-registry.ts';
import { SfnTaskCallbacks } from '../aws/sfn-callbacks.ts';
import { parseInteractionConfig } from './config.ts';
import type { InteractionDependencies, InteractionLog } from './interactions.ts';
import { WebApiSlackMessenger } from './messenger.ts';

/**
 * Production dependencies of the interactivity endpoint; it needs no bus, lock or targets, and
 * this module imports only the DynamoDB and Step Functions clients it does need.
 */
export function createInteractionDependencies(
  log: InteractionLog,
  env: Record<string, string | undefined> = process.env,
  dynamo: DynamoDBClient = new DynamoDBClient({}),
): InteractionDependencies {
  const config = parseInteractionConfig(env);
  const documents = DynamoDBDocumentClient.from(dynamo, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return {
    signingSecret: config.signingSecret,
    registry: new DynamoServiceRegistry({ client: documents, tableName: config.registryTable }),
    approvals: new DynamoApprovalStore({ client: documents, tableName: config.ledgerTable }),
    ledger: new DynamoReleaseLedger({ client: documents, tableName: config.ledgerTable }),
    replayGuard: new DynamoReplayGuard({ client: documents, tableName: config.ledgerTable }),
    callbacks: new SfnTaskCallbacks({ client: new SFNClient({}) }),
    slack: new WebApiSlackMessenger({
      token: config.botToken,
      ...(config.slackApiUrl === undefined ? {} : { slackApiUrl: config.slackApiUrl }),
    }),
    now: () => new Date(),
    log,
  };
}
