import type { GreenlightDeployConfig } from '../../src/infra/deploy-config.ts';
import type { PolicyDocument } from '../../src/infra/iam.ts';
import type { AwsLocation } from '../../src/infra/names.ts';
import { requireFromSstPlatform } from './sst-platform.ts';

/**
 * The stacks under Pulumi's runtime mocks: every resource greenlight declares is recorded
 * with its inputs, without AWS. sst.aws.Function is replaced by a stand-in that records its
 * arguments (SST bundles code through its CLI, which a unit test cannot run); everything else
 * is the real @pulumi/aws that SST deploys with. Pulumi's mocks are per process: record one
 * stage per test file.
 */

export const stackRegion = 'eu-west-1';
export const stackAccount = '123456789012';
export const stackStage = 'test';
/** Where the recorded stacks deploy; the recorded step scenarios run "there" too. */
export const stackLocation: AwsLocation = {
  partition: 'aws',
  region: stackRegion,
  accountId: stackAccount,
};

const region = stackRegion;
const account = stackAccount;

/** The part of @pulumi/pulumi used here (it is typed in .sst/platform, not node_modules). */
export interface OutputLike<T> {
  apply<U>(f: (value: T) => U): OutputLike<U>;
}
interface MockResourceArgs {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}
interface PulumiSdk {
  runtime: {
    setMocks(
      mocks: {
        newResource(args: MockResourceArgs): { id: string; state: Record<string, unknown> };
        call(args: { token: string }): Record<string, unknown>;
      },
      project: string,
      stack: string,
      preview: boolean,
    ): Promise<void>;
  };
  ComponentResource: new (type: string, name: string, args: object, opts?: object) => object;
  output<T>(value: T): OutputLike<T>;
  all<T>(values: OutputLike<T>[]): OutputLike<T[]>;
}

export interface RecordedResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

/** The ARN each mocked resource type gets, from its physical name (and inputs). */
export const arnTemplates: Record<
  string,
  (name: string, inputs: Record<string, unknown>) => string
> = {
  'aws:iam/role:Role': (n) => `arn:aws:iam::${account}:role/${n}`,
  'aws:cloudwatch/eventBus:EventBus': (n) => `arn:aws:events:${region}:${account}:event-bus/${n}`,
  'aws:cloudwatch/eventRule:EventRule': (n, i) =>
    i.eventBusName === undefined
      ? `arn:aws:events:${region}:${account}:rule/${n}`
      : `arn:aws:events:${region}:${account}:rule/${String(i.eventBusName)}/${n}`,
  'aws:sqs/queue:Queue': (n) => `arn:aws:sqs:${region}:${account}:${n}`,
  'aws:sfn/stateMachine:StateMachine': (n) =>
    `arn:aws:states:${region}:${account}:stateMachine:${n}`,
  'aws:cloudwatch/logGroup:LogGroup': (n) => `arn:aws:logs:${region}:${account}:log-group:${n}`,
  'aws:scheduler/scheduleGroup:ScheduleGroup': (n) =>
    `arn:aws:scheduler:${region}:${account}:schedule-group/${n}`,
  'aws:sns/topic:Topic': (n) => `arn:aws:sns:${region}:${account}:${n}`,
  'aws:dynamodb/table:Table': (n) => `arn:aws:dynamodb:${region}:${account}:table/${n}`,
};

export interface RecordedStacks {
  resources: RecordedResource[];
  /** sst.aws.Function arguments by function name, resolved. */
  functions: Map<string, Record<string, unknown>>;
  /** sst.Secret placeholders by secret name. */
  secrets: Map<string, string | undefined>;
  ofType(type: string): RecordedResource[];
  /** The one resource of this type with this physical name (any, when name is undefined). */
  one(type: string, name: string | undefined): RecordedResource;
  /** A JSON policy input of a resource (`policy`, `assumeRolePolicy`), parsed. */
  policyOf(resource: RecordedResource, field?: string): PolicyDocument;
  /** The inline policies of the role with this name. */
  rolePolicies(roleName: string): PolicyDocument[];
  /** The trust policy of the role with this name. */
  trustPolicy(roleName: string): PolicyDocument;
}

