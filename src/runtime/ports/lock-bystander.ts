import { DynamoReleaseQueue } from '../../aws/dynamo-release-queue.ts';
import type { ServiceLock } from '../../core/ports.ts';
import { documentsOf } from '../clients/dynamodb.ts';
import type { Wiring } from '../wiring.ts';

/**
 * The lock as the steps between taking and freeing it hold it (provision, test, weights, bakes,
 * gates, approvals): their transitions never free it (no `releaseLock` effect), so they are
 * built without the Step Functions client (cold start: every client imported costs it). Were
 * one ever to free it, the hand-off would still be written, and the woken release would find
 * it at its recheck (WaitForLock's timeout) instead of at once.
 */
export function buildLockBystander(wiring: Wiring): { lock: ServiceLock } {
  const unwired = async (): Promise<never> => {
    throw new Error(
      'This function is built without Step Functions (buildLockBystander); build it with buildLock to take or free the lock',
    );
  };
  return {
    lock: new DynamoReleaseQueue({
      client: documentsOf(wiring),
      tableName: wiring.config.ledgerTable,
      callbacks: { succeed: unwired, fail: unwired },
      executions: { isRunning: unwired },
    }),
  };
}
