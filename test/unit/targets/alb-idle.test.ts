import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
} from '@aws-sdk/client-ecs';
import {
  DescribeListenersCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ListPrices } from '../../../src/core/idle-cost.ts';
import type { ServiceConfig } from '../../../src/core/service-config.ts';
import { AlbIdleColours } from '../../../src/targets/alb-idle.ts';
import { aService } from '../../support/builders.ts';

const elbv2 = mockClient(ElasticLoadBalancingV2Client);
const ecs = mockClient(ECSClient);
const prefix = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012';
const listenerArn = `${prefix}:listener/app/shop/0123456789abcdef/1111111111111111`;
const tgA = `${prefix}:targetgroup/checkout-a/aaaaaaaaaaaaaaaa`;
const tgB = `${prefix}:targetgroup/checkout-b/bbbbbbbbbbbbbbbb`;
const idleSince = new Date('2026-11-21T10:00:00.000Z');
const now = new Date('2026-11-21T11:00:00.000Z');

function anAlbService(): ServiceConfig {
  return aService({
    target: {
      kind: 'alb-listener',
      listenerArn,
      testListenerArn: `${prefix}:listener/app/shop/0123456789abcdef/2222222222222222`,
      testUrl: 'http://127.0.0.1:9',
      slots: {
        a: { targetGroupArn: tgA, ecs: { cluster: 'shop', service: 'checkout-a' } },
        b: { targetGroupArn: tgB, ecs: { cluster: 'shop', service: 'checkout-b' } },
      },
      containerName: 'web',
      taskDefinitionFamily: 'checkout-web',
    },
    tests: [],
  });
}

function givenWeights(a: number, b: number) {
  elbv2.on(DescribeListenersCommand).resolves({
    Listeners: [
      {
        ListenerArn: listenerArn,
        DefaultActions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: tgA, Weight: a },
                { TargetGroupArn: tgB, Weight: b },
              ],
            },
          },
        ],
      },
    ],
  });
}

function givenService(desiredCount: number) {
  ecs.on(DescribeServicesCommand).resolves({
    services: [
      {
        serviceName: 'checkout-a',
        status: 'ACTIVE',
        desiredCount,
        taskDefinition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/checkout:7',
      },
    ],
  });
}

describe('AlbIdleColours', () => {
  let scaledDown: [string, string, Date, Date][];
  let colours: AlbIdleColours;

  beforeEach(() => {
    elbv2.reset();
    ecs.reset();
    scaledDown = [];
    colours = new AlbIdleColours({
      elbv2: new ElasticLoadBalancingV2Client({ region: 'eu-west-1' }),
      ecs: new ECSClient({ region: 'eu-west-1' }),
      listener: {
        scaleDownIdle: async (service, slot, lastTrafficAt, now) => {
          scaledDown.push([service.name, slot, lastTrafficAt, now]);
        },
      },
    });
  });

  it('says a slot takes traffic when the production forward gives it any weight', async () => {
    givenWeights(0, 100);
    expect(await colours.takesTraffic(anAlbService(), 'a')).toBe(false);
    expect(await colours.takesTraffic(anAlbService(), 'b')).toBe(true);
  });

  it('estimates the idle slot’s Fargate cost from desired count and task size', async () => {
    givenService(3);
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: { cpu: '256', memory: '512', runtimePlatform: { cpuArchitecture: 'ARM64' } },
    });
    const cost = await colours.cost(anAlbService(), 'a');
    const price = ListPrices.fargate.ARM64;
    expect(cost.hourlyUsd).toBeCloseTo(3 * (0.25 * price.vcpuHour + 0.5 * price.gbHour), 10);
    expect(cost.basis).toBe('3 tasks x 0.25 vCPU, 0.5 GB on Fargate (ARM64, us-east-1 list price)');
  });

  it('scales the idle slot down through the drain-safe scale-down, from when it went idle', async () => {
    givenService(3);
    const done = await colours.tearDown(anAlbService(), 'a', {
      idleSince,
      now,
      protectedColours: new Set(['b']),
    });
    expect(scaledDown).toEqual([['checkout', 'a', idleSince, now]]);
    expect(done).toEqual(['Scaled ECS service checkout-a (slot a) from 3 tasks to 0']);
  });

  it('does nothing for a slot already at zero or one a release in flight uses', async () => {
    givenService(0);
    expect(
      await colours.tearDown(anAlbService(), 'a', { idleSince, now, protectedColours: new Set() }),
    ).toEqual([]);
    givenService(3);
    expect(
      await colours.tearDown(anAlbService(), 'a', {
        idleSince,
        now,
        protectedColours: new Set(['a']),
      }),
    ).toEqual([]);
    expect(scaledDown).toEqual([]);
  });
});
