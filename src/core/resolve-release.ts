import { teamOfSource } from './ci-team.ts';
import { type FieldIssue, InvalidReleaseEvent } from './errors.ts';
import { MigrationKind } from './migration.ts';
import type { ReleaseSpec } from './records.ts';
import {
  type Artifact,
  OperatorEventSource,
  ReleaseRequestedEnvelope,
  ReleaseRequestedV1,
} from './release-event.ts';
import { deriveReleaseId } from './release-id.ts';
import { approvalOf, type ServiceConfig, type ServiceRegistry } from './service-config.ts';
import { planWeights } from './weights.ts';
import * as z from './zod.ts';

type ZodIssue = z.core.$ZodIssue;
type PathSegment = PropertyKey;

const IsoTime = z.lazy(() => z.iso.datetime({ offset: true }));

/**
 * The service a Release Requested event names, read before it is validated, so that its
 * registration can be looked up (a stage's registry is data, not a list in memory).
 */
export function requestedServiceName(event: unknown): string | undefined {
  const detail = isRecord(event) ? event.detail : undefined;
  return isRecord(detail) && typeof detail.service === 'string' ? detail.service : undefined;
}

/**
 * Validates a Release Requested event against the registered services and turns it into the
 * release the workflow carries. `registry` holds at least the service the event names when it
 * is registered (Register passes just that one). Every problem is collected, so CI authors fix
 * their event in one round. `now` is the registration time, used when the envelope carries no
 * usable `time`.
 */
export function resolveRelease(
  event: unknown,
  registry: ServiceRegistry,
  now: string,
): ReleaseSpec {
  const issues: FieldIssue[] = [];
  const envelope = ReleaseRequestedEnvelope.safeParse(event);
  if (!envelope.success) {
    issues.push(...issuesFromZod(envelope.error, ''));
  }
  const rawDetail = isRecord(event) ? event.detail : undefined;
  // A missing detail is already reported by the envelope; parsing it again would say it twice.
  const detail = ReleaseRequestedV1.safeParse(rawDetail);
  if (!detail.success && rawDetail !== undefined) {
    issues.push(...issuesFromZod(detail.error, 'detail'));
  }

  const service = checkService(rawDetail, registry, issues);
  if (service !== undefined && detail.success) checkArtifact(detail.data.artifact, service, issues);
  if (service !== undefined && envelope.success) checkTeam(envelope.data.source, service, issues);
  if (service !== undefined && detail.success) checkMigration(detail.data, service, issues);
  if (detail.success && detail.data.rollbackOf !== undefined && envelope.success) {
    checkRollbackSource(envelope.data.source, issues);
  }

  if (issues.length > 0 || !envelope.success || !detail.success || service === undefined) {
    throw new InvalidReleaseEvent(issues);
  }
  const { data } = detail;
  const strategyName = data.strategy ?? service.defaultStrategy;
  const strategy = service.strategies[strategyName];
  if (strategy === undefined) {
    // Only an unvalidated registry gets here: parseServiceRegistry checks defaultStrategy.
    throw new Error(
      `service "${service.name}" has default strategy "${strategyName}" but no such strategy; load the registry with parseServiceRegistry`,
    );
  }
  const time = envelope.data.time;
  const approval = approvalOf(service, strategyName);
  return {
    releaseId: deriveReleaseId(data.service, data.version, data.attempt),
    service: data.service,
    version: data.version,
    attempt: data.attempt,
    artifact: data.artifact,
    strategy: strategyName,
    plan: planWeights(strategy),
    ...(data.commit !== undefined && { commit: data.commit }),
    ...(data.actor !== undefined && { actor: data.actor }),
    ...(data.ci !== undefined && { ci: { provider: data.ci.provider, runUrl: data.ci.runUrl } }),
    requestedAt: time !== undefined && IsoTime.safeParse(time).success ? time : now,
    lockPolicy: service.lockPolicy,
    ...(data.allowOlder === true && { allowOlder: true as const }),
    ...(data.migration !== undefined && { migration: data.migration }),
    ...(data.rollbackOf !== undefined && { rollbackOf: data.rollbackOf }),
    ...(approval.type === 'slack' && {
      approval: {
        // Register refuses an irreversible migration without approvers (checkMigration).
        ...(data.migration?.kind === MigrationKind.Irreversible && { beforeMigration: true }),
        beforeShift: approval.stages.includes('before-shift'),
        beforeFinalize: approval.stages.includes('before-finalize'),
        timeoutSeconds: approval.timeoutSeconds,
      },
    }),
  };
}

/**
 * The registered service the detail names, if any. Checked on the raw detail so that an
 * unknown service or strategy is reported alongside the detail's other problems.
 */
