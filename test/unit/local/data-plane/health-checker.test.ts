import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HealthChecker, matches } from '../../../../src/local/data-plane/health-checker.ts';
import { LocalElbv2 } from '../../../../src/local/elbv2/simulator.ts';
import { eventually } from '../../../support/eventually.ts';

describe('matches', () => {
  it.each([
    ['200', 200, true],
    ['200', 204, false],
    ['200,204', 204, true],
    ['200-299', 299, true],
    ['200-299', 301, false],
  ])('%s with %i is %s', (matcher, status, expected) => {
    expect(matches(matcher, status)).toBe(expected);
  });
});

describe('HealthChecker', () => {
  let server: Server;
  let port: number;
  let healthStatus: number;
  let checks: string[];
  let elbv2: LocalElbv2;
  let targetGroupArn: string;

  beforeEach(async () => {
    healthStatus = 200;
    checks = [];
    server = createServer((req, res) => {
      checks.push(`${req.method} ${req.url} ${req.headers['user-agent']}`);
      res.writeHead(healthStatus).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    elbv2 = new LocalElbv2();
    const { loadBalancerArn } = elbv2.createLoadBalancer({ name: 'lb' });
    targetGroupArn = elbv2.createTargetGroup({
      name: 'tg',
      healthCheck: { path: '/health', healthyThresholdCount: 2, unhealthyThresholdCount: 3 },
    }).targetGroupArn;
    elbv2.createListener({ loadBalancerArn, port: 80, forward: [{ targetGroupArn }] });
    elbv2.registerTarget(targetGroupArn, { id: '127.0.0.1', port });
  });

  afterEach(async () => {
    elbv2.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const state = () => elbv2.targetHealth(targetGroupArn)[0];

  it('makes a target healthy after N real passes and unhealthy after M real failures', async () => {
    const checker = new HealthChecker({ elbv2, intervalMs: 10 });
    await checker.checkAll();
    expect(state()).toMatchObject({ state: 'initial', reason: 'Elb.InitialHealthChecking' });
    await checker.checkAll();
    expect(state()?.state).toBe('healthy');
    expect(checks[0]).toBe('GET /health ELB-HealthChecker/2.0');

    healthStatus = 500;
    await checker.checkAll();
    await checker.checkAll();
    expect(state()?.state).toBe('healthy');
    await checker.checkAll();
    expect(state()).toMatchObject({
      state: 'unhealthy',
      reason: 'Target.ResponseCodeMismatch',
      description: 'Health checks failed with these codes: [500]',
    });
    checker.close();
  });

  it('checks on its own every interval once started, and stops when closed', async () => {
    const checker = new HealthChecker({ elbv2, intervalMs: 10 });
    checker.start();
    await eventually(() => (state()?.state === 'healthy' ? true : undefined), {
      what: () => `the target to turn healthy; it is ${JSON.stringify(state())}`,
      intervalMs: 10,
    });
    checker.close();
    const seen = checks.length;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(checks.length - seen).toBeLessThanOrEqual(1);
  });

  it('reports a target that does not answer as failing', async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    server = createServer();
    const checker = new HealthChecker({ elbv2, intervalMs: 10 });
    for (let i = 0; i < 3; i += 1) await checker.checkAll();
    expect(state()).toMatchObject({ state: 'unhealthy', reason: 'Target.FailedHealthChecks' });
  });
});
