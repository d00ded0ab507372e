import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { createInteractionDependencies } from '../src/slack/interaction-dependencies.ts';
import {
  handleSlackInteraction,
  type InteractionDependencies,
  type InteractionResponse,
} from '../src/slack/interactions.ts';

export const logger = new Logger({ serviceName: 'greenlight' });

/**
 * The Slack interactivity endpoint (a Lambda function URL): hands the raw body and headers to
 * handleSlackInteraction. `logEvent: false` whatever POWERTOOLS_LOGGER_LOG_EVENT says: the
 * event holds the signature and the payload, which belong in no log.
 */
export function createSlackInteractionsHandler(dependencies: () => InteractionDependencies) {
  return middy(async (event: LambdaFunctionURLEvent): Promise<InteractionResponse> => {
    const body = event.body ?? '';
    const rawBody = event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(event.headers ?? {})) {
      headers[name.toLowerCase()] = value;
    }
    return handleSlackInteraction({ headers, rawBody }, dependencies());
  }).use(injectLambdaContext(logger, { logEvent: false, resetKeys: true }));
}

let shared: InteractionDependencies | undefined;

export const handler = createSlackInteractionsHandler(() => {
  shared ??= createInteractionDependencies(logger);
  return shared;
});
