import {
  type CallerIdentity,
  type CallerIdentitySource,
  IdentitySource,
} from '../core/caller-identity.ts';
import { ApprovalNotFound } from '../core/errors.ts';
import { inertText, inertValue } from '../core/inert-text.ts';
import {
  type CommandRecord,
  OperatorCommandDetailType,
  OperatorCommandName,
  OperatorCommandV1,
} from '../core/operator-command.ts';
import type { ApprovalStore, CommandLog, ReleaseLedger, TaskCallbacks } from '../core/ports.ts';
import { type ApprovalRecord, ApprovalStage, ApprovalStatus } from '../core/records.ts';
import { decideApproval } from '../slack/decide-approval.ts';
import type { SlackMessenger } from '../slack/messenger.ts';
import { approvalIdOf } from '../steps/request-approval.ts';
import { type ApproverGateDependencies, checkApprover } from './approver-gate.ts';
import { defaultRegistryTable } from './connect.ts';
import { ExitCode, exitCodesHelp } from './exit-codes.ts';
import {
  type CommandContext,
  type Env,
  nonEmpty,
  parseFlagsAndTarget,
  parseSeconds,
  resolveRegistryTable,
  resolveSharedOptions,
  type SharedOptions,
  sharedFlags,
  sharedFlagsHelp,
  UsageError,
  usageError,
} from './options.ts';
import type { PutEvents } from './release-command.ts';

/** `source` of the operator commands the CLI puts on the bus. */
export const CliCommandSource = 'greenlight.cli';

const Defaults = { timeoutSeconds: 60, pollIntervalSeconds: 1 } as const;

export interface OperatorClients {
  ledger: ReleaseLedger;
  putEvents: PutEvents;
  commands: CommandLog;
  /** Who the caller is as AWS sees it: sent with the command. */
  identity: CallerIdentitySource;
}

export interface DecisionClients {
  ledger: ReleaseLedger;
  approvals: ApprovalStore;
  callbacks: TaskCallbacks;
  /** Who the caller is as AWS sees it: checked against the approvers, recorded. */
  identity: CallerIdentitySource;
  /** The service's approval config: who may decide. */
  registry: ApproverGateDependencies['registry'];
  /**
   * Set when SLACK_BOT_TOKEN is: the approval message then shows the CLI's decision too, and
   * members of approver groups count as approvers.
   */
  slack?: Pick<SlackMessenger, 'updateMessage' | 'listUsergroupMembers'>;
}

interface CommandSpec {
  summary: string;
  /** What the positional argument is. */
  target: 'release' | 'service';
  /** Commands that undo or end something must say why. */
  reasonRequired: boolean;
}

const specs: Record<OperatorCommandName, CommandSpec> = {
  pause: {
    summary:
      'hold the release at its current weight; its gates keep watching and an alarm still rolls it back',
    target: 'release',
    reasonRequired: false,
  },
  resume: { summary: 'let a paused release go on', target: 'release', reasonRequired: false },
  promote: {
    summary:
      'skip the remaining steps and bakes: gates are checked once more, then all traffic goes to green',
    target: 'release',
    reasonRequired: false,
  },
  abort: {
    summary: 'roll the release back now (a bake or approval under way ends at once)',
    target: 'release',
    reasonRequired: true,
  },
  rollback: {
    summary:
      "put a service's last finalized release back on blue in one switch, while blue is still warm",
    target: 'service',
    reasonRequired: true,
  },
  retry: {
    summary: 'start a release that ended without finalizing again, as its next attempt',
    target: 'release',
    reasonRequired: false,
  },
};

const knowinglyHelp = `  --knowingly           roll back although an irreversible migration ran (the release is
                        forward-only): blue's code may not fit the data; recorded as knowing
`;

const whoHelp = `  --actor WHO           who asks (default: $GITHUB_ACTOR / $GITLAB_USER_LOGIN / $USER); recorded
                        beside the AWS principal your credentials belong to (STS GetCallerIdentity)
  --reason TEXT         why; recorded in the ledger beside who`;

