import { formatHourlyCost } from '../core/idle-cost.ts';
import { inertText } from '../core/inert-text.ts';
import { type PlanPorts, planRelease, type ReleasePlan } from '../core/plan.ts';
import type { Artifact } from '../core/release-event.ts';
import { ExitCode, exitCodesHelp } from './exit-codes.ts';
import { formatDuration } from './format-timeline.ts';
import {
  type CommandContext,
  type Env,
  parseFlags,
  resolveRegistryTable,
  resolveSharedOptions,
  type SharedOptions,
  sharedFlags,
  sharedFlagsHelp,
  UsageError,
  usageError,
} from './options.ts';
import { parseS3Url } from './release-command.ts';

export const planUsage = `Usage: greenlight plan --service NAME [--version V] [--strategy S] [--s3 URL | --image URI] [options]

Checks, without changing anything, what a release of the service will need: its registration
and strategy; its Lambda alias (a published live version, $LATEST not routed, no split left) or
its ALB listener, rules, target groups, both ECS services and the task family; that every gate
alarm exists, has data, watches green (unless service-wide) and is not firing; that metric
gates' metrics have data for blue; with SLACK_BOT_TOKEN (and SLACK_API_URL for a stand-in),
that the bot can see the approval and release-updates channels; with --s3 or --image, that the
artifact is from a source the service lists and that your credentials can read it (S3
HeadObject, ECR DescribeImages). Then prints what the release would do: each step with its
weight, bake and approximate time, the gates, who approves, the warm window and what the idle
colour (blue, after finalize) costs while it stays warm.

Options:
  --service NAME         a registered service name
  --version V            the version you mean to release (shown in the plan)
  --strategy S           one of the service's strategies (default: its default strategy)
  --s3 s3://bucket/key   the artifact you mean to release (Lambda; ?versionId=ID allowed),
  --image URI            or the image (ECS: a tag or digest), as for greenlight release:
                         checked against the service's artifact sources, then read
  --registry-table NAME  the registry table (env GREENLIGHT_REGISTRY_TABLE, default "greenlight-registry")

With --json: {"service", "version", "strategy", "ok", "checks": [{"check", "ok", "detail"}],
"colours", "steps": [{"index", "weight", "bakeSeconds", "approxSeconds"}], "approxSeconds",
"gates", "approval", "warmWindowSeconds", "idleCost"}.

${sharedFlagsHelp}

Exits 0 when every check passes, 9 when one fails, 1 when AWS could not be asked, 2 on a
usage error.

${exitCodesHelp}`;

const planFlags = {
  ...sharedFlags,
  service: { type: 'string' },
  version: { type: 'string' },
  strategy: { type: 'string' },
  s3: { type: 'string' },
  image: { type: 'string' },
  'registry-table': { type: 'string' },
} as const;

export interface PlanArgs {
  shared: SharedOptions & { registryTable?: string };
  service: string;
  version?: string;
  strategy?: string;
  artifact?: Artifact;
}

export function parsePlanArgs(argv: readonly string[], env: Env): PlanArgs | 'help' {
  const values = parseFlags(argv, planFlags);
  if (values.help) return 'help';
  const shared: PlanArgs['shared'] = resolveSharedOptions(values, env);
  const registryTable = resolveRegistryTable(values, env);
  if (registryTable !== undefined) shared.registryTable = registryTable;
  if (values.service === undefined || values.service === '') {
    throw new UsageError('Give the service to plan for with --service NAME.');
  }
  if (values.s3 !== undefined && values.image !== undefined) {
    throw new UsageError('Give at most one artifact: --s3 s3://bucket/key or --image URI.');
  }
  const artifact =
    values.s3 !== undefined
      ? parseS3Url(values.s3)
      : values.image !== undefined
        ? { imageUri: values.image }
        : undefined;
  return {
    shared,
    service: values.service,
    ...(artifact === undefined ? {} : { artifact }),
    ...(values.version === undefined ? {} : { version: values.version }),
    ...(values.strategy === undefined ? {} : { strategy: values.strategy }),
  };
}

