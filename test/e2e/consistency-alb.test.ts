import {
  DescribeTaskDefinitionCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
} from '@aws-sdk/client-ecs';
import {
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveReleaseId } from '../../src/core/release-id.ts';
import type { ServiceConfigInput } from '../../src/core/service-config.ts';
import { checkConsistency, Invariant } from '../../src/local/consistency.ts';
import { readConsistencySnapshot } from '../../src/local/consistency-snapshot.ts';
import type { DemoShop } from '../../src/local/data-plane/local-alb.ts';
import { demoShopService } from '../../src/local/demo-registry.ts';
import { type GreenlightLocal, startGreenlightLocal } from '../../src/local/greenlight-local.ts';
import { requestRelease, waitForPhase } from './local-release.ts';

// The consistency snapshot of an ALB service, read through the local ELBv2 and ECS APIs: a
// finalized release reads consistent, and a split left on the listener or a second revision
// tagged with the release is found (the fault matrix itself runs on Lambda services).
let local: GreenlightLocal;
let shop: DemoShop;
let service: ServiceConfigInput;

beforeAll(async () => {
  local = await startGreenlightLocal({
    retryIntervalMs: 10,
    services: [],
    functions: [],
    alarms: [],
    seedAlb: async (alb) => {
      shop = await alb.seedDemoShop({ name: 'checked', desiredCount: 1 });
      service = demoShopService(shop, { bakeSeconds: 1 });
      return { services: [service], alarms: [shop.targetErrorsAlarm] };
    },
  });
});

afterAll(async () => {
  await local?.close();
});

describe('readConsistencySnapshot of an ALB service', () => {
  it('reads slot weights and tagged revisions, and finds a split or a second green', async () => {
    await requestRelease(local, {
      service: service.name,
      version: '1.1.0',
      artifact: { imageUri: `${shop.imageRepository}:1.1.0` },
    });
    const release = await waitForPhase(local, deriveReleaseId(service.name, '1.1.0', 1));
    expect(release.phase).toBe('Finalized');

    const clean = await readConsistencySnapshot(local, [service]);
    expect(clean.services[0]).toMatchObject({ traffic: { b: 100 }, colours: ['a', 'b'] });
    expect(clean.services[0]?.releases[0]?.greens).toHaveLength(1);
    expect(checkConsistency(clean)).toEqual([]);

    const elb = new ElasticLoadBalancingV2Client(local.clientConfig);
    const ecs = new ECSClient(local.clientConfig);
    try {
      await elb.send(
        new ModifyListenerCommand({
          ListenerArn: shop.listenerArn,
          DefaultActions: [
            {
              Type: 'forward',
              ForwardConfig: {
                TargetGroups: [
                  { TargetGroupArn: shop.slots.a.targetGroupArn, Weight: 10 },
                  { TargetGroupArn: shop.slots.b.targetGroupArn, Weight: 90 },
                ],
              },
            },
          ],
        }),
      );
      const green = await ecs.send(
        new DescribeTaskDefinitionCommand({
          taskDefinition: clean.services[0]?.releases[0]?.greens[0],
          include: ['TAGS'],
        }),
      );
      const { family, containerDefinitions, cpu, memory, networkMode, requiresCompatibilities } =
        green.taskDefinition ?? {};
      await ecs.send(
        new RegisterTaskDefinitionCommand({
          family,
          containerDefinitions,
          cpu,
          memory,
          networkMode,
          requiresCompatibilities,
          tags: green.tags,
        }),
      );
    } finally {
      elb.destroy();
      ecs.destroy();
    }

    const broken = checkConsistency(await readConsistencySnapshot(local, [service]));
    expect(broken.map((v) => v.invariant).sort()).toEqual([Invariant.OneGreen, Invariant.Traffic]);
    expect(broken.find((v) => v.invariant === Invariant.Traffic)?.message).toContain(
      'traffic is 10% on a, 90% on b',
    );
  }, 60_000);
});
