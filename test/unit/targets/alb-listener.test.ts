import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Deployment,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  type DescribeTaskDefinitionCommandOutput,
  ECSClient,
  ListTaskDefinitionsCommand,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  type Service,
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
  type TargetGroupAttribute,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  GreenProvisionFailed,
  IdleColourStillDraining,
  InvalidStepInput,
  TargetStateConflict,
} from '../../../src/core/errors.ts';
import type { ReleaseSpec } from '../../../src/core/records.ts';
import type {
  AlbListenerTargetConfig,
  HttpCheck,
  ServiceConfig,
} from '../../../src/core/service-config.ts';
import { AlbListenerTarget } from '../../../src/targets/alb-listener.ts';

const elbv2 = mockClient(ElasticLoadBalancingV2Client);
const ecs = mockClient(ECSClient);
let pauses: number[];

const arnPrefix = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012';
const listenerArn = `${arnPrefix}:listener/app/shop/0123456789abcdef/1111111111111111`;
const testListenerArn = `${arnPrefix}:listener/app/shop/0123456789abcdef/2222222222222222`;
const ruleArn = `${arnPrefix}:listener-rule/app/shop/0123456789abcdef/1111111111111111/3333333333333333`;
const testRuleArn = `${arnPrefix}:listener-rule/app/shop/0123456789abcdef/2222222222222222/4444444444444444`;
const tgA = `${arnPrefix}:targetgroup/checkout-a/aaaaaaaaaaaaaaaa`;
const tgB = `${arnPrefix}:targetgroup/checkout-b/bbbbbbbbbbbbbbbb`;
const tgStranger = `${arnPrefix}:targetgroup/hotfix/cccccccccccccccc`;
const tdArn = (family: string, revision: number) =>
  `arn:aws:ecs:eu-west-1:123456789012:task-definition/${family}:${revision}`;
const blueTd = tdArn('checkout', 7);
const greenTd = tdArn('checkout', 8);
const image = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout:1.4.2';
const oldImage = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout:1.4.1';
const releaseId = 'checkout-1-4-2-a1';

beforeEach(() => {
  elbv2.reset();
  ecs.reset();
  pauses = [];
});

function aTarget(options: { clock?: number[]; fetch?: typeof fetch } = {}) {
  const clock = options.clock ?? [];
  return new AlbListenerTarget({
    elbv2: new ElasticLoadBalancingV2Client({ region: 'eu-west-1' }),
    ecs: new ECSClient({ region: 'eu-west-1' }),
    ecsSingleAttempt: new ECSClient({ region: 'eu-west-1', maxAttempts: 1 }),
    sleep: async (ms) => {
      pauses.push(ms);
    },
    now: () => clock.shift() ?? 0,
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  });
}

function anAlbTarget(overrides: Partial<AlbListenerTargetConfig> = {}): AlbListenerTargetConfig {
  return {
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
    passRoles: ['arn:aws:iam::123456789012:role/checkout-exec'],
    smoke: { paths: [], checks: [], consecutivePasses: 1, timeoutMs: 2000, intervalMs: 0 },
    healthyDeadlineSeconds: 600,
    ...overrides,
  };
}

function aService(target: Partial<AlbListenerTargetConfig> = {}): ServiceConfig {
  return {
    name: 'checkout',
    target: anAlbTarget(target),
    strategies: { canary: { type: 'canary', percent: 10, bakeSeconds: 300 } },
    defaultStrategy: 'canary',
    artifacts: {
      s3Buckets: [],
      imageRepositories: ['123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout'],
    },
    alarms: [],
    metricGates: [],
    tests: [],
    approval: { type: 'none' },
    warmWindowSeconds: 3600,
    lockPolicy: 'queue',
  };
}

function aRelease(overrides: Partial<ReleaseSpec> = {}): ReleaseSpec {
  return {
    releaseId,
    service: 'checkout',
    version: '1.4.2',
    attempt: 1,
    artifact: { imageUri: image },
    strategy: 'canary',
    plan: [{ index: 0, percent: 10, bakeSeconds: 300 }],
    requestedAt: '2025-03-01T10:00:00.000Z',
    ...overrides,
  };
}

/** A weighted forward, as DescribeListeners reports one. */
function aForward(weights: [string, number][], extra: Partial<Action> = {}): Action {
  return {
    Type: 'forward',
    ForwardConfig: {
      TargetGroups: weights.map(([arn, weight]) => ({ TargetGroupArn: arn, Weight: weight })),
      TargetGroupStickinessConfig: { Enabled: false },
    },
    ...extra,
  };
}

/** A plain forward to one target group, in the double form DescribeListeners reports it. */
function aPlainForward(targetGroupArn: string): Action {
  return aForward([[targetGroupArn, 1]], { TargetGroupArn: targetGroupArn });
}

function givenListener(arn: string, ...actions: Action[]) {
  elbv2.on(DescribeListenersCommand, { ListenerArns: [arn] }).resolves({
    Listeners: [
      { ListenerArn: arn, Port: 443, Protocol: 'HTTPS', SslPolicy: 'tls', DefaultActions: actions },
    ],
  });
}

function givenRule(arn: string, ...actions: Action[]) {
  elbv2.on(DescribeRulesCommand, { RuleArns: [arn] }).resolves({
    Rules: [{ RuleArn: arn, Priority: '10', Actions: actions, IsDefault: false }],
  });
}

function anEcsService(
  name: string,
  taskDefinition: string,
  desiredCount: number,
  deployments?: Partial<Deployment>[],
): Service {
  return {
    serviceName: name,
    status: 'ACTIVE',
    taskDefinition,
    desiredCount,
    runningCount: desiredCount,
    deployments: deployments ?? [
      {
        status: 'PRIMARY',
        taskDefinition,
        desiredCount,
        runningCount: desiredCount,
        rolloutState: 'COMPLETED',
      },
    ],
  };
}

