import { LambdaClient, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPlan } from '../../src/cli/connect.ts';
import { ExitCode } from '../../src/cli/exit-codes.ts';
import { runPlanCommand } from '../../src/cli/plan-command.ts';
import type { ReleasePlan } from '../../src/core/plan.ts';
import type { DemoShop } from '../../src/local/data-plane/local-alb.ts';
import { demoShopService } from '../../src/local/demo-registry.ts';
import {
  type GreenlightLocal,
  LocalNames,
  startGreenlightLocal,
} from '../../src/local/greenlight-local.ts';
import { eventually } from '../support/eventually.ts';
import { aContext } from '../unit/cli/fixtures.ts';
import { aLambdaService } from './local-release.ts';

// `greenlight plan` against the local cloud over real HTTP: the same clients and adapters as
// against AWS, reading the registry table, the Lambda, ELBv2, ECS and CloudWatch simulators.
const ready = aLambdaService('planned');
const latest = aLambdaService('on-latest');
const unalarmed = aLambdaService('unalarmed');
// Approved in a channel the bot sees; its updates go to one the local Slack does not know.
const approved = aLambdaService('approved');
approved.service.approval = {
  type: 'slack',
  channel: 'C0RELEASES',
  approvers: ['U0LEAD'],
  timeoutSeconds: 3600,
};
approved.service.updates = { channel: 'C0NOBOTHERE' };
let shop: DemoShop;
let local: GreenlightLocal;

beforeAll(async () => {
  local = await startGreenlightLocal({
    retryIntervalMs: 10,
    services: [ready.service, latest.service, unalarmed.service, approved.service],
    functions: [ready.fn, latest.fn, unalarmed.fn, approved.fn],
    // `unalarmed` names an alarm nobody created.
    alarms: [ready.alarm, latest.alarm, approved.alarm],
    slackChannels: { releases: 'C0RELEASES' },
    seedAlb: async (alb) => {
      shop = await alb.seedDemoShop({ name: 'shop', desiredCount: 1 });
      return { services: [demoShopService(shop)], alarms: [shop.targetErrorsAlarm] };
    },
  });
  const lambda = new LambdaClient(local.clientConfig);
  try {
    await lambda.send(
      new UpdateAliasCommand({
        FunctionName: 'on-latest',
        Name: 'live',
        FunctionVersion: '$LATEST',
      }),
    );
  } finally {
    lambda.destroy();
  }
}, 60_000);

afterAll(async () => {
  await local?.close();
});

async function plan(...argv: string[]) {
  return planWith({}, ...argv);
}

async function planWith(env: Record<string, string>, ...argv: string[]) {
  const { context, out, err } = aContext(env);
  const code = await runPlanCommand(argv, context, (options, env, now) =>
    connectPlan({ ...options, endpointUrl: local.url, region: LocalNames.region }, env, now),
  );
  return { code, out, err };
}

async function planJson(...argv: string[]) {
  const { code, out } = await plan(...argv, '--json');
  return { code, plan: JSON.parse(out.join('\n')) as ReleasePlan };
}

/**
 * The plan once every check passes, or the last failing checks on timeout: a local alarm has
 * no state until the simulator first evaluates it, which a plan right after start may precede.
 */
async function readyPlan(...argv: string[]) {
  let last: Awaited<ReturnType<typeof planJson>> | undefined;
  return eventually(
    async () => {
      last = await planJson(...argv);
      return last.code === ExitCode.Finalized ? last : undefined;
    },
    { what: () => `a passing plan; last checks: ${JSON.stringify(last?.plan.checks)}` },
  );
}

