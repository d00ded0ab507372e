import type { FieldIssue } from './errors.ts';
import { decidePreflight, type ReleaseSubject, releaseSubjectOf } from './gate.ts';
import { metricGateQueries } from './metric-gate.ts';
import type { AlarmReader, MetricReader } from './ports.ts';
import type { Colours, IdleCost } from './records.ts';
import type { ServiceRegistryReader } from './registry.ts';
import type { Artifact } from './release-event.ts';
import { checkArtifact } from './resolve-release.ts';
import {
  AlarmScope,
  type ApprovalConfig,
  approvalOf,
  type ServiceConfig,
} from './service-config.ts';
import { planWeights } from './weights.ts';

/** One thing a release will need, and whether it is there. */
export interface PlanCheck {
  check: string;
  ok: boolean;
  detail: string;
}

/** What a target looks like before a release: checks, and the colours the release would find. */
export interface TargetInspection {
  checks: PlanCheck[];
  /** Absent when the target could not be read well enough to tell blue from green. */
  colours?: Colours;
}

/** A read-only look at a service's target (Lambda alias, ALB listener and its ECS services). */
export interface TargetInspector {
  inspect(service: ServiceConfig): Promise<TargetInspection>;
}

/**
 * Whether the bot can see a Slack channel (approval or release updates); absent when Slack
 * cannot be asked from here (no bot token).
 */
export interface ApprovalChannelProbe {
  reachable(channel: string): Promise<{ ok: boolean; detail: string }>;
}

/**
 * Whether the caller's credentials can read an artifact (S3 HeadObject, ECR DescribeImages);
 * absent when it cannot be asked from here. Never throws for a missing or forbidden artifact:
 * that is `ok: false` with what is wrong.
 */
export interface ArtifactProbe {
  readable(artifact: Artifact): Promise<{ ok: boolean; detail: string }>;
}

export interface PlanPorts {
  registry: ServiceRegistryReader;
  /** The inspector for the service's kind of target. */
  inspectorFor(service: ServiceConfig): TargetInspector;
  /** What a colour costs per hour while it runs (the idle colour after finalize is blue). */
  idleCost(service: ServiceConfig, colour: string): Promise<IdleCost>;
  alarms: AlarmReader;
  metrics: MetricReader;
  approvalChannel?: ApprovalChannelProbe;
  artifacts?: ArtifactProbe;
  now: Date;
}

export interface PlannedStep {
  index: number;
  weight: number;
  bakeSeconds: number;
  /** Bake plus, for a step with metric gates, the longest each could hold it: an upper bound. */
  approxSeconds: number;
}

export interface ReleasePlan {
  service: string;
  version?: string;
  strategy?: string;
  ok: boolean;
  checks: PlanCheck[];
  colours?: Colours;
  steps: PlannedStep[];
  /** Seconds the steps take without holds, and with every metric gate holding its longest. */
  approxSeconds: { bakes: number; withHolds: number };
  gates: { alarms: { name: string; scope: string }[]; metricGates: string[] };
  approval: ApprovalConfig;
  warmWindowSeconds: number;
  idleCost?: IdleCost;
}

/** How far back a metric gate's metric is looked for: blue must have published it lately. */
export const metricLookbackSeconds = 3 * 3600;

/**
 * Everything a release of `service` would need, checked read-only, and what it would do. Never
 * throws for something missing in AWS: that is a failed check, so every problem shows at once.
 */
