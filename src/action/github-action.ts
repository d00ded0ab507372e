import { randomUUID } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import type { connect } from '../cli/connect.ts';
import { ExitCode } from '../cli/exit-codes.ts';
import { formatOutcome, formatRejection, formatStep } from '../cli/format-timeline.ts';
import type { CommandContext, Env } from '../cli/options.ts';
import { runReleaseCommand } from '../cli/release-command.ts';
import { ReleasePhase } from '../core/phases.ts';
import type { ReleaseRecord, StepRecord } from '../core/records.ts';
import { type ActionOutcome, formatSummary } from './timeline-markdown.ts';

/**
 * The inputs action.yml declares. The runner passes each as `INPUT_<NAME>`, upper-cased, spaces
 * as `_`, hyphens kept ("Metadata syntax for GitHub Actions", `inputs.<input_id>`); an input
 * the workflow leaves out is an empty string or absent.
 */
export interface ActionInputs {
  service: string;
  version: string;
  /** `s3://bucket/key[?versionId=ID]` for a Lambda zip, else a container image URI. */
  artifact: string;
  strategy?: string;
  wait: boolean;
  timeoutSeconds?: string;
  bus?: string;
  region?: string;
  endpointUrl?: string;
}

export class ActionInputError extends Error {
  override readonly name = 'ActionInputError';
}

function input(env: Env, name: string): string | undefined {
  const value = env[`INPUT_${name.toUpperCase().replaceAll(' ', '_')}`]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

export function readActionInputs(env: Env): ActionInputs {
  const required = (name: string) => {
    const value = input(env, name);
    if (value === undefined) throw new ActionInputError(`Input required and not supplied: ${name}`);
    return value;
  };
  const wait = input(env, 'wait') ?? 'true';
  if (wait !== 'true' && wait !== 'false') {
    throw new ActionInputError(`Input wait must be "true" or "false", got "${wait}".`);
  }
  const inputs: ActionInputs = {
    service: required('service'),
    version: required('version'),
    artifact: required('artifact'),
    wait: wait === 'true',
  };
  const optional = {
    strategy: 'strategy',
    timeoutSeconds: 'timeout',
    bus: 'bus',
    region: 'region',
    endpointUrl: 'endpoint-url',
  } as const;
  for (const [key, name] of Object.entries(optional)) {
    const value = input(env, name);
    if (value !== undefined) inputs[key as keyof typeof optional] = value;
  }
  return inputs;
}

/** The `greenlight release` command line the inputs stand for: one path to the bus for all. */
export function releaseArgv(inputs: ActionInputs): string[] {
  const argv = ['--service', inputs.service, '--version', inputs.version];
  argv.push(inputs.artifact.startsWith('s3://') ? '--s3' : '--image', inputs.artifact);
  if (inputs.strategy !== undefined) argv.push('--strategy', inputs.strategy);
  if (inputs.bus !== undefined) argv.push('--bus', inputs.bus);
  if (inputs.region !== undefined) argv.push('--region', inputs.region);
  if (inputs.endpointUrl !== undefined) argv.push('--endpoint-url', inputs.endpointUrl);
  if (inputs.wait) {
    argv.push('--wait');
    if (inputs.timeoutSeconds !== undefined) argv.push('--timeout', inputs.timeoutSeconds);
  }
  argv.push('--json');
  return argv;
}

/**
 * The Step Functions console's page of the execution that ran the release: its graph and event
 * history, next to the ledger's timeline the summary shows. Only for the `aws` partition, whose
 * console is console.aws.amazon.com.
 */
export function consoleExecutionUrl(executionArn: string): string | undefined {
  const match = /^arn:aws:states:([a-z0-9-]+):\d{12}:execution:/.exec(executionArn);
  if (match === null) return undefined;
  const region = match[1];
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${encodeURIComponent(executionArn)}`;
}

/** What the action hands the workflow after it ran. */
export interface ActionResult {
  exitCode: ExitCode;
  outputs: { 'release-id': string; outcome: string; 'timeline-url': string };
  summary: string;
  /** The release's reason when the job must fail; absent when it succeeded. */
  failure?: string;
}

/** JSON lines `greenlight release --json` prints (release-command.ts). */
type ReleaseLine =
  | { type: 'requested'; eventId: string; releaseId: string }
  | { type: 'step'; releaseId: string; step: StepRecord }
  | { type: 'waiting-for-lock'; holder: string }
  | { type: 'finished'; release: ReleaseRecord; exitCode: ExitCode }
  | { type: 'rejected'; eventId: string; rejection: StepRecord; exitCode: ExitCode }
  | { type: 'timeout'; releaseId: string; phase: string | null; exitCode: ExitCode };

/**
 * Runs `greenlight release --json` for the inputs, logs each line as the CLI would print it for
 * a person, and turns how the release ended into outputs, a job summary and a failure reason.
 */
export async function runGreenlightAction(
  inputs: ActionInputs,
  context: CommandContext,
  connectTo: typeof connect,
): Promise<ActionResult> {
  let releaseId = '';
  let outcome: ActionOutcome | undefined;
  let previousAt: string | undefined;
  const steps: StepRecord[] = [];
  const style = { color: false };
  const capture: CommandContext = {
    ...context,
    out: (text) => {
      const line = JSON.parse(text) as ReleaseLine;
      switch (line.type) {
        case 'requested':
          releaseId = line.releaseId;
          outcome = { kind: 'requested', releaseId };
          context.out(
            `Requested ${inputs.service} ${inputs.version}: release ${releaseId}, event ${line.eventId}`,
          );
          break;
        case 'step':
          steps.push(line.step);
          for (const printed of formatStep(line.step, previousAt, style)) context.out(printed);
          previousAt = line.step.at;
          break;
        case 'waiting-for-lock':
          context.out(`  waiting for ${inputs.service}'s lock (held by ${line.holder})`);
          break;
        case 'finished':
          outcome = { kind: 'release', release: line.release };
          context.out(formatOutcome(line.release, style));
          break;
        case 'rejected':
          outcome = { kind: 'rejected', eventId: line.eventId, rejection: line.rejection };
          for (const printed of formatRejection(line.rejection)) context.out(printed);
          break;
        case 'timeout':
          outcome = { kind: 'timeout', releaseId, phase: line.phase };
          context.out(`Stopped waiting for ${releaseId}: still ${line.phase ?? 'not registered'}`);
          break;
      }
    },
  };
  const exitCode = await runReleaseCommand(releaseArgv(inputs), capture, connectTo);
  const ended: ActionOutcome | undefined = outcome;
  if (ended === undefined) {
    // Nothing was sent: the CLI has said why on stderr (usage, validation, PutEvents refused).
    return {
      exitCode,
      outputs: { 'release-id': '', outcome: 'NotSent', 'timeline-url': '' },
      summary: `### greenlight: ${inputs.service} ${inputs.version} not sent\n\nSee the step's log.\n`,
      failure: 'greenlight release sent nothing; see the log above',
    };
  }
  const timelineUrl =
    ended.kind === 'release' ? consoleExecutionUrl(ended.release.executionId) : undefined;
  const result: ActionResult = {
    exitCode,
    outputs: {
      'release-id': releaseId,
      outcome: outcomeName(ended),
      'timeline-url': timelineUrl ?? '',
    },
    summary: formatSummary(inputs, ended, steps, timelineUrl),
  };
  if (exitCode !== ExitCode.Finalized) result.failure = failureReason(ended);
  return result;
}

