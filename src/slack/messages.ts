import {
  type ApprovalRecord,
  ApprovalStage,
  ApprovalStatus,
  type ReleaseSpec,
  type StepRecord,
  type TestEvidence,
} from '../core/records.ts';
import type { ApprovalTimeoutAction } from '../core/service-config.ts';
import type { KnownBlock } from './blocks.ts';
import type { SlackMessage } from './messenger.ts';
import { ApprovalAction } from './payload.ts';

/**
 * What an approval message shows. Built from an approval without its task token: the type has
 * no field for it, so no message can carry it.
 */
export interface ApprovalView {
  approvalId: string;
  service: string;
  version: string;
  stage: ApprovalStage;
  status: ApprovalStatus;
  expiresAt: string;
  decidedBy?: string;
  decidedAt?: string;
  decidedVia?: string;
  /** The AWS principal a command-line decision ran as (STS GetCallerIdentity). */
  principalArn?: string;
  reason?: string;
  commit?: string;
  actor?: string;
  ci?: { provider: string; runUrl: string };
  /** One line on the pre-traffic tests (see summarizeTests). */
  tests: string;
  /** Set when the decision could not reach the workflow (it had stopped waiting). */
  note?: string;
  /** What happens when nobody decides in time. */
  onTimeout: ApprovalTimeoutAction;
  /** The before-migration stage: the migration the approvers are asked to let run. */
  migration?: MigrationView;
}

/** An irreversible migration as its approvers see it: its plan and what the classifier found. */
export interface MigrationView {
  id: string;
  kind: string;
  statements: string[];
  /** Statements the timeline did not keep (see migration-runner-calls.ts). */
  statementsOmitted?: number;
  findings: string[];
}

/**
 * The migration a before-migration approval names, from the timeline's `migrate-plan` and
 * `migrate-classify` entries (PlanMigration writes them before the approval is requested).
 */
export function migrationViewOf(
  release: Pick<ReleaseSpec, 'migration'>,
  steps: readonly StepRecord[],
): MigrationView | undefined {
  if (release.migration === undefined) return undefined;
  const evidence = (key: string) => steps.find((step) => step.key === key)?.evidence?.migration;
  const reply = evidence('migrate-plan')?.reply;
  return {
    id: release.migration.id,
    kind: release.migration.kind,
    statements: reply?.statements ?? [],
    ...(reply?.statementsOmitted === undefined
      ? {}
      : { statementsOmitted: reply.statementsOmitted }),
    findings: evidence('migrate-classify')?.classification?.reasons ?? [],
  };
}

export function approvalView(
  approval: ApprovalRecord,
  release: Pick<ReleaseSpec, 'commit' | 'actor' | 'ci'>,
  testStep: StepRecord | undefined,
  onTimeout: ApprovalTimeoutAction = 'reject',
  migration?: MigrationView,
): ApprovalView {
  const {
    taskToken: _never,
    slack: _slack,
    releaseId: _releaseId,
    requestedAt: _at,
    ...shown
  } = approval;
  return {
    ...shown,
    ...(release.commit === undefined ? {} : { commit: release.commit }),
    ...(release.actor === undefined ? {} : { actor: release.actor }),
    ...(release.ci === undefined ? {} : { ci: release.ci }),
    tests: summarizeTests(testStep),
    onTimeout,
    ...(migration === undefined ? {} : { migration }),
  };
}

// Block Kit limits (docs.slack.dev/reference/block-kit): section text 3000, field 2000, header 150.
const sectionTextLimit = 3000;
const fieldLimit = 2000;
const headerLimit = 150;

/** The message asking for a decision, with Approve and Reject buttons carrying the approval id. */
export function approvalRequestMessage(view: ApprovalView): SlackMessage {
  return {
    text: `Approval needed: ${escapeText(view.service)} ${escapeText(view.version)} (${stageLabel(view.stage)})`,
    blocks: [
      ...summaryBlocks(view),
      context(
        `Waiting for a decision until ${slackDate(view.expiresAt)}; then the release is ${timeoutVerb(view)}. Approval \`${escapeText(view.approvalId)}\``,
      ),
      {
        type: 'actions',
        block_id: 'approval',
        elements: [
          {
            type: 'button',
            action_id: ApprovalAction.Approve,
            text: { type: 'plain_text', text: 'Approve', emoji: true },
            style: 'primary',
            value: view.approvalId,
          },
          {
            type: 'button',
            action_id: ApprovalAction.Reject,
            text: { type: 'plain_text', text: 'Reject', emoji: true },
            style: 'danger',
            value: view.approvalId,
          },
        ],
      },
    ],
  };
}

/**
 * The message after a person decided: the outcome instead of the buttons. Its `text` is the
 * notification, which Slack formats too: everything from outside in it is escaped as well.
 */