function aTaskDefinition(
  arn: string,
  containerImage: string,
  tags = [{ key: 'team', value: 'shop' }],
): DescribeTaskDefinitionCommandOutput {
  return {
    $metadata: {},
    taskDefinition: {
      taskDefinitionArn: arn,
      family: 'checkout',
      revision: Number(arn.split(':').at(-1)),
      status: 'ACTIVE',
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      executionRoleArn: 'arn:aws:iam::123456789012:role/checkout-exec',
      requiresCompatibilities: ['FARGATE'],
      compatibilities: ['EC2', 'FARGATE'],
      requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.docker-remote-api.1.18' }],
      registeredAt: new Date('2025-02-01T00:00:00.000Z'),
      registeredBy: 'arn:aws:iam::123456789012:role/ci',
      volumes: [],
      placementConstraints: [],
      containerDefinitions: [
        { name: 'web', image: containerImage, portMappings: [{ containerPort: 8080 }] },
        { name: 'log-router', image: 'public.ecr.aws/aws-observability/aws-for-fluent-bit:2' },
      ],
    },
    tags,
  };
}

function healthyTargets(count: number, state = 'healthy'): TargetHealthDescription[] {
  return Array.from({ length: count }, (_, i) => ({
    Target: { Id: `10.0.1.${i + 1}`, Port: 8080 },
    TargetHealth: { State: state as 'healthy' },
  }));
}

/** Every command sent to either client, in order, as [command name, input]. */
function sentCommands(): [string, unknown][] {
  return [...elbv2.calls(), ...ecs.calls()]
    .sort((x, y) => (x.calledBefore(y) ? -1 : 1))
    .map((call) => {
      const command = call.args[0] as { constructor: { name: string }; input: unknown };
      return [command.constructor.name, command.input];
    });
}

function sentNames(): string[] {
  return sentCommands().map(([name]) => name);
}

/** Blue on slot a (td 7, two tasks), the test listener on b, green's service idle. */
function givenBlueOnA() {
  givenListener(listenerArn, aPlainForward(tgA));
  givenListener(testListenerArn, aPlainForward(tgB));
  ecs
    .on(DescribeServicesCommand, { services: ['checkout-a'] })
    .resolves({ services: [anEcsService('checkout-a', blueTd, 2)] });
  ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: blueTd }).resolves(
    aTaskDefinition(blueTd, oldImage, [
      { key: 'team', value: 'shop' },
      { key: 'greenlight:release', value: 'checkout-1-4-1-a1' },
      { key: 'aws:cloudformation:stack-name', value: 'shop' },
    ]),
  );
  ecs
    .on(ListTaskDefinitionsCommand)
    .resolves({ taskDefinitionArns: [blueTd, tdArn('checkout', 6)] });
  ecs
    .on(RegisterTaskDefinitionCommand)
    .resolves({ taskDefinition: { taskDefinitionArn: greenTd } });
  ecs.on(UpdateServiceCommand).resolves({});
}

