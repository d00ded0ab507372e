import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  GetProvisionedConcurrencyConfigCommand,
  LambdaClient,
  ListAliasesCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  PutProvisionedConcurrencyConfigCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { LocalArtifactStore } from '../../../../src/local/artifact-store.ts';
import { startEndpoint } from '../../../../src/local/endpoint.ts';
import { LocalLambda } from '../../../../src/local/lambda/simulator.ts';
import {
  clientConfig,
  describeRules,
  motoAccountId,
  motoQuery,
  outcomeOf,
  type RuleCase,
  storedZip,
} from '../../../support/moto.ts';

/**
 * Lambda's API rules the release flow leans on, as one table run against the local Lambda
 * and against moto_server. Each function a case uses is its own (`rule-N`), with version 1
 * published and alias `live` on it, made the way each implementation allows (seeded locally,
 * CreateFunction on moto); the cases themselves go through the same SDK calls.
 */
interface LambdaBackend {
  client: LambdaClient;
  /** A function with version 1 published and alias `live` → 1. */
  createFunction(name: string): Promise<void>;
  /** New code in $LATEST, settled; returns nothing (publish is the case's business). */
  changeCode(name: string): Promise<void>;
}

const api = 'https://docs.aws.amazon.com/lambda/latest/api';
const staleRevision = '00000000-0000-4000-8000-000000000000';

