import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { formatRelease, type RenderStyle } from '../cli/format-timeline.ts';
import { TerminalPhases } from '../core/phases.ts';
import { deriveReleaseId } from '../core/release-id.ts';
import { buildReleaseRequestEntry } from '../core/release-request-entry.ts';
import type { DemoOutcome } from './demo.ts';
import { DemoApproval, DemoArtifactBucket } from './demo-registry.ts';
import { type GreenlightLocal, LocalNames } from './greenlight-local.ts';

export const approvalDemo = {
  title: 'A release that waits for a human "go" in Slack; the approver clicks Approve',
  service: 'payments',
  version: '1.1.0',
  expected: 'Finalized',
} as const;

/**
 * `payments` asks for approval before traffic moves. The demo sends its release, shows the
 * message the approver got in the local Slack stand-in, and clicks Approve as that approver:
 * a real signed request to the interactivity function's URL on the local endpoint.
 */
export async function runApprovalDemo(
  local: GreenlightLocal,
  out: (line: string) => void,
  style: RenderStyle,
): Promise<DemoOutcome> {
  const { service, version } = approvalDemo;
  const releaseId = deriveReleaseId(service, version, 1);
  const events = new EventBridgeClient(local.clientConfig);
  try {
    out('');
    out(`── Demo: ${approvalDemo.title}`);
    await events.send(
      new PutEventsCommand({
        Entries: [
          buildReleaseRequestEntry({
            bus: LocalNames.bus,
            source: 'greenlight.demo',
            detail: {
              service,
              version,
              artifact: { s3: { bucket: DemoArtifactBucket, key: 'checkout/1.1.0.zip' } },
              actor: 'demo',
            },
          }),
        ],
      }),
    );
  } finally {
    events.destroy();
  }
  const approvalId = `${releaseId}-before-shift`;
  const message = await poll(() =>
    local.slack
      .messages(DemoApproval.channel)
      .find((m) => JSON.stringify(m.blocks).includes(`"value":"${approvalId}"`)),
  );
  out(`  Slack #${message.channel}: "${message.text}" [Approve] [Reject]`);
  const reply = await local.slack.click({
    channel: message.channel,
    ts: message.ts,
    actionId: 'approve',
    user: DemoApproval.approver,
  });
  out(
    `  ${DemoApproval.approver.username} (${DemoApproval.approver.id}) clicks Approve: HTTP ${reply.status}`,
  );
  const release = await poll(async () => {
    const found = await local.ledger.getRelease(releaseId);
    return found && TerminalPhases.has(found.phase) ? found : undefined;
  });
  for (const line of formatRelease(release, await local.ledger.listSteps(releaseId), style)) {
    out(line);
  }
  return { service, version, expected: approvalDemo.expected, release };
}

async function poll<T>(probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('The approval demo did not finish within a minute');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
