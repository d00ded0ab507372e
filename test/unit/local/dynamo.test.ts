import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalDynamo } from '../../../src/local/dynamo.ts';
import { startEndpoint } from '../../../src/local/endpoint.ts';
import { LocalStepFunctions } from '../../../src/local/step-functions.ts';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function clientThroughSharedEndpoint(): Promise<DynamoDBClient> {
  const dynamo = await startLocalDynamo();
  cleanups.push(dynamo.close);
  // Another service ahead of DynamoDB on the endpoint, as in the local cloud.
  const endpoint = await startEndpoint([new LocalStepFunctions(), dynamo.service]);
  cleanups.push(endpoint.close);
  const client = new DynamoDBClient({
    endpoint: endpoint.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'any', secretAccessKey: 'any' },
  });
  cleanups.push(async () => client.destroy());
  return client;
}

async function createLocksTable(client: DynamoDBClient): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: 'locks',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}

describe('startLocalDynamo', () => {
  it('serves DynamoDB through the shared endpoint with the real SDK', async () => {
    const client = await clientThroughSharedEndpoint();
    await createLocksTable(client);

    await client.send(
      new PutItemCommand({
        TableName: 'locks',
        Item: { pk: { S: 'service#checkout' }, releaseId: { S: 'checkout-v42-1' } },
      }),
    );
    const read = await client.send(
      new GetItemCommand({ TableName: 'locks', Key: { pk: { S: 'service#checkout' } } }),
    );

    expect(read.Item).toEqual({
      pk: { S: 'service#checkout' },
      releaseId: { S: 'checkout-v42-1' },
    });
  });

  it('passes a failed condition back as ConditionalCheckFailedException', async () => {
    const client = await clientThroughSharedEndpoint();
    await createLocksTable(client);
    const takeLock = (releaseId: string) =>
      client.send(
        new PutItemCommand({
          TableName: 'locks',
          Item: { pk: { S: 'service#checkout' }, releaseId: { S: releaseId } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );

    await takeLock('checkout-v42-1');

    await expect(takeLock('checkout-v43-1')).rejects.toBeInstanceOf(
      ConditionalCheckFailedException,
    );
  });

  it('passes back the response checksum and request id headers', async () => {
    const dynamo = await startLocalDynamo();
    cleanups.push(dynamo.close);

    const response = await dynamo.service.handle({
      method: 'POST',
      url: '/',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        authorization:
          'AWS4-HMAC-SHA256 Credential=any/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
        'x-amz-date': '20250101T000000Z',
      },
      body: Buffer.from('{}'),
    });

    expect(response?.status).toBe(200);
    expect(response?.headers?.['x-amz-crc32']).toMatch(/^\d+$/);
    expect(response?.headers?.['x-amzn-requestid']).toBeTruthy();
    expect(JSON.parse(String(response?.body))).toEqual({ TableNames: [] });
  });

  it('leaves requests for other services unclaimed', async () => {
    const dynamo = await startLocalDynamo();
    cleanups.push(dynamo.close);

    const response = await dynamo.service.handle({
      method: 'POST',
      url: '/',
      headers: { 'x-amz-target': 'AWSEvents.PutEvents' },
      body: Buffer.from('{}'),
    });

    expect(response).toBeUndefined();
  });
});