describe('greenlight plan against the local cloud', () => {
  it('passes a wired Lambda service and prints what its release would do', async () => {
    const { code, plan: json } = await readyPlan('--service', 'planned', '--version', '1.1.0');
    expect(code).toBe(ExitCode.Finalized);
    expect(json).toMatchObject({
      service: 'planned',
      version: '1.1.0',
      strategy: 'canary',
      ok: true,
      colours: { blue: '1', green: '2' },
      steps: [
        { index: 0, weight: 10, bakeSeconds: 1, approxSeconds: 1 },
        { index: 1, weight: 100, bakeSeconds: 0, approxSeconds: 0 },
      ],
      gates: { alarms: [{ name: 'planned-errors', scope: 'service' }], metricGates: [] },
      approval: { type: 'none' },
      warmWindowSeconds: 900,
      idleCost: { hourlyUsd: 0 },
    });
    expect(json.checks.map((c) => c.check)).toEqual([
      'registry',
      'strategy',
      'alias planned:live',
      'live version',
      '$LATEST not routed',
      'no split',
      'artifact',
      'alarm planned-errors',
    ]);

    const human = await plan(
      '--service',
      'planned',
      '--version',
      '1.1.0',
      '--s3',
      's3://greenlight-demo-artifacts/checkout/1.1.0.zip',
    );
    expect(human.code).toBe(ExitCode.Finalized);
    expect(human.out).toContain('  1. 10% on green, bake 1s');
    expect(human.out).toContain('  2. 100% on green, no bake');
    expect(human.out).toContain('Blue is 1; green would be 2.');
    expect(human.out.at(-1)).toBe('Ready: every check passed.');
  });

  it('passes a wired ALB service: listeners, target groups, both ECS services, task family', async () => {
    const { code, plan: json } = await readyPlan('--service', 'shop');
    expect(code).toBe(ExitCode.Finalized);
    expect(json.colours).toEqual({ blue: 'a', green: 'b' });
    expect(json.checks.filter((c) => !c.ok)).toEqual([]);
    expect(json.checks.map((c) => c.check)).toEqual([
      'registry',
      'strategy',
      'production listener',
      'test listener',
      'target group a',
      'target group b',
      'ECS service a',
      'ECS service b',
      'task family',
      'artifact',
      `alarm ${shop.targetErrorsAlarm.AlarmName}`,
      // Not asked here (no SLACK_BOT_TOKEN), so it passes as "not checked".
      'updates channel C0DEPLOYS',
    ]);
    expect(json.idleCost?.basis).toContain('1 task');
    expect(json.warmWindowSeconds).toBe(3600);

    const human = await plan('--service', 'shop', '--strategy', 'all-at-once');
    expect(human.code).toBe(ExitCode.Finalized);
    expect(human.out).toContain('  1. 100% on green, bake 2s');
    expect(
      human.out.some((l) =>
        l.startsWith('Warm window: blue stays warm 1h00m after finalize, costing'),
      ),
    ).toBe(true);
  });

  it('exits 9 and names what is wrong: $LATEST routed, a missing alarm, an unknown service', async () => {
    const onLatest = await planJson('--service', 'on-latest');
    expect(onLatest.code).toBe(ExitCode.NotReady);
    expect(onLatest.plan.checks.filter((c) => !c.ok).map((c) => c.check)).toEqual([
      'live version',
      '$LATEST not routed',
    ]);

    const missing = await plan('--service', 'unalarmed');
    expect(missing.code).toBe(ExitCode.NotReady);
    expect(missing.out).toContain(
      `  FAIL  alarm unalarmed-errors: unalarmed-errors does not exist: create it in CloudWatch or remove it from the service's "alarms"`,
    );
    expect(missing.out.at(-1)).toBe('Not ready: 1 check failed; a release now would fail.');

    const wrongImage = await planJson('--service', 'shop', '--image', 'registry.example/shop:2');
    expect(wrongImage.code).toBe(ExitCode.NotReady);
    expect(wrongImage.plan.checks.filter((c) => !c.ok).map((c) => c.check)).toEqual(['artifact']);

    const unknown = await planJson('--service', 'nobody');
    expect(unknown.code).toBe(ExitCode.NotReady);
    expect(unknown.plan.checks).toEqual([
      expect.objectContaining({ check: 'registry', ok: false }),
    ]);
  });

  describe('the artifact', () => {
    const artifactChecks = (json: ReleasePlan) =>
      json.checks.filter((c) => c.check.startsWith('artifact'));

    it('reads an S3 artifact from a listed bucket with HeadObject, and passes when it is there', async () => {
      const { code, plan: json } = await readyPlan(
        '--service',
        'planned',
        '--s3',
        's3://greenlight-demo-artifacts/checkout/1.1.0.zip',
      );
      expect(code).toBe(ExitCode.Finalized);
      expect(artifactChecks(json)).toEqual([
        {
          check: 'artifact',
          ok: true,
          detail:
            's3://greenlight-demo-artifacts/checkout/1.1.0.zip is from an artifact source of planned',
        },
        {
          check: 'artifact readable',
          ok: true,
          detail: expect.stringMatching(
            /^s3:\/\/greenlight-demo-artifacts\/checkout\/1\.1\.0\.zip is readable \(HeadObject: \d+ bytes\)$/,
          ),
        },
      ]);
    });

    it('exits 9 for a missing object, naming it, and prints it as a failed check', async () => {
      const missing = 's3://greenlight-demo-artifacts/checkout/9.9.9.zip';
      const { code, plan: json } = await planJson('--service', 'planned', '--s3', missing);
      expect(code).toBe(ExitCode.NotReady);
      expect(json.ok).toBe(false);
      const failing = json.checks.filter((c) => !c.ok);
      expect(failing.map((c) => c.check)).toContain('artifact readable');
      expect(failing.find((c) => c.check === 'artifact readable')?.detail).toMatch(
        /^s3:\/\/greenlight-demo-artifacts\/checkout\/9\.9\.9\.zip does not exist \(HeadObject: 404 Not Found\)/,
      );

      const human = await plan('--service', 'planned', '--s3', missing);
      expect(human.code).toBe(ExitCode.NotReady);
      expect(
        human.out.some((l) => l.startsWith(`  FAIL  artifact readable: ${missing} does not exist`)),
      ).toBe(true);
    });

    it('exits 9 for a bucket the service does not list, without reading it', async () => {
      const { code, plan: json } = await planJson(
        '--service',
        'planned',
        '--s3',
        's3://someone-elses-bucket/checkout/1.1.0.zip',
      );
      expect(code).toBe(ExitCode.NotReady);
      expect(artifactChecks(json)).toEqual([
        {
          check: 'artifact',
          ok: false,
          detail: expect.stringContaining(
            'bucket "someone-elses-bucket" is not an artifact source of "planned"',
          ),
        },
      ]);
    });

    it('reads an image with ECR DescribeImages: there, or not', async () => {
      const readable = await readyPlan(
        '--service',
        'shop',
        '--image',
        `${shop.imageRepository}:1.1.0`,
      );
      expect(artifactChecks(readable.plan)).toEqual([
        expect.objectContaining({ check: 'artifact', ok: true }),
        {
          check: 'artifact readable',
          ok: true,
          detail: expect.stringMatching(/ exists \(DescribeImages: sha256:[a-f0-9]{64}\)$/),
        },
      ]);

      const missing = await planJson(
        '--service',
        'shop',
        '--image',
        `${shop.imageRepository}:9.9.9`,
      );
      expect(missing.code).toBe(ExitCode.NotReady);
      expect(missing.plan.checks.find((c) => c.check === 'artifact readable')).toEqual({
        check: 'artifact readable',
        ok: false,
        detail: `${shop.imageRepository}:9.9.9 does not exist: no image 9.9.9 in repository shop-web (ImageNotFoundException); push it first`,
      });
    });
  });

  it('asks the local Slack whether the bot sees the approval and updates channels', async () => {
    const slackEnv = {
      SLACK_BOT_TOKEN: LocalNames.slackBotToken,
      SLACK_API_URL: `${local.url}/api/`,
    };
    const channelChecks = (json: ReleasePlan) =>
      json.checks.filter((c) => c.check.includes('channel'));

    let last: ReleasePlan | undefined;
    const asked = await eventually(
      async () => {
        const { code, out } = await planWith(slackEnv, '--service', 'approved', '--json');
        last = JSON.parse(out.join('\n')) as ReleasePlan;
        // Only the updates channel may fail: the alarm may still be without state at first.
        const failing = last.checks.filter((c) => !c.ok).map((c) => c.check);
        return failing.join() === 'updates channel C0NOBOTHERE' ? { code, plan: last } : undefined;
      },
      { what: () => `only the updates channel failing; last: ${JSON.stringify(last?.checks)}` },
    );
    expect(asked.code).toBe(ExitCode.NotReady);
    expect(channelChecks(asked.plan)).toEqual([
      {
        check: 'approval channel C0RELEASES',
        ok: true,
        detail: '#releases (C0RELEASES) is visible to the bot',
      },
      {
        check: 'updates channel C0NOBOTHERE',
        ok: false,
        detail: expect.stringMatching(/^channel_not_found: /),
      },
    ]);
    expect(
      local.slack.calls.filter((c) => c.method === 'conversations.info').map((c) => c.params),
    ).toContainEqual({ channel: 'C0RELEASES' });

    const { plan: unasked } = await planJson('--service', 'approved');
    expect(channelChecks(unasked).map((c) => [c.ok, c.detail])).toEqual([
      [true, expect.stringContaining('not checked: no SLACK_BOT_TOKEN')],
      [true, expect.stringContaining('not checked: no SLACK_BOT_TOKEN')],
    ]);
  });

  it('changes nothing: the alias is where it was', async () => {
    await plan('--service', 'planned');
    expect(local.lambda.describe('planned').alias).toMatchObject({ version: '1', weights: {} });
  });
});
