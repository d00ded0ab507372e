import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  CreateAliasCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  PublishVersionCommand,
  PutProvisionedConcurrencyConfigCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ListPrices } from '../../../src/core/idle-cost.ts';
import { LocalArtifactStore } from '../../../src/local/artifact-store.ts';
import { type Endpoint, startEndpoint } from '../../../src/local/endpoint.ts';
import { LocalLambda } from '../../../src/local/lambda/simulator.ts';
import { LambdaIdleColours } from '../../../src/targets/lambda-idle.ts';
import { aService } from '../../support/builders.ts';

// Against the local Lambda over its real wire protocol: it refuses, as Lambda does, to delete
// a version an alias references, so a retention bug shows up as an error, not a silent pass.
const bucket = 'artifacts';
const idleSince = new Date('2026-11-21T10:00:00.000Z');
const nothingInFlight = { idleSince, now: idleSince, protectedColours: new Set<string>() };

describe('LambdaIdleColours', () => {
  let root: string;
  let lambda: LocalLambda;
  let endpoint: Endpoint;
  let client: LambdaClient;
  let idle: LambdaIdleColours;

  /** Publishes versions 2..last of `checkout` (version 1 is seeded) and points `live` at `live`. */
  async function publishVersions(last: number, live: string): Promise<void> {
    const store = new LocalArtifactStore({ root });
    for (let v = 2; v <= last; v += 1) {
      const key = `checkout/${v}.zip`;
      const path = store.s3Path(bucket, key);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, `export async function handler() { return { version: ${v} }; }\n`);
      await client.send(
        new UpdateFunctionCodeCommand({ FunctionName: 'checkout', S3Bucket: bucket, S3Key: key }),
      );
      await client.send(new GetFunctionConfigurationCommand({ FunctionName: 'checkout' }));
      await client.send(new PublishVersionCommand({ FunctionName: 'checkout' }));
    }
    await client.send(
      new UpdateAliasCommand({ FunctionName: 'checkout', Name: 'live', FunctionVersion: live }),
    );
  }

  const service = (keepVersions = 3) =>
    aService({
      target: { kind: 'lambda-alias', functionName: 'checkout', alias: 'live', keepVersions },
    });

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'greenlight-idle-'));
    const store = new LocalArtifactStore({ root });
    const path = store.s3Path(bucket, 'checkout/1.zip');
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, 'export async function handler() { return { version: 1 }; }\n');
    lambda = new LocalLambda({ artifacts: store });
    await lambda.seedFunction({
      functionName: 'checkout',
      artifact: { s3: { bucket, key: 'checkout/1.zip' } },
      alias: 'live',
    });
    endpoint = await startEndpoint([lambda]);
    client = new LambdaClient({
      endpoint: endpoint.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    idle = new LambdaIdleColours({ client });
  });

  afterEach(async () => {
    client.destroy();
    await endpoint.close();
    await rm(root, { recursive: true, force: true });
  });

  describe('takesTraffic', () => {
    it('is true for the version the service’s alias runs or weighs in, false for others', async () => {
      await publishVersions(3, '2');
      await client.send(
        new UpdateAliasCommand({
          FunctionName: 'checkout',
          Name: 'live',
          RoutingConfig: { AdditionalVersionWeights: { '3': 0.1 } },
        }),
      );
      expect(await idle.takesTraffic(service(), '2')).toBe(true);
      expect(await idle.takesTraffic(service(), '3')).toBe(true);
      expect(await idle.takesTraffic(service(), '1')).toBe(false);
    });
  });

  describe('cost', () => {
    it('prices the provisioned concurrency left on the idle version', async () => {
      await publishVersions(2, '2');
      await client.send(
        new PutProvisionedConcurrencyConfigCommand({
          FunctionName: 'checkout',
          Qualifier: '1',
          ProvisionedConcurrentExecutions: 4,
        }),
      );
      const cost = await idle.cost(service(), '1');
      // The local Lambda reports 128 MB, x86_64.
      expect(cost.hourlyUsd).toBeCloseTo(
        4 * (128 / 1024) * 3600 * ListPrices.lambdaProvisionedConcurrency.x86_64.gbSecond,
        10,
      );
      expect(cost.basis).toBe('provisioned concurrency 4 x 128 MB (x86_64, us-east-1 list price)');
    });

    it('has no cost while idle without provisioned concurrency', async () => {
      await publishVersions(2, '2');
      expect(await idle.cost(service(), '1')).toEqual({
        hourlyUsd: 0,
        basis: 'no provisioned concurrency: no cost while idle',
      });
    });
  });

  describe('tearDown', () => {
    it('removes the idle version’s provisioned concurrency and deletes versions beyond retention', async () => {
      await publishVersions(6, '6');
      await client.send(
        new PutProvisionedConcurrencyConfigCommand({
          FunctionName: 'checkout',
          Qualifier: '5',
          ProvisionedConcurrentExecutions: 2,
        }),
      );

      const done = await idle.tearDown(service(3), '5', nothingInFlight);

      expect(done).toEqual([
        'Removed provisioned concurrency 2 from version 5',
        'Deleted version 1 (beyond the newest 3)',
        'Deleted version 2 (beyond the newest 3)',
        'Deleted version 3 (beyond the newest 3)',
      ]);
      expect(lambda.describe('checkout')).toMatchObject({
        versions: ['4', '5', '6'],
        provisionedConcurrency: {},
      });
    });

    it('never deletes the live version, one any alias routes to, or one a release in flight uses', async () => {
      await publishVersions(6, '2');
      await client.send(
        new CreateAliasCommand({ FunctionName: 'checkout', Name: 'pinned', FunctionVersion: '1' }),
      );
      await client.send(
        new UpdateAliasCommand({
          FunctionName: 'checkout',
          Name: 'live',
          RoutingConfig: { AdditionalVersionWeights: { '3': 0.05 } },
        }),
      );

      const done = await idle.tearDown(service(1), '5', {
        idleSince,
        now: idleSince,
        protectedColours: new Set(['4']),
      });

      expect(done).toEqual(['Deleted version 5 (beyond the newest 1)']);
      expect(lambda.describe('checkout').versions).toEqual(['1', '2', '3', '4', '6']);
    });

    it('keeps provisioned concurrency on a version an alias routes to', async () => {
      await publishVersions(2, '2');
      await client.send(
        new CreateAliasCommand({ FunctionName: 'checkout', Name: 'pinned', FunctionVersion: '1' }),
      );
      await client.send(
        new PutProvisionedConcurrencyConfigCommand({
          FunctionName: 'checkout',
          Qualifier: '1',
          ProvisionedConcurrentExecutions: 1,
        }),
      );
      expect(await idle.tearDown(service(), '1', nothingInFlight)).toEqual([]);
      expect(lambda.describe('checkout').provisionedConcurrency).toEqual({ '1': 1 });
    });

    it('does nothing the second time: there is nothing left to take down', async () => {
      await publishVersions(5, '5');
      expect(await idle.tearDown(service(2), '4', nothingInFlight)).toHaveLength(3);
      expect(await idle.tearDown(service(2), '4', nothingInFlight)).toEqual([]);
      expect(lambda.describe('checkout').versions).toEqual(['4', '5']);
    });
  });
});
