import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoServiceRegistry } from '../src/aws/dynamo-registry.ts';
import { registryTableInput } from '../src/aws/dynamo-tables.ts';
import { checkDeployConfig } from '../src/infra/deploy-config.ts';
import { greenlightNames } from '../src/infra/names.ts';
import { closestToLimits, type QuotaUse } from '../src/infra/quotas.ts';
import { startLocalDynamo } from '../src/local/dynamo.ts';
import { startEndpoint } from '../src/local/endpoint.ts';
import { aConfigOfSize } from '../test/support/registry-of-size.ts';
import { type Summary, summarize } from './stats.ts';
import { formatMs, type TableSection } from './table.ts';

export interface RegistryScaleResult {
  services: number;
  /** checkDeployConfig of the whole config, as `sst deploy` and `greenlight config check` run it. */
  validation: Summary;
  largest: QuotaUse[];
  /** A step reading its service from the registry table: first read, then from the cache. */
  findCold: Summary;
  findWarm: Summary;
  /** The sweeper's listing of every registered service. */
  listAll: Summary;
}

/**
 * A stage of `services` services shaped like the README's examples (Lambda and ALB alternating):
 * what validating it costs, how close its largest function environment and role policy come to
 * AWS's quotas, and how long a step takes to load its service from the registry table (a
 * DynamoDB on 127.0.0.1, as the local cloud runs it), cold and warm.
 */
export async function measureRegistryScale(services = 500, runs = 7): Promise<RegistryScaleResult> {
  const config = aConfigOfSize(services);
  const names = greenlightNames('prod');
  const validationMs: number[] = [];
  let checked = checkDeployConfig(config, names);
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    checked = checkDeployConfig(config, names);
    validationMs.push(performance.now() - started);
  }
  if (checked.problems.length > 0) {
    throw new Error(`bench: ${services} services do not pass: ${checked.problems.join('; ')}`);
  }
  const largest = closestToLimits(checked.quotas);

  const dynamo = await startLocalDynamo();
  const endpoint = await startEndpoint([dynamo.service]);
  const client = new DynamoDBClient({
    endpoint: endpoint.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    const tableName = 'bench-registry';
    await client.send(new CreateTableCommand(registryTableInput(tableName)));
    const documents = DynamoDBDocumentClient.from(client);
    await new DynamoServiceRegistry({ client: documents, tableName }).put(config.services, 'bench');
    const names = config.services.map((service) => String(service.name));
    const findCold: number[] = [];
    const findWarm: number[] = [];
    const listAll: number[] = [];
    for (let i = 0; i < runs; i++) {
      // A new reader is a new execution environment: nothing cached.
      const registry = new DynamoServiceRegistry({ client: documents, tableName });
      const name = names[(i * 97) % names.length] as string;
      let started = performance.now();
      await registry.find(name);
      findCold.push(performance.now() - started);
      started = performance.now();
      await registry.find(name);
      findWarm.push(performance.now() - started);
      started = performance.now();
      const listed = await registry.list();
      listAll.push(performance.now() - started);
      if (listed.length !== services) throw new Error(`bench: listed ${listed.length} services`);
    }
    return {
      services,
      validation: summarize(validationMs),
      largest,
      findCold: summarize(findCold),
      findWarm: summarize(findWarm),
      listAll: summarize(listAll),
    };
  } finally {
    client.destroy();
    await endpoint.close();
    await dynamo.close();
  }
}

export function registryScaleSection(result: RegistryScaleResult): TableSection {
  const timing = (what: string, summary: Summary, digits = 1) => [
    what,
    `p50 ${formatMs(summary.p50, digits)} ms (${formatMs(summary.min, digits)}–${formatMs(summary.max, digits)}), n=${summary.n}`,
  ];
  return {
    title: `9. A stage of ${result.services} services (README shapes, Lambda and ALB alternating)`,
    header: ['what', 'measured'],
    rows: [
      timing('validate the config (deploy, config check)', result.validation),
      ...result.largest.map((use) => [
        `largest ${use.kind}`,
        `${use.used} of ${use.limit} (${Math.round((use.used / use.limit) * 100)}%): ${use.resource}`,
      ]),
      timing('a step loads its service, cold (GetItem + parse)', result.findCold, 2),
      timing('a step loads its service, warm (cached)', result.findWarm, 3),
      timing(`list all ${result.services} (sweeper: Scan + parse)`, result.listAll),
    ],
  };
}
