import { type RegistryItem, registryItem } from '../src/aws/dynamo-registry.ts';
import type { ServiceConfigInput } from '../src/core/service-config.ts';
import type { GreenlightNames } from '../src/infra/names.ts';
import { tableSpecs } from '../src/infra/tables.ts';

const logicalNames = ['LedgerTable', 'IdempotencyTable', 'RegistryTable'] as const;

/**
 * The ledger, the idempotency store and the service registry: PITR on, TTL where records
 * expire, protected in production. The registry is filled with the config's services, one
 * item each, in the format `greenlight config apply` writes (src/aws/dynamo-registry.ts).
 */
export function createTables(
  names: GreenlightNames,
  production: boolean,
  services: readonly ServiceConfigInput[],
) {
  const [ledger, idempotency, registry] = tableSpecs(names, production).map(
    (spec, i) =>
      new aws.dynamodb.Table(logicalNames[i] ?? spec.name, {
        name: spec.name,
        billingMode: 'PAY_PER_REQUEST',
        hashKey: spec.hashKey,
        ...(spec.rangeKey ? { rangeKey: spec.rangeKey } : {}),
        attributes: spec.attributes,
        pointInTimeRecovery: { enabled: spec.pointInTimeRecovery },
        ...(spec.ttlAttribute ? { ttl: { attributeName: spec.ttlAttribute, enabled: true } } : {}),
        deletionProtectionEnabled: spec.deletionProtection,
      }),
  );
  if (!ledger || !idempotency || !registry) {
    throw new Error('tableSpecs must return the ledger, idempotency and registry tables');
  }
  const registrations = services.map(
    (service) =>
      new aws.dynamodb.TableItem(`Service-${service.name}`, {
        tableName: registry.name,
        hashKey: 'name',
        item: JSON.stringify(attributeValues(registryItem(service, 'sst deploy'))),
      }),
  );
  return { ledger, idempotency, registry, registrations };
}

/** An item in DynamoDB's attribute-value JSON, as TableItem takes it. */
function attributeValues(item: RegistryItem): Record<string, { S: string }> {
  return Object.fromEntries(Object.entries(item).map(([key, value]) => [key, { S: value }]));
}