export function operatorUsage(name: OperatorCommandName): string {
  const spec = specs[name];
  const target =
    spec.target === 'service'
      ? 'SERVICE'
      : name === 'retry'
        ? 'RELEASE_ID'
        : '(RELEASE_ID | --service NAME)';
  return `Usage: greenlight ${name} ${target} ${spec.reasonRequired ? '--reason TEXT ' : ''}[options]

${capitalize(spec.summary)}.

Sends an "Operator Command" event on the greenlight bus; greenlight's operator function checks it
against the release's state, carries it out and records who and why in the ledger. The command
waits for that outcome and prints it.

Options:
${spec.target === 'release' && name !== 'retry' ? "  --service NAME        the service's latest release instead of RELEASE_ID\n" : ''}${name === 'abort' || name === 'rollback' ? knowinglyHelp : ''}${whoHelp}${spec.reasonRequired ? ' (required)' : ''}
  --timeout SECONDS     how long to wait for the outcome (default ${Defaults.timeoutSeconds})

${sharedFlagsHelp}

${exitCodesHelp}`;
}

export const decisionUsage = (
  verb: 'approve' | 'reject',
) => `Usage: greenlight ${verb} (RELEASE_ID | --service NAME) [--stage STAGE]${verb === 'reject' ? ' --reason TEXT' : ''} [options]

${verb === 'approve' ? 'Approves' : 'Rejects'} a release waiting for a human decision, exactly as the Slack button does (the
first decision wins; a later one changes nothing), for teams without Slack. Talks to the ledger
and to Step Functions directly (DynamoDB and states:SendTask* permissions: README, "Operators").
With SLACK_BOT_TOKEN set (and SLACK_API_URL for a stand-in), the Slack message shows it too.

Who you are is the AWS principal your credentials belong to (STS GetCallerIdentity), recorded
beside --actor. When the service maps principals to approvers (approval.principals), a
principal that maps to none of them is refused (exit 8); when it maps none, IAM is the gate,
and the command says so.

Options:
  --service NAME        the service's latest release instead of RELEASE_ID
  --stage STAGE         before-migration, before-shift or before-finalize (default: whichever
                        is waiting)
  --registry-table NAME the registry table to read approvers from (env GREENLIGHT_REGISTRY_TABLE,
                        default "${defaultRegistryTable}")
${whoHelp}${verb === 'reject' ? ' (required)' : ''}

${sharedFlagsHelp}

${exitCodesHelp}`;

const operatorFlags = {
  ...sharedFlags,
  knowingly: { type: 'boolean' },
  service: { type: 'string' },
  actor: { type: 'string' },
  reason: { type: 'string' },
  timeout: { type: 'string' },
  'poll-interval': { type: 'string' },
} as const;

const decisionFlags = {
  ...sharedFlags,
  service: { type: 'string' },
  stage: { type: 'string' },
  'registry-table': { type: 'string' },
  actor: { type: 'string' },
  reason: { type: 'string' },
} as const;

interface ParsedTarget {
  shared: SharedOptions;
  actor: string;
  reason: string | undefined;
  /** A release id, a service name (for rollback), or `--service` to resolve. */
  target: { releaseId: string } | { service: string };
}