/** Runs stacks/greenlight.ts for `config` under Pulumi's mocks and records what it declares. */
export async function recordStacks(config: GreenlightDeployConfig): Promise<RecordedStacks> {
  const resources: RecordedResource[] = [];
  const functions = new Map<string, Record<string, unknown>>();
  const secrets = new Map<string, string | undefined>();
  const platform = requireFromSstPlatform();
  const pulumi = platform('@pulumi/pulumi') as PulumiSdk;
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const physical = String(args.inputs.name ?? args.name);
        const arn = arnTemplates[args.type]?.(physical, args.inputs);
        resources.push({ type: args.type, name: args.name, inputs: args.inputs });
        return {
          id: `${physical}-id`,
          state: {
            ...args.inputs,
            name: physical,
            ...(arn ? { arn } : {}),
            ...(args.type === 'aws:sqs/queue:Queue'
              ? { url: `https://sqs.${region}.amazonaws.com/${account}/${physical}` }
              : {}),
          },
        };
      },
      call(args) {
        switch (args.token) {
          case 'aws:index/getCallerIdentity:getCallerIdentity':
            return { accountId: account, arn: `arn:aws:iam::${account}:user/ci`, userId: 'ci' };
          case 'aws:index/getRegion:getRegion':
            return { region, name: region };
          case 'aws:index/getPartition:getPartition':
            return { partition: 'aws', dnsSuffix: 'amazonaws.com' };
          default:
            throw new Error(`unexpected provider call ${args.token}`);
        }
      },
    },
    'greenlight',
    stackStage,
    false,
  );

  class RecordedFunction extends pulumi.ComponentResource {
    readonly arn: OutputLike<string>;
    readonly name: OutputLike<string>;
    readonly url: OutputLike<string>;
    constructor(id: string, args: Record<string, unknown>, opts?: object) {
      super('sst:aws:Function', id, {}, opts);
      const name = String(args.name);
      // Arguments hold Outputs (the role's ARN): record them resolved.
      pulumi.output(args).apply((resolved) => functions.set(name, resolved));
      this.name = pulumi.output(name);
      this.arn = pulumi.output(`arn:aws:lambda:${region}:${account}:function:${name}`);
      this.url = pulumi.output(`https://${name}.lambda-url.${region}.on.aws/`);
    }
  }
  // SST reads a secret's value from SST_SECRET_<name>, set by `sst secret set`.
  class RecordedSecret {
    readonly value: OutputLike<string>;
    constructor(name: string, placeholder?: string) {
      secrets.set(name, placeholder);
      this.value = pulumi.output(`value of ${name}`);
    }
  }
  Object.assign(globalThis, {
    aws: platform('@pulumi/aws'),
    $util: pulumi,
    $app: { name: 'greenlight', stage: stackStage },
    sst: { aws: { Function: RecordedFunction }, Secret: RecordedSecret },
  });

  // Loaded by URL so that the main typecheck (which has no SST globals) does not follow it;
  // tsconfig.infra.json typechecks stacks/.
  const stacks = (await import(new URL('../../stacks/greenlight.ts', import.meta.url).href)) as {
    createGreenlight(
      stage: string,
      config: GreenlightDeployConfig,
    ): Record<string, OutputLike<string>>;
  };
  const outputs = stacks.createGreenlight(stackStage, config);
  await new Promise((resolve) => pulumi.all(Object.values(outputs)).apply(resolve));
  // Resources whose inputs are still resolving register a little later.
  for (let stable = 0, last = -1; stable < 5; stable = resources.length === last ? stable + 1 : 0) {
    last = resources.length;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }

  const ofType = (type: string) => resources.filter((r) => r.type === type);
  const policyOf = (resource: RecordedResource, field = 'policy') =>
    JSON.parse(String(resource.inputs[field])) as PolicyDocument;
  const one = (type: string, name: string | undefined) => {
    const found = resources.find(
      (r) => r.type === type && (name === undefined || r.inputs.name === name),
    );
    if (!found) throw new Error(`no ${type} named ${name}`);
    return found;
  };
  return {
    resources,
    functions,
    secrets,
    ofType,
    one,
    policyOf,
    rolePolicies: (roleName) =>
      ofType('aws:iam/rolePolicy:RolePolicy')
        .filter((p) => p.inputs.role === roleName)
        .map((p) => policyOf(p)),
    trustPolicy: (roleName) => policyOf(one('aws:iam/role:Role', roleName), 'assumeRolePolicy'),
  };
}