export async function planRelease(
  ports: PlanPorts,
  request: { service: string; version?: string; strategy?: string; artifact?: Artifact },
): Promise<ReleasePlan> {
  const checks: PlanCheck[] = [];
  const empty: ReleasePlan = {
    service: request.service,
    ...(request.version === undefined ? {} : { version: request.version }),
    ok: false,
    checks,
    steps: [],
    approxSeconds: { bakes: 0, withHolds: 0 },
    gates: { alarms: [], metricGates: [] },
    approval: { type: 'none' },
    warmWindowSeconds: 0,
  };
  const service = await ports.registry.find(request.service, { fresh: true });
  if (service === undefined) {
    checks.push({
      check: 'registry',
      ok: false,
      detail: `service "${request.service}" is not registered; register it in greenlight.config.ts and apply it (greenlight config apply)`,
    });
    return empty;
  }
  checks.push({ check: 'registry', ok: true, detail: `${service.name} is registered` });

  const strategyName = request.strategy ?? service.defaultStrategy;
  const strategy = service.strategies[strategyName];
  if (strategy === undefined) {
    checks.push({
      check: 'strategy',
      ok: false,
      detail: `strategy "${strategyName}" is not defined for ${service.name}; its strategies are: ${Object.keys(service.strategies).join(', ')}`,
    });
    return { ...empty, strategy: strategyName };
  }
  const weights = planWeights(strategy);
  checks.push({
    check: 'strategy',
    ok: true,
    detail: `${strategyName} (${strategy.type}), ${weights.length} step${weights.length === 1 ? '' : 's'}`,
  });

  const inspection = await guard('target', () => ports.inspectorFor(service).inspect(service));
  checks.push(...inspection.checks);
  const { colours } = inspection;
  const subject = colours && releaseSubjectOf(service.target, colours);

  checks.push(...(await artifactChecks(ports, service, request.artifact)));
  checks.push(...(await alarmChecks(ports, service, subject)));
  checks.push(...(await metricChecks(ports, service, subject)));
  const approval = approvalOf(service, strategyName);
  checks.push(...(await channelChecks(ports, service, approval)));

  let idleCost: IdleCost | undefined;
  if (colours !== undefined) {
    try {
      idleCost = await ports.idleCost(service, colours.blue);
    } catch (error) {
      idleCost = { basis: `could not be read: ${messageOf(error)}` };
    }
  }

  const maxHold = Math.max(0, ...service.metricGates.map((gate) => gate.maxHoldSeconds));
  const steps = weights.map((step) => ({
    index: step.index,
    weight: step.percent,
    bakeSeconds: step.bakeSeconds,
    approxSeconds: step.bakeSeconds + (service.metricGates.length > 0 ? maxHold : 0),
  }));
  return {
    service: service.name,
    ...(request.version === undefined ? {} : { version: request.version }),
    strategy: strategyName,
    ok: checks.every((c) => c.ok),
    checks,
    ...(colours === undefined ? {} : { colours }),
    steps,
    approxSeconds: {
      bakes: steps.reduce((sum, s) => sum + s.bakeSeconds, 0),
      withHolds: steps.reduce((sum, s) => sum + s.approxSeconds, 0),
    },
    gates: {
      alarms: service.alarms.map((a) => ({ name: a.name, scope: a.scope })),
      metricGates: service.metricGates.map((g) => g.name),
    },
    approval,
    warmWindowSeconds: service.warmWindowSeconds,
    ...(idleCost === undefined ? {} : { idleCost }),
  };
}

/**
 * The release's own preflight (decidePreflight), against the colours the release would find:
 * one check per alarm, so a plan says which alarm is wrong and how.
 */
async function alarmChecks(
  ports: PlanPorts,
  service: ServiceConfig,
  subject: ReleaseSubject | undefined,
): Promise<PlanCheck[]> {
  if (service.alarms.length === 0) return [];
  let evidence: Awaited<ReturnType<AlarmReader['describe']>>;
  try {
    evidence = await ports.alarms.describe(service.alarms.map((a) => a.name));
  } catch (error) {
    return [{ check: 'alarms', ok: false, detail: `could not be read: ${messageOf(error)}` }];
  }
  return service.alarms.map((alarm) => {
    const check = `alarm ${alarm.name}`;
    // Without colours, whether an alarm watches green cannot be told; judge it as service-wide.
    const judged = subject === undefined ? { ...alarm, scope: AlarmScope.Service } : alarm;
    const decision = decidePreflight(
      [judged],
      evidence,
      subject ?? { kind: 'lambda-alias', functionName: '', alias: '', blue: '', green: '' },
    );
    if (!decision.passed) return { check, ok: false, detail: decision.reason };
    const state = evidence.find((e) => e.name === alarm.name)?.state ?? 'OK';
    return {
      check,
      ok: true,
      detail: `${state}, ${alarm.scope === AlarmScope.Green ? 'watches green' : 'service-wide'}`,
    };
  });
}

/**
 * A metric gate compares green with blue; green has no data before its release, but blue's
 * metric must be there, or every step would hold for want of data and then roll back.
 */