export function approvalDecidedMessage(view: ApprovalView): SlackMessage {
  const outcome = outcomeText(view);
  return {
    text: `${escapeText(view.service)} ${escapeText(view.version)}: ${plainOutcome(view)}`,
    blocks: [
      ...summaryBlocks(view),
      section(outcome),
      ...identityBlocks(view),
      ...(view.note ? [context(escapeText(view.note))] : []),
    ],
  };
}

/** The message after nobody decided in time. */
export function approvalTimedOutMessage(view: ApprovalView): SlackMessage {
  return approvalDecidedMessage(view);
}

/** The ephemeral answer to a click on an approval that is already decided. */
export function alreadyDecidedText(approval: Omit<ApprovalRecord, 'taskToken'>): string {
  if (approval.status === ApprovalStatus.TimedOut) {
    return `This approval timed out${approval.decidedAt ? ` at ${slackDate(approval.decidedAt)}` : ''}; nothing changed.`;
  }
  return `Already ${approval.status} by ${who(approval.decidedBy, approval.decidedVia)}${approval.decidedAt ? ` at ${slackDate(approval.decidedAt)}` : ''}; nothing changed.`;
}

/** The ephemeral answer to someone who may not decide. */
export function notAnApproverText(service: string, approvers: readonly string[]): string {
  const names = approvers.map((id) => `<@${escapeText(id)}>`).join(', ');
  return `You are not an approver for ${escapeText(service)}; nothing changed.${names ? ` Approvers: ${names}.` : ''}`;
}

/** "2 of 2 tests passed: health (120 ms), smoke (80 ms)", from the ledger's `test` step. */
export function summarizeTests(testStep: StepRecord | undefined): string {
  if (!testStep) return 'No test evidence recorded.';
  const tests = testStep.evidence?.tests ?? [];
  if (tests.length === 0) return testStep.reason;
  const passed = tests.filter((test) => test.passed).length;
  return `${passed} of ${tests.length} test${tests.length === 1 ? '' : 's'} passed: ${tests.map(describeTest).join(', ')}`;
}

function describeTest(test: TestEvidence): string {
  return test.passed
    ? `${test.name} (${test.durationMs} ms)`
    : `${test.name} FAILED (${test.detail})`;
}

