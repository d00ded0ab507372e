import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoApprovalStore } from '../aws/dynamo-approvals.ts';
import { DynamoCommandLog } from '../aws/dynamo-commands.ts';
import { EventBridgeReleaseRequests } from '../aws/eventbridge-events.ts';
import type { OperatorDependencies } from '../steps/operator-command.ts';
import { createDependencies } from './dependencies.ts';

/** Production dependencies of the operator function: the steps' own, plus approvals and commands. */
export function createOperatorDependencies(
  env: Record<string, string | undefined> = process.env,
): OperatorDependencies {
  const base = createDependencies(env);
  const documents = DynamoDBDocumentClient.from(base.dynamo, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const tableName = base.config.ledgerTable;
  return {
    ...base,
    approvals: new DynamoApprovalStore({ client: documents, tableName }),
    commands: new DynamoCommandLog({ client: documents, tableName }),
    requests: new EventBridgeReleaseRequests({
      client: new EventBridgeClient({}),
      busName: base.config.busName,
    }),
  };
}

let shared: OperatorDependencies | undefined;

/** One set per process (per Lambda execution environment), made on first use. */
export function sharedOperatorDependencies(): OperatorDependencies {
  shared ??= createOperatorDependencies();
  return shared;
}