/** `greenlight pause|resume|promote|abort|rollback|retry`. */
export async function runOperatorCommand(
  name: OperatorCommandName,
  argv: readonly string[],
  context: CommandContext,
  connect: (options: SharedOptions) => OperatorClients,
): Promise<ExitCode> {
  const spec = specs[name];
  let args:
    | (ParsedTarget & { timeoutSeconds: number; pollIntervalSeconds: number; knowingly: boolean })
    | 'help';
  try {
    const { values, target } = parseFlagsAndTarget(
      argv,
      operatorFlags,
      spec.target === 'service' ? 'service' : 'release id',
    );
    if (values.help) {
      args = 'help';
    } else {
      args = {
        ...parseTarget(name, values, target, context.env),
        knowingly: knowinglyOf(name, values.knowingly),
        timeoutSeconds: parseSeconds('timeout', values.timeout, Defaults.timeoutSeconds),
        pollIntervalSeconds: parseSeconds(
          'poll-interval',
          values['poll-interval'],
          Defaults.pollIntervalSeconds,
        ),
      };
    }
  } catch (error) {
    return usageError(name, error, context);
  }
  if (args === 'help') {
    context.out(operatorUsage(name));
    return ExitCode.Finalized;
  }

  const clients = connect(args.shared);
  const caller = await whoIsCalling(clients.identity, name, context);
  if (caller === undefined) return ExitCode.Failure;
  const releaseId = await resolveRelease(args.target, name, clients.ledger, context);
  if (releaseId === undefined && !('service' in args.target && name === 'rollback')) {
    return ExitCode.Failure;
  }
  const parsed = OperatorCommandV1.safeParse({
    schemaVersion: 1,
    command: name,
    ...(name === OperatorCommandName.Rollback
      ? { service: (args.target as { service: string }).service }
      : { releaseId }),
    actor: args.actor,
    reason: args.reason ?? 'no reason given',
    principalArn: caller.arn,
    ...(args.knowingly && { knowingly: true }),
  });
  if (!parsed.success) {
    context.err(`greenlight ${name}: invalid command, nothing was sent:`);
    for (const issue of parsed.error.issues) {
      context.err(`  ${issue.path.join('.') || '(command)'}: ${issue.message}`);
    }
    return ExitCode.Usage;
  }
  const detail = parsed.data;
  const response = await clients.putEvents([
    {
      Source: CliCommandSource,
      DetailType: OperatorCommandDetailType,
      Detail: JSON.stringify(detail),
      EventBusName: args.shared.bus,
    },
  ]);
  const [entry] = response.Entries ?? [];
  if ((response.FailedEntryCount ?? 0) > 0 || entry?.EventId === undefined) {
    context.err(
      `greenlight ${name}: EventBridge did not accept the command: ${entry?.ErrorCode ?? 'no event id'} ${entry?.ErrorMessage ?? ''}`.trim(),
    );
    return ExitCode.Failure;
  }

  const deadline = context.now() + args.timeoutSeconds * 1000;
  for (;;) {
    const outcome = await clients.commands.get(entry.EventId);
    if (outcome) return report(outcome, args.shared.json, context);
    const remaining = deadline - context.now();
    if (remaining <= 0) break;
    await context.sleep(Math.min(args.pollIntervalSeconds * 1000, remaining));
  }
  const where = `no outcome recorded for command ${entry.EventId} within ${args.timeoutSeconds}s (is the operator rule deployed?)`;
  context.out(
    args.shared.json
      ? JSON.stringify({ type: 'timeout', commandId: entry.EventId, exitCode: ExitCode.Timeout })
      : `Timed out: ${where}`,
  );
  return ExitCode.Timeout;
}

