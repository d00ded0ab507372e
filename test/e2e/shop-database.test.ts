import {
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoShop } from '../../src/local/data-plane/local-alb.ts';
import { DemoDatabase, ShopMigrationId, shopOrdersChecks } from '../../src/local/demo-database.ts';
import { type GreenlightLocal, startGreenlightLocal } from '../../src/local/greenlight-local.ts';
import { runSmokeCheck } from '../../src/targets/alb/smoke.ts';
import { eventually } from '../support/eventually.ts';

/** The shop's orders checks against one colour, as the ALB smoke runner runs them. */
async function runOrdersChecks(baseUrl: string): Promise<string[]> {
  const outcomes: string[] = [];
  for (const check of shopOrdersChecks) {
    const evidence = await runSmokeCheck(
      baseUrl,
      check,
      { paths: [], checks: [], consecutivePasses: 2, timeoutMs: 5_000, intervalMs: 10 },
      {
        fetch,
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
        now: () => performance.now(),
      },
    );
    outcomes.push(
      `${evidence.name}: ${evidence.passed ? 'passed' : `failed (${evidence.statusCode})`}`,
    );
  }
  return outcomes;
}

interface OrdersAnswer {
  status: number;
  version?: string;
  id?: number;
  orders?: { id: number; item: string; text: string | null }[];
  code?: string | null;
}

async function call(url: string, init?: RequestInit): Promise<OrdersAnswer> {
  const response = await fetch(`${url}/orders`, init);
  return { status: response.status, ...((await response.json()) as object) };
}

const order = (item: string, text: string) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ item, text }),
});

/**
 * Blue and green of the demo shop are real task processes behind the local load balancer, each
 * connecting to the local cloud's PostgreSQL with pg through DATABASE_URL; the runner changes
 * the schema through Lambda Invoke. Blue runs 1.0.0 (orders.note), green 1.4.0
 * (orders.gift_message): what one colour writes the other reads, and a rename breaks blue's
 * requests, not green's.
 */
describe('the demo shop on the local database', () => {
  let local: GreenlightLocal;
  let lambda: LambdaClient;
  let blue: string;
  let green: string;

  const migrate = async (action: string, migrationId: string) => {
    const result = await lambda.send(
      new InvokeCommand({
        FunctionName: DemoDatabase.runnerFunction,
        Payload: JSON.stringify({
          greenlight: 1,
          action,
          migrationId,
          kind: 'expand',
          service: 'shop',
          releaseId: 'shop-1.4.0-1',
        }),
      }),
    );
    expect(result.FunctionError).toBeUndefined();
    return JSON.parse(Buffer.from(result.Payload ?? []).toString());
  };

  beforeAll(async () => {
    local = await startGreenlightLocal({ database: true, retryIntervalMs: 10 });
    lambda = new LambdaClient(local.clientConfig);
    const shop = local.shop;
    if (shop === undefined) throw new Error('the default local cloud has the demo shop');
    blue = shop.productionUrl;
    green = shop.testUrl;
    // Green: slot b runs image 1.4.0 with blue's container environment (its DATABASE_URL), as
    // provisioning green does; the test listener forwards to slot b only.
    const ecs = new ECSClient(local.clientConfig);
    try {
      const { taskDefinition } = await ecs.send(
        new DescribeTaskDefinitionCommand({ taskDefinition: shop.taskDefinitionFamily }),
      );
      const container = taskDefinition?.containerDefinitions?.[0];
      expect(container?.environment).toContainEqual({
        name: 'DATABASE_URL',
        value: local.database?.url,
      });
      const registered = await ecs.send(
        new RegisterTaskDefinitionCommand({
          family: shop.taskDefinitionFamily,
          cpu: taskDefinition?.cpu,
          memory: taskDefinition?.memory,
          containerDefinitions: [{ ...container, image: DemoShop.image('1.4.0') }],
        }),
      );
      await ecs.send(
        new UpdateServiceCommand({
          cluster: shop.slots.b.ecs.cluster,
          service: shop.slots.b.ecs.service,
          taskDefinition: registered.taskDefinition?.taskDefinitionArn,
          desiredCount: 1,
        }),
      );
    } finally {
      ecs.destroy();
    }
    await eventually(
      async () => {
        const answer = await call(green).catch(() => undefined);
        return answer?.version === '1.4.0' ? answer : undefined;
      },
      { what: 'green (1.4.0) answering behind the test listener', timeoutMs: 30_000 },
    );
  }, 60_000);

  let closed = false;
  afterAll(async () => {
    lambda?.destroy();
    if (!closed) await local?.close();
  });

  it('shares one database between blue and green, and breaks blue when a column is renamed', async () => {
    // Blue writes its orders with a note; green cannot write before the expand.
    expect(await call(blue, order('coffee', 'no sugar'))).toMatchObject({
      status: 201,
      version: '1.0.0',
    });
    expect(await call(green, order('tea', 'for Ada'))).toMatchObject({
      status: 500,
      version: '1.4.0',
      code: '42703',
    });

    expect(await runOrdersChecks(blue)).toEqual(['POST /orders: passed', 'GET /orders: passed']);

    // The expand: green works, blue keeps working, and each sees the other's orders.
    expect(await migrate('apply', ShopMigrationId.AddGiftMessage)).toMatchObject({ ran: true });
    expect(await runOrdersChecks(blue)).toEqual(['POST /orders: passed', 'GET /orders: passed']);
    const fromGreen = await call(green, order('tea', 'for Ada'));
    expect(fromGreen).toMatchObject({ status: 201, version: '1.4.0' });
    const fromBlue = await call(blue, order('cake', 'candles'));
    expect(fromBlue).toMatchObject({ status: 201, version: '1.0.0' });
    const seenByBlue = await call(blue);
    expect(seenByBlue.orders?.slice(0, 2).map((o) => [o.item, o.text])).toEqual([
      ['cake', 'candles'],
      ['tea', null],
    ]);
    const seenByGreen = await call(green);
    expect(seenByGreen.orders?.slice(0, 2).map((o) => [o.id, o.item, o.text])).toEqual([
      [fromBlue.id, 'cake', null],
      [fromGreen.id, 'tea', 'for Ada'],
    ]);

    // The tempting one-step version instead: undo the expand, rename note to gift_message.
    expect(await migrate('revert', ShopMigrationId.AddGiftMessage)).toMatchObject({ ran: true });
    expect(await migrate('apply', ShopMigrationId.RenameNote)).toMatchObject({ ran: true });
    for (const request of [order('scone', 'warm'), undefined]) {
      expect(await call(blue, request)).toMatchObject({
        status: 500,
        version: '1.0.0',
        code: '42703',
      });
    }
    expect(await runOrdersChecks(blue)).toEqual([
      'POST /orders: failed (500)',
      'GET /orders: failed (500)',
    ]);
    const afterRename = await call(green);
    expect(afterRename).toMatchObject({ status: 200, version: '1.4.0' });
    expect(afterRename.orders?.find((o) => o.item === 'cake')?.text).toBe('candles');
    expect(await runOrdersChecks(green)).toEqual(['POST /orders: passed', 'GET /orders: passed']);
  });

  it('stops the database with the local cloud', async () => {
    const url = local.database?.url ?? '';
    closed = true;
    await local.close();
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    client.on('error', () => undefined);
    await expect(client.connect()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