describe('AlbListenerTarget.provision', () => {
  it('takes the slot with the traffic as blue, registers green from its task definition and waits for health', async () => {
    givenBlueOnA();
    ecs
      .on(DescribeServicesCommand, { services: ['checkout-b'] })
      .resolvesOnce({ services: [anEcsService('checkout-b', tdArn('checkout', 5), 0)] })
      .resolvesOnce({
        services: [
          anEcsService('checkout-b', greenTd, 2, [
            { status: 'PRIMARY', taskDefinition: greenTd, desiredCount: 2, runningCount: 1 },
          ]),
        ],
      })
      .resolves({ services: [anEcsService('checkout-b', greenTd, 2)] });
    elbv2
      .on(DescribeTargetHealthCommand)
      .resolvesOnce({ TargetHealthDescriptions: healthyTargets(1, 'initial') })
      .resolves({ TargetHealthDescriptions: healthyTargets(2) });

    const colours = await aTarget().provision(aRelease(), aService());

    expect(colours).toEqual({ blue: 'a', green: 'b' });
    expect(sentCommands()).toEqual([
      ['DescribeListenersCommand', { ListenerArns: [listenerArn] }],
      ['DescribeListenersCommand', { ListenerArns: [testListenerArn] }],
      ['DescribeServicesCommand', { cluster: 'shop', services: ['checkout-a'] }],
      ['DescribeTaskDefinitionCommand', { taskDefinition: blueTd, include: ['TAGS'] }],
      ['ListTaskDefinitionsCommand', { familyPrefix: 'checkout', sort: 'DESC', maxResults: 5 }],
      ['RegisterTaskDefinitionCommand', expect.objectContaining({ family: 'checkout' })],
      ['DescribeServicesCommand', { cluster: 'shop', services: ['checkout-b'] }],
      [
        'UpdateServiceCommand',
        { cluster: 'shop', service: 'checkout-b', taskDefinition: greenTd, desiredCount: 2 },
      ],
      ['DescribeServicesCommand', { cluster: 'shop', services: ['checkout-b'] }],
      ['DescribeTargetHealthCommand', { TargetGroupArn: tgB }],
      ['DescribeServicesCommand', { cluster: 'shop', services: ['checkout-b'] }],
      ['DescribeTargetHealthCommand', { TargetGroupArn: tgB }],
    ]);
    expect(pauses).toEqual([500]);
  });

  it("registers blue's task definition with only the image and the release tag changed", async () => {
    givenBlueOnA();
    ecs
      .on(DescribeServicesCommand, { services: ['checkout-b'] })
      .resolves({ services: [anEcsService('checkout-b', greenTd, 2)] });
    elbv2.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: healthyTargets(2) });

    await aTarget().provision(aRelease(), aService());

    const registered: RegisterTaskDefinitionCommandInput | undefined = ecs.commandCalls(
      RegisterTaskDefinitionCommand,
    )[0]?.args[0].input;
    expect(registered).toEqual({
      family: 'checkout',
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      executionRoleArn: 'arn:aws:iam::123456789012:role/checkout-exec',
      requiresCompatibilities: ['FARGATE'],
      volumes: [],
      placementConstraints: [],
      containerDefinitions: [
        { name: 'web', image, portMappings: [{ containerPort: 8080 }] },
        { name: 'log-router', image: 'public.ecr.aws/aws-observability/aws-for-fluent-bit:2' },
      ],
      tags: [
        { key: 'team', value: 'shop' },
        { key: 'greenlight:release', value: releaseId },
      ],
    });
    // Green already ran that revision at blue's count: nothing to update.
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it('refuses to register green in a family other than the registered one', async () => {
    givenBlueOnA();

    const provision = aTarget().provision(
      aRelease(),
      aService({ taskDefinitionFamily: 'checkout-v2' }),
    );

    await expect(provision).rejects.toThrow(GreenProvisionFailed);
    await expect(provision).rejects.toThrow(
      /family checkout, but the service is registered with "taskDefinitionFamily": "checkout-v2"/,
    );
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
  });

  it('refuses to pass a role the service does not list in passRoles', async () => {
    givenBlueOnA();

    const provision = aTarget().provision(aRelease(), aService({ passRoles: [] }));

    await expect(provision).rejects.toMatchObject({
      name: 'GreenProvisionFailed',
      details: { roles: ['arn:aws:iam::123456789012:role/checkout-exec'] },
    });
    await expect(provision).rejects.toThrow(/add it to the service's "passRoles"/);
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
  });

  it('registers nothing new and updates nothing when retried', async () => {
    givenListener(listenerArn, aPlainForward(tgA));
    givenListener(testListenerArn, aPlainForward(tgB));
    ecs
      .on(DescribeServicesCommand, { services: ['checkout-a'] })
      .resolves({ services: [anEcsService('checkout-a', blueTd, 2)] });
    ecs
      .on(DescribeTaskDefinitionCommand, { taskDefinition: blueTd })
      .resolves(aTaskDefinition(blueTd, oldImage));
    // A small ECS: what was registered is listed and described with its tags, the service
    // keeps what it was updated to.
    const registered: DescribeTaskDefinitionCommandOutput[] = [];
    let green = anEcsService('checkout-b', tdArn('checkout', 5), 0);
    ecs.on(RegisterTaskDefinitionCommand).callsFake((input: RegisterTaskDefinitionCommandInput) => {
      const arn = tdArn('checkout', 8 + registered.length);
      registered.unshift({
        $metadata: {},
        taskDefinition: { ...input, taskDefinitionArn: arn },
        tags: input.tags ?? [],
      });
      return { taskDefinition: { taskDefinitionArn: arn } };
    });
    ecs.on(ListTaskDefinitionsCommand).callsFake(() => ({
      taskDefinitionArns: [...registered.map((r) => r.taskDefinition?.taskDefinitionArn), blueTd],
    }));
    ecs
      .on(DescribeTaskDefinitionCommand)
      .callsFake(({ taskDefinition }: { taskDefinition: string }) =>
        taskDefinition === blueTd
          ? aTaskDefinition(blueTd, oldImage)
          : registered.find((r) => r.taskDefinition?.taskDefinitionArn === taskDefinition),
      );
    ecs.on(DescribeServicesCommand, { services: ['checkout-b'] }).callsFake(() => ({
      services: [green],
    }));
    ecs.on(UpdateServiceCommand).callsFake((input) => {
      green = anEcsService('checkout-b', input.taskDefinition, input.desiredCount);
      return {};
    });
    elbv2.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: healthyTargets(2) });
    const target = aTarget();

    const first = await target.provision(aRelease(), aService());
    const second = await target.provision(aRelease(), aService());

    expect(second).toEqual(first);
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(1);
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(1);
    expect(
      ecs
        .commandCalls(DescribeTaskDefinitionCommand)
        .slice(-2)
        .map((call) => call.args[0].input.taskDefinition),
    ).toEqual([blueTd, greenTd]);
  });

  it("skips other families' and other releases' revisions when looking for its own", async () => {
    givenBlueOnA();
    ecs.on(ListTaskDefinitionsCommand).resolves({
      taskDefinitionArns: [
        tdArn('checkout-worker', 40),
        tdArn('checkout', 9),
        tdArn('checkout', 8),
        blueTd,
        tdArn('checkout', 6),
      ],
    });
    ecs
      .on(DescribeTaskDefinitionCommand, { taskDefinition: tdArn('checkout', 9) })
      .resolves(
        aTaskDefinition(tdArn('checkout', 9), image, [
          { key: 'greenlight:release', value: 'checkout-1-4-2-a0' },
        ]),
      );
    ecs
      .on(DescribeTaskDefinitionCommand, { taskDefinition: tdArn('checkout', 8) })
      .resolves(aTaskDefinition(tdArn('checkout', 8), oldImage));
    ecs.on(RegisterTaskDefinitionCommand).resolves({
      taskDefinition: { taskDefinitionArn: tdArn('checkout', 10) },
    });
    ecs
      .on(DescribeServicesCommand, { services: ['checkout-b'] })
      .resolves({ services: [anEcsService('checkout-b', tdArn('checkout', 10), 2)] });
    elbv2.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: healthyTargets(2) });

    await aTarget().provision(aRelease(), aService());

    expect(
      ecs.commandCalls(DescribeTaskDefinitionCommand).map((c) => c.args[0].input.taskDefinition),
    ).toEqual([blueTd, tdArn('checkout', 9), tdArn('checkout', 8)]);
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(1);
  });

  it('takes slot b as blue when the last release finalized onto it', async () => {
    givenListener(
      listenerArn,
      aForward([
        [tgA, 0],
        [tgB, 100],
      ]),
    );
    givenListener(testListenerArn, aPlainForward(tgB));
    elbv2.on(ModifyListenerCommand).resolves({});
    ecs
      .on(DescribeServicesCommand, { services: ['checkout-b'] })
      .resolves({ services: [anEcsService('checkout-b', blueTd, 3)] });
    ecs.on(DescribeTaskDefinitionCommand).resolves(aTaskDefinition(blueTd, oldImage));
    ecs.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [blueTd] });
    ecs
      .on(RegisterTaskDefinitionCommand)
      .resolves({ taskDefinition: { taskDefinitionArn: greenTd } });
    ecs
      .on(DescribeServicesCommand, { services: ['checkout-a'] })
      .resolvesOnce({ services: [anEcsService('checkout-a', tdArn('checkout', 5), 0)] })
      .resolves({ services: [anEcsService('checkout-a', greenTd, 3)] });
    ecs.on(UpdateServiceCommand).resolves({});
    elbv2.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: healthyTargets(3) });

    const colours = await aTarget().provision(aRelease(), aService());

    expect(colours).toEqual({ blue: 'b', green: 'a' });
    expect(elbv2.commandCalls(ModifyListenerCommand).map((c) => c.args[0].input)).toEqual([
      {
        ListenerArn: testListenerArn,
        DefaultActions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [{ TargetGroupArn: tgA, Weight: 1 }],
              TargetGroupStickinessConfig: { Enabled: false },
            },
          },
        ],
      },
    ]);
    expect(ecs.commandCalls(UpdateServiceCommand)[0]?.args[0].input).toEqual({
      cluster: 'shop',
      service: 'checkout-a',
      taskDefinition: greenTd,
      desiredCount: 3,
    });
  });

  it('reads blue from the listener rule when production goes through one', async () => {
    givenRule(
      ruleArn,
      aForward([
        [tgA, 0],
        [tgB, 1],
      ]),
    );

    elbv2.on(DescribeListenersCommand).rejects(new Error('stop here'));
    await expect(aTarget().provision(aRelease(), aService({ ruleArn }))).rejects.toThrow(
      'stop here',
    );

    expect(sentCommands()).toEqual([
      ['DescribeRulesCommand', { RuleArns: [ruleArn] }],
      ['DescribeListenersCommand', { ListenerArns: [testListenerArn] }],
    ]);
  });

  it('refuses to start when a previous release left the listener split', async () => {
    givenListener(
      listenerArn,
      aForward([
        [tgA, 90],
        [tgB, 10],
      ]),
    );

    const provision = aTarget().provision(aRelease(), aService());

    await expect(provision).rejects.toThrow(TargetStateConflict);
    await expect(provision).rejects.toThrow(
      `Production listener ${listenerArn} splits traffic between checkout-a and checkout-b: a previous release left a split; finish or roll it back first`,
    );
    expect(sentNames()).toEqual(['DescribeListenersCommand']);
  });

  it('refuses a listener that forwards to a target group of neither slot', async () => {
    givenListener(
      listenerArn,
      aForward([
        [tgA, 100],
        [tgStranger, 0],
      ]),
    );

    await expect(aTarget().provision(aRelease(), aService())).rejects.toThrow(
      /forwards to hotfix, which is neither slot's target group/,
    );
  });

  it('refuses a listener whose action is not a forward', async () => {
    givenListener(listenerArn, {
      Type: 'fixed-response',
      FixedResponseConfig: { StatusCode: '503' },
    });

    await expect(aTarget().provision(aRelease(), aService())).rejects.toThrow(TargetStateConflict);
  });

  it('refuses an S3 artifact before calling AWS', async () => {
    const release = aRelease({ artifact: { s3: { bucket: 'artifacts', key: 'checkout.zip' } } });

    await expect(aTarget().provision(release, aService())).rejects.toThrow(GreenProvisionFailed);
    expect(sentCommands()).toEqual([]);
  });

  it("names the containers when blue's task definition has none called containerName", async () => {
    givenBlueOnA();

    await expect(
      aTarget().provision(aRelease(), aService({ containerName: 'api' })),
    ).rejects.toThrow(
      `Blue's task definition ${blueTd} has no container "api" (it has: web, log-router); set "containerName" to the container whose image a release replaces`,
    );
    expect(ecs.commandCalls(RegisterTaskDefinitionCommand)).toHaveLength(0);
  });

  it('refuses to size green from a blue that runs no tasks', async () => {
    givenBlueOnA();
    ecs
      .on(DescribeServicesCommand, { services: ['checkout-a'] })
      .resolves({ services: [anEcsService('checkout-a', blueTd, 0)] });

    await expect(aTarget().provision(aRelease(), aService())).rejects.toThrow(
      'Blue (slot a, ECS service checkout-a) runs no tasks; green is sized like blue, so scale blue up first',
    );
  });

  it('fails at the deadline naming every target that is not healthy and why', async () => {
    givenBlueOnA();
    ecs
      .on(DescribeServicesCommand, { services: ['checkout-b'] })
      .resolves({ services: [anEcsService('checkout-b', greenTd, 2)] });
    elbv2.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [
        { Target: { Id: '10.0.1.5', Port: 8080 }, TargetHealth: { State: 'healthy' } },
        {
          Target: { Id: '10.0.1.6', Port: 8080 },
          TargetHealth: {
            State: 'unhealthy',
            Reason: 'Target.ResponseCodeMismatch',
            Description: 'Health checks failed with these codes: [500]',
          },
        },
      ],
    });

    // Short pauses first, then every 5 s until the deadline.
    const provision = aTarget({ clock: [0, 0, 500, 1_500, 3_500, 8_500, 10_000] }).provision(
      aRelease(),
      aService({ healthyDeadlineSeconds: 10 }),
    );

    await expect(provision).rejects.toThrow(GreenProvisionFailed);
    await expect(provision).rejects.toMatchObject({
      message:
        'Green (slot b, checkout-b) was not healthy within 10s: 1 of 2 targets healthy: 10.0.1.6:8080 unhealthy (Target.ResponseCodeMismatch: Health checks failed with these codes: [500])',
      details: {
        slot: 'b',
        targetGroupArn: tgB,
        taskDefinitionArn: greenTd,
        unhealthy: [
          '10.0.1.6:8080 unhealthy (Target.ResponseCodeMismatch: Health checks failed with these codes: [500])',
        ],
      },
    });
    expect(pauses).toEqual([500, 1000, 2000, 5000, 5000]);
    expect(elbv2.commandCalls(DescribeTargetHealthCommand)).toHaveLength(6);
  });

  it("does not take a warm green's old healthy tasks for the new revision", async () => {
    givenBlueOnA();
    const oldGreen = tdArn('checkout', 5);
    ecs
      .on(DescribeServicesCommand, { services: ['checkout-b'] })
      .resolvesOnce({ services: [anEcsService('checkout-b', oldGreen, 2)] })
      .resolvesOnce({
        services: [
          anEcsService('checkout-b', greenTd, 2, [
            { status: 'PRIMARY', taskDefinition: greenTd, desiredCount: 2, runningCount: 0 },
            { status: 'ACTIVE', taskDefinition: oldGreen, desiredCount: 2, runningCount: 2 },
          ]),
        ],
      })
      .resolves({ services: [anEcsService('checkout-b', greenTd, 2)] });
    elbv2.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: healthyTargets(2) });

    await aTarget().provision(aRelease(), aService());

    expect(elbv2.commandCalls(DescribeTargetHealthCommand)).toHaveLength(2);
    expect(pauses).toEqual([500]);
  });

  it('fails at once when ECS reports the rollout of green failed', async () => {
    givenBlueOnA();
    ecs
      .on(DescribeServicesCommand, { services: ['checkout-b'] })
      .resolvesOnce({ services: [anEcsService('checkout-b', tdArn('checkout', 5), 0)] })
      .resolves({
        services: [
          anEcsService('checkout-b', greenTd, 2, [
            {
              status: 'PRIMARY',
              taskDefinition: greenTd,
              desiredCount: 2,
              runningCount: 0,
              rolloutState: 'FAILED',
              rolloutStateReason: 'ECS deployment circuit breaker: tasks failed to start.',
            },
          ]),
        ],
      });
    elbv2.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });

    await expect(aTarget().provision(aRelease(), aService())).rejects.toThrow(
      `Green (slot b, checkout-b): ECS deployment of ${greenTd} failed: ECS deployment circuit breaker: tasks failed to start.; 0 of 2 targets healthy`,
    );
    expect(pauses).toEqual([]);
  });
});

