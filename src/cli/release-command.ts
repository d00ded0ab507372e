import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResponse,
} from '@aws-sdk/client-eventbridge';
import { CiTeamName, ciTeamSource } from '../core/ci-team.ts';
import { inertText } from '../core/inert-text.ts';
import { TerminalPhases } from '../core/phases.ts';
import type { ReleaseLedger } from '../core/ports.ts';
import type { ReleaseRecord, StepRecord } from '../core/records.ts';
import {
  type ReleaseRequestedV1,
  type ReleaseRequestedV1Input,
  ReleaseRequestedV1 as ReleaseRequestedV1Schema,
} from '../core/release-event.ts';
import { deriveReleaseId } from '../core/release-id.ts';
import { buildReleaseRequestEntry } from '../core/release-request-entry.ts';
import { ExitCode, exitCodeForPhase, exitCodesHelp } from './exit-codes.ts';
import {
  formatOutcome,
  formatRejection,
  formatStep,
  type RenderStyle,
  shouldUseColor,
} from './format-timeline.ts';
import {
  type CommandContext,
  type Env,
  nonEmpty,
  parseFlags,
  parseSeconds,
  resolveSharedOptions,
  type SharedOptions,
  sharedFlags,
  sharedFlagsHelp,
  UsageError,
  usageError,
} from './options.ts';

/**
 * `source` of the events the CLI puts for the platform's CI; a team's CI puts its team's
 * (`--team`). The release rule matches on detail-type only.
 */
export const CliEventSource = 'greenlight.cli';

const Defaults = { timeoutSeconds: 3600, pollIntervalSeconds: 5 } as const;

export const releaseUsage = `Usage: greenlight release --service NAME --version V (--s3 s3://bucket/key[?versionId=ID] | --image URI) [options]

Announces a release on the greenlight bus ("Release Requested", validated locally first) and
prints its event id and release id. With --wait, follows it in the ledger until it ends.

Options:
  --service NAME        registered service name
  --version V           version being released
  --s3 URL              Lambda code in S3: s3://bucket/key, optionally ?versionId=ID
  --image URI           container image with a tag or digest
  --commit SHA          commit id (default: $GITHUB_SHA / $CI_COMMIT_SHA)
  --actor WHO           who released (default: $GITHUB_ACTOR / $GITLAB_USER_LOGIN / $USER)
  --ci-provider P       CI provider, with --ci-run-url (default: detected GitHub Actions or GitLab)
  --ci-run-url URL      link to the CI run
  --strategy NAME       one of the service's strategies (default: the service's default)
  --attempt N           retry number of the same version (default 1; a new attempt is a new release)
  --allow-older         release it even when a build requested later is live (a deliberate
                        downgrade); without it such a release is refused, nothing touched
  --team NAME           send as this CI team (source greenlight.ci.NAME), as a team's CI
                        principal must (default: $GREENLIGHT_TEAM; none: the platform's source)
  --wait                follow the release until it ends; the exit code says how it ended
  --timeout SECONDS     give up waiting after this long (default ${Defaults.timeoutSeconds})
  --poll-interval SECONDS  between ledger reads (default ${Defaults.pollIntervalSeconds})

${sharedFlagsHelp}

${exitCodesHelp}`;

const releaseFlags = {
  ...sharedFlags,
  service: { type: 'string' },
  version: { type: 'string' },
  s3: { type: 'string' },
  image: { type: 'string' },
  commit: { type: 'string' },
  actor: { type: 'string' },
  'ci-provider': { type: 'string' },
  'ci-run-url': { type: 'string' },
  strategy: { type: 'string' },
  attempt: { type: 'string' },
  'allow-older': { type: 'boolean' },
  team: { type: 'string' },
  wait: { type: 'boolean' },
  timeout: { type: 'string' },
  'poll-interval': { type: 'string' },
} as const;

export type PutEvents = (entries: PutEventsRequestEntry[]) => Promise<PutEventsResponse>;

export interface ReleaseClients {
  ledger: ReleaseLedger;
  putEvents: PutEvents;
}

export interface ReleaseArgs {
  shared: SharedOptions;
  /** The detail as the user asked for it, before validation. */
  detail: ReleaseRequestedV1Input;
  /** The event's `source`: the team's when one is given, else CliEventSource. */
  source: string;
  wait?: { timeoutSeconds: number; pollIntervalSeconds: number };
}

