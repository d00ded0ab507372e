import { DynamoReleaseLedger } from '../../aws/dynamo-ledger.ts';
import type { ReleaseLedger } from '../../core/ports.ts';
import { documentsOf } from '../clients/dynamodb.ts';
import type { Wiring } from '../wiring.ts';

/** The release ledger, in the ledger table (DynamoDB). */
export function buildLedger(wiring: Wiring): { ledger: ReleaseLedger } {
  return {
    ledger: new DynamoReleaseLedger({
      client: documentsOf(wiring),
      tableName: wiring.config.ledgerTable,
    }),
  };
}
