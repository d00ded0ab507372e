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
    ['an ECS task runner (not built yet)', { type: 'ecs', taskDefinition: 'migrate' }, 30],
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
});
