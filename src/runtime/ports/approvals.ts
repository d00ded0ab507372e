import { DynamoApprovalStore } from '../../aws/dynamo-approvals.ts';
import type { RenewableApprovalStore } from '../../core/ports.ts';
import { documentsOf } from '../clients/dynamodb.ts';
import type { Wiring } from '../wiring.ts';

/** Approval requests and their decisions, in the ledger table (DynamoDB). */
export function buildApprovals(wiring: Wiring): { approvals: RenewableApprovalStore } {
  return {
    approvals: new DynamoApprovalStore({
      client: documentsOf(wiring),
      tableName: wiring.config.ledgerTable,
    }),
  };
}