describe('AlbListenerTarget.test', () => {
  const colours = { blue: 'a', green: 'b' };
  let server: Server;
  let baseUrl: string;
  const hits = new Map<string, number>();

  function hit(path: string): number {
    const count = (hits.get(path) ?? 0) + 1;
    hits.set(path, count);
    return count;
  }

  async function handle(request: IncomingMessage, response: ServerResponse) {
    let body = '';
    for await (const chunk of request) body += chunk;
    const path = request.url ?? '/';
    const count = hit(`${request.method} ${path}`);
    switch (path) {
      case '/health':
        return response.writeHead(200).end('ok');
      case '/ready':
        return response
          .writeHead(200, { 'content-type': 'application/json' })
          .end('{"ready":true}');
      case '/flaky':
        // Passes, passes, fails, then passes for good.
        return response.writeHead(count === 3 ? 500 : 200).end(count === 3 ? 'boom' : 'ok');
      case '/slow':
        setTimeout(() => response.writeHead(200).end('late'), 2_000).unref();
        return;
      case '/down':
        return response.writeHead(503).end('maintenance');
      case '/moved':
        return response.writeHead(302, { location: 'http://blue.invalid/' }).end();
      case '/orders':
        return request.headers['x-smoke'] === '1' && body === '{"sku":"test"}'
          ? response.writeHead(201).end('{"order":"created"}')
          : response.writeHead(400).end('bad request');
      default:
        return response.writeHead(404).end('not found');
    }
  }

  beforeAll(async () => {
    server = createServer((request, response) => void handle(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    hits.clear();
    givenListener(testListenerArn, aPlainForward(tgB));
  });

  function aCheck(overrides: Partial<HttpCheck> = {}): HttpCheck {
    return {
      name: 'check',
      method: 'GET',
      path: '/health',
      headers: {},
      expectStatus: 200,
      ...overrides,
    };
  }

  function smokeService(
    smoke: Partial<AlbListenerTargetConfig['smoke']>,
    target: Partial<AlbListenerTargetConfig> = {},
  ): ServiceConfig {
    return aService({
      testUrl: baseUrl,
      smoke: {
        paths: [],
        checks: [],
        consecutivePasses: 3,
        timeoutMs: 2_000,
        intervalMs: 250,
        ...smoke,
      },
      ...target,
    });
  }

  it('points the test listener at green alone before sending a request', async () => {
    givenListener(testListenerArn, aForward([[tgA, 1]], { TargetGroupArn: tgA, Order: 1 }));
    elbv2.on(ModifyListenerCommand).resolves({});

    const evidence = await aTarget().test(
      aRelease(),
      smokeService({ paths: ['/health'], consecutivePasses: 1 }),
      colours,
    );

    expect(sentCommands()).toEqual([
      ['DescribeListenersCommand', { ListenerArns: [testListenerArn] }],
      [
        'ModifyListenerCommand',
        {
          ListenerArn: testListenerArn,
          DefaultActions: [
            {
              Type: 'forward',
              Order: 1,
              ForwardConfig: {
                TargetGroups: [{ TargetGroupArn: tgB, Weight: 1 }],
                TargetGroupStickinessConfig: { Enabled: false },
              },
            },
          ],
        },
      ],
    ]);
    expect(evidence).toHaveLength(1);
  });

  it('reconciles a test listener rule rather than the listener when one is named', async () => {
    givenRule(
      testRuleArn,
      aForward([
        [tgA, 1],
        [tgB, 1],
      ]),
    );
    elbv2.on(ModifyRuleCommand).resolves({});

    await aTarget().test(aRelease(), smokeService({}, { testRuleArn }), colours);

    expect(sentCommands()).toEqual([
      ['DescribeRulesCommand', { RuleArns: [testRuleArn] }],
      [
        'ModifyRuleCommand',
        {
          RuleArn: testRuleArn,
          Actions: [
            {
              Type: 'forward',
              ForwardConfig: {
                TargetGroups: [{ TargetGroupArn: tgB, Weight: 1 }],
                TargetGroupStickinessConfig: { Enabled: false },
              },
            },
          ],
        },
      ],
    ]);
  });

  it('checks every smoke path and declared check through the test URL, each 3 times in a row', async () => {
    const service = smokeService({
      paths: ['/health', '/ready'],
      checks: [
        aCheck({
          name: 'create order',
          method: 'POST',
          path: '/orders',
          headers: { 'x-smoke': '1', 'content-type': 'application/json' },
          body: '{"sku":"test"}',
          expectStatus: 201,
          bodyIncludes: '"created"',
        }),
      ],
    });

    const evidence = await aTarget().test(aRelease(), service, colours);

    expect(evidence).toEqual([
      {
        name: 'GET /health',
        passed: true,
        statusCode: 200,
        detail: 'passed 3 times in a row (3 tries)',
        durationMs: 0,
      },
      {
        name: 'GET /ready',
        passed: true,
        statusCode: 200,
        detail: 'passed 3 times in a row (3 tries)',
        durationMs: 0,
      },
      {
        name: 'create order',
        passed: true,
        statusCode: 201,
        detail: 'passed 3 times in a row (3 tries)',
        durationMs: 0,
      },
    ]);
    expect(Object.fromEntries(hits)).toEqual({
      'GET /health': 3,
      'GET /ready': 3,
      'POST /orders': 3,
    });
    expect(pauses).toEqual([250, 250, 250, 250, 250, 250]);
    // Already on green: the test listener is left alone.
    expect(sentNames()).toEqual(['DescribeListenersCommand']);
  });

  it('starts the run again after a failure: pass, pass, fail needs three more passes', async () => {
    const evidence = await aTarget({ clock: [1_000, 2_750] }).test(
      aRelease(),
      smokeService({ checks: [aCheck({ name: 'flaky', path: '/flaky' })] }),
      colours,
    );

    expect(evidence).toEqual([
      {
        name: 'flaky',
        passed: true,
        statusCode: 200,
        detail: 'passed 3 times in a row (6 tries)',
        durationMs: 1750,
      },
    ]);
    expect(hits.get('GET /flaky')).toBe(6);
  });

  it('gives up once the passes needed no longer fit in three times as many tries', async () => {
    const [evidence] = await aTarget().test(
      aRelease(),
      smokeService({ checks: [aCheck({ name: 'down', path: '/down' })] }),
      colours,
    );

    expect(evidence).toEqual({
      name: 'down',
      passed: false,
      statusCode: 503,
      detail: 'status 503, expected 200: maintenance; best run 0 of 3 passes in a row over 7 tries',
      durationMs: 0,
    });
    expect(hits.get('GET /down')).toBe(7);
  });

  it('fails a check whose body lacks the expected text', async () => {
    const [evidence] = await aTarget().test(
      aRelease(),
      smokeService({
        consecutivePasses: 1,
        checks: [aCheck({ name: 'ready', path: '/ready', bodyIncludes: '"ready":false' })],
      }),
      colours,
    );

    expect(evidence).toMatchObject({
      passed: false,
      statusCode: 200,
      detail:
        'body does not include "\\"ready\\":false": {"ready":true}; best run 0 of 1 passes in a row over 3 tries',
    });
  });

  it('fails a check that does not answer within its timeout', async () => {
    const [evidence] = await aTarget().test(
      aRelease(),
      smokeService({
        consecutivePasses: 1,
        timeoutMs: 100,
        checks: [aCheck({ name: 'slow', path: '/slow' })],
      }),
      colours,
    );

    expect(evidence).toEqual({
      name: 'slow',
      passed: false,
      detail: 'no response within 100ms; best run 0 of 1 passes in a row over 3 tries',
      durationMs: 0,
    });
  });

  it('checks a redirect as an answer instead of following it', async () => {
    const [evidence] = await aTarget().test(
      aRelease(),
      smokeService({
        consecutivePasses: 1,
        checks: [aCheck({ name: 'moved', path: '/moved', expectStatus: 302 })],
      }),
      colours,
    );

    expect(evidence).toMatchObject({ passed: true, statusCode: 302 });
  });

  it('records an unreachable test listener as failed evidence rather than throwing', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));

    const [evidence] = await aTarget().test(
      aRelease(),
      smokeService(
        { consecutivePasses: 1, paths: ['/health'] },
        { testUrl: `http://127.0.0.1:${port}/` },
      ),
      colours,
    );

    expect(evidence).toEqual({
      name: 'GET /health',
      passed: false,
      detail: `request failed: fetch failed: connect ECONNREFUSED 127.0.0.1:${port}; best run 0 of 1 passes in a row over 3 tries`,
      durationMs: 0,
    });
  });
});

