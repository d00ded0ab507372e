import {
  DeregisterTargetsCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  InvalidTargetException,
  ModifyListenerCommand,
  type ModifyListenerCommandInput,
  ModifyRuleCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlbListenerTargetConfig } from '../../../src/core/service-config.ts';
import { LocalElbv2 } from '../../../src/local/elbv2/simulator.ts';
import { Elbv2FaultableOperation } from '../../../src/local/elbv2/types.ts';
import { type Endpoint, startEndpoint } from '../../../src/local/endpoint.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const certificateArn =
  'arn:aws:acm:us-east-1:000000000000:certificate/0b5f7e3c-1111-2222-3333-444455556666';

function aWorld(elbv2: LocalElbv2) {
  const { loadBalancerArn } = elbv2.createLoadBalancer({ name: 'shop' });
  const { loadBalancerArn: otherLb } = elbv2.createLoadBalancer({ name: 'other' });
  const tg = (name: string, deregistrationDelaySeconds = 300) =>
    elbv2.createTargetGroup({
      name,
      deregistrationDelaySeconds,
      stickiness: name === 'shop-a',
      stickinessDurationSeconds: 3600,
      healthCheck: { path: '/health', healthyThresholdCount: 2, unhealthyThresholdCount: 2 },
    }).targetGroupArn;
  const a = tg('shop-a');
  const b = tg('shop-b', 1);
  const spare = [tg('spare-1'), tg('spare-2'), tg('spare-3'), tg('spare-4')];
  const foreign = tg('other-tg');
  const { listenerArn } = elbv2.createListener({
    loadBalancerArn,
    port: 443,
    protocol: 'HTTPS',
    certificateArn,
    forward: [{ targetGroupArn: a }],
  });
  const { listenerArn: testListenerArn } = elbv2.createListener({
    loadBalancerArn,
    port: 8443,
    forward: [{ targetGroupArn: b }],
  });
  elbv2.createListener({
    loadBalancerArn: otherLb,
    port: 80,
    forward: [{ targetGroupArn: foreign }],
  });
  const { ruleArn } = elbv2.createRule({
    listenerArn,
    priority: 10,
    pathPatterns: ['/api/*'],
    forward: [{ targetGroupArn: a }],
  });
  return { loadBalancerArn, a, b, spare, foreign, listenerArn, testListenerArn, ruleArn };
}

function weighted(listenerArn: string, groups: [string, number][]): ModifyListenerCommandInput {
  return {
    ListenerArn: listenerArn,
    DefaultActions: [
      {
        Type: 'forward',
        ForwardConfig: {
          TargetGroups: groups.map(([TargetGroupArn, Weight]) => ({ TargetGroupArn, Weight })),
        },
      },
    ],
  };
}

