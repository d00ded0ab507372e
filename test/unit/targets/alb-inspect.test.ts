import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
} from '@aws-sdk/client-ecs';
import {
  DescribeListenersCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ServiceConfig } from '../../../src/core/service-config.ts';
import { AlbListenerTarget } from '../../../src/targets/alb-listener.ts';

const elbv2 = mockClient(ElasticLoadBalancingV2Client);
const ecs = mockClient(ECSClient);

const arnPrefix = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012';
const listenerArn = `${arnPrefix}:listener/app/shop/0123456789abcdef/1111111111111111`;
const testListenerArn = `${arnPrefix}:listener/app/shop/0123456789abcdef/2222222222222222`;
const tgA = `${arnPrefix}:targetgroup/checkout-a/aaaaaaaaaaaaaaaa`;
const tgB = `${arnPrefix}:targetgroup/checkout-b/bbbbbbbbbbbbbbbb`;
const blueTd = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/checkout:7';

const service: ServiceConfig = {
  name: 'checkout',
  target: {
    kind: 'alb-listener',
    listenerArn,
    testListenerArn,
    testUrl: 'http://127.0.0.1:9',
    slots: {
      a: { targetGroupArn: tgA, ecs: { cluster: 'shop', service: 'checkout-a' } },
      b: { targetGroupArn: tgB, ecs: { cluster: 'shop', service: 'checkout-b' } },
    },
    containerName: 'web',
    taskDefinitionFamily: 'checkout',
    passRoles: [],
    smoke: { paths: [], checks: [], consecutivePasses: 1, timeoutMs: 2000, intervalMs: 0 },
    healthyDeadlineSeconds: 600,
  },
  strategies: { canary: { type: 'canary', percent: 10, bakeSeconds: 300 } },
  defaultStrategy: 'canary',
  artifacts: { s3Buckets: [], imageRepositories: [] },
  alarms: [],
  metricGates: [],
  tests: [],
  approval: { type: 'none' },
  warmWindowSeconds: 3600,
  lockPolicy: 'queue',
};

const forwardTo = (weights: [string, number][]) => ({
  Type: 'forward' as const,
  ForwardConfig: {
    TargetGroups: weights.map(([arn, weight]) => ({ TargetGroupArn: arn, Weight: weight })),
  },
});

function target() {
  return new AlbListenerTarget({
    elbv2: new ElasticLoadBalancingV2Client({ region: 'eu-west-1' }),
    ecs: new ECSClient({ region: 'eu-west-1' }),
    ecsSingleAttempt: new ECSClient({ region: 'eu-west-1', maxAttempts: 1 }),
  });
}

beforeEach(() => {
  elbv2.reset();
  ecs.reset();
  elbv2.on(DescribeListenersCommand, { ListenerArns: [listenerArn] }).resolves({
    Listeners: [
      {
        DefaultActions: [
          forwardTo([
            [tgA, 1],
            [tgB, 0],
          ]),
        ],
      },
    ],
  });
  elbv2
    .on(DescribeListenersCommand, { ListenerArns: [testListenerArn] })
    .resolves({ Listeners: [{ DefaultActions: [forwardTo([[tgA, 1]])] }] });
  elbv2.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
  ecs.on(DescribeServicesCommand).callsFake((input: { services: string[] }) => ({
    services: [
      { serviceName: input.services[0], status: 'ACTIVE', desiredCount: 2, taskDefinition: blueTd },
    ],
  }));
  ecs.on(DescribeTaskDefinitionCommand).resolves({
    taskDefinition: { family: 'checkout', containerDefinitions: [{ name: 'web' }] },
  });
});

const failedChecks = (checks: { check: string; ok: boolean }[]) =>
  checks.filter((c) => !c.ok).map((c) => c.check);

describe('AlbListenerTarget.inspect', () => {
  it('passes a wired service: slot a is blue, b would be green', async () => {
    const inspection = await target().inspect(service);
    expect(failedChecks(inspection.checks)).toEqual([]);
    expect(inspection.colours).toEqual({ blue: 'a', green: 'b' });
    expect(inspection.checks.map((c) => c.check)).toEqual([
      'production listener',
      'test listener',
      'target group a',
      'target group b',
      'ECS service a',
      'ECS service b',
      'task family',
    ]);
  });

  it('fails a missing target group', async () => {
    elbv2.on(DescribeTargetHealthCommand, { TargetGroupArn: tgB }).rejects(
      new TargetGroupNotFoundException({
        message: 'One or more target groups not found',
        $metadata: {},
      }),
    );
    const inspection = await target().inspect(service);
    expect(failedChecks(inspection.checks)).toEqual(['target group b']);
    expect(inspection.checks.find((c) => !c.ok)?.detail).toContain('TargetGroupNotFoundException');
  });

  it('fails a listener that already splits traffic, and predicts no colours', async () => {
    elbv2.on(DescribeListenersCommand, { ListenerArns: [listenerArn] }).resolves({
      Listeners: [
        {
          DefaultActions: [
            forwardTo([
              [tgA, 50],
              [tgB, 50],
            ]),
          ],
        },
      ],
    });
    const inspection = await target().inspect(service);
    expect(failedChecks(inspection.checks)).toEqual(['production listener']);
    expect(inspection.colours).toBeUndefined();
  });

  it('fails an inactive ECS service and a task family other than the registered one', async () => {
    ecs.on(DescribeServicesCommand, { services: ['checkout-b'] }).resolves({
      services: [{ serviceName: 'checkout-b', status: 'INACTIVE' }],
    });
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: { family: 'other', containerDefinitions: [{ name: 'web' }] },
    });
    const inspection = await target().inspect(service);
    expect(failedChecks(inspection.checks)).toEqual(['ECS service b', 'task family']);
  });

  it('fails a task definition without the container the release replaces', async () => {
    ecs.on(DescribeTaskDefinitionCommand).resolves({
      taskDefinition: { family: 'checkout', containerDefinitions: [{ name: 'sidecar' }] },
    });
    const inspection = await target().inspect(service);
    expect(inspection.checks.find((c) => !c.ok)?.detail).toContain('no container "web"');
  });
});
