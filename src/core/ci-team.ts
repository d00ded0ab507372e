import * as z from './zod.ts';

/**
 * A CI team's name. Every dash-separated part starts with a letter, so the PascalCase form the
 * bus policy's statement ids use (`payments-eu` → `PaymentsEu`) is different for every name.
 * @example "payments"
 */
export const CiTeamName = z.lazy(() =>
  z
    .string()
    .check(
      z.maxLength(32),
      z.regex(
        /^[a-z][a-z0-9]*(?:-[a-z][a-z0-9]*)*$/,
        'must be 1-32 lowercase letters and digits in dash-separated parts, each starting with a letter, like "payments" or "payments-eu"',
      ),
    ),
);

const TeamSourcePrefix = 'greenlight.ci.';

/**
 * The `source` a team's CI principals must put Release Requested events with. The bus policy
 * refuses them any other, so for those principals the source cannot be faked, and Register
 * reads the team from it.
 */
export function ciTeamSource(team: string): string {
  return `${TeamSourcePrefix}${team}`;
}

/**
 * The team a Release Requested's `source` speaks for, or undefined when it is no team's
 * (`greenlight.cli` from a platform CI principal, `greenlight.operator` from a retry).
 * Anything under the team prefix counts, well-formed or not, so that a malformed team source
 * is refused rather than read as a platform one.
 */
export function teamOfSource(source: string): string | undefined {
  return source.startsWith(TeamSourcePrefix) ? source.slice(TeamSourcePrefix.length) : undefined;
}

/** `payments-eu` → `PaymentsEu`: a team's name in an IAM statement id ([A-Za-z0-9] only). */
export function pascalCaseTeam(team: string): string {
  return team
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