export async function runPlanCommand(
  argv: readonly string[],
  context: CommandContext,
  connect: (options: PlanArgs['shared'], env: Env, now: () => number) => PlanPorts,
): Promise<ExitCode> {
  let args: PlanArgs | 'help';
  try {
    args = parsePlanArgs(argv, context.env);
  } catch (error) {
    return usageError('plan', error, context);
  }
  if (args === 'help') {
    context.out(planUsage);
    return ExitCode.Finalized;
  }
  const plan = await planRelease(connect(args.shared, context.env, context.now), {
    service: args.service,
    ...(args.version === undefined ? {} : { version: args.version }),
    ...(args.strategy === undefined ? {} : { strategy: args.strategy }),
    ...(args.artifact === undefined ? {} : { artifact: args.artifact }),
  });
  if (args.shared.json) {
    context.out(JSON.stringify(plan, null, 2));
  } else {
    for (const line of formatPlan(plan)) context.out(line);
  }
  return plan.ok ? ExitCode.Finalized : ExitCode.NotReady;
}

/** The plan for a person. Details come from AWS and the registry: made inert before printing. */
export function formatPlan(plan: ReleasePlan): string[] {
  const lines: string[] = [];
  const version = plan.version === undefined ? '' : ` ${inertText(plan.version)}`;
  lines.push(
    `Plan for ${inertText(plan.service)}${version}${plan.strategy ? ` (strategy ${inertText(plan.strategy)})` : ''}`,
  );
  lines.push('');
  lines.push('Checks:');
  for (const check of plan.checks) {
    lines.push(
      `  ${check.ok ? 'ok  ' : 'FAIL'}  ${inertText(check.check)}: ${inertText(check.detail)}`,
    );
  }
  if (plan.steps.length > 0) {
    lines.push('');
    if (plan.colours) {
      lines.push(
        `Blue is ${inertText(plan.colours.blue)}; green would be ${inertText(plan.colours.green)}.`,
      );
    }
    lines.push('Steps:');
    for (const step of plan.steps) {
      const hold =
        step.approxSeconds > step.bakeSeconds
          ? ` (up to ~${formatDuration(step.approxSeconds * 1000)} with holds)`
          : '';
      lines.push(
        `  ${step.index + 1}. ${step.weight}% on green, ${step.bakeSeconds === 0 ? 'no bake' : `bake ${formatDuration(step.bakeSeconds * 1000)}`}${hold}`,
      );
    }
    const total = plan.approxSeconds;
    lines.push(
      `  about ${formatDuration(total.bakes * 1000)} of bakes${total.withHolds > total.bakes ? `, up to ${formatDuration(total.withHolds * 1000)} if metric gates hold` : ''}, plus provisioning and tests`,
    );
    lines.push('');
    lines.push('Gates:');
    if (plan.gates.alarms.length === 0 && plan.gates.metricGates.length === 0) {
      lines.push('  none: nothing rolls the release back by itself');
    }
    for (const alarm of plan.gates.alarms) {
      lines.push(
        `  alarm ${inertText(alarm.name)} (${alarm.scope === 'green' ? 'watches green' : 'service-wide'})`,
      );
    }
    for (const gate of plan.gates.metricGates) lines.push(`  metric gate ${inertText(gate)}`);
    lines.push('');
    lines.push(`Approval: ${formatApproval(plan.approval)}`);
    lines.push(
      `Warm window: blue stays warm ${formatDuration(plan.warmWindowSeconds * 1000)} after finalize${plan.idleCost ? `, costing ${formatHourlyCost(plan.idleCost)} (${inertText(plan.idleCost.basis)})` : ''}`,
    );
  }
  lines.push('');
  const failed = plan.checks.filter((c) => !c.ok).length;
  lines.push(
    failed === 0
      ? 'Ready: every check passed.'
      : `Not ready: ${failed} check${failed === 1 ? '' : 's'} failed; a release now would fail.`,
  );
  return lines;
}

function formatApproval(approval: ReleasePlan['approval']): string {
  if (approval.type !== 'slack') return 'none';
  const who = [...approval.approvers, ...approval.approverGroups.map((g) => `group ${g}`)];
  return `Slack ${inertText(approval.channel)} (${approval.stages.join(', ')}) by ${inertText(who.join(', '))}; after ${formatDuration(approval.timeoutSeconds * 1000)} without a decision: ${approval.onTimeout}`;
}