const cases: RuleCase<LambdaBackend>[] = [
  {
    name: 'UpdateAlias with a RevisionId that an earlier update replaced',
    doc: `${api}/API_UpdateAlias.html (RevisionId: only update the alias if the revision ID matches)`,
    async run({ client }, fn) {
      const before = await client.send(new GetAliasCommand({ FunctionName: fn, Name: 'live' }));
      await client.send(
        new UpdateAliasCommand({
          FunctionName: fn,
          Name: 'live',
          Description: 'first',
          RevisionId: before.RevisionId,
        }),
      );
      return outcomeOf(
        client.send(
          new UpdateAliasCommand({
            FunctionName: fn,
            Name: 'live',
            Description: 'second',
            RevisionId: before.RevisionId,
          }),
        ),
      );
    },
    aws: { error: 'PreconditionFailedException' },
    motoIsWrong: {
      outcome: { ok: true },
      because:
        'moto never changes an alias RevisionId, so the stale one still matches and the update lands',
    },
  },
  {
    name: 'UpdateAlias with a RevisionId that never was',
    doc: `${api}/API_UpdateAlias.html`,
    run: ({ client }, fn) =>
      outcomeOf(
        client.send(
          new UpdateAliasCommand({ FunctionName: fn, Name: 'live', RevisionId: staleRevision }),
        ),
      ),
    aws: { error: 'PreconditionFailedException' },
    motoIsWrong: { outcome: { ok: true }, because: 'moto does not check UpdateAlias RevisionId' },
  },
  {
    name: 'UpdateAlias that routes to two additional versions',
    doc: `${api}/API_AliasRoutingConfiguration.html (AdditionalVersionWeights: maximum 1 item)`,
    run: ({ client }, fn) =>
      outcomeOf(
        client.send(
          new UpdateAliasCommand({
            FunctionName: fn,
            Name: 'live',
            RoutingConfig: { AdditionalVersionWeights: { '2': 0.1, '3': 0.1 } },
          }),
        ),
      ),
    aws: { error: 'InvalidParameterValueException' },
    motoIsWrong: {
      outcome: { ok: true },
      because: 'moto stores RoutingConfig without validating it',
    },
  },
  {
    name: 'UpdateAlias with a weight above 1',
    doc: `${api}/API_AliasRoutingConfiguration.html (weights between 0.0 and 1.0)`,
    async run(backend, fn) {
      await backend.changeCode(fn);
      await backend.client.send(new PublishVersionCommand({ FunctionName: fn }));
      return outcomeOf(
        backend.client.send(
          new UpdateAliasCommand({
            FunctionName: fn,
            Name: 'live',
            RoutingConfig: { AdditionalVersionWeights: { '2': 1.5 } },
          }),
        ),
      );
    },
    aws: { error: 'InvalidParameterValueException' },
    motoIsWrong: {
      outcome: { ok: true },
      because: 'moto stores RoutingConfig without validating it',
    },
  },
  {
    name: 'UpdateAlias to a version that does not exist',
    doc: `${api}/API_UpdateAlias.html (Errors: ResourceNotFoundException)`,
    run: ({ client }, fn) =>
      outcomeOf(
        client.send(
          new UpdateAliasCommand({ FunctionName: fn, Name: 'live', FunctionVersion: '7' }),
        ),
      ),
    aws: { error: 'ResourceNotFoundException' },
  },
  {
    name: 'UpdateAlias with a valid weighted route',
    doc: `${api}/API_UpdateAlias.html`,
    async run(backend, fn) {
      await backend.changeCode(fn);
      await backend.client.send(new PublishVersionCommand({ FunctionName: fn }));
      return outcomeOf(
        backend.client.send(
          new UpdateAliasCommand({
            FunctionName: fn,
            Name: 'live',
            RoutingConfig: { AdditionalVersionWeights: { '2': 0.25 } },
          }),
        ),
        (alias) => [alias.FunctionVersion, alias.RoutingConfig?.AdditionalVersionWeights],
      );
    },
    aws: { ok: ['1', { '2': 0.25 }] },
  },
  {
    name: 'CreateAlias with a name that exists',
    doc: `${api}/API_CreateAlias.html (Errors: ResourceConflictException)`,
    run: ({ client }, fn) =>
      outcomeOf(
        client.send(
          new CreateAliasCommand({ FunctionName: fn, Name: 'live', FunctionVersion: '1' }),
        ),
      ),
    aws: { error: 'ResourceConflictException' },
    motoIsWrong: {
      outcome: { error: 'ConflictException' },
      because: 'moto answers ConflictException, an error CreateAlias does not have',
    },
  },
  {
    name: 'GetAlias of an alias that does not exist',
    doc: `${api}/API_GetAlias.html (Errors: ResourceNotFoundException)`,
    run: ({ client }, fn) =>
      outcomeOf(client.send(new GetAliasCommand({ FunctionName: fn, Name: 'nope' }))),
    aws: { error: 'ResourceNotFoundException' },
  },
  {
    name: 'GetFunction of a function that does not exist',
    doc: `${api}/API_GetFunction.html (Errors: ResourceNotFoundException)`,
    run: ({ client }, fn) =>
      outcomeOf(client.send(new GetFunctionCommand({ FunctionName: `${fn}-missing` }))),
    aws: { error: 'ResourceNotFoundException' },
  },
  {
    name: 'PublishVersion of unchanged code answers the version that has it',
    doc: `${api}/API_PublishVersion.html (no new version if code and configuration are unchanged)`,
    run: ({ client }, fn) =>
      outcomeOf(client.send(new PublishVersionCommand({ FunctionName: fn })), (v) => v.Version),
    aws: { ok: '1' },
  },
  {
    name: 'PublishVersion of new code publishes the next version',
    doc: `${api}/API_PublishVersion.html`,
    async run(backend, fn) {
      await backend.changeCode(fn);
      return outcomeOf(
        backend.client.send(new PublishVersionCommand({ FunctionName: fn })),
        (v) => v.Version,
      );
    },
    aws: { ok: '2' },
  },
  {
    name: 'PublishVersion with a CodeSha256 that is not the code in $LATEST',
    doc: `${api}/API_PublishVersion.html (CodeSha256: only publish if the hash matches)`,
    async run(backend, fn) {
      await backend.changeCode(fn);
      return outcomeOf(
        backend.client.send(
          new PublishVersionCommand({ FunctionName: fn, CodeSha256: 'bm90LXRoZS1jb2Rl' }),
        ),
      );
    },
    aws: { error: 'InvalidParameterValueException' },
    motoIsWrong: { outcome: { ok: true }, because: 'moto does not check CodeSha256' },
  },
  {
    name: 'PublishVersion with a RevisionId that is not the current one',
    doc: `${api}/API_PublishVersion.html (RevisionId: only publish if the revision ID matches)`,
    async run(backend, fn) {
      await backend.changeCode(fn);
      return outcomeOf(
        backend.client.send(
          new PublishVersionCommand({ FunctionName: fn, RevisionId: staleRevision }),
        ),
      );
    },
    aws: { error: 'PreconditionFailedException' },
    motoIsWrong: {
      outcome: { ok: true },
      because: 'moto does not check PublishVersion RevisionId',
    },
  },
  {
    name: 'DeleteFunction of $LATEST alone',
    doc: `${api}/API_DeleteFunction.html (Qualifier: a version to delete; $LATEST goes only with the function)`,
    run: ({ client }, fn) =>
      outcomeOf(client.send(new DeleteFunctionCommand({ FunctionName: fn, Qualifier: '$LATEST' }))),
    aws: { error: 'InvalidParameterValueException' },
    motoIsWrong: { outcome: { ok: true }, because: 'moto deletes the whole function' },
  },
  {
    name: 'DeleteFunction of a version an alias routes to',
    doc: `${api}/API_DeleteFunction.html (you can't delete a version that an alias references)`,
    run: ({ client }, fn) =>
      outcomeOf(client.send(new DeleteFunctionCommand({ FunctionName: fn, Qualifier: '1' }))),
    aws: { error: 'ResourceConflictException' },
    motoIsWrong: {
      outcome: { ok: true },
      because: 'moto deletes a version although an alias references it',
    },
  },
  {
    name: 'DeleteFunction of a version that does not exist',
    doc: `${api}/API_DeleteFunction.html (Errors: ResourceNotFoundException)`,
    run: ({ client }, fn) =>
      outcomeOf(client.send(new DeleteFunctionCommand({ FunctionName: fn, Qualifier: '9' }))),
    aws: { error: 'ResourceNotFoundException' },
  },
  {
    name: 'ListVersionsByFunction one item a page, following NextMarker',
    doc: `${api}/API_ListVersionsByFunction.html (Marker, MaxItems, NextMarker)`,
    async run({ client }, fn) {
      const pages: (string | undefined)[][] = [];
      let marker: string | undefined;
      do {
        const page = await client.send(
          new ListVersionsByFunctionCommand({ FunctionName: fn, MaxItems: 1, Marker: marker }),
        );
        pages.push((page.Versions ?? []).map((v) => v.Version));
        marker = page.NextMarker;
      } while (marker !== undefined && pages.length < 5);
      return { ok: pages };
    },
    aws: { ok: [['$LATEST'], ['1']] },
    motoIsWrong: {
      outcome: { ok: [['$LATEST', '1']] },
      because: 'moto ignores MaxItems and answers every version in one page',
    },
  },
  {
    name: 'ListAliases filtered by the version they route to',
    doc: `${api}/API_ListAliases.html (FunctionVersion)`,
    run: ({ client }, fn) =>
      outcomeOf(
        client.send(new ListAliasesCommand({ FunctionName: fn, FunctionVersion: '1' })),
        (r) => (r.Aliases ?? []).map((a) => a.Name),
      ),
    aws: { ok: ['live'] },
  },
  {
    name: 'a qualifier in the name that differs from Qualifier',
    doc: `${api}/API_GetFunction.html (FunctionName may carry a qualifier; it must agree with Qualifier)`,
    run: ({ client }, fn) =>
      outcomeOf(
        client.send(new GetFunctionCommand({ FunctionName: `${fn}:1`, Qualifier: 'live' })),
      ),
    aws: { error: 'InvalidParameterValueException' },
    motoIsWrong: {
      outcome: { ok: true },
      because: 'moto answers without checking that the two qualifiers agree',
    },
  },
  {
    name: 'PutProvisionedConcurrencyConfig on $LATEST',
    doc: `${api}/API_PutProvisionedConcurrencyConfig.html (Qualifier: a version number or alias)`,
    run: ({ client }, fn) =>
      outcomeOf(
        client.send(
          new PutProvisionedConcurrencyConfigCommand({
            FunctionName: fn,
            Qualifier: '$LATEST',
            ProvisionedConcurrentExecutions: 1,
          }),
        ),
      ),
    aws: { error: 'InvalidParameterValueException' },
    motoIsWrong: {
      outcome: { error: 'SyntaxError' },
      because:
        'moto 5.2.1 does not serve the 2019-09-30 provisioned-concurrency API: an HTML 404 the SDK cannot parse',
    },
  },
  {
    name: 'GetProvisionedConcurrencyConfig where none is set',
    doc: `${api}/API_GetProvisionedConcurrencyConfig.html (Errors: ProvisionedConcurrencyConfigNotFoundException)`,
    run: ({ client }, fn) =>
      outcomeOf(
        client.send(
          new GetProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: '1' }),
        ),
      ),
    aws: { error: 'ProvisionedConcurrencyConfigNotFoundException' },
    motoIsWrong: {
      outcome: { error: 'SyntaxError' },
      because: 'moto 5.2.1 does not serve the provisioned-concurrency API',
    },
  },
];