function summaryBlocks(view: ApprovalView): KnownBlock[] {
  const fields = [
    `*Service*\n${escapeText(view.service)}`,
    `*Version*\n${escapeText(view.version)}`,
    `*Commit*\n${view.commit ? `\`${escapeText(view.commit.slice(0, 12))}\`` : '—'}`,
    `*Requested by*\n${view.actor ? escapeText(view.actor) : '—'}`,
    `*CI run*\n${view.ci ? link(view.ci.runUrl, view.ci.provider) : '—'}`,
    `*Stage*\n${stageLabel(view.stage)}`,
  ];
  return [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: truncate(`Release ${view.service} ${view.version}`, headerLimit),
        emoji: false,
      },
    },
    {
      type: 'section',
      fields: fields.map((text) => mrkdwn(text, fieldLimit)),
    },
    ...(view.migration
      ? migrationBlocks(view.migration)
      : [section(`*Tests on green*\n${escapeText(view.tests)}`)]),
  ];
}

/**
 * Says out loud what the approvers let happen: the migration by name, what it runs, what the
 * classifier found, and what forward-only means for the release.
 */
function migrationBlocks(migration: MigrationView): KnownBlock[] {
  const shown = migration.statements.map((statement) => escapeText(statement)).join('\n');
  const more = migration.statementsOmitted
    ? `\n…and ${migration.statementsOmitted} more statements (the runner's plan has them all)`
    : '';
  const findings =
    migration.findings.length === 0
      ? ''
      : `\n*What it breaks*\n${migration.findings.map((f) => `• ${escapeText(f)}`).join('\n')}`;
  return [
    section(
      `*Migration* \`${escapeText(migration.id)}\` (${escapeText(migration.kind)})\n\`\`\`${shown || '(the runner planned no statements)'}\`\`\`${more}`,
    ),
    section(
      `${findings ? `${findings.slice(1)}\n` : ''}:warning: *After it runs this release is forward-only*: a failed gate, alarm or test holds traffic where it is instead of rolling back to code the data no longer fits, and an operator promotes it or rolls it back knowingly. Green's tests run after the migration.`,
    ),
  ];
}

function outcomeText(view: ApprovalView): string {
  const at = view.decidedAt ? ` at ${slackDate(view.decidedAt)}` : '';
  switch (view.status) {
    case ApprovalStatus.Approved:
      return `:white_check_mark: *Approved* by ${who(view.decidedBy, view.decidedVia)}${at}`;
    case ApprovalStatus.Rejected:
      return `:no_entry: *Rejected* by ${who(view.decidedBy, view.decidedVia)}${at}${view.reason ? `: ${escapeText(view.reason)}` : ''}`;
    case ApprovalStatus.TimedOut:
      return view.onTimeout === 'approve'
        ? `:hourglass: *No decision* by ${slackDate(view.expiresAt)}; the release was approved, as its service asks on timeout`
        : `:hourglass: *No decision* by ${slackDate(view.expiresAt)}; the release was rejected${view.stage === ApprovalStage.BeforeFinalize ? '' : ' before any traffic moved'}`;
    case ApprovalStatus.Pending:
      return 'Waiting for a decision';
  }
}

/**
 * What vouches for who decided: Slack's signature on the click, or the AWS principal the
 * greenlight CLI ran as. The typed name beside a principal is only what they typed.
 */
function identityBlocks(view: ApprovalView): KnownBlock[] {
  if (view.status !== ApprovalStatus.Approved && view.status !== ApprovalStatus.Rejected) {
    return [];
  }
  if (view.principalArn !== undefined) {
    return [
      context(
        `Decided from the command line as AWS principal ${escapeText(view.principalArn)} (STS GetCallerIdentity); the name is what they typed.`,
      ),
    ];
  }
  if (view.decidedVia === 'slack') {
    return [
      context(
        'Decided in Slack: the Slack user, from a click whose request signature was verified.',
      ),
    ];
  }
  return [];
}

function plainOutcome(view: ApprovalView): string {
  switch (view.status) {
    case ApprovalStatus.Approved:
      return `approved by ${escapeText(view.decidedBy ?? 'unknown')}`;
    case ApprovalStatus.Rejected:
      return `rejected by ${escapeText(view.decidedBy ?? 'unknown')}`;
    case ApprovalStatus.TimedOut:
      return `no decision in time; ${timeoutVerb(view)}`;
    case ApprovalStatus.Pending:
      return 'waiting for a decision';
  }
}

function timeoutVerb(view: ApprovalView): string {
  return view.onTimeout === 'approve' ? 'approved' : 'rejected';
}

function stageLabel(stage: ApprovalStage): string {
  switch (stage) {
    case ApprovalStage.BeforeMigration:
      return 'before the irreversible migration runs';
    case ApprovalStage.BeforeShift:
      return 'before any traffic moves';
    case ApprovalStage.BeforeFinalize:
      return 'before green takes all traffic';
    case ApprovalStage.ForwardOnlyHold:
      return 'held, forward-only';
  }
}

/** Slack user ids become mentions; anything else (a CLI user name) is shown as text. */
function who(by: string | undefined, via: string | undefined): string {
  if (!by) return 'someone';
  const mention = /^[UW][A-Z0-9]{2,}$/.test(by) ? `<@${by}>` : escapeText(by);
  return via && via !== 'slack' ? `${mention} (via ${escapeText(via)})` : mention;
}

/** Shown in each reader's time zone, with the ISO time as fallback. */
function slackDate(iso: string): string {
  const seconds = Math.floor(Date.parse(iso) / 1000);
  if (!Number.isFinite(seconds)) return escapeText(iso);
  return `<!date^${seconds}^{date_short_pretty} {time}|${escapeText(iso)}>`;
}

/**
 * Release fields come from whoever put the event on the bus: escaped, so that a version like
 * `<!channel>` or `<https://evil|docs>` is shown, never acted on. Slack reads `&`, `<` and `>`
 * as control characters in every text it formats and asks for them as `&amp;`, `&lt;`, `&gt;`
 * (docs.slack.dev, "Formatting text for app surfaces": escaping text). A bare `@channel`,
 * `@here` or `@everyone` is a broadcast wherever Slack parses mentions (a mrkdwn object
 * without `verbatim`, a message with `link_names`): a word joiner (U+2060) after the `@`
 * keeps it on screen and makes it no mention. Ours are all `verbatim`, and this holds anyway.
 */
export function escapeText(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replace(/@(?=(?:channel|here|everyone)\b)/gi, '@\u2060');
}

/** A link to a URL from outside, only when it is plainly http(s); its label escaped. */
function link(url: string, label: string): string {
  if (!/^https?:\/\/[^\s<>|]+$/.test(url)) return escapeText(url);
  return `<${url.replaceAll('&', '&amp;')}|${escapeText(label).replaceAll('|', '¦')}>`;
}

/**
 * A mrkdwn text object. `verbatim` stops Slack's own parsing (bare URLs, #channels, @mentions);
 * what we mean as markup (`<@U…>`, `<!date^…>`, our links) is written out in full and still
 * works.
 */
function mrkdwn(text: string, limit: number) {
  return { type: 'mrkdwn' as const, text: truncate(text, limit), verbatim: true };
}

function section(text: string): KnownBlock {
  return { type: 'section', text: mrkdwn(text, sectionTextLimit) };
}

function context(text: string): KnownBlock {
  return { type: 'context', elements: [mrkdwn(text, fieldLimit)] };
}

function truncate(text: string, limit: number): string {
  return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}
