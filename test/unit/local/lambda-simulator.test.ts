import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateAliasCommand,
  DeleteFunctionCommand,
  DeleteProvisionedConcurrencyConfigCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  GetProvisionedConcurrencyConfigCommand,
  InvalidParameterValueException,
  InvokeCommand,
  LambdaClient,
  ListAliasesCommand,
  ListProvisionedConcurrencyConfigsCommand,
  ListVersionsByFunctionCommand,
  ProvisionedConcurrencyConfigNotFoundException,
  PublishVersionCommand,
  PutProvisionedConcurrencyConfigCommand,
  ResourceConflictException,
  ResourceNotFoundException,
  ServiceException,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalArtifactStore } from '../../../src/local/artifact-store.ts';
import { type Endpoint, startEndpoint } from '../../../src/local/endpoint.ts';
import { LocalLambda } from '../../../src/local/lambda/simulator.ts';
import type { InvocationMetric } from '../../../src/local/lambda/types.ts';

const bucket = 'artifacts';

function handlerSource(
  version: string,
  body = `return { statusCode: 200, version: '${version}' };`,
): string {
  return `export async function handler(event, context) { ${body} }\n`;
}

describe('LocalLambda', () => {
  let root: string;
  let store: LocalArtifactStore;
  let lambda: LocalLambda;
  let endpoint: Endpoint;
  let client: LambdaClient;
  let clock: Date;

  async function putArtifact(key: string, source: string): Promise<void> {
    const path = store.s3Path(bucket, key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, source);
  }

  async function deployCode(key: string): Promise<string> {
    await client.send(
      new UpdateFunctionCodeCommand({ FunctionName: 'checkout', S3Bucket: bucket, S3Key: key }),
    );
    // The poll settles the update, as the SDK's FunctionUpdated waiter would.
    await client.send(new GetFunctionConfigurationCommand({ FunctionName: 'checkout' }));
    const published = await client.send(new PublishVersionCommand({ FunctionName: 'checkout' }));
    return published.Version ?? '';
  }

  async function invokeAlias(times: number, payload: object = {}): Promise<string[]> {
    const versions: string[] = [];
    for (let i = 0; i < times; i += 1) {
      const result = await client.send(
        new InvokeCommand({
          FunctionName: 'checkout',
          Qualifier: 'live',
          Payload: JSON.stringify(payload),
        }),
      );
      versions.push(result.ExecutedVersion ?? '');
    }
    return versions;
  }

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'greenlight-lambda-'));
    store = new LocalArtifactStore({ root });
    clock = new Date('2025-03-01T10:00:00.000Z');
    let seed = 0;
    lambda = new LocalLambda({
      artifacts: store,
      now: () => clock,
      random: () => {
        seed = (seed * 9301 + 49297) % 233280;
        return seed / 233280;
      },
    });
    await putArtifact('checkout/1.0.0.zip', handlerSource('1.0.0'));
    await lambda.seedFunction({
      functionName: 'checkout',
      artifact: { s3: { bucket, key: 'checkout/1.0.0.zip' } },
      alias: 'live',
    });
    endpoint = await startEndpoint([lambda]);
    client = new LambdaClient({
      endpoint: endpoint.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  });

  afterEach(async () => {
    client.destroy();
    await endpoint.close();
    await rm(root, { recursive: true, force: true });
  });

  describe('seedFunction', () => {
    it('publishes version 1 and points the alias at it', async () => {
      const alias = await client.send(
        new GetAliasCommand({ FunctionName: 'checkout', Name: 'live' }),
      );
      expect(alias.FunctionVersion).toBe('1');
      expect(alias.AliasArn).toBe('arn:aws:lambda:us-east-1:000000000000:function:checkout:live');
      expect(lambda.describe('checkout')).toMatchObject({
        versions: ['1'],
        alias: { version: '1', weights: {} },
        publishCount: 1,
      });
    });
  });

  describe('UpdateFunctionCode', () => {
    it('reports InProgress, then Successful at the next poll, with the artifact hash', async () => {
      await putArtifact('checkout/1.1.0.zip', handlerSource('1.1.0'));
      const updated = await client.send(
        new UpdateFunctionCodeCommand({
          FunctionName: 'checkout',
          S3Bucket: bucket,
          S3Key: 'checkout/1.1.0.zip',
        }),
      );
      const expected = await store.resolveS3(bucket, 'checkout/1.1.0.zip');
      expect(updated.LastUpdateStatus).toBe('InProgress');
      expect(updated.CodeSha256).toBe(expected?.sha256);
      const polled = await client.send(new GetFunctionCommand({ FunctionName: 'checkout' }));
      expect(polled.Configuration?.LastUpdateStatus).toBe('Successful');
      expect(polled.Configuration?.RevisionId).toBe(updated.RevisionId);
    });

    it('rejects a missing S3 object with InvalidParameterValueException', async () => {
      const sent = client.send(
        new UpdateFunctionCodeCommand({
          FunctionName: 'checkout',
          S3Bucket: bucket,
          S3Key: 'checkout/9.9.9.zip',
        }),
      );
      await expect(sent).rejects.toBeInstanceOf(InvalidParameterValueException);
      await expect(sent).rejects.toThrow(/NoSuchKey/);
    });

    it('refuses to publish while an update is in progress', async () => {
      await putArtifact('checkout/1.1.0.zip', handlerSource('1.1.0'));
      await client.send(
        new UpdateFunctionCodeCommand({
          FunctionName: 'checkout',
          S3Bucket: bucket,
          S3Key: 'checkout/1.1.0.zip',
        }),
      );
      await expect(
        client.send(new PublishVersionCommand({ FunctionName: 'checkout' })),
      ).rejects.toBeInstanceOf(ResourceConflictException);
    });

    it('settles on its own once the settle delay has passed on the clock', async () => {
      await putArtifact('checkout/1.1.0.zip', handlerSource('1.1.0'));
      await client.send(
        new UpdateFunctionCodeCommand({
          FunctionName: 'checkout',
          S3Bucket: bucket,
          S3Key: 'checkout/1.1.0.zip',
        }),
      );
      clock = new Date(clock.getTime() + 1_000);
      const published = await client.send(new PublishVersionCommand({ FunctionName: 'checkout' }));
      expect(published.Version).toBe('2');
    });
  });

  describe('PublishVersion', () => {
    it('returns the existing version when the code is unchanged', async () => {
      const again = await client.send(new PublishVersionCommand({ FunctionName: 'checkout' }));
      expect(again.Version).toBe('1');
      expect(lambda.describe('checkout').publishCount).toBe(1);
    });

    it('publishes a new version for new code', async () => {
      await putArtifact('checkout/1.1.0.zip', handlerSource('1.1.0'));
      expect(await deployCode('checkout/1.1.0.zip')).toBe('2');
      const listed = await client.send(
        new ListVersionsByFunctionCommand({ FunctionName: 'checkout' }),
      );
      expect(listed.Versions?.map((v) => v.Version)).toEqual(['$LATEST', '1', '2']);
    });
  });

  describe('UpdateAlias', () => {
    beforeEach(async () => {
      await putArtifact('checkout/1.1.0.zip', handlerSource('1.1.0'));
      await putArtifact('checkout/1.2.0.zip', handlerSource('1.2.0'));
      await deployCode('checkout/1.1.0.zip');
      await deployCode('checkout/1.2.0.zip');
    });

    it('sets weighted routing and clears it with empty AdditionalVersionWeights', async () => {
      const weighted = await client.send(
        new UpdateAliasCommand({
          FunctionName: 'checkout',
          Name: 'live',
          RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } },
        }),
      );
      expect(weighted.RoutingConfig?.AdditionalVersionWeights).toEqual({ '2': 0.1 });
      const cleared = await client.send(
        new UpdateAliasCommand({
          FunctionName: 'checkout',
          Name: 'live',
          FunctionVersion: '2',
          RoutingConfig: { AdditionalVersionWeights: {} },
        }),
      );
      expect(cleared.FunctionVersion).toBe('2');
      expect(cleared.RoutingConfig).toBeUndefined();
    });
  });

  describe('Invoke', () => {
    it('runs the handler of the qualified version and reports it', async () => {
      await putArtifact('checkout/1.1.0.zip', handlerSource('1.1.0'));
      await deployCode('checkout/1.1.0.zip');
      const result = await client.send(
        new InvokeCommand({ FunctionName: 'checkout', Qualifier: '2', Payload: '{}' }),
      );
      expect(result.ExecutedVersion).toBe('2');
      expect(JSON.parse(Buffer.from(result.Payload ?? []).toString())).toEqual({
        statusCode: 200,
        version: '1.1.0',
      });
    });

    it('honours alias weights exactly over 100 invocations', async () => {
      await putArtifact('checkout/1.1.0.zip', handlerSource('1.1.0'));
      await deployCode('checkout/1.1.0.zip');
      await client.send(
        new UpdateAliasCommand({
          FunctionName: 'checkout',
          Name: 'live',
          RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } },
        }),
      );
      const first = await invokeAlias(100);
      expect(first.filter((v) => v === '2')).toHaveLength(10);
      await client.send(
        new UpdateAliasCommand({
          FunctionName: 'checkout',
          Name: 'live',
          RoutingConfig: { AdditionalVersionWeights: { '2': 0.37 } },
        }),
      );
      const second = await invokeAlias(100);
      expect(second.filter((v) => v === '2')).toHaveLength(37);
    });

    it('reports an Unhandled function error and emits an error metric when the handler throws', async () => {
      await putArtifact(
        'checkout/1.3.0.zip',
        handlerSource('1.3.0', "throw new TypeError('boom');"),
      );
      await deployCode('checkout/1.3.0.zip');
      await client.send(
        new UpdateAliasCommand({ FunctionName: 'checkout', Name: 'live', FunctionVersion: '2' }),
      );
      const metrics: InvocationMetric[] = [];
      lambda.onInvocation((metric) => metrics.push(metric));
      const result = await client.send(
        new InvokeCommand({ FunctionName: 'checkout', Qualifier: 'live' }),
      );
      expect(result.FunctionError).toBe('Unhandled');
      expect(JSON.parse(Buffer.from(result.Payload ?? []).toString())).toMatchObject({
        errorType: 'TypeError',
        errorMessage: 'boom',
      });
      expect(metrics).toEqual([
        {
          functionName: 'checkout',
          alias: 'live',
          version: '2',
          error: true,
          at: clock,
          durationMs: 0,
        },
      ]);
    });

    it('answers "Task timed out" as a function error once the handler outlives its Timeout', async () => {
      // The handler never settles: only the function's 1-second Timeout can end the call.
      await putArtifact('stuck/1.0.0.zip', handlerSource('1.0.0', 'await new Promise(() => {});'));
      await lambda.seedFunction({
        functionName: 'stuck',
        artifact: { s3: { bucket, key: 'stuck/1.0.0.zip' } },
        alias: 'live',
        timeoutSeconds: 1,
      });
      const metrics: InvocationMetric[] = [];
      lambda.onInvocation((metric) => metrics.push(metric));
      const configuration = await client.send(
        new GetFunctionConfigurationCommand({ FunctionName: 'stuck' }),
      );
      expect(configuration.Timeout).toBe(1);
      const result = await client.send(
        new InvokeCommand({ FunctionName: 'stuck', Qualifier: 'live' }),
      );
      expect(result.FunctionError).toBe('Unhandled');
      const error = JSON.parse(Buffer.from(result.Payload ?? []).toString());
      expect(error).toMatchObject({ errorType: 'Sandbox.Timedout' });
      expect(error.errorMessage).toMatch(
        new RegExp(
          `^RequestId: ${result.$metadata.requestId} Error: Task timed out after 1.00 seconds$`,
        ),
      );
      expect(metrics.map((metric) => metric.error)).toEqual([true]);
    });

    it('runs a local module by path, handing its createHandler the function environment', async () => {
      // A module that imports a file next to it, as the runner imports pg: a module imported
      // from a data: URL has no location to resolve that import from.
      const modulePath = join(root, 'runner.mjs');
      await writeFile(join(root, 'greet.mjs'), "export const greet = (name) => 'hello ' + name;\n");
      await writeFile(
        modulePath,
        [
          "import { greet } from './greet.mjs';",
          'export function createHandler(env) {',
          '  return async (event) => ({ greeting: greet(event.name), url: env.DATABASE_URL });',
          '}',
        ].join('\n'),
      );
      await lambda.seedFunction({
        functionName: 'runner',
        artifact: { localModule: modulePath },
        alias: 'live',
        environment: { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres' },
      });
      const result = await client.send(
        new InvokeCommand({ FunctionName: 'runner', Payload: JSON.stringify({ name: 'shop' }) }),
      );
      expect(result.FunctionError).toBeUndefined();
      expect(JSON.parse(Buffer.from(result.Payload ?? []).toString())).toEqual({
        greeting: 'hello shop',
        url: 'postgres://postgres@127.0.0.1:5432/postgres',
      });
      const configuration = await client.send(
        new GetFunctionConfigurationCommand({ FunctionName: 'runner' }),
      );
      expect(configuration.Environment?.Variables).toEqual({
        DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
      });
    });

    it('answers 404 ResourceNotFoundException for an unknown qualifier', async () => {
      await expect(
        client.send(new InvokeCommand({ FunctionName: 'checkout', Qualifier: 'staging' })),
      ).rejects.toBeInstanceOf(ResourceNotFoundException);
    });
  });

  describe('failNextResponse', () => {
    it('applies PublishVersion once although the response is lost and the SDK retries', async () => {
      await putArtifact('checkout/1.1.0.zip', handlerSource('1.1.0'));
      await client.send(
        new UpdateFunctionCodeCommand({
          FunctionName: 'checkout',
          S3Bucket: bucket,
          S3Key: 'checkout/1.1.0.zip',
        }),
      );
      await client.send(new GetFunctionConfigurationCommand({ FunctionName: 'checkout' }));
      lambda.failNextResponse('PublishVersion');
      const published = await client.send(new PublishVersionCommand({ FunctionName: 'checkout' }));
      expect(published.Version).toBe('2');
      expect(lambda.describe('checkout')).toMatchObject({ versions: ['1', '2'], publishCount: 2 });
    });

    it('applies UpdateAlias and still answers ServiceException', async () => {
      await putArtifact('checkout/1.1.0.zip', handlerSource('1.1.0'));
      await deployCode('checkout/1.1.0.zip');
      const noRetry = new LambdaClient({
        endpoint: endpoint.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        maxAttempts: 1,
      });
      lambda.failNextResponse('UpdateAlias');
      await expect(
        noRetry.send(
          new UpdateAliasCommand({ FunctionName: 'checkout', Name: 'live', FunctionVersion: '2' }),
        ),
      ).rejects.toBeInstanceOf(ServiceException);
      noRetry.destroy();
      expect(lambda.describe('checkout').alias?.version).toBe('2');
    });
  });

  describe('versions, aliases and provisioned concurrency for teardowns', () => {
    it('lists aliases, optionally only those routing to a version', async () => {
      await deployCode('checkout/1.0.0.zip');
      await putArtifact('checkout/1.1.0.zip', handlerSource('1.1.0'));
      const green = await deployCode('checkout/1.1.0.zip');
      await client.send(
        new CreateAliasCommand({
          FunctionName: 'checkout',
          Name: 'canary',
          FunctionVersion: green,
        }),
      );

      const all = await client.send(new ListAliasesCommand({ FunctionName: 'checkout' }));
      expect(all.Aliases?.map((a) => [a.Name, a.FunctionVersion])).toEqual([
        ['live', '1'],
        ['canary', '2'],
      ]);
      const onGreen = await client.send(
        new ListAliasesCommand({ FunctionName: 'checkout', FunctionVersion: green }),
      );
      expect(onGreen.Aliases?.map((a) => a.Name)).toEqual(['canary']);
    });

    it('deletes a version no alias routes to, and refuses one an alias does', async () => {
      await putArtifact('checkout/1.1.0.zip', handlerSource('1.1.0'));
      const green = await deployCode('checkout/1.1.0.zip');
      await client.send(
        new UpdateAliasCommand({
          FunctionName: 'checkout',
          Name: 'live',
          RoutingConfig: { AdditionalVersionWeights: { [green]: 0.1 } },
        }),
      );

      await expect(
        client.send(new DeleteFunctionCommand({ FunctionName: 'checkout', Qualifier: green })),
      ).rejects.toThrow(ResourceConflictException);
      await expect(
        client.send(new DeleteFunctionCommand({ FunctionName: 'checkout', Qualifier: '$LATEST' })),
      ).rejects.toThrow(InvalidParameterValueException);

      await client.send(
        new UpdateAliasCommand({
          FunctionName: 'checkout',
          Name: 'live',
          FunctionVersion: green,
          RoutingConfig: { AdditionalVersionWeights: {} },
        }),
      );
      await client.send(new DeleteFunctionCommand({ FunctionName: 'checkout', Qualifier: '1' }));
      expect(lambda.describe('checkout').versions).toEqual([green]);
      await expect(
        client.send(new DeleteFunctionCommand({ FunctionName: 'checkout', Qualifier: '1' })),
      ).rejects.toThrow(ResourceNotFoundException);
    });

    it('puts, reads, lists and deletes provisioned concurrency per qualifier', async () => {
      await client.send(
        new PutProvisionedConcurrencyConfigCommand({
          FunctionName: 'checkout',
          Qualifier: '1',
          ProvisionedConcurrentExecutions: 5,
        }),
      );
      const read = await client.send(
        new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'checkout', Qualifier: '1' }),
      );
      expect(read).toMatchObject({ RequestedProvisionedConcurrentExecutions: 5, Status: 'READY' });
      const listed = await client.send(
        new ListProvisionedConcurrencyConfigsCommand({ FunctionName: 'checkout' }),
      );
      expect(listed.ProvisionedConcurrencyConfigs).toEqual([
        expect.objectContaining({
          FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:checkout:1',
          AllocatedProvisionedConcurrentExecutions: 5,
        }),
      ]);
      await expect(
        client.send(
          new PutProvisionedConcurrencyConfigCommand({
            FunctionName: 'checkout',
            Qualifier: '$LATEST',
            ProvisionedConcurrentExecutions: 1,
          }),
        ),
      ).rejects.toThrow('unpublished function versions');

      await client.send(
        new DeleteProvisionedConcurrencyConfigCommand({ FunctionName: 'checkout', Qualifier: '1' }),
      );
      expect(lambda.describe('checkout').provisionedConcurrency).toEqual({});
      await expect(
        client.send(
          new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'checkout', Qualifier: '1' }),
        ),
      ).rejects.toThrow(ProvisionedConcurrencyConfigNotFoundException);
    });
  });
});