/** AliasRoutingConfiguration's other limits, each refused with the alias left as it was. */
const routingRules: [string, string, Record<string, number>, string][] = [
  ['a negative weight', '1', { '2': -0.1 }, 'InvalidParameterValueException'],
  ['$LATEST as the additional version', '1', { $LATEST: 0.1 }, 'InvalidParameterValueException'],
  [
    '$LATEST as the primary of a weighted alias',
    '$LATEST',
    { '2': 0.1 },
    'InvalidParameterValueException',
  ],
  [
    'the primary version repeated as additional',
    '2',
    { '2': 0.1 },
    'InvalidParameterValueException',
  ],
  ['an additional version that does not exist', '1', { '7': 0.1 }, 'ResourceNotFoundException'],
];
for (const [what, functionVersion, weights, error] of routingRules) {
  cases.push({
    name: `UpdateAlias with ${what}`,
    doc: `${api}/API_AliasRoutingConfiguration.html and ${api}/API_UpdateAlias.html`,
    async run(backend, fn) {
      await backend.changeCode(fn);
      await backend.client.send(new PublishVersionCommand({ FunctionName: fn }));
      const answer = await outcomeOf(
        backend.client.send(
          new UpdateAliasCommand({
            FunctionName: fn,
            Name: 'live',
            FunctionVersion: functionVersion,
            RoutingConfig: { AdditionalVersionWeights: weights },
          }),
        ),
      );
      const alias = await backend.client.send(
        new GetAliasCommand({ FunctionName: fn, Name: 'live' }),
      );
      return {
        ok: [answer, alias.FunctionVersion, alias.RoutingConfig?.AdditionalVersionWeights ?? {}],
      };
    },
    aws: { ok: [{ error }, '1', {}] },
    motoIsWrong: {
      outcome: { ok: [{ ok: true }, functionVersion, weights] },
      because: 'moto stores RoutingConfig without validating it',
    },
  });
}

