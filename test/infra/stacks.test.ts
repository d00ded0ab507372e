import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { operatorRulePattern } from '../../src/core/operator-command.ts';
import { LifecycleEventType } from '../../src/core/phases.ts';
import {
  alarmRulePattern,
  releaseRulePattern,
  releaseUpdatesRulePattern,
} from '../../src/core/release-rule.ts';
import { type GreenlightDeployConfig, parseDeployConfig } from '../../src/infra/deploy-config.ts';
import { GreenlightFunction, SlackFunctions } from '../../src/infra/functions.ts';
import { allowedActions, type PolicyDocument, wildcardActions } from '../../src/infra/iam.ts';
import { greenlightNames } from '../../src/infra/names.ts';
import { sweeperSchedule, wildcardResourceExceptions } from '../../src/infra/orchestration.ts';
import {
  calledActions,
  functionGrants,
  functionPolicy,
  IamScope,
  resourcesOf,
} from '../../src/infra/permissions.ts';
import { StageTagKey } from '../../src/infra/stage-tag.ts';
import { matchesPattern } from '../../src/local/event-pattern.ts';
import { buildReleaseDefinition, ReleaseFunction } from '../../workflows/release.ts';
import { aReleaseEvent } from '../support/builders.ts';
import {
  arnTemplates,
  type RecordedResource,
  type RecordedStacks,
  recordStacks,
  stackAccount,
  stackLocation,
  stackRegion,
  stackStage,
} from './stack-recorder.ts';

/** What the stacks declare, recorded under Pulumi's mocks (stack-recorder.ts). */

const region = stackRegion;
const account = stackAccount;
const stage = stackStage;
const names = greenlightNames(stage);

const elb = `arn:aws:elasticloadbalancing:${region}:${account}`;
const shopArns = {
  listener: `${elb}:listener/app/shop/0123456789abcdef/1111111111111111`,
  testListener: `${elb}:listener/app/shop/0123456789abcdef/2222222222222222`,
  groupA: `${elb}:targetgroup/shop-a/aaaaaaaaaaaaaaaa`,
  groupB: `${elb}:targetgroup/shop-b/bbbbbbbbbbbbbbbb`,
  taskRole: `arn:aws:iam::${account}:role/shop-task`,
  services: [
    `arn:aws:ecs:${region}:${account}:service/shop/shop-a`,
    `arn:aws:ecs:${region}:${account}:service/shop/shop-b`,
  ],
  family: `arn:aws:ecs:${region}:${account}:task-definition/shop-web:*`,
};

const config: GreenlightDeployConfig = {
  services: [
    {
      name: 'checkout',
      target: { kind: 'lambda-alias', functionName: 'checkout', alias: 'live' },
      strategies: { canary: { type: 'canary', percent: 10, bakeSeconds: 60 } },
      defaultStrategy: 'canary',
      artifacts: {
        s3Buckets: ['acme-artifacts'],
        s3KeyPrefix: 'checkout/',
        imageRepositories: [`${account}.dkr.ecr.${region}.amazonaws.com/checkout`],
      },
      alarms: ['checkout-errors'],
      approval: { type: 'slack', channel: 'C0RELEASES', approvers: ['U0DANA'] },
      metricGates: [{ name: 'errors', metric: 'error-rate', maxAboveBlue: 1 }],
    },
    {
      name: 'shop',
      target: {
        kind: 'alb-listener',
        listenerArn: shopArns.listener,
        testListenerArn: shopArns.testListener,
        testUrl: 'http://internal-shop.example:8443',
        slots: {
          a: { targetGroupArn: shopArns.groupA, ecs: { cluster: 'shop', service: 'shop-a' } },
          b: { targetGroupArn: shopArns.groupB, ecs: { cluster: 'shop', service: 'shop-b' } },
        },
        containerName: 'web',
        taskDefinitionFamily: 'shop-web',
        passRoles: [shopArns.taskRole],
      },
      strategies: { canary: { type: 'canary', percent: 10, bakeSeconds: 60 } },
      defaultStrategy: 'canary',
      // ECS pulls the image with the task's execution role: nothing for greenlight to read.
      artifacts: { imageRepositories: [`${account}.dkr.ecr.${region}.amazonaws.com/shop-web`] },
      alarms: ['shop-target-5xx'],
    },
  ],
  ci: { principals: [`arn:aws:iam::${account}:role/greenlight-ci`] },
  operators: { principals: [`arn:aws:iam::${account}:role/greenlight-operators`] },
};