describe('LocalElbv2', () => {
  let elbv2: LocalElbv2;
  let endpoint: Endpoint;
  let client: ElasticLoadBalancingV2Client;
  let world: ReturnType<typeof aWorld>;

  beforeEach(async () => {
    elbv2 = new LocalElbv2();
    world = aWorld(elbv2);
    endpoint = await startEndpoint([elbv2]);
    client = new ElasticLoadBalancingV2Client({
      endpoint: endpoint.url,
      region: 'us-east-1',
      credentials,
      maxAttempts: 1,
    });
  });

  afterEach(async () => {
    client.destroy();
    elbv2.close();
    await endpoint.close();
  });

  it('seeds ARNs in the forms a registered ALB service accepts', () => {
    const config = AlbListenerTargetConfig.parse({
      kind: 'alb-listener',
      listenerArn: world.listenerArn,
      ruleArn: world.ruleArn,
      testListenerArn: world.testListenerArn,
      testUrl: 'http://127.0.0.1:8443',
      slots: {
        a: { targetGroupArn: world.a, ecs: { cluster: 'shop', service: 'shop-a' } },
        b: { targetGroupArn: world.b, ecs: { cluster: 'shop', service: 'shop-b' } },
      },
      containerName: 'web',
      taskDefinitionFamily: 'shop-web',
    });
    expect(config.listenerArn).toBe(world.listenerArn);
  });

  it('describes load balancers, listeners, rules and target groups over awsQuery', async () => {
    const lbs = await client.send(new DescribeLoadBalancersCommand({ Names: ['shop'] }));
    expect(lbs.LoadBalancers?.[0]).toMatchObject({
      LoadBalancerArn: world.loadBalancerArn,
      Type: 'application',
      State: { Code: 'active' },
    });
    const listeners = await client.send(
      new DescribeListenersCommand({ LoadBalancerArn: world.loadBalancerArn }),
    );
    expect(listeners.Listeners?.map((l) => l.Port)).toEqual([443, 8443]);
    expect(listeners.Listeners?.[0]?.DefaultActions).toEqual([
      {
        Type: 'forward',
        TargetGroupArn: world.a,
        ForwardConfig: {
          TargetGroups: [{ TargetGroupArn: world.a, Weight: 1 }],
          TargetGroupStickinessConfig: { Enabled: false },
        },
      },
    ]);
    const rules = await client.send(new DescribeRulesCommand({ ListenerArn: world.listenerArn }));
    expect(rules.Rules?.map((r) => [r.Priority, r.IsDefault])).toEqual([
      ['10', false],
      ['default', true],
    ]);
    const groups = await client.send(
      new DescribeTargetGroupsCommand({ LoadBalancerArn: world.loadBalancerArn }),
    );
    expect(groups.TargetGroups?.map((g) => g.TargetGroupName)).toEqual(['shop-a', 'shop-b']);
    expect(groups.TargetGroups?.[0]).toMatchObject({
      HealthCheckPath: '/health',
      HealthyThresholdCount: 2,
      LoadBalancerArns: [world.loadBalancerArn],
      TargetType: 'ip',
    });
    const attributes = await client.send(
      new DescribeTargetGroupAttributesCommand({ TargetGroupArn: world.a }),
    );
    expect(attributes.Attributes).toEqual(
      expect.arrayContaining([
        { Key: 'deregistration_delay.timeout_seconds', Value: '300' },
        { Key: 'stickiness.enabled', Value: 'true' },
        { Key: 'stickiness.lb_cookie.duration_seconds', Value: '3600' },
      ]),
    );
  });

  it('sets a weighted forward and changes nothing else of the listener', async () => {
    const modified = await client.send(
      new ModifyListenerCommand({
        ...weighted(world.listenerArn, [
          [world.a, 90],
          [world.b, 10],
        ]),
      }),
    );
    expect(modified.Listeners?.[0]).toMatchObject({
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: certificateArn }],
      SslPolicy: 'ELBSecurityPolicy-2016-08',
    });
    expect(elbv2.weightsOf(world.listenerArn)).toEqual({ [world.a]: 90, [world.b]: 10 });
    const described = await client.send(
      new DescribeListenersCommand({ ListenerArns: [world.listenerArn] }),
    );
    expect(described.Listeners?.[0]?.DefaultActions?.[0]).toEqual({
      Type: 'forward',
      ForwardConfig: {
        TargetGroups: [
          { TargetGroupArn: world.a, Weight: 90 },
          { TargetGroupArn: world.b, Weight: 10 },
        ],
        TargetGroupStickinessConfig: { Enabled: false },
      },
    });
  });

  it('keeps target group stickiness given in the forward config', async () => {
    await client.send(
      new ModifyListenerCommand({
        ListenerArn: world.listenerArn,
        DefaultActions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: world.a, Weight: 0 },
                { TargetGroupArn: world.b, Weight: 999 },
              ],
              TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 600 },
            },
          },
        ],
      }),
    );
    const described = await client.send(
      new DescribeListenersCommand({ ListenerArns: [world.listenerArn] }),
    );
    expect(described.Listeners?.[0]?.DefaultActions?.[0]?.ForwardConfig).toMatchObject({
      TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 600 },
    });
  });

  it.each([
    [1000, 'The weight for each target group must be between 0 and 999, inclusive'],
    [-1, 'The weight for each target group must be between 0 and 999, inclusive'],
  ])(
    'rejects weight %i with ValidationError and leaves the listener as it was',
    async (weight, message) => {
      const rejected = client.send(
        new ModifyListenerCommand(
          weighted(world.listenerArn, [
            [world.a, 1],
            [world.b, weight],
          ]),
        ),
      );
      await expect(rejected).rejects.toMatchObject({ name: 'ValidationError', message });
      expect(elbv2.weightsOf(world.listenerArn)).toEqual({ [world.a]: 1 });
    },
  );

  it('rejects more than 5 target groups in one forward action', async () => {
    const six = [world.a, world.b, ...world.spare].map((arn): [string, number] => [arn, 1]);
    expect(six).toHaveLength(6);
    await expect(
      client.send(new ModifyListenerCommand(weighted(world.listenerArn, six))),
    ).rejects.toMatchObject({ name: 'ValidationError' });
    await client.send(new ModifyListenerCommand(weighted(world.listenerArn, six.slice(0, 5))));
    expect(Object.keys(elbv2.weightsOf(world.listenerArn))).toHaveLength(5);
  });

  it('modifies a rule’s actions and keeps its conditions', async () => {
    const modified = await client.send(
      new ModifyRuleCommand({
        RuleArn: world.ruleArn,
        Actions: [
          {
            Type: 'forward',
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: world.a, Weight: 50 },
                { TargetGroupArn: world.b, Weight: 50 },
              ],
            },
          },
        ],
      }),
    );
    expect(modified.Rules?.[0]?.Conditions).toEqual([
      { Field: 'path-pattern', PathPatternConfig: { Values: ['/api/*'] } },
    ]);
    expect(elbv2.weightsOf(world.ruleArn)).toEqual({ [world.a]: 50, [world.b]: 50 });
    expect(
      elbv2.routeFor(world.listenerArn, { path: '/api/x', host: 'h', method: 'GET' }),
    ).toMatchObject({ type: 'forward', ruleArn: world.ruleArn });
    expect(
      elbv2.routeFor(world.listenerArn, { path: '/', host: 'h', method: 'GET' }),
    ).toMatchObject({
      type: 'forward',
      targetGroups: [{ arn: world.a, weight: 1 }],
    });
  });

  it('applies a change whose response was lost, so a retry finds it done', async () => {
    elbv2.failNextResponse(Elbv2FaultableOperation.ModifyListener);
    const input = weighted(world.listenerArn, [
      [world.a, 0],
      [world.b, 1],
    ]);
    await expect(client.send(new ModifyListenerCommand(input))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 500 },
    });
    expect(elbv2.weightsOf(world.listenerArn)).toEqual({ [world.a]: 0, [world.b]: 1 });
    await client.send(new ModifyListenerCommand(input));
    expect(elbv2.weightsOf(world.listenerArn)).toEqual({ [world.a]: 0, [world.b]: 1 });
  });

  describe('target health', () => {
    const target = { Id: '127.0.0.1', Port: 40001 };
    const ref = { id: '127.0.0.1', port: 40001 };

    async function health(targetGroupArn: string) {
      const answer = await client.send(
        new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }),
      );
      return answer.TargetHealthDescriptions?.map((d) => d.TargetHealth);
    }

    it('goes initial → healthy after N passing checks, unhealthy after M failures', async () => {
      await client.send(new RegisterTargetsCommand({ TargetGroupArn: world.a, Targets: [target] }));
      expect(await health(world.a)).toEqual([
        {
          State: 'initial',
          Reason: 'Elb.RegistrationInProgress',
          Description: 'Target registration is in progress',
        },
      ]);
      elbv2.recordHealthCheck(world.a, ref, { ok: true, status: 200 });
      expect((await health(world.a))?.[0]?.Reason).toBe('Elb.InitialHealthChecking');
      elbv2.recordHealthCheck(world.a, ref, { ok: true, status: 200 });
      expect(await health(world.a)).toEqual([{ State: 'healthy' }]);
      expect(elbv2.hasHealthyTarget(world.a)).toBe(true);
      elbv2.recordHealthCheck(world.a, ref, { ok: false, status: 503 });
      expect((await health(world.a))?.[0]?.State).toBe('healthy');
      elbv2.recordHealthCheck(world.a, ref, { ok: false, status: 503 });
      expect(await health(world.a)).toEqual([
        {
          State: 'unhealthy',
          Reason: 'Target.ResponseCodeMismatch',
          Description: 'Health checks failed with these codes: [503]',
        },
      ]);
      expect(elbv2.leaseTarget(world.a)).toBeUndefined();
    });

    it('reports targets of a group no listener uses as unused, and unknown targets as not registered', async () => {
      await client.send(
        new RegisterTargetsCommand({ TargetGroupArn: world.spare[0], Targets: [target] }),
      );
      expect(await health(world.spare[0] as string)).toEqual([
        {
          State: 'unused',
          Reason: 'Target.NotInUse',
          Description: 'Target group is not configured to receive traffic from the load balancer',
        },
      ]);
      expect(elbv2.healthCheckJobs().map((job) => job.targetGroupArn)).not.toContain(
        world.spare[0],
      );
      const asked = await client.send(
        new DescribeTargetHealthCommand({ TargetGroupArn: world.a, Targets: [target] }),
      );
      expect(asked.TargetHealthDescriptions?.[0]?.TargetHealth).toMatchObject({
        State: 'unused',
        Reason: 'Target.NotRegistered',
      });
    });

    it('drains a deregistered target until its in-flight request ends', async () => {
      await client.send(new RegisterTargetsCommand({ TargetGroupArn: world.a, Targets: [target] }));
      elbv2.recordHealthCheck(world.a, ref, { ok: true });
      elbv2.recordHealthCheck(world.a, ref, { ok: true });
      const lease = elbv2.leaseTarget(world.a);
      expect(lease).toMatchObject(ref);
      await client.send(
        new DeregisterTargetsCommand({ TargetGroupArn: world.a, Targets: [target] }),
      );
      expect(await health(world.a)).toEqual([
        {
          State: 'draining',
          Reason: 'Target.DeregistrationInProgress',
          Description: 'Target deregistration is in progress',
        },
      ]);
      expect(elbv2.leaseTarget(world.a)).toBeUndefined();
      lease?.release();
      expect(await health(world.a)).toEqual([]);
    });

    it('ends draining after the deregistration delay even with a request still in flight', async () => {
      await client.send(new RegisterTargetsCommand({ TargetGroupArn: world.b, Targets: [target] }));
      elbv2.recordHealthCheck(world.b, ref, { ok: true });
      elbv2.recordHealthCheck(world.b, ref, { ok: true });
      const lease = elbv2.leaseTarget(world.b);
      const gone = new Promise<number>((resolve) => {
        const started = performance.now();
        elbv2.onChange((change) => {
          if (change.type === 'deregistered') resolve(performance.now() - started);
        });
      });
      await client.send(
        new DeregisterTargetsCommand({ TargetGroupArn: world.b, Targets: [target] }),
      );
      expect(await gone).toBeGreaterThanOrEqual(900);
      lease?.release();
    });

    it('rejects deregistering a target that is not registered with InvalidTarget', async () => {
      await expect(
        client.send(new DeregisterTargetsCommand({ TargetGroupArn: world.a, Targets: [target] })),
      ).rejects.toBeInstanceOf(InvalidTargetException);
    });
  });
});