function checkService(
  rawDetail: unknown,
  registry: ServiceRegistry,
  issues: FieldIssue[],
): ServiceConfig | undefined {
  if (!isRecord(rawDetail) || typeof rawDetail.service !== 'string') return undefined;
  if (issues.some((issue) => issue.path === 'detail.service')) return undefined;
  const name = rawDetail.service;
  const service = registry.find((s) => s.name === name);
  if (service === undefined) {
    issues.push({
      path: 'detail.service',
      message: `service "${name}" is not registered in this stage; register it in greenlight.config.ts and apply it (greenlight config apply)`,
    });
    return undefined;
  }
  const strategy = rawDetail.strategy;
  if (
    typeof strategy === 'string' &&
    !issues.some((issue) => issue.path === 'detail.strategy') &&
    !Object.hasOwn(service.strategies, strategy)
  ) {
    issues.push({
      path: 'detail.strategy',
      message: `strategy "${strategy}" is not defined for service "${name}"; its strategies are: ${Object.keys(service.strategies).join(', ')}`,
    });
  }
  return service;
}

/**
 * A team's CI may release only its team's services. The bus policy lets a team's principals
 * put Release Requested with their team's source alone, so the source says which team sent
 * the event; a source of no team came from a platform CI principal or from greenlight (a
 * retry), which may release any service.
 */
function checkTeam(source: string, service: ServiceConfig, issues: FieldIssue[]): void {
  const team = teamOfSource(source);
  if (team === undefined || team === service.ci?.team) return;
  issues.push({
    path: 'source',
    message:
      service.ci === undefined
        ? `source "${source}" is team "${team}"'s CI, and service "${service.name}" belongs to no team; release it from a platform CI principal (ci.principals), or give it the team with ci.team in its registration`
        : `source "${source}" is team "${team}"'s CI, and service "${service.name}" belongs to team "${service.ci.team}"; release it from that team's CI`,
  });
}

/** Only greenlight's rollback says a release is a rollback: the ledger repeats it as fact. */
function checkRollbackSource(source: string, issues: FieldIssue[]): void {
  if (source === OperatorEventSource) return;
  issues.push({
    path: 'detail.rollbackOf',
    message: `is set by "greenlight rollback" alone (source "${OperatorEventSource}"), not by "${source}"; to go back to an earlier build from CI, release it with "allowOlder": true`,
  });
}

/**
 * A migration needs the service's runner, and an irreversible one an approval with approvers
 * (the strategy's or the service's Slack approval): they are asked before it runs, naming it,
 * because once it ran the release cannot roll back on its own. Whether a contract's expand ran
 * is the ledger's to say: Register checks it (src/steps/register.ts), after this.
 */
function checkMigration(
  detail: ReleaseRequestedV1,
  service: ServiceConfig,
  issues: FieldIssue[],
): void {
  const migration = detail.migration;
  if (migration === undefined) return;
  if (service.migrations === undefined) {
    issues.push({
      path: 'detail.migration',
      message: `service "${service.name}" registers no migration runner; add "migrations": { "runner": { "type": "lambda", "functionName": ... } } to its registration, or release without "migration"`,
    });
    return;
  }
  if (migration.kind !== MigrationKind.Irreversible) return;
  const strategy = detail.strategy ?? service.defaultStrategy;
  const approval = Object.hasOwn(service.strategies, strategy)
    ? approvalOf(service, strategy)
    : service.approval;
  // The service schema refuses a Slack approval with nobody to decide, so Slack means approvers.
  if (approval.type !== 'slack') {
    issues.push({
      path: 'detail.migration.kind',
      message: `an irreversible migration needs an approval naming it, and strategy "${strategy}" of service "${service.name}" has no approval: give it "approval": { "type": "slack", "channel": ..., "approvers": [...] }, or split the migration into an expand and a contract`,
    });
  }
}

/**
 * The artifact must be a kind the target deploys and come from a source the service lists.
 * Exported for `greenlight plan`, which says the same before any event is sent.
 */
export function checkArtifact(
  artifact: Artifact,
  service: ServiceConfig,
  issues: FieldIssue[],
): void {
  if ('s3' in artifact) {
    if (service.target.kind !== 'lambda-alias') {
      issues.push({
        path: 'detail.artifact',
        message: `service "${service.name}" runs on ECS and deploys images: send {"imageUri": ...}`,
      });
    } else if (!service.artifacts.s3Buckets.includes(artifact.s3.bucket)) {
      issues.push({
        path: 'detail.artifact.s3.bucket',
        message: `bucket "${artifact.s3.bucket}" is not an artifact source of "${service.name}"; allowed: ${service.artifacts.s3Buckets.join(', ') || "(none: add it to the service's artifacts.s3Buckets)"}`,
      });
    } else {
      const prefix = service.artifacts.s3KeyPrefix;
      if (prefix !== undefined && !artifact.s3.key.startsWith(prefix)) {
        issues.push({
          path: 'detail.artifact.s3.key',
          message: `key "${artifact.s3.key}" is outside "${prefix}", the key prefix of "${service.name}"'s artifacts (artifacts.s3KeyPrefix)`,
        });
      }
    }
    return;
  }
  const repository = artifact.imageUri.replace(
    /(@sha256:[a-f0-9]{64}|:[A-Za-z0-9._-]{1,128})$/,
    '',
  );
  if (!service.artifacts.imageRepositories.includes(repository)) {
    issues.push({
      path: 'detail.artifact.imageUri',
      message: `repository "${repository}" is not an artifact source of "${service.name}"; allowed: ${service.artifacts.imageRepositories.join(', ') || "(none: add it to the service's artifacts.imageRepositories)"}`,
    });
  }
}