function outcomeName(outcome: ActionOutcome): string {
  switch (outcome.kind) {
    case 'release':
      return outcome.release.phase;
    case 'rejected':
      return ReleasePhase.Rejected;
    case 'timeout':
      return 'TimedOut';
    case 'requested':
      return 'Requested';
  }
}

function failureReason(outcome: ActionOutcome): string {
  switch (outcome.kind) {
    case 'release':
      return `${outcome.release.phase}: ${outcome.release.reason}`;
    case 'rejected':
      return `Rejected: ${outcome.rejection.reason}`;
    case 'timeout':
      return `Timed out waiting; the release is still ${outcome.phase ?? 'not registered'}`;
    case 'requested':
      return 'Requested';
  }
}

/**
 * `name<<DELIMITER` lines for $GITHUB_OUTPUT, the form "Workflow commands for GitHub Actions"
 * ("Setting an output parameter", "Multiline strings") gives for any value; the delimiter is
 * random so that no value can end it early and set another output.
 */
export function formatOutputs(
  outputs: Record<string, string>,
  delimiter = `ghadelimiter_${randomUUID()}`,
): string {
  return Object.entries(outputs)
    .map(([name, value]) => `${name}<<${delimiter}\n${value}\n${delimiter}\n`)
    .join('');
}

/**
 * The message of an `::error::` workflow command ("Setting an error message"): `%`, CR and LF
 * escaped as the runner expects, so a multi-line reason stays one annotation.
 */
export function errorCommand(message: string): string {
  const escaped = message.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
  return `::error title=greenlight::${escaped}`;
}

/**
 * The action's whole run against the runner's files: outputs appended to $GITHUB_OUTPUT, the
 * summary to $GITHUB_STEP_SUMMARY (both files the runner creates per step), the failure as an
 * error annotation. Returns the process exit code: non-zero fails the job.
 */
export async function runAction(
  context: CommandContext,
  connectTo: typeof connect,
): Promise<number> {
  let inputs: ActionInputs;
  try {
    inputs = readActionInputs(context.env);
  } catch (error) {
    context.out(errorCommand(error instanceof Error ? error.message : String(error)));
    return ExitCode.Usage;
  }
  // The log quotes the ledger (reasons, actors), text from outside: the runner must not take a
  // line of it as a workflow command ("Stopping and starting workflow commands").
  const resume = `greenlight-${randomUUID()}`;
  context.out(`::stop-commands::${resume}`);
  const result = await runGreenlightAction(inputs, context, connectTo);
  context.out(`::${resume}::`);
  const outputFile = context.env.GITHUB_OUTPUT;
  if (outputFile) await appendFile(outputFile, formatOutputs(result.outputs));
  const summaryFile = context.env.GITHUB_STEP_SUMMARY;
  if (summaryFile) await appendFile(summaryFile, result.summary);
  if (result.failure !== undefined) context.out(errorCommand(result.failure));
  return result.exitCode;
}