describe('AlbListenerTarget.setGreenPercent', () => {
  const colours = { blue: 'a', green: 'b' };

  it("writes a weighted forward, keeping the forward's stickiness and nothing but the actions", async () => {
    givenListener(
      listenerArn,
      aForward([[tgA, 1]], {
        TargetGroupArn: tgA,
        Order: 1,
        ForwardConfig: {
          TargetGroups: [{ TargetGroupArn: tgA, Weight: 1 }],
          TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 600 },
        },
      }),
    );
    elbv2.on(ModifyListenerCommand).resolves({});

    await aTarget().setGreenPercent(aService(), colours, 10);

    expect(sentCommands()).toEqual([
      ['DescribeListenersCommand', { ListenerArns: [listenerArn] }],
      [
        'ModifyListenerCommand',
        {
          ListenerArn: listenerArn,
          DefaultActions: [
            {
              Type: 'forward',
              Order: 1,
              ForwardConfig: {
                TargetGroups: [
                  { TargetGroupArn: tgA, Weight: 90 },
                  { TargetGroupArn: tgB, Weight: 10 },
                ],
                TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 600 },
              },
            },
          ],
        },
      ],
    ]);
  });

  it("modifies the rule, keeping the rule's other actions", async () => {
    const authenticate: Action = {
      Type: 'authenticate-oidc',
      Order: 1,
      AuthenticateOidcConfig: {
        Issuer: 'https://idp.example.com',
        AuthorizationEndpoint: 'https://idp.example.com/authorize',
        TokenEndpoint: 'https://idp.example.com/token',
        UserInfoEndpoint: 'https://idp.example.com/userinfo',
        ClientId: 'checkout',
      },
    };
    givenRule(
      ruleArn,
      authenticate,
      aForward(
        [
          [tgA, 100],
          [tgB, 0],
        ],
        { Order: 2 },
      ),
    );
    elbv2.on(ModifyRuleCommand).resolves({});

    await aTarget().setGreenPercent(aService({ ruleArn }), colours, 25);

    expect(sentCommands()).toEqual([
      ['DescribeRulesCommand', { RuleArns: [ruleArn] }],
      [
        'ModifyRuleCommand',
        {
          RuleArn: ruleArn,
          Actions: [
            {
              ...authenticate,
              // Describe never returns the secret; without this AWS would ask for it.
              AuthenticateOidcConfig: {
                ...authenticate.AuthenticateOidcConfig,
                UseExistingClientSecret: true,
              },
            },
            aForward(
              [
                [tgA, 75],
                [tgB, 25],
              ],
              { Order: 2 },
            ),
          ],
        },
      ],
    ]);
  });

  it('sends nothing when the listener already splits traffic that way', async () => {
    givenListener(
      listenerArn,
      aForward([
        [tgA, 3],
        [tgB, 1],
      ]),
    );

    await aTarget().setGreenPercent(aService(), colours, 25);

    expect(sentNames()).toEqual(['DescribeListenersCommand']);
  });

  it('uses per-mille weights for a fractional percent', async () => {
    givenListener(listenerArn, aPlainForward(tgA));
    elbv2.on(ModifyListenerCommand).resolves({});

    await aTarget().setGreenPercent(aService(), colours, 12.5);

    expect(
      elbv2.commandCalls(ModifyListenerCommand)[0]?.args[0].input.DefaultActions?.[0]?.ForwardConfig
        ?.TargetGroups,
    ).toEqual([
      { TargetGroupArn: tgA, Weight: 875 },
      { TargetGroupArn: tgB, Weight: 125 },
    ]);
  });

  it('refuses a percent outside 0..100 before calling AWS', async () => {
    await expect(aTarget().setGreenPercent(aService(), colours, 101)).rejects.toThrow(RangeError);
    expect(sentCommands()).toEqual([]);
  });

  it('refuses colours that are not the slots a and b', async () => {
    await expect(
      aTarget().setGreenPercent(aService(), { blue: '7', green: '8' }, 10),
    ).rejects.toThrow(InvalidStepInput);
    await expect(
      aTarget().setGreenPercent(aService(), { blue: 'a', green: 'a' }, 10),
    ).rejects.toThrow(InvalidStepInput);
  });

  it('reports a conflict when the listener forwards to a third target group', async () => {
    givenListener(
      listenerArn,
      aForward([
        [tgA, 90],
        [tgStranger, 10],
      ]),
    );

    await expect(aTarget().setGreenPercent(aService(), colours, 10)).rejects.toThrow(
      TargetStateConflict,
    );
    expect(sentNames()).toEqual(['DescribeListenersCommand']);
  });
});

