import { LifecycleEventType } from '../core/phases.ts';
import type { ReleaseUpdate } from '../core/release-updates.ts';
import type { KnownBlock } from './blocks.ts';
import { escapeText } from './messages.ts';
import type { SlackMessage } from './messenger.ts';

// Slack's limits for a section's text and a context element ("Reference: blocks",
// docs.slack.dev/reference/block-kit/blocks): 3000 characters each.
const sectionTextLimit = 3000;
const evidenceLines = 10;

/**
 * Text that could be a credential is never shown: a Slack token (`xoxb-…`, `xapp-…`), a
 * Secrets Manager ARN, or a long opaque run of token characters (a Step Functions task token
 * is hundreds of base64 characters). Reasons are built by greenlight from alarm reasons, test
 * output and operators' words: this is the last line, not the only one (the update is built
 * from named fields, never from the whole event).
 */
export function redactSecrets(text: string): string {
  return text
    .replace(/\bx(?:ox[a-z]|app)-[A-Za-z0-9-]+/g, '[redacted]')
    .replace(/arn:aws[a-z-]*:secretsmanager:[^\s"',;)]+/g, '[redacted]')
    .replace(/[A-Za-z0-9+/=_-]{80,}/g, '[redacted]');
}

const headlineOf: Record<LifecycleEventType, (update: ReleaseUpdate) => string> = {
  [LifecycleEventType.ReleaseStarted]: () => ':rocket: Started',
  [LifecycleEventType.GreenProvisioned]: () => ':large_green_circle: Green provisioned',
  [LifecycleEventType.ApprovalRequested]: () => ':raised_hand: Waiting for approval',
  [LifecycleEventType.TrafficShifted]: (u) => `:arrow_right: ${u.greenPercent ?? 0}% on green`,
  [LifecycleEventType.GateFailed]: () => ':x: Gate failed',
  [LifecycleEventType.ReleaseFinalized]: () => ':white_check_mark: Finalized',
  [LifecycleEventType.ReleaseRolledBack]: () => ':leftwards_arrow_with_hook: Rolled back',
  [LifecycleEventType.ReleaseHeld]: () =>
    ':octagonal_sign: Held, forward-only: traffic stays; `greenlight promote` or `greenlight abort --knowingly`',
  [LifecycleEventType.ReleaseRejected]: () => ':no_entry: Rejected',
  [LifecycleEventType.ReleaseSuperseded]: () => ':fast_forward: Superseded',
  [LifecycleEventType.IdleColourTornDown]: (u) =>
    `:broom: Idle colour${u.colour ? ` ${u.colour}` : ''} torn down`,
};

/** The one line that says what an update is, e.g. ":x: Gate failed". */
export function updateHeadline(update: ReleaseUpdate): string {
  return headlineOf[update.detailType](update);
}

/** The release's parent message: where it stands now, from its newest update. */
export function releaseUpdateParentMessage(latest: ReleaseUpdate): SlackMessage {
  const title = `${latest.service} ${latest.version}`;
  const status = `${updateHeadline(latest)} (${latest.phase}${
    latest.greenPercent === undefined ? '' : `, ${latest.greenPercent}% on green`
  })`;
  const text = clean(`*${title}*: ${status}\n${latest.reason}`);
  return {
    text: clean(`${latest.service} ${latest.version}: ${updateHeadline(latest)}`),
    blocks: [
      section(text),
      context(clean(`Release ${latest.releaseId} · updated ${latest.time} · details in thread`)),
    ],
  };
}

/** One thread reply: what this event says, with a failed gate's evidence. */
export function releaseUpdateReply(update: ReleaseUpdate): SlackMessage {
  const lines = [`${updateHeadline(update)}: ${update.reason}`];
  if (update.evidence) lines.push(...evidenceOf(update.evidence));
  if (update.actions && update.actions.length > 0) {
    lines.push(...update.actions.slice(0, evidenceLines).map((action) => `• ${action}`));
  }
  const text = clean(lines.join('\n'));
  return {
    text: clean(`${update.service} ${update.version}: ${updateHeadline(update)}`),
    blocks: [section(text), context(clean(update.time))],
  };
}

function evidenceOf(evidence: NonNullable<ReleaseUpdate['evidence']>): string[] {
  const lines = [
    ...evidence.alarms.map(
      (a) => `• alarm ${a.name}: ${a.state}${a.reason ? `, ${a.reason}` : ''}`,
    ),
    ...evidence.missing.map((name) => `• alarm ${name}: missing`),
    ...evidence.metrics.map((m) => `• metric gate ${m.gate}: ${m.verdict}, ${m.reason}`),
  ];
  return lines.length > evidenceLines
    ? [...lines.slice(0, evidenceLines), `• and ${lines.length - evidenceLines} more`]
    : lines;
}

/**
 * Escaped for Slack and redacted. Our own markup (`*bold*`, `:emoji:`) survives escaping:
 * escapeText touches only `&`, `<`, `>` and broadcast mentions.
 */
function clean(text: string): string {
  return escapeText(redactSecrets(text));
}

function section(text: string): KnownBlock {
  return { type: 'section', text: mrkdwn(text) };
}

function context(text: string): KnownBlock {
  return { type: 'context', elements: [mrkdwn(text)] };
}

function mrkdwn(text: string) {
  const limited =
    text.length <= sectionTextLimit ? text : `${text.slice(0, sectionTextLimit - 1)}…`;
  return { type: 'mrkdwn' as const, text: limited, verbatim: true };
}
