import { MigrationKind, type ReleaseMigration } from './migration.ts';
import { ReleasePhase, TerminalPhases } from './phases.ts';
import { IdleColourState, type ReleaseRecord } from './records.ts';

export type ContractReadiness =
  | { ready: true; expand: ReleaseRecord; reason: string }
  | { ready: false; reason: string };

/**
 * Whether a contract may be released now. A contract removes what only code older than its
 * expand needs, so it waits until no colour runs such code: the release that applied the expand
 * must have finalized and its idle colour (its blue, the old code kept warm for a rollback) must
 * be torn down. Pure: `releases` are the service's newest releases from the ledger, newest first.
 *
 * Every refusal says what to wait for and when it will be, so CI can send the contract again.
 */
export function decideContractReadiness(
  migration: ReleaseMigration,
  releases: readonly ReleaseRecord[],
): ContractReadiness {
  const expandId = migration.completes;
  if (migration.kind !== MigrationKind.Contract || expandId === undefined) {
    return { ready: false, reason: `migration "${migration.id}" is not a contract` };
  }
  const expand = releases.find(
    (release) =>
      release.migration?.kind === MigrationKind.Expand &&
      release.migration.id === expandId &&
      release.migrationState?.status === 'applied',
  );
  if (expand === undefined) {
    return {
      ready: false,
      reason: `the ledger has no applied expand "${expandId}" for this service (among its last ${releases.length} releases): release the expand first, and the contract once its release's idle colour is torn down`,
    };
  }
  const by = `release ${expand.releaseId} (${expand.version}) applied expand "${expandId}"`;
  if (!TerminalPhases.has(expand.phase)) {
    return {
      ready: false,
      reason: `${by} and is still ${expand.phase}: its blue runs code older than the expand and may take all traffic back; send the contract after it is finalized and its idle colour torn down`,
    };
  }
  if (expand.phase !== ReleasePhase.Finalized) {
    const blue = expand.colours?.blue ?? 'blue';
    return {
      ready: false,
      reason: `${by} and ended ${expand.phase}: ${blue}, which runs code older than the expand, serves the traffic; release code built for the expand first`,
    };
  }
  const idle = expand.idle;
  if (idle?.state === IdleColourState.Warm) {
    return {
      ready: false,
      reason: `${by}; its idle colour ${idle.colour} runs code older than the expand and stays warm for a rollback until its teardown at ${idle.teardownAt}: send the contract after that`,
    };
  }
  if (idle?.state === IdleColourState.LiveAgain) {
    return {
      ready: false,
      reason: `${by}, but its idle colour ${idle.colour}, which runs code older than the expand, took traffic again (${idle.reason}); release code built for the expand first`,
    };
  }
  return {
    ready: true,
    expand,
    reason: `${by} and its idle colour${idle ? ` ${idle.colour}` : ''} is torn down: no colour runs code older than the expand`,
  };
}
