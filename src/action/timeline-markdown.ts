import { formatBar, formatDuration, sortSteps } from '../cli/format-timeline.ts';
import { inertText } from '../core/inert-text.ts';
import type { ReleaseRecord, StepRecord } from '../core/records.ts';

/**
 * Text from the ledger as one Markdown table cell: inert (no control or bidi characters), on
 * one line, and unable to close the cell, open HTML or start a code span. Job summaries render
 * GitHub Flavored Markdown, where a raw `|` ends a cell and `<` may open a tag.
 */
export function markdownCell(text: string): string {
  return inertText(text.replace(/\s*\n\s*/g, ' ')).replace(
    /[\\`*_[\]|<>]/g,
    (character) => `\\${character}`,
  );
}

/** How the release ended, for the summary's heading and the action's `outcome` output. */
export type ActionOutcome =
  | { kind: 'release'; release: ReleaseRecord }
  | { kind: 'rejected'; eventId: string; rejection: StepRecord }
  | { kind: 'timeout'; releaseId: string; phase: string | null }
  | { kind: 'requested'; releaseId: string };

/** The job summary: a heading with the outcome, its reason, and the timeline as a table. */
export function formatSummary(
  request: { service: string; version: string },
  outcome: ActionOutcome,
  steps: readonly StepRecord[],
  timelineUrl: string | undefined,
): string {
  const title = `${markdownCell(request.service)} ${markdownCell(request.version)}`;
  const lines: string[] = [];
  switch (outcome.kind) {
    case 'release':
      lines.push(
        `### greenlight: ${title} ${outcome.release.phase}`,
        '',
        `${markdownCell(outcome.release.reason)}`,
      );
      break;
    case 'rejected':
      lines.push(
        `### greenlight: ${title} Rejected`,
        '',
        markdownCell(outcome.rejection.reason),
        ...(outcome.rejection.evidence?.issues ?? []).map(
          (issue) =>
            `- \`${markdownCell(issue.path || '(event)')}\`: ${markdownCell(issue.message)}`,
        ),
      );
      break;
    case 'timeout':
      lines.push(
        `### greenlight: ${title} still ${outcome.phase ?? 'not registered'}`,
        '',
        'The action stopped waiting; the release goes on.',
      );
      break;
    case 'requested':
      lines.push(`### greenlight: ${title} requested`, '', 'Not waited for (`wait: false`).');
      break;
  }
  if (timelineUrl !== undefined)
    lines.push('', `[Execution in the Step Functions console](${timelineUrl})`);
  if (steps.length > 0) {
    lines.push(
      '',
      '| time (UTC) | +elapsed | step | outcome | traffic | reason |',
      '|---|---|---|---|---|---|',
    );
    let previousAt: string | undefined;
    for (const step of sortSteps(steps)) {
      const elapsed =
        previousAt === undefined
          ? ''
          : `+${formatDuration(Date.parse(step.at) - Date.parse(previousAt))}`;
      previousAt = step.at;
      lines.push(
        `| ${markdownCell(step.at.slice(11, 19))} | ${elapsed} | ${markdownCell(step.step)} | ${markdownCell(step.outcome)} | ${step.greenPercent === undefined ? '' : markdownCell(formatBar(step.greenPercent))} | ${markdownCell(step.reason)} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