describe('AlbListenerTarget.finalize', () => {
  const colours = { blue: 'a', green: 'b' };

  it('puts all traffic on green and keeps blue attached at weight 0', async () => {
    givenListener(
      listenerArn,
      aForward([
        [tgA, 50],
        [tgB, 50],
      ]),
    );
    elbv2.on(ModifyListenerCommand).resolves({});

    await aTarget().finalize(aService(), colours);

    expect(elbv2.commandCalls(ModifyListenerCommand).map((c) => c.args[0].input)).toEqual([
      {
        ListenerArn: listenerArn,
        DefaultActions: [
          aForward([
            [tgA, 0],
            [tgB, 100],
          ]),
        ],
      },
    ]);
  });

  it('sends nothing when green already takes all traffic', async () => {
    givenListener(listenerArn, aPlainForward(tgB));

    await aTarget().finalize(aService(), colours);

    expect(sentNames()).toEqual(['DescribeListenersCommand']);
  });
});

describe('AlbListenerTarget.rollback', () => {
  const colours = { blue: 'a', green: 'b' };

  it('puts all traffic back on blue', async () => {
    givenListener(
      listenerArn,
      aForward([
        [tgA, 90],
        [tgB, 10],
      ]),
    );
    elbv2.on(ModifyListenerCommand).resolves({});

    await aTarget().rollback(aService(), colours);

    expect(elbv2.commandCalls(ModifyListenerCommand).map((c) => c.args[0].input)).toEqual([
      {
        ListenerArn: listenerArn,
        DefaultActions: [
          aForward([
            [tgA, 100],
            [tgB, 0],
          ]),
        ],
      },
    ]);
  });

  it('undoes a finalize that already happened', async () => {
    givenListener(
      listenerArn,
      aForward([
        [tgA, 0],
        [tgB, 100],
      ]),
    );
    elbv2.on(ModifyListenerCommand).resolves({});

    await aTarget().rollback(aService(), colours);

    expect(
      elbv2.commandCalls(ModifyListenerCommand)[0]?.args[0].input.DefaultActions?.[0]?.ForwardConfig
        ?.TargetGroups,
    ).toEqual([
      { TargetGroupArn: tgA, Weight: 100 },
      { TargetGroupArn: tgB, Weight: 0 },
    ]);
  });

  it('sends nothing when blue already takes all traffic', async () => {
    givenListener(listenerArn, aPlainForward(tgA));

    await aTarget().rollback(aService(), colours);

    expect(sentNames()).toEqual(['DescribeListenersCommand']);
  });
});

