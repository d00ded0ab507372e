import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoReleaseQueue } from '../../aws/dynamo-release-queue.ts';
import { SfnTaskCallbacks } from '../../aws/sfn-callbacks.ts';
import { SfnExecutions } from '../../aws/sfn-executions.ts';
import type { ServiceLock } from '../../core/ports.ts';
import { documentsOf } from '../clients/dynamodb.ts';
import type { Wiring } from '../wiring.ts';

/**
 * The one-release-per-service lock and its queue, in the ledger table (DynamoDB), with Step
 * Functions to wake the next release and to tell a dead holder from a live one: for the
 * functions that take or free the lock (acquire-lock, finalize, rollback, operator).
 */
export function buildLock(wiring: Wiring): { lock: ServiceLock } {
  const sfn = new SFNClient({});
  return {
    lock: new DynamoReleaseQueue({
      client: documentsOf(wiring),
      tableName: wiring.config.ledgerTable,
      callbacks: new SfnTaskCallbacks({ client: sfn }),
      executions: new SfnExecutions({ client: sfn }),
    }),
  };
}
