import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { expect } from 'vitest';
import type { ReleaseRecord } from '../../src/core/records.ts';
import { deriveReleaseId } from '../../src/core/release-id.ts';
import { DemoShop } from '../../src/local/data-plane/local-alb.ts';
import { DemoDatabase } from '../../src/local/demo-database.ts';
import type { GreenlightLocal } from '../../src/local/greenlight-local.ts';
import { requestRelease, waitForPhase } from './local-release.ts';

// Shared by the two tests of the shop's real runner failing (each file has its own local cloud).

export async function releaseShop(
  local: GreenlightLocal,
  migrationId: string,
): Promise<ReleaseRecord> {
  await requestRelease(local, {
    service: 'shop',
    version: '1.4.0',
    artifact: { imageUri: DemoShop.image('1.4.0') },
    migration: { id: migrationId, kind: 'expand' },
  });
  return waitForPhase(local, deriveReleaseId('shop', '1.4.0', 1), undefined, 60_000);
}

/** The shop runner's own answer to `status` for a migration, asked through Lambda Invoke. */
export async function runnerStatus(
  local: GreenlightLocal,
  migrationId: string,
  kind = 'expand',
): Promise<string> {
  const lambda = new LambdaClient(local.clientConfig);
  try {
    const reply = await lambda.send(
      new InvokeCommand({
        FunctionName: DemoDatabase.runnerFunction,
        Payload: JSON.stringify({
          greenlight: 1,
          action: 'status',
          migrationId,
          kind,
          service: 'shop',
          releaseId: 'test',
        }),
      }),
    );
    return (JSON.parse(Buffer.from(reply.Payload ?? []).toString()) as { status: string }).status;
  } finally {
    lambda.destroy();
  }
}

/** Blue keeps all of the production listener's traffic: green never took any. */
export function expectTrafficOnBlue(local: GreenlightLocal, release: ReleaseRecord): void {
  const shop = local.shop;
  if (shop === undefined) throw new Error('the default local cloud has the demo shop');
  const blue = release.colours?.blue === 'b' ? shop.slots.b : shop.slots.a;
  const green = release.colours?.blue === 'b' ? shop.slots.a : shop.slots.b;
  const weights = local.alb.elbv2.weightsOf(shop.listenerArn);
  expect(weights[blue.targetGroupArn]).toBeGreaterThan(0);
  expect(weights[green.targetGroupArn] ?? 0).toBe(0);
}