/**
 * Flattens zod's issues into one field-level issue per problem, with paths readers can follow
 * (`detail.ci.runUrl`, `services[0].strategies.canary.percent`) and messages that say what to
 * change rather than zod's internal wording.
 */
export function issuesFromZod(error: z.core.$ZodError, prefix: string): FieldIssue[] {
  return error.issues.flatMap((issue) => flattenIssue(issue, prefix, []));
}

function flattenIssue(issue: ZodIssue, prefix: string, base: PathSegment[]): FieldIssue[] {
  const path = [...base, ...issue.path];
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        path: formatPath(prefix, [...path, key]),
        message: 'is not a known field; remove it or fix its spelling',
      }));
    case 'invalid_union':
      return flattenUnion(issue, prefix, path);
    case 'invalid_type':
      if (issue.message.endsWith('received undefined')) {
        const expected = issue.expected === 'nonoptional' ? '' : ` (expected ${issue.expected})`;
        return [{ path: formatPath(prefix, path), message: `is required${expected}` }];
      }
      return [{ path: formatPath(prefix, path), message: withoutZodPreamble(issue.message) }];
    case 'invalid_value':
      return [
        {
          path: formatPath(prefix, path),
          message:
            issue.values.length === 1
              ? `must be ${JSON.stringify(issue.values[0])}`
              : `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`,
        },
      ];
    case 'invalid_format':
      if (issue.format === 'url') {
        return [{ path: formatPath(prefix, path), message: 'must be a valid http or https URL' }];
      }
      return [{ path: formatPath(prefix, path), message: withoutZodPreamble(issue.message) }];
    case 'too_big':
    case 'too_small':
      return [{ path: formatPath(prefix, path), message: describeBound(issue) }];
    default:
      return [{ path: formatPath(prefix, path), message: withoutZodPreamble(issue.message) }];
  }
}

function flattenUnion(
  issue: Extract<ZodIssue, { code: 'invalid_union' }>,
  prefix: string,
  path: PathSegment[],
): FieldIssue[] {
  if ('options' in issue && issue.options !== undefined && issue.discriminator !== undefined) {
    return [
      {
        path: formatPath(prefix, path),
        message: `must be one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')}`,
      },
    ];
  }
  const branches = issue.errors.map((branch) =>
    branch.flatMap((inner) => flattenIssue(inner, prefix, path)),
  );
  // The branch the input was meant for fails deep inside (a bad bucket name); the others fail
  // at their top level (a missing key, an unknown key). Report only the branch meant.
  const scored = issue.errors
    .map((branch, index) => ({
      index,
      shallow: branch.filter(
        (inner) => inner.path.length <= 1 || inner.code === 'unrecognized_keys',
      ).length,
      total: branch.length,
    }))
    .sort((a, b) => a.shallow - b.shallow || a.total - b.total);
  const [best, second] = scored;
  if (best !== undefined && (second === undefined || best.shallow < second.shallow)) {
    return branches[best.index] ?? [];
  }
  const alternatives = branches
    .map((branch) => branch.map((i) => `${i.path} ${i.message}`).join(' and '))
    .filter((text) => text !== '');
  return [
    {
      path: formatPath(prefix, path),
      message: `matches none of the allowed shapes; fix one of: ${alternatives.join('; or ')}`,
    },
  ];
}

function describeBound(issue: Extract<ZodIssue, { code: 'too_big' | 'too_small' }>): string {
  const big = issue.code === 'too_big';
  const limit = big ? issue.maximum : issue.minimum;
  const inclusive = issue.inclusive !== false;
  const comparison = big ? (inclusive ? 'at most' : 'below') : inclusive ? 'at least' : 'above';
  const unit =
    issue.origin === 'string'
      ? ' characters'
      : issue.origin === 'array' || issue.origin === 'set'
        ? ' items'
        : '';
  const subject = unit === '' ? 'must be' : 'must have';
  // A schema that explains its bound (zod's own messages start "Too big"/"Too small") keeps it.
  const why = /^Too (big|small)/.test(issue.message) ? '' : `: ${issue.message}`;
  return `${subject} ${comparison} ${String(limit)}${unit}${why}`;
}

function formatPath(prefix: string, segments: readonly PathSegment[]): string {
  let text = prefix;
  for (const segment of segments) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? String(segment) : `.${String(segment)}`;
  }
  return text;
}

function withoutZodPreamble(message: string): string {
  return message.replace(/^Invalid input: /, '');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
