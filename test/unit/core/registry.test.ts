import { describe, expect, it } from 'vitest';
import { findService, parseServiceRegistry } from '../../../src/core/registry.ts';
import { aService } from '../../support/builders.ts';
import { aReadmeAlbService } from '../../support/registry-of-size.ts';

const checkoutInput = {
  name: 'checkout',
  target: { kind: 'lambda-alias', functionName: 'checkout', alias: 'live' },
  strategies: { canary: { type: 'canary', percent: 10, bakeSeconds: 60 } },
  defaultStrategy: 'canary',
};

function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error('expected a throw');
}

describe('parseServiceRegistry', () => {
  it('returns the services with defaults filled in when the input is valid', () => {
    const [service] = parseServiceRegistry([checkoutInput]);

    expect(service).toMatchObject({
      name: 'checkout',
      alarms: [],
      tests: [],
      approval: { type: 'none' },
      // Fifteen minutes warm: long enough to roll back in one switch, short enough to pay little.
      warmWindowSeconds: 900,
      lockPolicy: 'queue',
    });
    expect(service?.target).toMatchObject({ kind: 'lambda-alias', keepVersions: 3 });
  });

  it('lists every problem with its path in one message', () => {
    const message = messageOf(() =>
      parseServiceRegistry([
        {
          ...checkoutInput,
          target: { kind: 'lambda-alias', functionName: 'arn:aws:lambda:x', alias: 'live' },
          lockPolicy: 'later',
        },
        { ...checkoutInput, name: 'Payments' },
      ]),
    );

    expect(message).toContain('Service registry is invalid (3 problems)');
    expect(message).toContain(
      'services[0].target.functionName: must be a function name, not an ARN',
    );
    expect(message).toContain(
      'services[0].lockPolicy: must be one of "queue", "supersede", "reject"',
    );
    expect(message).toContain('services[1].name: must be 1-40 characters');
  });

  it('says a missing field is required', () => {
    const { defaultStrategy: _omitted, ...withoutDefault } = checkoutInput;

    expect(messageOf(() => parseServiceRegistry([withoutDefault]))).toContain(
      'services[0].defaultStrategy: is required (expected string)',
    );
  });

  it('names an unknown field and says to remove it', () => {
    expect(messageOf(() => parseServiceRegistry([{ ...checkoutInput, alarm: ['x'] }]))).toContain(
      'services[0].alarm: is not a known field; remove it or fix its spelling',
    );
  });

  it('lists the strategy types when the type is unknown', () => {
    expect(
      messageOf(() =>
        parseServiceRegistry([
          { ...checkoutInput, strategies: { canary: { type: 'blue-green', percent: 10 } } },
        ]),
      ),
    ).toContain(
      'services[0].strategies.canary.type: must be one of "all-at-once", "canary", "linear", "steps"',
    );
  });

  it('says how to fix a default strategy that names no strategy', () => {
    expect(
      messageOf(() => parseServiceRegistry([{ ...checkoutInput, defaultStrategy: 'linear' }])),
    ).toContain(
      'services[0].defaultStrategy: names no strategy of "checkout"; add it under "strategies" or pick one of: canary',
    );
  });

  it('caps an ALB health deadline at what fits in the provision step, and says why', () => {
    const arn = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012';
    const shop = (healthyDeadlineSeconds: number) => ({
      ...checkoutInput,
      name: 'shop',
      target: {
        kind: 'alb-listener',
        listenerArn: `${arn}:listener/app/shop/0123456789abcdef/1111111111111111`,
        testListenerArn: `${arn}:listener/app/shop/0123456789abcdef/2222222222222222`,
        testUrl: 'http://internal-shop.example:8443',
        slots: {
          a: {
            targetGroupArn: `${arn}:targetgroup/shop-a/aaaaaaaaaaaaaaaa`,
            ecs: { cluster: 'shop', service: 'shop-a' },
          },
          b: {
            targetGroupArn: `${arn}:targetgroup/shop-b/bbbbbbbbbbbbbbbb`,
            ecs: { cluster: 'shop', service: 'shop-b' },
          },
        },
        containerName: 'web',
        taskDefinitionFamily: 'shop-web',
        healthyDeadlineSeconds,
      },
    });

    expect(parseServiceRegistry([shop(780)])[0]?.target).toMatchObject({
      healthyDeadlineSeconds: 780,
    });
    expect(messageOf(() => parseServiceRegistry([shop(781)]))).toContain(
      "services[0].target.healthyDeadlineSeconds: must be at most 780: green's health is awaited inside the provision step, which the workflow stops after 900s",
    );
  });

  it('rejects a service registered twice', () => {
    expect(messageOf(() => parseServiceRegistry([checkoutInput, checkoutInput]))).toContain(
      'services[1].name: service "checkout" is registered twice',
    );
  });

  it('rejects explicit steps that do not increase', () => {
    expect(
      messageOf(() =>
        parseServiceRegistry([
          {
            ...checkoutInput,
            strategies: {
              canary: { type: 'canary', percent: 10, bakeSeconds: 60 },
              careful: {
                type: 'steps',
                steps: [
                  { percent: 50, bakeSeconds: 60 },
                  { percent: 25, bakeSeconds: 60 },
                ],
              },
            },
          },
        ]),
      ),
    ).toContain('services[0].strategies.careful: steps must increase');
  });

  it('fills in a Slack approval’s defaults: a day to decide, reject on timeout, before traffic moves', () => {
    const [service] = parseServiceRegistry([
      {
        ...checkoutInput,
        approval: { type: 'slack', channel: 'C0RELEASES', approvers: ['U0DANA'] },
      },
    ]);

    expect(service?.approval).toEqual({
      type: 'slack',
      channel: 'C0RELEASES',
      approvers: ['U0DANA'],
      approverGroups: [],
      timeoutSeconds: 86_400,
      onTimeout: 'reject',
      stages: ['before-shift'],
    });
  });

  it('refuses a Slack approval that names nobody, or people by name instead of Slack id', () => {
    const message = messageOf(() =>
      parseServiceRegistry([
        { ...checkoutInput, approval: { type: 'slack', channel: 'C0RELEASES' } },
        {
          ...checkoutInput,
          name: 'payments',
          approval: { type: 'slack', channel: 'C0RELEASES', approvers: ['dana'] },
          strategies: {
            canary: {
              type: 'canary',
              percent: 10,
              bakeSeconds: 60,
              approval: { type: 'slack', channel: 'C0', approverGroups: ['S0OPS'], stages: [] },
            },
          },
        },
      ]),
    );

    expect(message).toContain(
      'services[0].approval.approvers: names nobody who may decide; list Slack user ids',
    );
    expect(message).toContain(
      'services[1].approval.approvers[0]: must be a Slack user id like U024BE7LH',
    );
    expect(message).toContain(
      'services[1].strategies.canary.approval.stages: must have at least 1',
    );
  });

  it('keeps a mapping of AWS principals to approvers for the command line', () => {
    const principals = [
      { arn: 'arn:aws:iam::123456789012:user/dana', approver: 'U0DANA' },
      { arn: 'arn:aws:iam::123456789012:role/aws-reserved/Releasers', approver: 'U0DANA' },
      {
        arn: 'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Leads_0a1b/lee@example.com',
        approver: 'U0LEE',
      },
    ];
    const [service] = parseServiceRegistry([
      {
        ...checkoutInput,
        approval: {
          type: 'slack',
          channel: 'C0RELEASES',
          approvers: ['U0DANA', 'U0LEE'],
          principals,
        },
      },
    ]);

    expect(service?.approval).toMatchObject({ principals });
  });

  it('refuses principal mappings with wildcards, roots, repeats or approvers nobody listed', () => {
    const message = messageOf(() =>
      parseServiceRegistry([
        {
          ...checkoutInput,
          approval: {
            type: 'slack',
            channel: 'C0RELEASES',
            approvers: ['U0DANA'],
            principals: [
              { arn: 'arn:aws:iam::123456789012:role/*', approver: 'U0DANA' },
              { arn: 'arn:aws:sts::123456789012:assumed-role/Releasers/*', approver: 'U0DANA' },
              { arn: 'arn:aws:iam::123456789012:root', approver: 'U0DANA' },
              { arn: 'arn:aws:iam::123456789012:user/dana', approver: 'U0DANA' },
              { arn: 'arn:aws:iam::123456789012:user/dana', approver: 'U0DANA' },
              { arn: 'arn:aws:iam::123456789012:user/eve', approver: 'U0EVE' },
              { arn: 'arn:aws:iam::123456789012:user/sam', approver: 'sam' },
            ],
          },
        },
      ]),
    );

    for (const i of [0, 1, 2]) {
      expect(message).toContain(
        `services[0].approval.principals[${i}].arn: must be an IAM user ARN (arn:aws:iam::123456789012:user/dana), an IAM role ARN`,
      );
    }
    expect(message).toContain(
      'services[0].approval.principals[4].arn: maps arn:aws:iam::123456789012:user/dana a second time',
    );
    expect(message).toContain(
      'services[0].approval.principals[5].approver: maps to U0EVE, who is not listed under "approvers"',
    );
    expect(message).toContain(
      'services[0].approval.principals[6].approver: must be a Slack user id like U024BE7LH',
    );
  });

  it('reads a gate alarm given by name as one that must watch green, and keeps an explicit scope', () => {
    const [service] = parseServiceRegistry([
      {
        ...checkoutInput,
        alarms: ['checkout-errors-green', { name: 'checkout-errors', scope: 'service' }],
      },
    ]);

    expect(service?.alarms).toEqual([
      { name: 'checkout-errors-green', scope: 'green' },
      { name: 'checkout-errors', scope: 'service' },
    ]);
    // Parsed again (the registry travels in the functions' environment), it stays the same.
    expect(parseServiceRegistry(JSON.parse(JSON.stringify([service])))[0]?.alarms).toEqual(
      service?.alarms,
    );
  });

  it('refuses an alarm scope it does not know', () => {
    expect(
      messageOf(() =>
        parseServiceRegistry([
          { ...checkoutInput, alarms: [{ name: 'checkout-errors', scope: 'blue' }] },
        ]),
      ),
    ).toContain('services[0].alarms[0].scope must be one of "green", "service"');
  });

  it('refuses two metric gates of the same name', () => {
    const gate = { name: 'errors', metric: 'error-rate', max: 1 };
    expect(
      messageOf(() => parseServiceRegistry([{ ...checkoutInput, metricGates: [gate, gate] }])),
    ).toContain(
      'services[0].metricGates[1].name: metric gate "errors" is listed twice; give each gate its own name',
    );
  });

  it('refuses a gate that only compares with blue under a strategy that leaves blue no traffic', () => {
    const message = messageOf(() =>
      parseServiceRegistry([
        {
          ...checkoutInput,
          strategies: {
            ...checkoutInput.strategies,
            now: { type: 'all-at-once', bakeSeconds: 60 },
          },
          metricGates: [{ name: 'errors', metric: 'error-rate', maxAboveBlue: 1 }],
        },
      ]),
    );

    expect(message).toContain(
      'services[0].metricGates[0]: gate "errors" only compares green with blue (maxAboveBlue), but strategy "now" moves all traffic at once, leaving blue nothing to compare; add "max" or remove that strategy',
    );
  });

  it('refuses artifact buckets and key prefixes that would widen IAM', () => {
    const withArtifacts = (artifacts: object) => () =>
      parseServiceRegistry([{ ...checkoutInput, artifacts }]);

    expect(messageOf(withArtifacts({ s3Buckets: ['***'] }))).toContain(
      'services[0].artifacts.s3Buckets[0]: must be a valid S3 bucket name',
    );
    for (const prefix of ['checkout', 'check*/', '/checkout/', 'a?/']) {
      expect(
        messageOf(withArtifacts({ s3Buckets: ['acme-artifacts'], s3KeyPrefix: prefix })),
      ).toContain('services[0].artifacts.s3KeyPrefix: must be a key prefix ending in "/"');
    }
    const [service] = parseServiceRegistry([
      {
        ...checkoutInput,
        artifacts: { s3Buckets: ['acme-artifacts'], s3KeyPrefix: 'teams/checkout/' },
      },
    ]);
    expect(service?.artifacts.s3KeyPrefix).toBe('teams/checkout/');
  });

  it('refuses names that would widen IAM: wildcard alarms, ECS names and ECR repositories', () => {
    const lambdaWith = (changes: object) => () =>
      parseServiceRegistry([{ ...checkoutInput, ...changes }]);
    expect(messageOf(lambdaWith({ alarms: ['*'] }))).toContain(
      'services[0].alarms[0]: must be an alarm name without the IAM wildcards * and ?',
    );
    expect(messageOf(lambdaWith({ alarms: [{ name: 'checkout-?', scope: 'service' }] }))).toContain(
      'without the IAM wildcards',
    );
    expect(
      messageOf(
        lambdaWith({ artifacts: { imageRepositories: ['*.dkr.ecr.eu-west-1.amazonaws.com/*'] } }),
      ),
    ).toContain('must be an ECR repository URI without tag');
    const alb = aReadmeAlbService('shop');
    const slots = (alb.target as { slots: { a: object; b: object } }).slots;
    const withSlotA = (ecs: object) => () =>
      parseServiceRegistry([
        { ...alb, target: { ...alb.target, slots: { ...slots, a: { ...slots.a, ecs } } } },
      ]);
    expect(messageOf(withSlotA({ cluster: '*', service: '*' }))).toContain(
      'services[0].target.slots.a.ecs.cluster: must be 1-255 letters, digits, "-" or "_" (no wildcards)',
    );
  });

  it('reads a default strategy by own property: "constructor" names no strategy', () => {
    expect(
      messageOf(() => parseServiceRegistry([{ ...checkoutInput, defaultStrategy: 'constructor' }])),
    ).toContain('services[0].defaultStrategy: names no strategy of "checkout"');
  });

  it('says the registry must be a list when it is not', () => {
    expect(messageOf(() => parseServiceRegistry({ checkout: checkoutInput }))).toContain(
      'services: expected array, received object',
    );
  });
});

describe('findService', () => {
  it('returns the service with that name', () => {
    const payments = aService({ name: 'payments' });

    expect(findService([aService(), payments], 'payments')).toBe(payments);
  });

  it('returns undefined when no service has that name', () => {
    expect(findService([aService()], 'payments')).toBeUndefined();
  });
});
