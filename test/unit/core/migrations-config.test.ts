import { describe, expect, it } from 'vitest';
import { ServiceConfig } from '../../../src/core/service-config.ts';
import { aService } from '../../support/builders.ts';

const base = { ...aService() };

describe('ServiceConfig migrations', () => {
  it('takes a Lambda runner and waits 300 s for each answer unless told', () => {
    const parsed = ServiceConfig.parse({
      ...base,
      migrations: { runner: { type: 'lambda', functionName: 'checkout-migrations' } },
    });
    expect(parsed.migrations).toEqual({
      runner: { type: 'lambda', functionName: 'checkout-migrations' },
      timeoutSeconds: 300,
    });
  });

  it.each([
    ['an unknown runner type', { type: 'ecs', taskDefinition: 'migrate' }, 30],
    [
      'a function ARN',
      { type: 'lambda', functionName: 'arn:aws:lambda:eu-west-1:1:function:x' },
      30,
    ],
    ['a wildcard', { type: 'lambda', functionName: 'checkout-*' }, 30],
  ])('refuses %s', (_what, runner, timeoutSeconds) => {
    expect(
      ServiceConfig.safeParse({ ...base, migrations: { runner, timeoutSeconds } }).success,
    ).toBe(false);
  });

  it('refuses a timeout the migrate step cannot wait for, saying why', () => {
    const result = ServiceConfig.safeParse({
      ...base,
      migrations: { runner: { type: 'lambda', functionName: 'm' }, timeoutSeconds: 721 },
    });
    expect(result.error?.issues[0]?.message).toMatch(/inside its own 900 s Lambda timeout/);
  });

  const ecsRunner = {
    type: 'ecs-task',
    cluster: 'shop',
    taskDefinition: 'shop-migrations',
    containerName: 'migrate',
    network: { subnets: ['subnet-0a1b2c3d'], securityGroups: ['sg-0a1b2c3d'] },
    logGroup: '/ecs/shop-migrations',
  };

  it('takes an ECS task runner, no public IP and no roles to pass unless told', () => {
    const parsed = ServiceConfig.parse({ ...base, migrations: { runner: ecsRunner } });
    expect(parsed.migrations?.runner).toEqual({
      ...ecsRunner,
      network: { ...ecsRunner.network, assignPublicIp: false },
      passRoles: [],
    });
  });

  it('takes a pinned task definition revision', () => {
    const runner = { ...ecsRunner, taskDefinition: 'shop-migrations:12' };
    expect(ServiceConfig.safeParse({ ...base, migrations: { runner } }).success).toBe(true);
  });

  it.each([
    [
      'a task definition ARN',
      { taskDefinition: 'arn:aws:ecs:eu-west-1:1:task-definition/m:1' },
      /not an ARN/,
    ],
    ['a wildcard family', { taskDefinition: 'shop-*' }, /not an ARN/],
    ['a wildcard cluster', { cluster: '*' }, /no wildcards/],
    ['a wildcard log group', { logGroup: '/ecs/*' }, /no wildcards/],
    ['no subnet', { network: { subnets: [], securityGroups: ['sg-0a1b2c3d'] } }, /1/],
    [
      'a subnet that is not an id',
      { network: { subnets: ['10.0.0.0/24'], securityGroups: ['sg-0a1b2c3d'] } },
      /subnet id/,
    ],
    ['a role that is not a role ARN', { passRoles: ['shop-task'] }, /IAM role ARN/],
    ['no log group', { logGroup: undefined }, /logGroup|expected string/],
  ])('refuses an ECS task runner with %s, saying why', (_what, change, message) => {
    const result = ServiceConfig.safeParse({
      ...base,
      migrations: { runner: { ...ecsRunner, ...change } },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n')).toMatch(
      message,
    );
  });
});
