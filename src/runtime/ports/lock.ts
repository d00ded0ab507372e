import { DynamoServiceLock } from '../../aws/dynamo-lock.ts';
import type { ServiceLock } from '../../core/ports.ts';
import { documentsOf } from '../clients/dynamodb.ts';
import type { Wiring } from '../wiring.ts';

/** The one-release-per-service lock, in the ledger table (DynamoDB). */
export function buildLock(wiring: Wiring): { lock: ServiceLock } {
  return {
    lock: new DynamoServiceLock({
      client: documentsOf(wiring),
      tableName: wiring.config.ledgerTable,
    }),
  };
}