function handlerSource(label: string): string {
  return `exports.handler = async () => (${JSON.stringify(label)});\n`;
}

describeRules<LambdaBackend>({
  service: 'Lambda',
  cases,
  setUp: (backend, fn) => backend.createFunction(fn),
  async local() {
    const root = await mkdtemp(join(tmpdir(), 'greenlight-lambda-rules-'));
    const store = new LocalArtifactStore({ root });
    const lambda = new LocalLambda({ artifacts: store, now: () => new Date('2025-03-01') });
    const endpoint = await startEndpoint([lambda]);
    const client = lambdaClient(endpoint.url);
    const put = async (key: string, source: string) => {
      const path = store.s3Path('artifacts', key);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, source);
    };
    return {
      backend: {
        client,
        async createFunction(name) {
          await put(`${name}/1.zip`, handlerSource(`${name} 1`));
          await lambda.seedFunction({
            functionName: name,
            artifact: { s3: { bucket: 'artifacts', key: `${name}/1.zip` } },
            alias: 'live',
          });
        },
        async changeCode(name) {
          await put(`${name}/2.zip`, handlerSource(`${name} 2`));
          await client.send(
            new UpdateFunctionCodeCommand({
              FunctionName: name,
              S3Bucket: 'artifacts',
              S3Key: `${name}/2.zip`,
            }),
          );
          await client.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
        },
      },
      async close() {
        client.destroy();
        await endpoint.close();
        await rm(root, { recursive: true, force: true });
      },
    };
  },
  async moto(endpoint) {
    // moto's CreateFunction checks that the role exists in its IAM.
    await motoQuery(endpoint, 'iam', {
      Action: 'CreateRole',
      Version: '2010-05-08',
      RoleName: 'rules',
      AssumeRolePolicyDocument: '{}',
    });
    const client = lambdaClient(endpoint);
    return {
      backend: {
        client,
        async createFunction(name) {
          await client.send(
            new CreateFunctionCommand({
              FunctionName: name,
              Runtime: 'nodejs20.x',
              Role: `arn:aws:iam::${motoAccountId}:role/rules`,
              Handler: 'index.handler',
              Code: { ZipFile: storedZip('index.js', handlerSource(`${name} 1`)) },
            }),
          );
          await client.send(new PublishVersionCommand({ FunctionName: name }));
          await client.send(
            new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: '1' }),
          );
        },
        async changeCode(name) {
          await client.send(
            new UpdateFunctionCodeCommand({
              FunctionName: name,
              ZipFile: storedZip('index.js', handlerSource(`${name} 2`)),
            }),
          );
        },
      },
      async close() {
        client.destroy();
      },
    };
  },
});

function lambdaClient(endpoint: string): LambdaClient {
  return new LambdaClient(clientConfig(endpoint));
}
