import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import {
  type Action,
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  ModifyRuleCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import type { ServiceConfigInput } from '../../src/core/service-config.ts';
import { StageTagKey } from '../../src/infra/stage-tag.ts';
import { stackStage } from './stack-recorder.ts';

/**
 * Two ALB services for the recorded scenarios: `web` forwards through its listeners' default
 * actions, `api` through listener rules, so that every ELBv2 write a function may send is sent.
 */
const elb = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012';
const account = '123456789012';

/**
 * api's migration runner, an ECS task in its own cluster. Its timeout is short: a scenario
 * stalls one task on purpose to have it stopped, and that wait is real time.
 */
export const apiTaskRunner = {
  type: 'ecs-task' as const,
  cluster: 'jobs',
  taskDefinition: 'api-migrations',
  containerName: 'migrate',
  network: { subnets: ['subnet-0a1b2c3d4e5f60718'], securityGroups: ['sg-0a1b2c3d4e5f60718'] },
  logGroup: '/ecs/api-migrations',
  passRoles: [`arn:aws:iam::${account}:role/api-migrations`],
};
export const apiTaskRunnerTimeoutSeconds = 1;

export function recordedAlbServices(testUrl: string): ServiceConfigInput[] {
  return [albService('web', false, testUrl), albService('api', true, testUrl)];
}

function albService(name: 'web' | 'api', viaRules: boolean, testUrl: string): ServiceConfigInput {
  const lb = `app/${name}/${name === 'web' ? '1' : '2'}234567890abcdef`;
  return {
    name,
    // web's runner is a Lambda function, api's an ECS task (step-actions.ts answers for both).
    migrations:
      name === 'api'
        ? { runner: apiTaskRunner, timeoutSeconds: apiTaskRunnerTimeoutSeconds }
        : { runner: { type: 'lambda', functionName: `${name}-migrations` } },
    target: {
      kind: 'alb-listener',
      listenerArn: `${elb}:listener/${lb}/1111111111111111`,
      testListenerArn: `${elb}:listener/${lb}/2222222222222222`,
      ...(viaRules
        ? {
            ruleArn: `${elb}:listener-rule/${lb}/1111111111111111/3333333333333333`,
            testRuleArn: `${elb}:listener-rule/${lb}/2222222222222222/4444444444444444`,
          }
        : {}),
      testUrl,
      slots: {
        a: {
          targetGroupArn: `${elb}:targetgroup/${name}-a/aaaaaaaaaaaaaaaa`,
          ecs: { cluster: 'shop', service: `${name}-a` },
        },
        b: {
          targetGroupArn: `${elb}:targetgroup/${name}-b/bbbbbbbbbbbbbbbb`,
          ecs: { cluster: 'shop', service: `${name}-b` },
        },
      },
      containerName: 'web',
      taskDefinitionFamily: `${name}-web`,
      passRoles: [`arn:aws:iam::${account}:role/${name}-task`],
      smoke: { consecutivePasses: 1, intervalMs: 0 },
      healthyDeadlineSeconds: 60,
    },
    strategies: { canary: { type: 'canary', percent: 10, bakeSeconds: 60 } },
    defaultStrategy: 'canary',
    artifacts: { imageRepositories: [`${account}.dkr.ecr.eu-west-1.amazonaws.com/${name}`] },
    // The fake alarm has no metric to tell colours by; service-wide, as a load balancer alarm is.
    alarms: [{ name: 'checkout-errors', scope: 'service' }],
    // No warm window: a teardown may run as soon as its release is finalized.
    warmWindowSeconds: 0,
  };
}

/** An ALB world in memory: forwards by listener or rule ARN, ECS services and revisions. */
export interface FakeAlb {
  forwards: Map<string, { targetGroupArn: string; weight: number }[]>;
  services: Map<string, { taskDefinition: string; desiredCount: number }>;
  taskDefinitions: {
    arn: string;
    family: string;
    revision: number;
    input: RegisterTaskDefinitionCommandInput;
  }[];
  /** What DescribeTargetGroupAttributes answers for every group: how long a slot drains. */
  targetGroupAttributes: { Key: string; Value: string }[];
}

/**
 * Blue on slot a of every service (one task), both test sites wrongly on blue too. Blue's
 * revision carries the stage tag, as README "Security boundary" asks of a registered family.
 */
export function aFakeAlb(services: readonly ServiceConfigInput[]): FakeAlb {
  const fake: FakeAlb = {
    forwards: new Map(),
    services: new Map(),
    taskDefinitions: [],
    // Sticky sessions on every group, so that provisioning has warnings to record and an idle
    // slot drains for an hour.
    targetGroupAttributes: [
      { Key: 'deregistration_delay.timeout_seconds', Value: '30' },
      { Key: 'stickiness.enabled', Value: 'true' },
      { Key: 'stickiness.type', Value: 'lb_cookie' },
      { Key: 'stickiness.lb_cookie.duration_seconds', Value: '3600' },
    ],
  };
  for (const service of services) {
    const target = service.target;
    if (target.kind !== 'alb-listener') continue;
    const onBlue = [{ targetGroupArn: target.slots.a.targetGroupArn, weight: 1 }];
    fake.forwards.set(target.ruleArn ?? target.listenerArn, onBlue);
    fake.forwards.set(target.testRuleArn ?? target.testListenerArn, onBlue);
    const family = target.taskDefinitionFamily;
    const blue = register(fake, {
      family,
      taskRoleArn: target.passRoles?.[0],
      containerDefinitions: [{ name: 'web', image: `${family}:1.0.0` }],
      tags: [{ key: StageTagKey, value: stackStage }],
    });
    fake.services.set(target.slots.a.ecs.service, { taskDefinition: blue, desiredCount: 1 });
    fake.services.set(target.slots.b.ecs.service, { taskDefinition: blue, desiredCount: 0 });
  }
  return fake;
}

/** Points a listener or rule back at `targetGroupArn` alone, as a person at the console would. */
export function forwardOnly(fake: FakeAlb, site: string, targetGroupArn: string): void {
  fake.forwards.set(site, [{ targetGroupArn, weight: 1 }]);
}

function register(fake: FakeAlb, input: RegisterTaskDefinitionCommandInput): string {
  const family = input.family ?? '';
  const revision = fake.taskDefinitions.filter((td) => td.family === family).length + 1;
  const arn = `arn:aws:ecs:eu-west-1:${account}:task-definition/${family}:${revision}`;
  fake.taskDefinitions.push({ arn, family, revision, input });
  return arn;
}

function forwardActions(targets: { targetGroupArn: string; weight: number }[]): Action[] {
  return [
    {
      Type: 'forward',
      ForwardConfig: {
        TargetGroups: targets.map((t) => ({ TargetGroupArn: t.targetGroupArn, Weight: t.weight })),
        TargetGroupStickinessConfig: { Enabled: false },
      },
    },
  ];
}

function written(actions: Action[] | undefined) {
  return (actions?.[0]?.ForwardConfig?.TargetGroups ?? []).map((t) => ({
    targetGroupArn: t.TargetGroupArn ?? '',
    weight: t.Weight ?? 1,
  }));
}

/** Mocks the ELBv2 and ECS clients to answer from `fake`, and to change it on writes. */
export function mockAlbClients(fake: FakeAlb, services: readonly ServiceConfigInput[]) {
  const elbv2 = mockClient(ElasticLoadBalancingV2Client);
  const ecs = mockClient(ECSClient);
  const serviceOfGroup = new Map<string, string>();
  for (const service of services) {
    if (service.target.kind !== 'alb-listener') continue;
    for (const slot of [service.target.slots.a, service.target.slots.b]) {
      serviceOfGroup.set(slot.targetGroupArn, slot.ecs.service);
    }
  }
  elbv2.on(DescribeListenersCommand).callsFake(({ ListenerArns }: { ListenerArns: string[] }) => ({
    Listeners: ListenerArns.map((arn) => ({
      ListenerArn: arn,
      DefaultActions: forwardActions(fake.forwards.get(arn) ?? []),
    })),
  }));
  elbv2.on(DescribeRulesCommand).callsFake(({ RuleArns }: { RuleArns: string[] }) => ({
    Rules: RuleArns.map((arn) => ({
      RuleArn: arn,
      Actions: forwardActions(fake.forwards.get(arn) ?? []),
    })),
  }));
  elbv2
    .on(ModifyListenerCommand)
    .callsFake(
      ({ ListenerArn, DefaultActions }: { ListenerArn: string; DefaultActions: Action[] }) => {
        fake.forwards.set(ListenerArn, written(DefaultActions));
        return {};
      },
    );
  elbv2
    .on(ModifyRuleCommand)
    .callsFake(({ RuleArn, Actions }: { RuleArn: string; Actions: Action[] }) => {
      fake.forwards.set(RuleArn, written(Actions));
      return {};
    });
  elbv2
    .on(DescribeTargetHealthCommand)
    .callsFake(({ TargetGroupArn }: { TargetGroupArn: string }) => {
      const count = fake.services.get(serviceOfGroup.get(TargetGroupArn) ?? '')?.desiredCount ?? 0;
      return {
        TargetHealthDescriptions: Array.from({ length: count }, (_, i) => ({
          Target: { Id: `10.0.0.${i + 1}`, Port: 8080 },
          TargetHealth: { State: 'healthy' },
        })),
      };
    });
  elbv2
    .on(DescribeTargetGroupAttributesCommand)
    .callsFake(() => ({ Attributes: fake.targetGroupAttributes }));

  ecs.on(DescribeServicesCommand).callsFake(({ services: names }: { services: string[] }) => ({
    services: names.flatMap((name) => {
      const service = fake.services.get(name);
      if (service === undefined) return [];
      return [
        {
          serviceName: name,
          status: 'ACTIVE',
          desiredCount: service.desiredCount,
          runningCount: service.desiredCount,
          taskDefinition: service.taskDefinition,
          deployments: [
            {
              status: 'PRIMARY',
              taskDefinition: service.taskDefinition,
              desiredCount: service.desiredCount,
              runningCount: service.desiredCount,
              rolloutState: 'COMPLETED',
            },
          ],
        },
      ];
    }),
  }));
  ecs
    .on(DescribeTaskDefinitionCommand)
    .callsFake(({ taskDefinition }: { taskDefinition: string }) => {
      const found = fake.taskDefinitions.find((td) => td.arn === taskDefinition);
      if (found === undefined) return {};
      const { tags, ...body } = found.input;
      return {
        taskDefinition: { ...body, taskDefinitionArn: found.arn, revision: found.revision },
        tags: tags ?? [],
      };
    });
  ecs.on(ListTaskDefinitionsCommand).callsFake(({ familyPrefix }: { familyPrefix: string }) => ({
    taskDefinitionArns: fake.taskDefinitions
      .filter((td) => td.family === familyPrefix)
      .sort((x, y) => y.revision - x.revision)
      .map((td) => td.arn),
  }));
  ecs.on(RegisterTaskDefinitionCommand).callsFake((input: RegisterTaskDefinitionCommandInput) => ({
    taskDefinition: { taskDefinitionArn: register(fake, input) },
  }));
  ecs
    .on(UpdateServiceCommand)
    .callsFake((input: { service: string; taskDefinition?: string; desiredCount?: number }) => {
      const service = fake.services.get(input.service);
      if (service !== undefined) {
        service.taskDefinition = input.taskDefinition ?? service.taskDefinition;
        service.desiredCount = input.desiredCount ?? service.desiredCount;
      }
      return {};
    });
  return { elbv2, ecs };
}
