import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Wiring } from '../wiring.ts';

const makeDynamo = () => new DynamoDBClient({});

// Records have optional fields: undefined ones are left out of the item.
const makeDocuments = (wiring: Wiring) =>
  DynamoDBDocumentClient.from(dynamoOf(wiring), {
    marshallOptions: { removeUndefinedValues: true },
  });

/** The DynamoDB client every request of one wiring goes through, Powertools' included. */
export function dynamoOf(wiring: Wiring): DynamoDBClient {
  return wiring.shared(makeDynamo);
}

/** The document client over `dynamoOf(wiring)`, which the ledger-table adapters take. */
export function documentsOf(wiring: Wiring): DynamoDBDocumentClient {
  return wiring.shared(makeDocuments);
}