function givenAttributes(targetGroupArn: string, attributes: Record<string, string>) {
  elbv2.on(DescribeTargetGroupAttributesCommand, { TargetGroupArn: targetGroupArn }).resolves({
    Attributes: Object.entries(attributes).map(
      ([Key, Value]): TargetGroupAttribute => ({ Key, Value }),
    ),
  });
}

describe('AlbListenerTarget.warnings', () => {
  const colours = { blue: 'a', green: 'b' };

  it('warns about every kind of stickiness that will hold sessions on a colour', async () => {
    givenListener(
      listenerArn,
      aForward([[tgA, 1]], {
        ForwardConfig: {
          TargetGroups: [{ TargetGroupArn: tgA, Weight: 1 }],
          TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 300 },
        },
      }),
    );
    givenAttributes(tgA, {
      'stickiness.enabled': 'true',
      'stickiness.type': 'lb_cookie',
      'stickiness.lb_cookie.duration_seconds': '3600',
    });
    givenAttributes(tgB, {
      'stickiness.enabled': 'true',
      'stickiness.type': 'app_cookie',
      'stickiness.app_cookie.cookie_name': 'SESSION',
      'stickiness.app_cookie.duration_seconds': '86400',
    });

    const warnings = await aTarget().warnings(aService(), colours);

    expect(warnings).toEqual([
      'Target group stickiness (300s) on the production listener: a client stays on the colour it first reached for up to 300s after each weight change, so neither finalize nor a rollback moves it sooner',
      'Sticky sessions (lb_cookie for 3600s) on checkout-a (blue): its sessions will move to green at finalize (some earlier, as weights shift)',
      'Sticky sessions (app_cookie SESSION for 86400s) on checkout-b (green): sessions that reach green will move back to blue if the release rolls back',
    ]);
    expect(sentCommands()).toEqual([
      ['DescribeListenersCommand', { ListenerArns: [listenerArn] }],
      ['DescribeTargetGroupAttributesCommand', { TargetGroupArn: tgA }],
      ['DescribeTargetGroupAttributesCommand', { TargetGroupArn: tgB }],
    ]);
  });

  it('has nothing to say when nothing is sticky', async () => {
    givenListener(listenerArn, aPlainForward(tgA));
    givenAttributes(tgA, { 'stickiness.enabled': 'false', 'stickiness.type': 'lb_cookie' });
    givenAttributes(tgB, { 'stickiness.enabled': 'false' });

    expect(await aTarget().warnings(aService(), colours)).toEqual([]);
  });
});

