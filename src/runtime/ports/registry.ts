import { DynamoServiceRegistry } from '../../aws/dynamo-registry.ts';
import type { ServiceRegistryReader } from '../../core/registry.ts';
import { documentsOf } from '../clients/dynamodb.ts';
import type { Wiring } from '../wiring.ts';

const makeRegistry = (wiring: Wiring) =>
  new DynamoServiceRegistry({
    client: documentsOf(wiring),
    tableName: wiring.config.registryTable,
  });

/** The registered services, read from the registry table and cached per process. */
export function buildRegistry(wiring: Wiring): { registry: ServiceRegistryReader } {
  return { registry: wiring.shared(makeRegistry) };
}