/** `greenlight approve|reject`: the same decision as a Slack click, taken from a terminal. */
export async function runDecisionCommand(
  verb: 'approve' | 'reject',
  argv: readonly string[],
  context: CommandContext,
  connect: (options: SharedOptions) => DecisionClients,
): Promise<ExitCode> {
  let args:
    | (ParsedTarget & { stage: ApprovalStage | undefined; registryTable: string | undefined })
    | 'help';
  try {
    const { values, target } = parseFlagsAndTarget(argv, decisionFlags, 'release id');
    if (values.help) {
      args = 'help';
    } else {
      const stage = values.stage;
      if (
        stage !== undefined &&
        stage !== ApprovalStage.BeforeMigration &&
        stage !== ApprovalStage.BeforeShift &&
        stage !== ApprovalStage.BeforeFinalize
      ) {
        throw new UsageError(
          `--stage must be before-migration, before-shift or before-finalize, got "${stage}".`,
        );
      }
      args = {
        ...parseTarget(verb, values, target, context.env),
        stage,
        registryTable: resolveRegistryTable(values, context.env),
      };
    }
  } catch (error) {
    return usageError(verb, error, context);
  }
  if (args === 'help') {
    context.out(decisionUsage(verb));
    return ExitCode.Finalized;
  }

  const clients = connect({
    ...args.shared,
    ...(args.registryTable === undefined ? {} : { registryTable: args.registryTable }),
  });
  const caller = await whoIsCalling(clients.identity, verb, context);
  if (caller === undefined) return ExitCode.Failure;
  const releaseId = await resolveRelease(args.target, verb, clients.ledger, context);
  if (releaseId === undefined) return ExitCode.Failure;
  const approval = await findApproval(clients.approvals, releaseId, args.stage);
  if (approval === undefined) {
    context.err(
      `greenlight ${verb}: no approval was requested for ${releaseId}${args.stage ? ` at ${args.stage}` : ''}.`,
    );
    return ExitCode.Failure;
  }
  const gate = await checkApprover(
    {
      registry: clients.registry,
      strategyOf: async (id) => (await clients.ledger.getRelease(id))?.strategy,
      ...(clients.slack ? { slack: clients.slack } : {}),
    },
    approval,
    caller.arn,
  );
  if (gate.gate === 'refused') {
    context.err(`greenlight ${verb}: ${gate.message}.`);
    if (args.shared.json) {
      context.out(
        JSON.stringify({
          type: 'decision',
          decided: false,
          principalArn: caller.arn,
          refused: gate.message,
          exitCode: ExitCode.NotAnApprover,
        }),
      );
    }
    return ExitCode.NotAnApprover;
  }
  if (gate.gate === 'iam') {
    context.err(
      `greenlight ${verb}: IAM is the gate: ${gate.service} maps no AWS principal to its approvers (approval.principals), so whoever IAM lets write the ledger and answer the workflow may decide; you are ${caller.arn}.`,
    );
  }
  const approver = gate.gate === 'approvers' ? gate.approver : undefined;
  try {
    const result = await decideApproval(
      { ...clients, now: () => new Date(context.now()) },
      {
        approvalId: approval.approvalId,
        status: verb === 'approve' ? ApprovalStatus.Approved : ApprovalStatus.Rejected,
        // A mapped principal decides as its approver (the id Slack's button would record);
        // the typed name stays beside it.
        by: approver ?? args.actor,
        ...(approver === undefined ? {} : { byName: args.actor }),
        via: 'cli',
        ...(args.reason === undefined ? {} : { reason: args.reason }),
        identity: {
          source: IdentitySource.AwsSts,
          actor: args.actor,
          principalArn: caller.arn,
          ...(approver === undefined ? {} : { approver }),
        },
      },
    );
    const { taskToken: _secret, ...shown } = result.record;
    // Who decided before, and why, came from outside (a Slack user, another operator).
    const said = inertValue(shown);
    if (!result.decided) {
      const message = `Nothing changed: ${said.approvalId} was already ${said.status}${said.decidedBy ? ` by ${said.decidedBy}` : ''}${said.decidedAt ? ` at ${said.decidedAt}` : ''}`;
      context.out(
        args.shared.json
          ? JSON.stringify({ type: 'decision', decided: false, approval: shown, exitCode: 7 })
          : message,
      );
      return ExitCode.Refused;
    }
    const delivered = result.delivery.delivered;
    const exitCode = delivered ? ExitCode.Finalized : ExitCode.Refused;
    if (args.shared.json) {
      context.out(
        JSON.stringify({
          type: 'decision',
          decided: true,
          delivered,
          gate: gate.gate,
          approval: shown,
          exitCode,
        }),
      );
      return exitCode;
    }
    context.out(
      delivered
        ? `${verb === 'approve' ? 'Approved' : 'Rejected'} ${releaseId} (${said.stage}) as ${inertText(args.actor)}${args.reason ? `: ${inertText(args.reason)}` : ''}`
        : `Recorded, but the release had stopped waiting (${result.delivery.reason}); nothing changed`,
    );
    context.out(
      `Recorded with AWS principal ${inertText(caller.arn)}${approver === undefined ? '' : `, deciding as approver ${approver}`}`,
    );
    return exitCode;
  } catch (error) {
    if (!(error instanceof ApprovalNotFound)) throw error;
    context.err(`greenlight ${verb}: ${error.message}`);
    return ExitCode.Failure;
  }
}

/** `--knowingly` means something to abort and rollback alone; elsewhere it is a mistake. */
function knowinglyOf(name: OperatorCommandName, knowingly: boolean | undefined): boolean {
  if (knowingly === undefined) return false;
  if (name !== OperatorCommandName.Abort && name !== OperatorCommandName.Rollback) {
    throw new UsageError(`--knowingly is for abort and rollback, not ${name}.`);
  }
  return knowingly;
}