export function putEventsWith(client: EventBridgeClient): PutEvents {
  return (entries) => client.send(new PutEventsCommand({ Entries: entries }));
}

export async function runReleaseCommand(
  argv: readonly string[],
  context: CommandContext,
  connect: (options: SharedOptions) => ReleaseClients,
): Promise<ExitCode> {
  let args: ReleaseArgs | 'help';
  try {
    args = parseReleaseArgs(argv, context.env);
  } catch (error) {
    return usageError('release', error, context);
  }
  if (args === 'help') {
    context.out(releaseUsage);
    return ExitCode.Finalized;
  }

  const parsed = ReleaseRequestedV1Schema.safeParse(args.detail);
  if (!parsed.success) {
    context.err('greenlight release: invalid release request, nothing was sent:');
    for (const issue of parsed.error.issues) {
      const path = issue.path.join('.');
      context.err(`  ${describeField(path)}: ${issue.message} (detail.${path})`);
    }
    return ExitCode.Usage;
  }

  const clients = connect(args.shared);
  const style: RenderStyle = {
    color: !args.shared.json && shouldUseColor(context.env, context.isTty),
  };
  const sent = await sendRelease(parsed.data, args.shared.bus, clients.putEvents, args.source);
  if (!sent.ok) {
    context.err(`greenlight release: EventBridge did not accept the event: ${sent.error}`);
    return ExitCode.Failure;
  }
  if (args.shared.json) {
    context.out(
      JSON.stringify({ type: 'requested', eventId: sent.eventId, releaseId: sent.releaseId }),
    );
  } else {
    context.out(
      `Requested ${parsed.data.service} ${parsed.data.version} (attempt ${parsed.data.attempt}) on bus ${args.shared.bus}`,
    );
    context.out(`  event id    ${sent.eventId}`);
    context.out(`  release id  ${sent.releaseId}`);
  }
  if (args.wait === undefined) {
    if (!args.shared.json) {
      context.out(`Follow it with: greenlight status --release ${sent.releaseId}`);
    }
    return ExitCode.Finalized;
  }
  return waitForRelease(sent.releaseId, parsed.data.service, {
    eventId: sent.eventId,
    ledger: clients.ledger,
    out: context.out,
    now: context.now,
    sleep: context.sleep,
    json: args.shared.json,
    style,
    ...args.wait,
  });
}

/** Reads flags and CI environment into an unvalidated detail; schema checks come after. */
export function parseReleaseArgs(argv: readonly string[], env: Env): ReleaseArgs | 'help' {
  const values = parseFlags(argv, releaseFlags);
  if (values.help) return 'help';
  const shared = resolveSharedOptions(values, env);
  for (const flag of ['service', 'version'] as const) {
    if (values[flag] === undefined) throw new UsageError(`--${flag} is required.`);
  }
  if ((values.s3 === undefined) === (values.image === undefined)) {
    throw new UsageError('Give exactly one artifact: --s3 s3://bucket/key or --image URI.');
  }
  if (!values.wait && (values.timeout !== undefined || values['poll-interval'] !== undefined)) {
    throw new UsageError('--timeout and --poll-interval only apply with --wait.');
  }

  const detail: ReleaseRequestedV1Input = {
    schemaVersion: 1,
    service: values.service ?? '',
    version: values.version ?? '',
    artifact: values.s3 === undefined ? { imageUri: values.image ?? '' } : parseS3Url(values.s3),
  };
  const commit = values.commit ?? nonEmpty(env.GITHUB_SHA) ?? nonEmpty(env.CI_COMMIT_SHA);
  if (commit !== undefined) detail.commit = commit;
  const actor =
    values.actor ??
    nonEmpty(env.GITHUB_ACTOR) ??
    nonEmpty(env.GITLAB_USER_LOGIN) ??
    nonEmpty(env.USER);
  if (actor !== undefined) detail.actor = actor;
  const ci = resolveCi(values['ci-provider'], values['ci-run-url'], env);
  if (ci !== undefined) detail.ci = ci;
  if (values.strategy !== undefined) detail.strategy = values.strategy;
  // Left as a number even when it is not one, so the schema reports it against `attempt`.
  if (values.attempt !== undefined) detail.attempt = Number(values.attempt);
  if (values['allow-older']) detail.allowOlder = true;

  const team = values.team ?? nonEmpty(env.GREENLIGHT_TEAM);
  if (team !== undefined && !CiTeamName.safeParse(team).success) {
    throw new UsageError(
      `--team (or GREENLIGHT_TEAM) must be a team of ci.teams in greenlight.config.ts, like "payments", got "${team}".`,
    );
  }
  const source = team === undefined ? CliEventSource : ciTeamSource(team);

  const args: ReleaseArgs = { shared, detail, source };
  if (values.wait) {
    args.wait = {
      timeoutSeconds: parseSeconds('timeout', values.timeout, Defaults.timeoutSeconds),
      pollIntervalSeconds: parseSeconds(
        'poll-interval',
        values['poll-interval'],
        Defaults.pollIntervalSeconds,
      ),
    };
  }
  return args;
}