describe('AlbListenerTarget drain safety', () => {
  const finalizedAt = new Date('2025-03-01T10:00:00.000Z');

  function givenIdleA(attributes: Record<string, string>, desiredCount = 2) {
    givenListener(
      listenerArn,
      aForward([
        [tgA, 0],
        [tgB, 100],
      ]),
    );
    givenAttributes(tgA, attributes);
    ecs
      .on(DescribeServicesCommand, { services: ['checkout-a'] })
      .resolves({ services: [anEcsService('checkout-a', blueTd, desiredCount)] });
    ecs.on(UpdateServiceCommand).resolves({});
  }

  it('needs the longest of deregistration delay and the stickiness that is on', async () => {
    givenIdleA({
      'deregistration_delay.timeout_seconds': '300',
      'stickiness.enabled': 'true',
      'stickiness.type': 'lb_cookie',
      'stickiness.lb_cookie.duration_seconds': '3600',
    });

    expect(await aTarget().minimumIdleSeconds(aService(), 'a')).toBe(3600);
  });

  it("counts the forward's group stickiness too", async () => {
    givenIdleA({ 'deregistration_delay.timeout_seconds': '300' });
    givenListener(
      listenerArn,
      aForward([[tgB, 1]], {
        ForwardConfig: {
          TargetGroups: [{ TargetGroupArn: tgB, Weight: 1 }],
          TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 7200 },
        },
      }),
    );

    expect(await aTarget().minimumIdleSeconds(aService(), 'a')).toBe(7200);
  });

  it('refuses to scale the idle colour down before its drain time has passed', async () => {
    givenIdleA({ 'deregistration_delay.timeout_seconds': '300' });

    const scaleDown = aTarget().scaleDownIdle(
      aService(),
      'a',
      finalizedAt,
      new Date('2025-03-01T10:04:00.000Z'),
    );

    await expect(scaleDown).rejects.toThrow(IdleColourStillDraining);
    await expect(scaleDown).rejects.toMatchObject({
      name: 'IdleColourStillDraining',
      details: { slot: 'a', notBefore: '2025-03-01T10:05:00.000Z', minimumIdleSeconds: 300 },
    });
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it('scales the idle colour to zero once its drain time has passed', async () => {
    givenIdleA({ 'deregistration_delay.timeout_seconds': '300' });

    await aTarget().scaleDownIdle(
      aService(),
      'a',
      finalizedAt,
      new Date('2025-03-01T10:05:00.000Z'),
    );

    expect(sentCommands()).toEqual([
      ['DescribeListenersCommand', { ListenerArns: [listenerArn] }],
      ['DescribeTargetGroupAttributesCommand', { TargetGroupArn: tgA }],
      ['DescribeServicesCommand', { cluster: 'shop', services: ['checkout-a'] }],
      ['UpdateServiceCommand', { cluster: 'shop', service: 'checkout-a', desiredCount: 0 }],
    ]);
  });

  it('sends nothing when the idle colour is already scaled down', async () => {
    givenIdleA({ 'deregistration_delay.timeout_seconds': '300' }, 0);

    await aTarget().scaleDownIdle(
      aService(),
      'a',
      finalizedAt,
      new Date('2025-03-01T11:00:00.000Z'),
    );

    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it('refuses to scale down a slot that still takes production traffic', async () => {
    givenIdleA({ 'deregistration_delay.timeout_seconds': '300' });
    givenListener(
      listenerArn,
      aForward([
        [tgA, 1],
        [tgB, 99],
      ]),
    );

    await expect(
      aTarget().scaleDownIdle(aService(), 'a', finalizedAt, new Date('2025-03-02T00:00:00.000Z')),
    ).rejects.toThrow('Slot a (checkout-a) still takes 1% of production traffic; it is not idle');
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });
});
