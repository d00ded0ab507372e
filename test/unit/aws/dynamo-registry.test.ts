import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoServiceRegistry } from '../../../src/aws/dynamo-registry.ts';
import { registryTableInput } from '../../../src/aws/dynamo-tables.ts';
import { useFreshLedgerTable } from '../../support/dynalite.ts';
import { aReadmeAlbService, aReadmeLambdaService } from '../../support/registry-of-size.ts';

const table = useFreshLedgerTable('registry', registryTableInput);
/** The registry's cache clock, moved by hand. */
let clockMs = 0;

const aRegistry = (cacheMs = 15_000) =>
  new DynamoServiceRegistry({ ...table(), cacheMs, now: () => clockMs });

beforeEach(() => {
  clockMs = 0;
});

describe('DynamoServiceRegistry', () => {
  it('reads back each registration parsed as the deploy parses it, defaults applied', async () => {
    const registry = aRegistry();
    await registry.put([aReadmeLambdaService('checkout'), aReadmeAlbService('shop')], 'dana');

    const checkout = await registry.find('checkout');

    expect(checkout).toMatchObject({
      name: 'checkout',
      target: { kind: 'lambda-alias', functionName: 'checkout', keepVersions: 3 },
      warmWindowSeconds: 900,
    });
    expect(await registry.find('nobody')).toBeUndefined();
    expect((await registry.list()).map((service) => service.name)).toEqual(['checkout', 'shop']);
  });

  it('writes hundreds of services in batches and lists them all, in name order', async () => {
    const names = Array.from({ length: 260 }, (_, i) => `svc-${String(259 - i).padStart(3, '0')}`);
    await aRegistry().put(names.map(aReadmeLambdaService), 'ci');

    const listed = await aRegistry().list();

    expect(listed).toHaveLength(260);
    expect(listed.map((service) => service.name)).toEqual([...names].sort());
  });

  it('serves a cached read within its window, and a fresh read past it', async () => {
    const steps = aRegistry(15_000);
    const operator = aRegistry();
    await operator.put([aReadmeLambdaService('checkout')], 'dana');
    expect((await steps.find('checkout'))?.warmWindowSeconds).toBe(900);

    await operator.put([{ ...aReadmeLambdaService('checkout'), warmWindowSeconds: 60 }], 'dana');

    expect((await steps.find('checkout'))?.warmWindowSeconds).toBe(900);
    expect((await steps.find('checkout', { fresh: true }))?.warmWindowSeconds).toBe(60);
    await operator.put([{ ...aReadmeLambdaService('checkout'), warmWindowSeconds: 120 }], 'dana');
    clockMs += 15_000;
    expect((await steps.find('checkout'))?.warmWindowSeconds).toBe(120);
  });

  it('takes a removed service out: it is no longer found or listed', async () => {
    const registry = aRegistry();
    await registry.put([aReadmeLambdaService('checkout'), aReadmeLambdaService('payments')], 'x');

    await registry.remove(['payments']);

    expect(await registry.find('payments')).toBeUndefined();
    expect((await registry.list()).map((service) => service.name)).toEqual(['checkout']);
  });

  it('refuses a registration written by hand that the parser refuses, saying what to fix', async () => {
    const broken = { ...aReadmeLambdaService('checkout'), defaultStrategy: 'blue-moon' };
    await table().client.send(
      new PutCommand({
        TableName: table().tableName,
        Item: { name: 'checkout', config: JSON.stringify(broken), digest: '', appliedBy: 'x' },
      }),
    );

    await expect(aRegistry().find('checkout')).rejects.toThrow(/defaultStrategy/);
  });
});
