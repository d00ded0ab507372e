import { createHash } from 'node:crypto';
import {
  MigrationAction,
  type MigrationRunnerReply,
  type MigrationRunnerRequest,
  type ReleaseMigration,
} from '../core/migration.ts';
import type { ReleasePhase } from '../core/phases.ts';
import type { MigrationRunner } from '../core/ports.ts';
import type { MigrationEvidence, ReleaseSpec } from '../core/records.ts';
import type { MigrationsConfig } from '../core/service-config.ts';
import type { StepDependencies } from '../runtime/dependencies.ts';
import { stepRecord } from './advance-release.ts';

// What of a plan the ledger keeps: its item holds 400 KB (DynamoDB), and a plan may hold 500
// statements of 100 KB each.
const statementsKept = 20;
const statementChars = 500;

/** The runner's calls for one release's migration, each recorded in the timeline. */
export function runnerCall(
  deps: Pick<StepDependencies, 'ledger' | 'now'> & { migrations: MigrationRunner },
  runnerConfig: MigrationsConfig,
  release: ReleaseSpec,
  migration: ReleaseMigration,
  where: { step: string; phase: ReleasePhase; greenPercent?: number },
) {
  const base = { migrationId: migration.id, kind: migration.kind };
  const note = async (
    key: string,
    outcome: 'succeeded' | 'failed' | 'skipped',
    reason: string,
    evidence: Omit<MigrationEvidence, 'migrationId' | 'kind'> = {},
  ) =>
    deps.ledger.recordStep(
      release.releaseId,
      stepRecord(deps, {
        key,
        ...where,
        outcome,
        reason,
        evidence: { migration: { ...base, ...evidence } },
      }),
    );
  const ask = async (action: MigrationAction, key: string): Promise<MigrationRunnerReply> => {
    const request: MigrationRunnerRequest = {
      greenlight: 1,
      action,
      migrationId: migration.id,
      kind: migration.kind,
      service: release.service,
      releaseId: release.releaseId,
    };
    let reply: MigrationRunnerReply;
    try {
      reply = await deps.migrations.call(runnerConfig, request);
    } catch (error) {
      const details = (error as { details?: { errorType?: unknown } }).details;
      await note(
        key,
        'failed',
        `Migration runner ${action} of ${migration.id} failed: ${messageOf(error)}`,
        {
          action,
          error: {
            name: error instanceof Error ? error.name : 'Error',
            message: messageOf(error),
            ...(typeof details?.errorType === 'string' ? { errorType: details.errorType } : {}),
          },
        },
      );
      throw error;
    }
    await note(key, 'succeeded', describeReply(action, migration.id, reply), {
      action,
      reply: replyEvidence(reply),
    });
    return reply;
  };
  return { ask, note };
}

function describeReply(action: MigrationAction, id: string, reply: MigrationRunnerReply): string {
  switch (action) {
    case MigrationAction.Status:
      return `Migration ${id} is ${reply.status} (the runner's status)`;
    case MigrationAction.Plan:
      return `Migration ${id} would run ${reply.statements?.length ?? 0} statements`;
    case MigrationAction.Apply:
      return reply.ran === false
        ? `Migration ${id} was already applied: the runner ran nothing`
        : `Migration ${id} applied`;
    case MigrationAction.Revert:
      return reply.ran === false
        ? `Migration ${id} was not applied: the runner had nothing to revert`
        : `Migration ${id} reverted`;
  }
}

function replyEvidence(reply: MigrationRunnerReply): NonNullable<MigrationEvidence['reply']> {
  const statements = reply.statements;
  return {
    status: reply.status,
    ...(reply.ran !== undefined && { ran: reply.ran }),
    ...(statements !== undefined && {
      statements: statements.slice(0, statementsKept).map((s) => cut(s, statementChars)),
    }),
    ...(statements !== undefined &&
      statements.length > statementsKept && {
        statementsOmitted: statements.length - statementsKept,
      }),
    ...(statements !== undefined && { planSha256: planDigest(statements) }),
    ...(reply.evidence !== undefined && { evidence: reply.evidence }),
  };
}

/**
 * The digest of a whole plan (every statement, uncut), kept with its reply: what an
 * irreversible migration's approvers saw, which Migrate compares the plan it is about to apply
 * with.
 */
export function planDigest(statements: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(statements)).digest('hex');
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
