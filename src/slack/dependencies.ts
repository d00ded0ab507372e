import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoApprovalStore, DynamoReplayGuard } from '../aws/dynamo-approvals.ts';
import { DynamoReleaseLedger } from '../aws/dynamo-ledger.ts';
import { SfnTaskCallbacks } from '../aws/sfn-callbacks.ts';
import { createDependencies, type StepDependencies } from '../runtime/dependencies.ts';
import type { Step } from '../runtime/step-handler.ts';
import { parseInteractionConfig, parseSlackConfig } from './config.ts';
import type { InteractionDependencies, InteractionLog } from './interactions.ts';
import { type SlackMessenger, WebApiSlackMessenger } from './messenger.ts';
import type { RenewableApprovalStore, ReportingTaskCallbacks } from './ports.ts';

/** What the request-approval and approval-timeout steps work through. */
export interface ApprovalStepDependencies extends StepDependencies {
  approvals: RenewableApprovalStore;
  slack: SlackMessenger;
  callbacks: ReportingTaskCallbacks;
}

const documentOptions = { marshallOptions: { removeUndefinedValues: true } };

/** Production dependencies of the approval steps: the step ones plus approvals and Slack. */
export function createApprovalStepDependencies(
  env: Record<string, string | undefined> = process.env,
): ApprovalStepDependencies {
  const base = createDependencies(env);
  const slack = parseSlackConfig(env);
  return {
    ...base,
    approvals: new DynamoApprovalStore({
      client: DynamoDBDocumentClient.from(base.dynamo, documentOptions),
      tableName: base.config.ledgerTable,
    }),
    slack: new WebApiSlackMessenger({
      token: slack.botToken,
      ...(slack.slackApiUrl === undefined ? {} : { slackApiUrl: slack.slackApiUrl }),
    }),
    callbacks: new SfnTaskCallbacks({ client: new SFNClient({}) }),
  };
}

let sharedSteps: ApprovalStepDependencies | undefined;

/** One set per process (per Lambda execution environment), made on first use. */
export function sharedApprovalStepDependencies(): ApprovalStepDependencies {
  sharedSteps ??= createApprovalStepDependencies();
  return sharedSteps;
}

/** Production dependencies of the interactivity endpoint; it needs no bus, lock or targets. */
export function createInteractionDependencies(
  log: InteractionLog,
  env: Record<string, string | undefined> = process.env,
  dynamo: DynamoDBClient = new DynamoDBClient({}),
): InteractionDependencies {
  const config = parseInteractionConfig(env);
  const documents = DynamoDBDocumentClient.from(dynamo, documentOptions);
  return {
    signingSecret: config.signingSecret,
    registry: config.registry,
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

/**
 * A workflow step that works through the approval ports. createStepHandler accepts it with
 * `sharedApprovalStepDependencies`: its `run` is declared as a method, so a step asking for
 * more than StepDependencies type-checks as long as the handler is given the richer set.
 * (Proposed: make Step generic in its dependencies.)
 */
export type ApprovalStep<Input, Output> = Step<Input, Output, ApprovalStepDependencies>;
