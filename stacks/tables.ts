import type { GreenlightNames } from '../src/infra/names.ts';
import { tableSpecs } from '../src/infra/tables.ts';

/** The ledger and the idempotency store: PITR on, TTL where records expire, protected in production. */
export function createTables(names: GreenlightNames, production: boolean) {
  const [ledger, idempotency] = tableSpecs(names, production).map(
    (spec) =>
      new aws.dynamodb.Table(spec.name === names.ledgerTable ? 'LedgerTable' : 'IdempotencyTable', {
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
  if (!ledger || !idempotency)
    throw new Error('tableSpecs must return the ledger and the idempotency table');
  return { ledger, idempotency };
}
