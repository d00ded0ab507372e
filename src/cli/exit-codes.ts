import { ReleasePhase as Phase, type ReleasePhase } from '../core/phases.ts';

/**
 * Process exit codes of the greenlight command. CI scripts branch on them, so they are public
 * API: add new codes, never renumber.
 */
export const ExitCode = {
  Finalized: 0,
  Failure: 1,
  Usage: 2,
  RolledBack: 3,
  Rejected: 4,
  /** Aborted and Superseded share one code: in both an operator, not the release, ended it. */
  Aborted: 5,
  Superseded: 5,
  Timeout: 6,
  /** An operator command (or decision) the release's state did not allow: nothing changed. */
  Refused: 7,
  /**
   * `approve` / `reject` by a caller whose AWS principal maps to no approver of the service
   * (its approval's `principals`): nothing was recorded, the workflow was not answered.
   */
  NotAnApprover: 8,
  /**
   * `greenlight plan` found something a release of the service would need missing or wrong
   * (each failed check is printed): nothing was changed, and a release now would fail.
   */
  NotReady: 9,
  /**
   * The reader of stdout or stderr went away (`greenlight status | head -3`): what the shell
   * reports for a tool killed by SIGPIPE (128 + 13), so `set -o pipefail` scripts see what they
   * see from any other tool. Not 0, which says a waited-for release was finalized: the output,
   * and any --wait, were cut short.
   */
  BrokenPipe: 141,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Exit code of a `--wait` that saw the release reach `phase` (non-terminal phases never end a wait). */
export function exitCodeForPhase(phase: ReleasePhase): ExitCode {
  switch (phase) {
    case Phase.Finalized:
      return ExitCode.Finalized;
    case Phase.RolledBack:
      return ExitCode.RolledBack;
    case Phase.Rejected:
      return ExitCode.Rejected;
    case Phase.Aborted:
      return ExitCode.Aborted;
    case Phase.Superseded:
      return ExitCode.Superseded;
    default:
      return ExitCode.Failure;
  }
}

export const exitCodesHelp = `Exit codes:
  0  released: the release reached Finalized (or the command succeeded)
  1  failure: AWS error, event not accepted, release not found
  2  usage error: unknown flag, missing or invalid value (nothing was sent)
  3  rolled back
  4  rejected by the workflow
  5  aborted or superseded by an operator or a newer release
  6  timed out waiting (--timeout)
  7  refused: the release's state does not allow the command (already paused, decided, ...)
  8  not an approver: your AWS principal maps to none of the service's approvers (approve, reject)
  9  not ready: greenlight plan found a check that fails (a release now would fail)
  141  output closed early (greenlight ... | head): output, and any --wait, cut short`;
