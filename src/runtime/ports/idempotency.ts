import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoOf } from '../clients/dynamodb.ts';
import type { Wiring } from '../wiring.ts';

/**
 * The DynamoDB client Powertools' idempotency records go through (createIdempotentStepHandler):
 * the one every other DynamoDB port of the function uses.
 */
export function buildIdempotencyStore(wiring: Wiring): { dynamo: DynamoDBClient } {
  return { dynamo: dynamoOf(wiring) };
}
