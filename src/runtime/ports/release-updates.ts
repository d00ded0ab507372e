import { DynamoReleaseUpdateThreads } from '../../aws/dynamo-release-updates.ts';
import type { ReleaseUpdateThreads } from '../../core/ports.ts';
import { documentsOf } from '../clients/dynamodb.ts';
import type { Wiring } from '../wiring.ts';

/** Release update threads, in the ledger table (DynamoDB). */
export function buildReleaseUpdateThreads(wiring: Wiring): { threads: ReleaseUpdateThreads } {
  return {
    threads: new DynamoReleaseUpdateThreads({
      client: documentsOf(wiring),
      tableName: wiring.config.ledgerTable,
    }),
  };
}
