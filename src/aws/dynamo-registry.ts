import { createHash } from 'node:crypto';
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  ScanCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  parseServiceRegistry,
  type ServiceRegistryReader,
  type ServiceRegistryWriter,
} from '../core/registry.ts';
import type { ServiceConfig, ServiceConfigInput, ServiceRegistry } from '../core/service-config.ts';

export interface DynamoServiceRegistryOptions {
  client: DynamoDBDocumentClient;
  /** greenlight's registry table: one item per service, keyed by `name`. */
  tableName: string;
  /**
   * How long a read serves later ones in this process (a Lambda execution environment).
   * Register reads past it (`fresh`), so only the steps of a release already under way can
   * see a registration up to this old.
   * @default 15_000
   */
  cacheMs?: number;
  /** Milliseconds on a clock that only goes forward, for the cache. @default performance.now */
  now?: () => number;
}

/** One registered service as stored: its registration as given, and who applied it. */
export interface RegistryItem {
  name: string;
  /** The registration as written in greenlight.config.ts, as JSON: parsed at every read. */
  config: string;
  /** SHA-256 of `config`: tells two registrations apart at a glance in the console. */
  digest: string;
  appliedBy: string;
}

// BatchWriteItem takes at most 25 requests (DynamoDB API Reference, BatchWriteItem).
const batchSize = 25;
const unprocessedRetries = 8;

/**
 * The service registry as data in DynamoDB. Each item is parsed at read by the same parser the
 * deploy uses (parseServiceRegistry), so a registration written by hand that the handlers
 * would refuse is refused at the read, with the field and the fix.
 */
export class DynamoServiceRegistry implements ServiceRegistryReader, ServiceRegistryWriter {
  readonly #client: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #cacheMs: number;
  readonly #now: () => number;
  readonly #found = new Map<string, { at: number; service: ServiceConfig | undefined }>();
  #listed: { at: number; services: ServiceRegistry } | undefined;

  constructor(options: DynamoServiceRegistryOptions) {
    this.#client = options.client;
    this.#tableName = options.tableName;
    this.#cacheMs = options.cacheMs ?? 15_000;
    this.#now = options.now ?? (() => performance.now());
  }

  async find(name: string, options: { fresh?: boolean } = {}): Promise<ServiceConfig | undefined> {
    const cached = this.#found.get(name);
    if (!options.fresh && cached !== undefined && this.#now() - cached.at < this.#cacheMs) {
      return cached.service;
    }
    const { Item } = await this.#client.send(
      new GetCommand({
        TableName: this.#tableName,
        Key: { name },
        ConsistentRead: options.fresh === true,
      }),
    );
    const service = Item === undefined ? undefined : parseItems([Item as RegistryItem])[0];
    this.#found.set(name, { at: this.#now(), service });
    return service;
  }

  async list(): Promise<ServiceRegistry> {
    if (this.#listed !== undefined && this.#now() - this.#listed.at < this.#cacheMs) {
      return this.#listed.services;
    }
    const items: RegistryItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.#client.send(
        new ScanCommand({
          TableName: this.#tableName,
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        }),
      );
      items.push(...((page.Items ?? []) as RegistryItem[]));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    const services = parseItems(items.sort((a, b) => a.name.localeCompare(b.name)));
    this.#listed = { at: this.#now(), services };
    return services;
  }

  async put(services: readonly ServiceConfigInput[], by: string): Promise<void> {
    const items = services.map((service) => registryItem(service, by));
    await this.#write(items.map((Item) => ({ PutRequest: { Item } })));
    this.#forget();
  }

  async remove(names: readonly string[]): Promise<void> {
    await this.#write(names.map((name) => ({ DeleteRequest: { Key: { name } } })));
    this.#forget();
  }

  #forget(): void {
    this.#found.clear();
    this.#listed = undefined;
  }

  async #write(requests: Record<string, unknown>[]): Promise<void> {
    for (let i = 0; i < requests.length; i += batchSize) {
      let pending = requests.slice(i, i + batchSize);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > unprocessedRetries) {
          throw new Error(
            `DynamoDB left ${pending.length} registry writes unprocessed after ${unprocessedRetries} retries; run the command again`,
          );
        }
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
        const result = await this.#client.send(
          new BatchWriteCommand({ RequestItems: { [this.#tableName]: pending } }),
        );
        pending = (result.UnprocessedItems?.[this.#tableName] ?? []) as Record<string, unknown>[];
      }
    }
  }
}

/** The item one registration is stored as: written here, and by the deploy (stacks/tables.ts). */
export function registryItem(service: ServiceConfigInput, by: string): RegistryItem {
  const config = JSON.stringify(service);
  return {
    name: String(service.name),
    config,
    digest: createHash('sha256').update(config).digest('hex'),
    appliedBy: by,
  };
}

function parseItems(items: readonly RegistryItem[]): ServiceRegistry {
  const inputs = items.map((item) => {
    try {
      return JSON.parse(item.config) as unknown;
    } catch {
      throw new Error(
        `The registry item of "${item.name}" holds no JSON registration; apply it again with "greenlight config apply"`,
      );
    }
  });
  return parseServiceRegistry(inputs);
}
