import type { ApprovalStore, TaskCallbacks } from '../core/ports.ts';
import type { ApprovalRecord } from '../core/records.ts';

/**
 * Ports the approval flow needs beyond src/core/ports.ts. Proposed for core; kept here until
 * then so that core stays untouched by this change.
 */

/** Remembers request signatures so that a captured request cannot be sent again. */
export interface ReplayGuard {
  /**
   * Records `key` until `expiresAt`; true the first time, false if it was recorded before and
   * has not expired. A conditional write, so two Lambda instances never both see `true`.
   */
  remember(key: string, expiresAt: Date, now: Date): Promise<boolean>;
}

export interface RenewableApprovalStore extends ApprovalStore {
  /**
   * Replaces the task token of a pending approval. A retried Task state waits on a new token;
   * the old one is dead. `renewed` is false when the approval was decided first; `record` is
   * then the decision, which the caller hands to the new token.
   */
  renewTaskToken(
    approvalId: string,
    taskToken: string,
  ): Promise<{ renewed: boolean; record: ApprovalRecord }>;
}

export type { CallbackOutcome } from '../core/ports.ts';

/** core's TaskCallbacks, which say whether the workflow was still waiting. */
export type ReportingTaskCallbacks = TaskCallbacks;
