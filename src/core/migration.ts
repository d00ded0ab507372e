import * as z from './zod.ts';

/**
 * A release's database migration, and the contract between greenlight and a service's
 * migration runner (the function that owns the service's schema and runs its migrations).
 *
 * greenlight never holds database credentials and never sends SQL: it tells the runner which
 * migration and which action, and the runner answers with what it would run or did run. The
 * runner is the authority on what is applied (its own bookkeeping table); greenlight's ledger
 * records what it asked and what came back, as evidence.
 */

export const MigrationKind = {
  /** Adds what the new code needs and the old code ignores: runs before green's tests, blue re-tested. */
  Expand: 'expand',
  /** Removes what only the old code needed: runs once no colour runs code older than its expand. */
  Contract: 'contract',
  /** Changes data so that the old code no longer fits: needs an approval naming it; forward-only after. */
  Irreversible: 'irreversible',
} as const;
export type MigrationKind = (typeof MigrationKind)[keyof typeof MigrationKind];

export const MigrationAction = {
  /** The statements `apply` would run, without running them. */
  Plan: 'plan',
  /** Runs the migration; the runner must do nothing when it is already applied. */
  Apply: 'apply',
  /** Undoes an applied migration; nothing when it is not applied. */
  Revert: 'revert',
  /** Whether the migration is applied, read from the runner's own bookkeeping. */
  Status: 'status',
} as const;
export type MigrationAction = (typeof MigrationAction)[keyof typeof MigrationAction];

export const MigrationStatus = {
  Pending: 'pending',
  Applied: 'applied',
  Reverted: 'reverted',
} as const;
export type MigrationStatus = (typeof MigrationStatus)[keyof typeof MigrationStatus];

/** A migration's id as the runner knows it, e.g. a file name without extension. */
export const MigrationId = z.lazy(() =>
  z
    .string()
    .check(
      z.regex(
        /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/,
        'must be 1-100 characters: letters, digits, ".", "_" or "-", starting with a letter or digit',
      ),
    ),
);

/** The `migration` a Release Requested event may carry. */
export const ReleaseMigration = z.lazy(() =>
  z
    .strictObject({
      id: MigrationId,
      kind: z.enum([MigrationKind.Expand, MigrationKind.Contract, MigrationKind.Irreversible]),
      /** For a contract: the id of the expand it completes. */
      completes: z.optional(MigrationId),
    })
    .check(
      z.superRefine((migration, ctx) => {
        if (migration.kind === MigrationKind.Contract && migration.completes === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['completes'],
            message:
              'a contract must name the expand it completes ("completes": the expand\'s id), so greenlight can tell when no colour runs code older than that expand',
          });
        }
        if (migration.kind !== MigrationKind.Contract && migration.completes !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['completes'],
            message: `only a contract completes an expand; this migration is "${migration.kind}"`,
          });
        }
      }),
    ),
);
export type ReleaseMigration = z.output<typeof ReleaseMigration>;

/** What greenlight sends the runner (the Lambda Invoke payload). */
export const MigrationRunnerRequest = z.lazy(() =>
  z.strictObject({
    /** The protocol's version: a runner refuses versions it does not know. */
    greenlight: z.literal(1),
    action: z.enum([
      MigrationAction.Plan,
      MigrationAction.Apply,
      MigrationAction.Revert,
      MigrationAction.Status,
    ]),
    migrationId: MigrationId,
    kind: z.enum([MigrationKind.Expand, MigrationKind.Contract, MigrationKind.Irreversible]),
    service: z.string(),
    /** The release asking, for the runner's own logs and bookkeeping. */
    releaseId: z.string(),
  }),
);
export type MigrationRunnerRequest = z.output<typeof MigrationRunnerRequest>;

/** What the runner answers, whatever the action. */
export const MigrationRunnerReply = z.lazy(() =>
  z.object({
    migrationId: MigrationId,
    /** The migration's state after the action. */
    status: z.enum([MigrationStatus.Pending, MigrationStatus.Applied, MigrationStatus.Reverted]),
    /** For `plan`: the statements `apply` would run, one per entry, in order. */
    statements: z.optional(z.array(z.string().check(z.maxLength(100_000))).check(z.maxLength(500))),
    /** For `apply` and `revert`: whether this call ran anything (false when already done). */
    ran: z.optional(z.boolean()),
    /** Free-form evidence kept in the ledger (durations, rows, schema version), at most 4 KB. */
    evidence: z.optional(z.record(z.string(), z.unknown())),
  }),
);
export type MigrationRunnerReply = z.output<typeof MigrationRunnerReply>;