describe('demo checkout artifacts', () => {
  const demoRoot = fileURLToPath(new URL('../../../demo/artifacts', import.meta.url));
  const health = { path: '/health' };
  const traffic = { path: '/checkout', body: '{}' };

  async function run(key: string, event: object): Promise<{ error?: string; statusCode?: number }> {
    const lambda = new LocalLambda({ artifacts: new LocalArtifactStore({ root: demoRoot }) });
    await lambda.seedFunction({
      functionName: 'checkout',
      artifact: { s3: { bucket: 'greenlight-demo-artifacts', key } },
      alias: 'live',
    });
    const endpoint = await startEndpoint([lambda]);
    const client = new LambdaClient({
      endpoint: endpoint.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      const result = await client.send(
        new InvokeCommand({
          FunctionName: 'checkout',
          Qualifier: 'live',
          Payload: JSON.stringify(event),
        }),
      );
      const payload = JSON.parse(Buffer.from(result.Payload ?? []).toString()) as {
        statusCode?: number;
      };
      return result.FunctionError
        ? { error: result.FunctionError }
        : { statusCode: payload.statusCode ?? 0 };
    } finally {
      client.destroy();
      await endpoint.close();
    }
  }

  it.each([
    ['checkout/1.0.0.zip', { statusCode: 200 }, { statusCode: 200 }],
    ['checkout/1.1.0.zip', { statusCode: 200 }, { statusCode: 200 }],
    ['checkout/1.2.0-broken.zip', { statusCode: 500 }, { statusCode: 200 }],
    ['checkout/1.3.0-faulty.zip', { statusCode: 200 }, { error: 'Unhandled' }],
  ])(
    '%s answers the health check and real traffic as the demo expects',
    async (key, onHealth, onTraffic) => {
      expect(await run(key, health)).toEqual(onHealth);
      expect(await run(key, traffic)).toEqual(onTraffic);
    },
  );
});
