import { DynamoBakeStore } from '../../aws/dynamo-bakes.ts';
import type { BakeStore } from '../../core/ports.ts';
import { documentsOf } from '../clients/dynamodb.ts';
import type { Wiring } from '../wiring.ts';

/** Bakes under way and the alarms they watch, in the ledger table (DynamoDB). */
export function buildBakes(wiring: Wiring): { bakes: BakeStore } {
  return {
    bakes: new DynamoBakeStore({
      client: documentsOf(wiring),
      tableName: wiring.config.ledgerTable,
    }),
  };
}