async function metricChecks(
  ports: PlanPorts,
  service: ServiceConfig,
  subject: ReleaseSubject | undefined,
): Promise<PlanCheck[]> {
  const checks: PlanCheck[] = [];
  for (const gate of service.metricGates) {
    const check = `metric gate ${gate.name}`;
    if (subject === undefined) {
      checks.push({
        check,
        ok: false,
        detail: 'blue is unknown, so its metric cannot be looked up',
      });
      continue;
    }
    const queries = metricGateQueries(gate, subject).filter(
      (q) => q.colour === 'blue' && (q.role === 'requests' || q.role === 'samples'),
    );
    try {
      const end = ports.now;
      const start = new Date(end.getTime() - metricLookbackSeconds * 1000);
      const results = await ports.metrics.query(queries, { start, end });
      const found = results.some((r) => r.values.length > 0);
      const [query] = queries;
      const named = query ? `${query.namespace} ${query.metric}` : gate.metric;
      checks.push({
        check,
        ok: found,
        detail: found
          ? `${named} has data for blue (${subject.blue})`
          : `${named} has no datapoints for blue (${subject.blue}) in the last ${metricLookbackSeconds / 3600}h: the gate would hold for want of data, then roll back`,
      });
    } catch (error) {
      checks.push({ check, ok: false, detail: `could not be read: ${messageOf(error)}` });
    }
  }
  return checks;
}

/**
 * Whether the artifact comes from a source the service lists, as Register will judge it
 * (checkArtifact), and then whether the caller can read it. An artifact from a source the
 * service does not list is not read: the release would be rejected whatever it holds.
 */
async function artifactChecks(
  ports: PlanPorts,
  service: ServiceConfig,
  artifact: Artifact | undefined,
): Promise<PlanCheck[]> {
  if (artifact === undefined) {
    return [
      {
        check: 'artifact',
        ok: true,
        detail:
          "not checked: give --s3 or --image to check it against the service's artifact sources and read it",
      },
    ];
  }
  const issues: FieldIssue[] = [];
  checkArtifact(artifact, service, issues);
  if (issues.length > 0) {
    return [{ check: 'artifact', ok: false, detail: issues.map((i) => i.message).join('; ') }];
  }
  const where =
    's3' in artifact ? `s3://${artifact.s3.bucket}/${artifact.s3.key}` : artifact.imageUri;
  const source: PlanCheck = {
    check: 'artifact',
    ok: true,
    detail: `${where} is from an artifact source of ${service.name}`,
  };
  if (ports.artifacts === undefined) {
    return [{ ...source, detail: `${source.detail} (whether it can be read is not checked)` }];
  }
  let readable: { ok: boolean; detail: string };
  try {
    readable = await ports.artifacts.readable(artifact);
  } catch (error) {
    readable = { ok: false, detail: `could not be read: ${messageOf(error)}` };
  }
  return [source, { check: 'artifact readable', ...readable }];
}

/**
 * The approval channel, and the release-updates channel if the service sets one: a release
 * posts to both, and Slack refuses a post to a channel the bot cannot see (channel_not_found).
 */
async function channelChecks(
  ports: PlanPorts,
  service: ServiceConfig,
  approval: ApprovalConfig,
): Promise<PlanCheck[]> {
  const channels: { check: string; channel: string }[] = [];
  if (approval.type === 'slack') {
    channels.push({ check: `approval channel ${approval.channel}`, channel: approval.channel });
  }
  if (service.updates !== undefined) {
    channels.push({
      check: `updates channel ${service.updates.channel}`,
      channel: service.updates.channel,
    });
  }
  const checks: PlanCheck[] = [];
  for (const { check, channel } of channels) {
    if (ports.approvalChannel === undefined) {
      checks.push({
        check,
        ok: true,
        detail:
          'not checked: no SLACK_BOT_TOKEN; set it to ask Slack whether the bot can post there',
      });
      continue;
    }
    try {
      checks.push({ check, ...(await ports.approvalChannel.reachable(channel)) });
    } catch (error) {
      checks.push({ check, ok: false, detail: `could not be reached: ${messageOf(error)}` });
    }
  }
  return checks;
}

async function guard(
  check: string,
  inspect: () => Promise<TargetInspection>,
): Promise<TargetInspection> {
  try {
    return await inspect();
  } catch (error) {
    return { checks: [{ check, ok: false, detail: `could not be read: ${messageOf(error)}` }] };
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