function parseTarget(
  name: string,
  values: {
    service?: string | undefined;
    actor?: string | undefined;
    reason?: string | undefined;
  } & Parameters<typeof resolveSharedOptions>[0],
  target: string | undefined,
  env: Env,
): ParsedTarget {
  const shared = resolveSharedOptions(values, env);
  const spec = specs[name as OperatorCommandName];
  const actor =
    values.actor ??
    nonEmpty(env.GITHUB_ACTOR) ??
    nonEmpty(env.GITLAB_USER_LOGIN) ??
    nonEmpty(env.USER);
  if (actor === undefined) throw new UsageError('Say who asks: --actor WHO (or set $USER).');
  const reasonRequired = spec?.reasonRequired ?? name === 'reject';
  if (reasonRequired && (values.reason === undefined || values.reason.trim() === '')) {
    throw new UsageError(`--reason is required for ${name}: the ledger records why.`);
  }
  const reason = values.reason;
  if (spec?.target === 'service') {
    const service = target ?? values.service;
    if (service === undefined)
      throw new UsageError(`Name the service: greenlight ${name} SERVICE.`);
    return { shared, actor, reason, target: { service } };
  }
  if ((target === undefined) === (values.service === undefined)) {
    throw new UsageError('Give exactly one of RELEASE_ID or --service NAME.');
  }
  if (name === 'retry' && values.service !== undefined) {
    throw new UsageError('Retry names the release: greenlight retry RELEASE_ID.');
  }
  return {
    shared,
    actor,
    reason,
    target: target === undefined ? { service: values.service as string } : { releaseId: target },
  };
}

/**
 * The caller's AWS principal, asked once per command before anything is sent; undefined (and
 * said why) when STS cannot tell, so that nothing is recorded under a name nobody vouches for.
 */
async function whoIsCalling(
  identity: CallerIdentitySource,
  name: string,
  context: CommandContext,
): Promise<CallerIdentity | undefined> {
  try {
    return await identity.whoAmI();
  } catch (error) {
    const { name: errorName, message } =
      error instanceof Error ? error : { name: 'Error', message: String(error) };
    context.err(
      `greenlight ${name}: cannot tell who you are (STS GetCallerIdentity failed: ${errorName}: ${message}); nothing was sent.`,
    );
    return undefined;
  }
}

/** The release a command names; `--service` means the service's latest release. */
async function resolveRelease(
  target: ParsedTarget['target'],
  name: string,
  ledger: ReleaseLedger,
  context: CommandContext,
): Promise<string | undefined> {
  if ('releaseId' in target) return target.releaseId;
  if (name === 'rollback') return undefined;
  const [latest] = await ledger.listReleases(target.service, 1);
  if (latest === undefined) {
    context.err(`greenlight ${name}: ${target.service} has no releases in the ledger.`);
    return undefined;
  }
  return latest.releaseId;
}

/** The approval to decide: the stage asked for, else the one still waiting (the later first). */
async function findApproval(
  approvals: ApprovalStore,
  releaseId: string,
  stage: ApprovalStage | undefined,
): Promise<ApprovalRecord | undefined> {
  const stages = stage
    ? [stage]
    : [ApprovalStage.BeforeFinalize, ApprovalStage.BeforeShift, ApprovalStage.BeforeMigration];
  const found: ApprovalRecord[] = [];
  for (const s of stages) {
    const approval = await approvals.get(approvalIdOf(releaseId, s));
    if (approval) found.push(approval);
  }
  return found.find((a) => a.status === ApprovalStatus.Pending) ?? found[0];
}

function report(record: CommandRecord, json: boolean, context: CommandContext): ExitCode {
  const exitCode = record.outcome === 'applied' ? ExitCode.Finalized : ExitCode.Refused;
  if (json) {
    context.out(JSON.stringify({ type: 'command', ...record, exitCode }));
    return exitCode;
  }
  const outcome = inertValue(record);
  context.out(
    outcome.outcome === 'applied'
      ? `${capitalize(outcome.command)}: ${outcome.message}`
      : `Refused ${outcome.command}: ${outcome.message}`,
  );
  if (outcome.newReleaseId) {
    context.out(`Follow it with: greenlight status --release ${outcome.newReleaseId}`);
  } else if (outcome.releaseId && outcome.outcome === 'applied') {
    context.out(`Follow it with: greenlight status --release ${outcome.releaseId}`);
  }
  return exitCode;
}

function capitalize(text: string): string {
  return `${text[0]?.toUpperCase() ?? ''}${text.slice(1)}`;
}
