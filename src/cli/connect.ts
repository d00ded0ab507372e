import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoApprovalStore } from '../aws/dynamo-approvals.ts';
import { DynamoCommandLog } from '../aws/dynamo-commands.ts';
import { DynamoReleaseLedger } from '../aws/dynamo-ledger.ts';
import { SfnTaskCallbacks } from '../aws/sfn-callbacks.ts';
import { WebApiSlackMessenger } from '../slack/messenger.ts';
import { type Env, nonEmpty, type SharedOptions } from './options.ts';
import { putEventsWith } from './release-command.ts';

/** The only place real AWS clients are made; without flags the SDK's own chain decides. */
export function connect(options: SharedOptions, env: Env = process.env) {
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
