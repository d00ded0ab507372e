import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoApprovalStore } from '../aws/dynamo-approvals.ts';
import { DynamoCommandLog } from '../aws/dynamo-commands.ts';
import { DynamoReleaseLedger } from '../aws/dynamo-ledger.ts';
import { DynamoServiceRegistry } from '../aws/dynamo-registry.ts';
import { SfnTaskCallbacks } from '../aws/sfn-callbacks.ts';
import { StsCallerIdentity } from '../aws/sts-identity.ts';
import { WebApiSlackMessenger } from '../slack/messenger.ts';
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
