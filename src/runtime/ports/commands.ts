import { DynamoCommandLog } from '../../aws/dynamo-commands.ts';
import type { CommandLog } from '../../core/ports.ts';
import { documentsOf } from '../clients/dynamodb.ts';
import type { Wiring } from '../wiring.ts';

/** Operator commands' outcomes, in the ledger table (DynamoDB). */
export function buildCommandLog(wiring: Wiring): { commands: CommandLog } {
  return {
    commands: new DynamoCommandLog({
      client: documentsOf(wiring),
      tableName: wiring.config.ledgerTable,
    }),
  };
}