describe('greenlight stacks (Pulumi mocks)', () => {
  let stacks: RecordedStacks;
  const ofType = (type: string) => stacks.ofType(type);
  const one = (type: string, name: string | undefined) => stacks.one(type, name);
  /** The Lambda permission that lets something invoke `fn`: one per function at most. */
  const permissionFor = (fn: GreenlightFunction) => {
    const found = ofType('aws:lambda/permission:Permission').filter(
      (r) => r.inputs.function === names.functionName(fn),
    );
    expect(found).toHaveLength(1);
    return found[0] as RecordedResource;
  };
  const policyOf = (resource: RecordedResource, field = 'policy') =>
    stacks.policyOf(resource, field);

  beforeAll(async () => {
    stacks = await recordStacks(config);
  }, 240_000);

  const roleArn = (name: string) => `arn:aws:iam::${account}:role/${name}`;
  /** The inline policy of the role with this name. */
  const rolePolicy = (roleName: string): PolicyDocument => {
    const found = ofType('aws:iam/rolePolicy:RolePolicy').filter((p) => p.inputs.role === roleName);
    expect(found, `inline policies of ${roleName}`).toHaveLength(1);
    return policyOf(found[0] as RecordedResource);
  };
  const allPolicies = (): [string, PolicyDocument][] => [
    ...stacks.resources
      .filter((r) => typeof r.inputs.policy === 'string')
      .map((r): [string, PolicyDocument] => [`${r.type} ${r.name}`, policyOf(r)]),
    ...ofType('aws:iam/role:Role').map((r): [string, PolicyDocument] => [
      `trust of ${r.name}`,
      policyOf(r, 'assumeRolePolicy'),
    ]),
  ];

  it('starts the state machine from the rule for v1 release events and nothing else', () => {
    const rule = one('aws:cloudwatch/eventRule:EventRule', names.releaseRule);
    expect(rule.inputs.eventBusName).toBe(names.bus);
    const pattern = JSON.parse(String(rule.inputs.eventPattern)) as object;
    expect(pattern).toEqual(releaseRulePattern);
    expect(matchesPattern(aReleaseEvent(), pattern)).toBe(true);
    // A malformed v1 detail still reaches the workflow, which rejects it with reasons.
    expect(matchesPattern(aReleaseEvent({ schemaVersion: 2 }), pattern)).toBe(true);
    for (const detailType of Object.values(LifecycleEventType)) {
      const lifecycle = aReleaseEvent({}, { source: 'greenlight', 'detail-type': detailType });
      expect(matchesPattern(lifecycle, pattern), detailType).toBe(false);
    }
    for (const other of ['Release requested', 'Deployment Requested', 'Object Created']) {
      const event = aReleaseEvent({}, { 'detail-type': other });
      expect(matchesPattern(event, pattern), other).toBe(false);
    }

    const targets = ofType('aws:cloudwatch/eventTarget:EventTarget').filter(
      (t) => t.inputs.rule === names.releaseRule,
    );
    expect(targets).toHaveLength(1);
    const machineArn = `arn:aws:states:${region}:${account}:stateMachine:${names.stateMachine}`;
    expect(targets[0]?.inputs).toMatchObject({
      rule: names.releaseRule,
      eventBusName: names.bus,
      arn: machineArn,
      roleArn: roleArn(names.roleName('release-rule')),
      deadLetterConfig: { arn: `arn:aws:sqs:${region}:${account}:${names.deadLetterQueue}` },
    });
    expect(rolePolicy(names.roleName('release-rule')).Statement).toEqual([
      expect.objectContaining({ Action: ['states:StartExecution'], Resource: [machineArn] }),
    ]);
    const queuePolicy = policyOf(ofType('aws:sqs/queuePolicy:QueuePolicy')[0] as RecordedResource);
    const ruleArn = (name: string) =>
      String(
        arnTemplates['aws:cloudwatch/eventRule:EventRule']?.(name, { eventBusName: names.bus }),
      );
    expect(queuePolicy.Statement[0]).toMatchObject({
      Principal: { Service: 'events.amazonaws.com' },
      Action: ['sqs:SendMessage'],
      Condition: {
        ArnEquals: {
          'aws:SourceArn': [
            ruleArn(names.operatorRule),
            ruleArn(names.releaseRule),
            ruleArn(names.releaseUpdatesRule),
            `arn:aws:events:${region}:${account}:rule/${names.alarmRule}`,
          ].sort(),
        },
      },
    });
  });

  it('hands Operator Command events to the operator function, and nothing else', () => {
    const rule = one('aws:cloudwatch/eventRule:EventRule', names.operatorRule);
    expect(rule.inputs.eventBusName).toBe(names.bus);
    const pattern = JSON.parse(String(rule.inputs.eventPattern)) as object;
    expect(pattern).toEqual(operatorRulePattern);
    expect(matchesPattern(aReleaseEvent({}, { 'detail-type': 'Operator Command' }), pattern)).toBe(
      true,
    );
    expect(matchesPattern(aReleaseEvent(), pattern)).toBe(false);
    const functionArn = `arn:aws:lambda:${region}:${account}:function:${names.functionName(GreenlightFunction.Operator)}`;
    const [target] = ofType('aws:cloudwatch/eventTarget:EventTarget').filter(
      (t) => t.inputs.rule === names.operatorRule,
    );
    expect(target?.inputs).toMatchObject({
      eventBusName: names.bus,
      arn: functionArn,
      deadLetterConfig: { arn: `arn:aws:sqs:${region}:${account}:${names.deadLetterQueue}` },
    });
    expect(target?.inputs.roleArn).toBeUndefined();
    expect(permissionFor(GreenlightFunction.Operator).inputs).toMatchObject({
      action: 'lambda:InvokeFunction',
      function: names.functionName(GreenlightFunction.Operator),
      principal: 'events.amazonaws.com',
      sourceArn: `arn:aws:events:${region}:${account}:rule/${names.bus}/${names.operatorRule}`,
    });
  });

  it('hands alarms’ ALARM changes on the default bus to the alarm-event function, whatever the registry', () => {
    const rule = one('aws:cloudwatch/eventRule:EventRule', names.alarmRule);
    // The default bus: CloudWatch puts its state changes there, never on greenlight's bus.
    expect(rule.inputs.eventBusName).toBeUndefined();
    const pattern = JSON.parse(String(rule.inputs.eventPattern)) as object;
    // No alarm names: a service applied later needs no deploy for its alarms to reach bakes,
    // and the pattern stays within PutRule's 4,096 characters for any registry.
    expect(pattern).toEqual(alarmRulePattern);
    const change = (alarmName: string, value: string) => ({
      source: 'aws.cloudwatch',
      'detail-type': 'CloudWatch Alarm State Change',
      detail: { alarmName, state: { value } },
    });
    expect(matchesPattern(change('shop-target-5xx', 'ALARM'), pattern)).toBe(true);
    expect(matchesPattern(change('shop-target-5xx', 'OK'), pattern)).toBe(false);
    expect(matchesPattern(change('applied-later-errors', 'ALARM'), pattern)).toBe(true);
    const ruleArn = `arn:aws:events:${region}:${account}:rule/${names.alarmRule}`;
    const [target] = ofType('aws:cloudwatch/eventTarget:EventTarget').filter(
      (t) => t.inputs.rule === names.alarmRule,
    );
    expect(target?.inputs).toMatchObject({
      arn: `arn:aws:lambda:${region}:${account}:function:${names.functionName(GreenlightFunction.AlarmEvent)}`,
      deadLetterConfig: { arn: `arn:aws:sqs:${region}:${account}:${names.deadLetterQueue}` },
    });
    expect(target?.inputs.eventBusName).toBeUndefined();
    expect(permissionFor(GreenlightFunction.AlarmEvent).inputs).toMatchObject({
      action: 'lambda:InvokeFunction',
      principal: 'events.amazonaws.com',
      sourceArn: ruleArn,
    });
  });

  it("hands greenlight's own lifecycle events to the release-updates function, and not CI's", () => {
    const rule = one('aws:cloudwatch/eventRule:EventRule', names.releaseUpdatesRule);
    expect(rule.inputs.eventBusName).toBe(names.bus);
    const pattern = JSON.parse(String(rule.inputs.eventPattern)) as object;
    expect(pattern).toEqual(releaseUpdatesRulePattern);
    const lifecycle = (source: string, detailType: string) => ({
      source,
      'detail-type': detailType,
      detail: { releaseId: 'r', service: 'checkout', phase: 'Shifting', reason: '' },
    });
    expect(matchesPattern(lifecycle('greenlight', 'Traffic Shifted'), pattern)).toBe(true);
    expect(matchesPattern(lifecycle('greenlight', 'Idle Colour Torn Down'), pattern)).toBe(true);
    expect(matchesPattern(lifecycle('greenlight.ci', 'Traffic Shifted'), pattern)).toBe(false);
    // A request refused before it became a release has no release id, so no thread.
    expect(matchesPattern(lifecycle('greenlight', 'Release Rejected'), pattern)).toBe(true);
    const { releaseId: _none, ...refused } = lifecycle('greenlight', 'Release Rejected').detail;
    expect(
      matchesPattern(
        { source: 'greenlight', 'detail-type': 'Release Rejected', detail: refused },
        pattern,
      ),
    ).toBe(false);
    expect(matchesPattern(aReleaseEvent(), pattern)).toBe(false);
    const [target] = ofType('aws:cloudwatch/eventTarget:EventTarget').filter(
      (t) => t.inputs.rule === names.releaseUpdatesRule,
    );
    expect(target?.inputs).toMatchObject({
      eventBusName: names.bus,
      arn: `arn:aws:lambda:${region}:${account}:function:${names.functionName(GreenlightFunction.ReleaseUpdates)}`,
      deadLetterConfig: { arn: `arn:aws:sqs:${region}:${account}:${names.deadLetterQueue}` },
    });
    expect(permissionFor(GreenlightFunction.ReleaseUpdates).inputs).toMatchObject({
      action: 'lambda:InvokeFunction',
      principal: 'events.amazonaws.com',
      sourceArn: `arn:aws:events:${region}:${account}:rule/${names.bus}/${names.releaseUpdatesRule}`,
    });
  });

  it('deploys the built workflow definition with the real function ARNs', () => {
    const machine = one('aws:sfn/stateMachine:StateMachine', names.stateMachine);
    const functionArns = Object.fromEntries(
      Object.values(ReleaseFunction).map((fn) => [
        fn,
        `arn:aws:lambda:${region}:${account}:function:${names.functionName(fn)}`,
      ]),
    ) as Record<ReleaseFunction, string>;
    expect(JSON.parse(String(machine.inputs.definition))).toEqual(
      buildReleaseDefinition({ functionArns }),
    );
    expect(machine.inputs).toMatchObject({
      type: 'STANDARD',
      roleArn: roleArn(names.roleName('release')),
      tracingConfiguration: { enabled: true },
      // States' data holds task tokens: out of the log by default (deploy-config.test.ts).
      loggingConfiguration: {
        level: 'ALL',
        includeExecutionData: false,
        logDestination: `arn:aws:logs:${region}:${account}:log-group:${names.stateMachineLogGroup}:*`,
      },
    });
    const invoke = rolePolicy(names.roleName('release')).Statement.find((s) =>
      s.Action.includes('lambda:InvokeFunction'),
    );
    expect(invoke?.Resource).toEqual(
      Object.values(functionArns)
        .flatMap((arn) => [arn, `${arn}:*`])
        .sort(),
    );
  });

  it('deploys every function as a nodejs24.x ESM minified function, the AWS SDK left to the runtime, with its environment and own role', () => {
    expect([...stacks.functions.keys()].sort()).toEqual(
      Object.values(GreenlightFunction)
        .map((fn) => names.functionName(fn))
        .sort(),
    );
    for (const fn of Object.values(GreenlightFunction)) {
      const args = stacks.functions.get(names.functionName(fn)) ?? {};
      const handlerFile = fileURLToPath(new URL(`../../functions/${fn}.ts`, import.meta.url));
      expect(existsSync(handlerFile), handlerFile).toBe(true);
      expect(args).toMatchObject({
        handler: `functions/${fn}.handler`,
        runtime: 'nodejs24.x',
        nodejs: { format: 'esm', minify: true, esbuild: { external: ['@aws-sdk/*'] } },
        role: roleArn(names.roleName(fn)),
        environment: {
          GREENLIGHT_LEDGER_TABLE: names.ledgerTable,
          GREENLIGHT_IDEMPOTENCY_TABLE: names.idempotencyTable,
          GREENLIGHT_BUS_NAME: names.bus,
          GREENLIGHT_REGISTRY_TABLE: names.registryTable,
          GREENLIGHT_SCHEDULE_GROUP: names.scheduleGroup,
          GREENLIGHT_SCHEDULER_ROLE_ARN: roleArn(names.roleName('scheduler')),
          GREENLIGHT_TEARDOWN_FUNCTION_ARN: `arn:aws:lambda:${region}:${account}:function:${names.functionName('teardown')}`,
          POWERTOOLS_SERVICE_NAME: 'greenlight',
          POWERTOOLS_LOG_LEVEL: 'INFO',
        },
      });
      expect(args.link, 'SST link grants dynamodb:*').toBeUndefined();
      const environment = args.environment as Record<string, string>;
      expect(environment.SLACK_BOT_TOKEN, fn).toBe(
        SlackFunctions.has(fn) ? 'value of SlackBotToken' : undefined,
      );
      expect(environment.SLACK_SIGNING_SECRET, fn).toBe(
        fn === GreenlightFunction.SlackInteractions ? 'value of SlackSigningSecret' : undefined,
      );
      expect(args.url, fn).toEqual(
        fn === GreenlightFunction.SlackInteractions
          ? { authorization: 'none', cors: false }
          : undefined,
      );
      // Only migrate ships a file beside its bundle: PostgreSQL's parser, as a .wasm file.
      expect(args.copyFiles, fn).toEqual(
        fn === GreenlightFunction.Migrate
          ? [{ from: 'node_modules/libpg-query/wasm/libpg-query.wasm', to: 'libpg-query.wasm' }]
          : undefined,
      );
    }
    // The runner's calls and blue's tests: Lambda's maximum, as the Migrate state allows.
    expect(stacks.functions.get(names.functionName(GreenlightFunction.Migrate))?.timeout).toBe(
      '900 seconds',
    );
  });

  it('requires the Slack secrets when a service asks for Slack approval', () => {
    expect([...stacks.secrets.entries()].sort()).toEqual([
      ['SlackBotToken', undefined],
      ['SlackSigningSecret', undefined],
    ]);
  });

  it('gives each function exactly the actions of its row in the permissions table', () => {
    const ctx = {
      at: stackLocation,
      names,
      registry: parseDeployConfig(config, names).registry,
      scope: IamScope.Tag,
    };
    for (const fn of Object.values(GreenlightFunction)) {
      const policy = rolePolicy(names.roleName(fn));
      // Less the grants on what no registered service has (shop forwards through listeners
      // only, so no ModifyRule).
      const table = new Set(
        functionGrants[fn]
          .filter((grant) => resourcesOf(grant.on, fn, ctx).length > 0)
          .flatMap((grant) => grant.actions),
      );
      expect([...allowedActions(policy)].sort(), fn).toEqual([...table].sort());
    }
  });

  /** greenlight's own resources, which its roles name by ARN in either IAM scope. */
  const ownResources = [
    `arn:aws:dynamodb:${region}:${account}:table/${names.ledgerTable}`,
    `arn:aws:dynamodb:${region}:${account}:table/${names.idempotencyTable}`,
    `arn:aws:dynamodb:${region}:${account}:table/${names.registryTable}`,
    `arn:aws:events:${region}:${account}:event-bus/${names.bus}`,
    `arn:aws:scheduler:${region}:${account}:schedule/${names.scheduleGroup}/*`,
    roleArn(names.roleName('scheduler')),
    `arn:aws:states:${region}:${account}:execution:${names.stateMachine}:*`,
    ...Object.values(GreenlightFunction).map(
      (fn) => `arn:aws:logs:${region}:${account}:log-group:${names.functionLogGroup(fn)}:*`,
    ),
  ];

  it('lets functions touch greenlight’s own resources, and services’ only if tagged for the stage', () => {
    const tagged = new Map([
      [`arn:aws:lambda:${region}:${account}:function:*`, 'aws:ResourceTag'],
      [`arn:aws:lambda:${region}:${account}:function:*:*`, 'aws:ResourceTag'],
      [`arn:aws:cloudwatch:${region}:${account}:alarm:*`, 'aws:ResourceTag'],
      [`arn:aws:elasticloadbalancing:${region}:${account}:listener/app/*`, 'aws:ResourceTag'],
      [`arn:aws:ecs:${region}:${account}:service/*`, 'aws:ResourceTag'],
      [`arn:aws:ecs:${region}:${account}:task-definition/*`, 'aws:RequestTag'],
      [`arn:aws:iam::${account}:role/*`, 'aws:ResourceTag'],
      ['arn:aws:s3:::*/*', 'aws:ResourceTag'],
      [`arn:aws:ecr:${region}:*:repository/*`, 'aws:ResourceTag'],
    ]);
    const seen = new Set<string>();
    for (const fn of Object.values(GreenlightFunction)) {
      for (const statement of rolePolicy(names.roleName(fn)).Statement) {
        for (const resource of statement.Resource) {
          // "*" only for actions without resource types (checked in the next test).
          if (resource === '*' || ownResources.includes(resource)) continue;
          const key = tagged.get(resource);
          expect(key, `${fn} ${statement.Sid}: ${resource}`).toBeDefined();
          expect(statement.Condition?.StringEquals?.[`${key}/${StageTagKey}`], fn).toBe(stage);
          seen.add(resource);
        }
      }
    }
    expect([...seen].sort()).toEqual([...tagged.keys()].sort());
  });

  it('conditions provisioning’s ECS writes on the stage tag, and tags green’s revision on creation only', () => {
    const statementOf = (fn: ReleaseFunction, action: string) =>
      rolePolicy(names.roleName(fn)).Statement.find((statement) =>
        statement.Action.includes(action),
      );
    const provision = ReleaseFunction.ProvisionGreen;
    const onTagged = { StringEquals: { [`aws:ResourceTag/${StageTagKey}`]: stage } };
    expect(statementOf(provision, 'ecs:UpdateService')).toMatchObject({
      Resource: [`arn:aws:ecs:${region}:${account}:service/*`],
      Condition: onTagged,
    });
    const revisions = `arn:aws:ecs:${region}:${account}:task-definition/*`;
    expect(statementOf(provision, 'ecs:RegisterTaskDefinition')).toMatchObject({
      Resource: [revisions],
      Condition: { StringEquals: { [`aws:RequestTag/${StageTagKey}`]: stage } },
    });
    expect(statementOf(provision, 'ecs:TagResource')).toMatchObject({
      Resource: [revisions],
      Condition: {
        StringEquals: {
          'ecs:CreateAction': 'RegisterTaskDefinition',
          [`aws:RequestTag/${StageTagKey}`]: stage,
        },
      },
    });
    expect(statementOf(provision, 'iam:PassRole')).toMatchObject({
      Resource: [`arn:aws:iam::${account}:role/*`],
      Condition: {
        StringEquals: {
          'iam:PassedToService': 'ecs-tasks.amazonaws.com',
          [`aws:ResourceTag/${StageTagKey}`]: stage,
        },
      },
    });
    const sids = rolePolicy(names.roleName(provision)).Statement.map((statement) => statement.Sid);
    expect(new Set(sids).size).toBe(sids.length);
  });

  it('puts the stage tag on none of greenlight’s own resources', () => {
    const tagsOf = (inputs: Record<string, unknown>) =>
      Object.keys((inputs.tags ?? {}) as Record<string, string>).map((key) => key.toLowerCase());
    for (const resource of stacks.resources) {
      expect(tagsOf(resource.inputs), `${resource.type} ${resource.name}`).not.toContain(
        StageTagKey,
      );
    }
    for (const [name, args] of stacks.functions) {
      expect(tagsOf(args), name).not.toContain(StageTagKey);
    }
  });

  describe('in the IAM scope "arn"', () => {
    const ctx = () => ({
      at: stackLocation,
      names,
      registry: parseDeployConfig(config, names).registry,
      scope: IamScope.Arn,
    });
    const policyOfFn = (fn: GreenlightFunction) => functionPolicy(fn, ctx());

    it('lets functions touch only the registered services’ and greenlight’s own resources', () => {
      const allowed = [
        `arn:aws:lambda:${region}:${account}:function:checkout`,
        `arn:aws:lambda:${region}:${account}:function:checkout:*`,
        `arn:aws:cloudwatch:${region}:${account}:alarm:checkout-errors`,
        `arn:aws:cloudwatch:${region}:${account}:alarm:shop-target-5xx`,
        shopArns.listener,
        shopArns.testListener,
        ...shopArns.services,
        shopArns.family,
        shopArns.taskRole,
        'arn:aws:s3:::acme-artifacts/checkout/*',
        `arn:aws:ecr:${region}:${account}:repository/checkout`,
        ...ownResources,
      ];
      for (const fn of Object.values(GreenlightFunction)) {
        for (const statement of policyOfFn(fn).Statement) {
          for (const resource of statement.Resource) {
            if (resource === '*') continue;
            expect(allowed, fn).toContain(resource);
          }
          expect(JSON.stringify(statement.Condition ?? {}), fn).not.toContain(StageTagKey);
        }
      }
    });

    it('scopes ALB writes: the test listener for provisioning and tests, the production one for traffic', () => {
      const statementOf = (fn: ReleaseFunction, action: string) =>
        policyOfFn(fn).Statement.find((statement) => statement.Action.includes(action));
      for (const fn of [ReleaseFunction.ProvisionGreen, ReleaseFunction.TestGreen]) {
        expect(statementOf(fn, 'elasticloadbalancing:ModifyListener')?.Resource, fn).toEqual([
          shopArns.testListener,
        ]);
      }
      for (const fn of [
        ReleaseFunction.SetWeight,
        ReleaseFunction.Finalize,
        ReleaseFunction.Rollback,
      ]) {
        expect(statementOf(fn, 'elasticloadbalancing:ModifyListener')?.Resource, fn).toEqual([
          shopArns.listener,
        ]);
      }
      const provision = ReleaseFunction.ProvisionGreen;
      expect(statementOf(provision, 'ecs:UpdateService')?.Resource).toEqual(shopArns.services);
      expect(statementOf(provision, 'ecs:RegisterTaskDefinition')?.Resource).toEqual([
        shopArns.family,
      ]);
      expect(statementOf(provision, 'ecs:TagResource')).toMatchObject({
        Resource: [shopArns.family],
        Condition: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
      });
      expect(statementOf(provision, 'iam:PassRole')).toMatchObject({
        Resource: [shopArns.taskRole],
        Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      });
      expect(statementOf(provision, 'ecr:BatchGetImage')?.Resource).toEqual([
        `arn:aws:ecr:${region}:${account}:repository/checkout`,
      ]);
    });
  });

  it('has no wildcard action, and "*" resources only where AWS has no resource-level permission', () => {
    const policies = allPolicies();
    expect(policies.length).toBeGreaterThan(Object.values(GreenlightFunction).length * 2);
    for (const [where, policy] of policies) {
      expect(wildcardActions(policy), where).toEqual([]);
      for (const statement of policy.Statement) {
        if (!statement.Resource?.includes('*')) continue;
        for (const action of statement.Action) {
          expect(Object.keys(wildcardResourceExceptions), `${where}: ${action} on "*"`).toContain(
            action,
          );
        }
      }
    }
  });

  it('opens the bus to the configured CI principals, operators and greenlight’s publishers only', () => {
    const policy = policyOf(one('aws:cloudwatch/eventBusPolicy:EventBusPolicy', undefined));
    const busArn = `arn:aws:events:${region}:${account}:event-bus/${names.bus}`;
    const operators = config.operators?.principals ?? [];
    const [allowCi, allowOperators, denyOthers, denyCiForgery, denyOperatorForgery, denyNoType] =
      policy.Statement;
    // Conditions for a multivalued events:detail-type; iam-policies.test.ts evaluates them.
    expect(allowCi).toMatchObject({
      Effect: 'Allow',
      Principal: { AWS: config.ci.principals },
      Action: ['events:PutEvents'],
      Resource: [busArn],
      Condition: {
        'ForAllValues:StringEquals': { 'events:detail-type': ['Release Requested'] },
        Null: { 'events:detail-type': 'false' },
      },
    });
    expect(allowOperators).toMatchObject({
      Effect: 'Allow',
      Principal: { AWS: operators },
      Condition: {
        'ForAllValues:StringEquals': { 'events:detail-type': ['Operator Command'] },
        Null: { 'events:detail-type': 'false' },
      },
    });
    const publishers = Object.values(GreenlightFunction).filter((fn) =>
      calledActions(fn).has('events:PutEvents'),
    );
    expect(publishers).toContain(GreenlightFunction.Operator);
    expect(publishers).not.toContain(GreenlightFunction.SlackInteractions);
    expect(denyOthers?.Condition?.ArnNotEquals?.['aws:PrincipalArn']).toEqual(
      [
        ...config.ci.principals,
        ...operators,
        ...publishers.map((fn) => roleArn(names.roleName(fn))),
      ].sort(),
    );
    expect(denyCiForgery).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: config.ci.principals },
      Condition: {
        'ForAnyValue:StringNotEquals': { 'events:detail-type': ['Release Requested'] },
      },
    });
    expect(denyOperatorForgery).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: operators },
      Condition: {
        'ForAnyValue:StringNotEquals': { 'events:detail-type': ['Operator Command'] },
      },
    });
    expect(denyNoType).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: [...config.ci.principals, ...operators].sort() },
      Condition: { Null: { 'events:detail-type': 'true' } },
    });
  });

  it('keeps the tables recoverable and expires idempotency records', () => {
    expect(one('aws:dynamodb/table:Table', names.ledgerTable).inputs).toMatchObject({
      hashKey: 'pk',
      rangeKey: 'sk',
      pointInTimeRecovery: { enabled: true },
      deletionProtectionEnabled: false,
    });
    expect(one('aws:dynamodb/table:Table', names.idempotencyTable).inputs).toMatchObject({
      hashKey: 'id',
      pointInTimeRecovery: { enabled: true },
      ttl: { attributeName: 'expiration', enabled: true },
    });
  });

  it('registers each configured service in the registry table, as config apply writes it', async () => {
    expect(one('aws:dynamodb/table:Table', names.registryTable).inputs).toMatchObject({
      hashKey: 'name',
      pointInTimeRecovery: { enabled: true },
    });
    const items = ofType('aws:dynamodb/tableItem:TableItem');
    expect(items.map((item) => item.inputs.tableName)).toEqual(
      config.services.map(() => names.registryTable),
    );
    // Read back by the reader the functions use: the deploy's items parse to the config.
    const stored = items.map((item) => {
      const attributes = JSON.parse(String(item.inputs.item)) as Record<string, { S: string }>;
      return Object.fromEntries(Object.entries(attributes).map(([key, value]) => [key, value.S]));
    });
    expect(stored.map((item) => item.name)).toEqual(config.services.map((service) => service.name));
    expect(stored.map((item) => JSON.parse(item.config ?? ''))).toEqual(config.services);
    expect(stored.every((item) => item.appliedBy === 'sst deploy')).toBe(true);
  });

  it('creates the teardown schedule group and the role only its schedules can assume', () => {
    one('aws:scheduler/scheduleGroup:ScheduleGroup', names.scheduleGroup);
    const role = one('aws:iam/role:Role', names.roleName('scheduler'));
    // Its one permission: invoke the teardown function.
    expect(rolePolicy(names.roleName('scheduler')).Statement).toEqual([
      expect.objectContaining({
        Action: ['lambda:InvokeFunction'],
        Resource: [
          `arn:aws:lambda:${region}:${account}:function:${names.functionName('teardown')}`,
        ],
      }),
    ]);
    // Finalize may hand that role to Scheduler and to nothing else.
    const passRole = rolePolicy(names.roleName('finalize')).Statement.find((s) =>
      s.Action.includes('iam:PassRole'),
    );
    expect(passRole).toMatchObject({
      Resource: [roleArn(names.roleName('scheduler'))],
      Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    });
    expect(policyOf(role, 'assumeRolePolicy').Statement[0]).toMatchObject({
      Principal: { Service: 'scheduler.amazonaws.com' },
      // Scheduler sends the group's ARN as aws:SourceArn, never a schedule's.
      Condition: {
        StringEquals: { 'aws:SourceAccount': account },
        ArnEquals: {
          'aws:SourceArn': `arn:aws:scheduler:${region}:${account}:schedule-group/${names.scheduleGroup}`,
        },
      },
    });
  });

  it('runs the sweeper daily from a rule that alone may invoke it', () => {
    const rule = one('aws:cloudwatch/eventRule:EventRule', names.sweeperRule);
    expect(rule.inputs.scheduleExpression).toBe(sweeperSchedule.expression);
    const sweeperArn = `arn:aws:lambda:${region}:${account}:function:${names.functionName('sweeper')}`;
    const target = ofType('aws:cloudwatch/eventTarget:EventTarget').find(
      (t) => t.inputs.rule === names.sweeperRule,
    );
    expect(target?.inputs.arn).toBe(sweeperArn);
    expect(permissionFor(GreenlightFunction.Sweeper).inputs).toMatchObject({
      action: 'lambda:InvokeFunction',
      function: names.functionName('sweeper'),
      principal: 'events.amazonaws.com',
      sourceArn: `arn:aws:events:${region}:${account}:rule/${names.sweeperRule}`,
    });
  });

  it('alarms on execution faults, handler faults, forged callbacks and dead letters, notifying the topic', () => {
    const topicArn = `arn:aws:sns:${region}:${account}:${names.alarmTopic}`;
    const alarms = ofType('aws:cloudwatch/metricAlarm:MetricAlarm');
    expect(alarms.map((a) => a.inputs.name).sort()).toEqual(
      ['dlq-depth', 'execution-faults', 'forged-callbacks', 'handler-faults'].map(names.alarmName),
    );
    for (const alarm of alarms) expect(alarm.inputs.alarmActions).toEqual([topicArn]);
    const filters = ofType('aws:cloudwatch/logMetricFilter:LogMetricFilter');
    expect(filters.map((f) => f.inputs.logGroupName).sort()).toEqual(
      [
        names.stateMachineLogGroup,
        ...Object.values(GreenlightFunction).map((fn) => names.functionLogGroup(fn)),
        names.functionLogGroup(GreenlightFunction.VerifyCallback),
      ].sort(),
    );
    const forged = filters.find(
      (f) => f.inputs.name === `${names.functionName('verify-callback')}-forged`,
    );
    expect(forged?.inputs).toMatchObject({
      pattern: '{ ($.output.forged IS TRUE) || ($.error.name = "ApprovalNotRecorded") }',
      metricTransformation: { name: 'ForgedCallbacks', value: '1' },
    });
  });
});