/** `s3://bucket/key?versionId=ID`; the key is taken verbatim (S3 keys may contain anything). */
export function parseS3Url(url: string): {
  s3: { bucket: string; key: string; objectVersion?: string };
} {
  const match = /^s3:\/\/([^/]+)\/(.+?)(?:\?versionId=([^&]+))?$/.exec(url);
  if (match === null) {
    throw new UsageError(`--s3 must look like s3://bucket/key[?versionId=ID], got "${url}".`);
  }
  const [, bucket = '', key = '', objectVersion] = match;
  return {
    s3: {
      bucket,
      key,
      ...(objectVersion === undefined ? {} : { objectVersion: decodeURIComponent(objectVersion) }),
    },
  };
}

/** Flags win; else the run that is executing us, so a CI job needs no extra arguments. */
export function resolveCi(
  provider: string | undefined,
  runUrl: string | undefined,
  env: Env,
): { provider: string; runUrl: string } | undefined {
  if (provider !== undefined || runUrl !== undefined) {
    if (provider === undefined || runUrl === undefined) {
      throw new UsageError('--ci-provider and --ci-run-url go together: give both or neither.');
    }
    return { provider, runUrl };
  }
  return detectCi(env);
}

export function detectCi(env: Env): { provider: string; runUrl: string } | undefined {
  const server = nonEmpty(env.GITHUB_SERVER_URL);
  const repository = nonEmpty(env.GITHUB_REPOSITORY);
  const runId = nonEmpty(env.GITHUB_RUN_ID);
  if (server !== undefined && repository !== undefined && runId !== undefined) {
    return { provider: 'github-actions', runUrl: `${server}/${repository}/actions/runs/${runId}` };
  }
  const jobUrl = nonEmpty(env.CI_JOB_URL);
  if (jobUrl !== undefined) return { provider: 'gitlab', runUrl: jobUrl };
  return undefined;
}

/** The flag a schema path came from, so the message points at what the user typed. */
function describeField(path: string): string {
  const flags: Record<string, string> = {
    service: '--service',
    version: '--version',
    artifact: '--s3/--image',
    'artifact.imageUri': '--image',
    commit: '--commit',
    actor: '--actor',
    ci: '--ci-provider/--ci-run-url',
    'ci.provider': '--ci-provider',
    'ci.runUrl': '--ci-run-url',
    strategy: '--strategy',
    attempt: '--attempt',
  };
  if (path.startsWith('artifact.s3')) return '--s3';
  return flags[path] ?? (path || '(event)');
}

type SendResult = { ok: true; eventId: string; releaseId: string } | { ok: false; error: string };

export async function sendRelease(
  detail: ReleaseRequestedV1,
  bus: string,
  putEvents: PutEvents,
  source: string = CliEventSource,
): Promise<SendResult> {
  const response = await putEvents([buildReleaseRequestEntry({ bus, source, detail })]);
  const [entry] = response.Entries ?? [];
  // PutEvents answers 200 even when it drops an entry; only FailedEntryCount tells.
  if ((response.FailedEntryCount ?? 0) > 0 || entry?.EventId === undefined) {
    return {
      ok: false,
      error: entry?.ErrorCode
        ? `${entry.ErrorCode}: ${entry.ErrorMessage ?? ''}`.trim()
        : 'no event id returned',
    };
  }
  return {
    ok: true,
    eventId: entry.EventId,
    releaseId: deriveReleaseId(detail.service, detail.version, detail.attempt),
  };
}

export interface WaitDependencies {
  ledger: ReleaseLedger;
  out: (line: string) => void;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  json: boolean;
  style: RenderStyle;
  timeoutSeconds: number;
  pollIntervalSeconds: number;
  /** The id PutEvents gave the event: the workflow files a rejection under it. */
  eventId?: string;
}

/**
 * Polls the ledger until the release ends, printing each step once as it appears (again if the
 * workflow rewrites it with a new outcome), and returns the exit code for how it ended.
 */
export async function waitForRelease(
  releaseId: string,
  service: string,
  deps: WaitDependencies,
): Promise<ExitCode> {
  const deadline = deps.now() + deps.timeoutSeconds * 1000;
  const printed = new Map<string, string>();
  let previousAt: string | undefined;
  let shownLockWait = false;
  let release: ReleaseRecord | undefined;
  if (!deps.json) deps.out(`Waiting for ${releaseId} (up to ${deps.timeoutSeconds}s)...`);

  for (;;) {
    release = await deps.ledger.getRelease(releaseId);
    if (release !== undefined) {
      previousAt ??= release.requestedAt;
      const steps = [...(await deps.ledger.listSteps(releaseId))].sort(
        (a, b) => Date.parse(a.at) - Date.parse(b.at),
      );
      for (const step of steps) {
        const version = `${step.outcome}|${step.at}|${step.reason}`;
        if (printed.get(step.key) === version) continue;
        printed.set(step.key, version);
        const holder = findLockHolder(step);
        if (holder !== undefined) {
          if (!shownLockWait) {
            shownLockWait = true;
            deps.out(
              deps.json
                ? JSON.stringify({ type: 'waiting-for-lock', releaseId, service, holder })
                : `  waiting for ${service}'s lock (held by ${holder})`,
            );
          }
          continue;
        }
        if (deps.json) {
          deps.out(JSON.stringify({ type: 'step', releaseId, step }));
        } else {
          for (const line of formatStep(step, previousAt, deps.style)) deps.out(line);
        }
        previousAt = step.at;
      }
      if (TerminalPhases.has(release.phase)) {
        const exitCode = exitCodeForPhase(release.phase);
        deps.out(
          deps.json
            ? JSON.stringify({ type: 'finished', release, exitCode })
            : formatOutcome(release, deps.style),
        );
        return exitCode;
      }
    }
    if (release === undefined && deps.eventId !== undefined) {
      const rejection = await deps.ledger.getRejection(deps.eventId);
      if (rejection !== undefined) {
        if (deps.json) {
          deps.out(
            JSON.stringify({
              type: 'rejected',
              eventId: deps.eventId,
              rejection,
              exitCode: ExitCode.Rejected,
            }),
          );
        } else {
          for (const line of formatRejection(rejection)) deps.out(line);
        }
        return ExitCode.Rejected;
      }
    }
    const remaining = deadline - deps.now();
    if (remaining <= 0) break;
    await deps.sleep(Math.min(deps.pollIntervalSeconds * 1000, remaining));
  }

  const where =
    release === undefined
      ? 'no release record appeared in the ledger (is the bus rule deployed, the service registered?)'
      : `still ${release.phase}: ${inertText(release.reason)}`;
  deps.out(
    deps.json
      ? JSON.stringify({
          type: 'timeout',
          releaseId,
          phase: release?.phase ?? null,
          exitCode: ExitCode.Timeout,
        })
      : `Timed out after ${deps.timeoutSeconds}s: ${where}`,
  );
  return ExitCode.Timeout;
}

/**
 * The holder of the service lock when `step` says this release is queued behind it: a `lock`
 * step still `started`, whose reason names the holder ("held by <releaseId>").
 */
export function findLockHolder(step: StepRecord): string | undefined {
  if (step.step !== LockStepName || step.outcome !== 'started') return undefined;
  return /held by ([A-Za-z0-9_-]+)/.exec(step.reason)?.[1];
}

const LockStepName = 'lock';
