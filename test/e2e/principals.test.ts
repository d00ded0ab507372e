import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import { DynamoApprovalStore } from '../../src/aws/dynamo-approvals.ts';
import { DynamoCommandLog } from '../../src/aws/dynamo-commands.ts';
import { connect } from '../../src/cli/connect.ts';
import { runDecisionCommand, runOperatorCommand } from '../../src/cli/operator-commands.ts';
import type { SharedOptions } from '../../src/cli/options.ts';
import { runStatusCommand } from '../../src/cli/status-command.ts';
import { deriveReleaseId } from '../../src/core/release-id.ts';
import { type GreenlightLocal, LocalNames } from '../../src/local/greenlight-local.ts';
import { eventually } from '../support/eventually.ts';
import { aContext } from '../unit/cli/fixtures.ts';
import {
  aGatedLambdaService,
  artifact,
  executionFor,
  requestRelease,
  useLocalCloud,
} from './local-release.ts';

// Who decided is the AWS principal. The greenlight CLI runs with different credentials, as
// different people would; the local STS answers GetCallerIdentity for each access key, and the
// service's approval maps principals to the approvers they decide as.
const channel = 'C0RELEASES';
const account = LocalNames.accountId;
const leeSession = `arn:aws:sts::${account}:assumed-role/AWSReservedSSO_Releasers_0a1b/lee@example.com`;
const malloryArn = `arn:aws:iam::${account}:user/mallory`;
const danaArn = `arn:aws:iam::${account}:user/dana`;

function gated(name: string, principals?: { arn: string; approver: string }[]) {
  return aGatedLambdaService(name, {
    approvers: ['U0LEE', 'U0DANA'],
    ...(principals ? { principals } : {}),
  });
}

const fixtures = [
  gated('mapped', [
    {
      arn: `arn:aws:iam::${account}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Releasers_0a1b`,
      approver: 'U0LEE',
    },
  ]),
  gated('unmapped'),
];
let local: GreenlightLocal;
let dynamo: DynamoDBClient;

useLocalCloud(fixtures, (cloud) => {
  ({ local, dynamo } = cloud);
  // Lee signs in through IAM Identity Center: an assumed-role session of the permission set's
  // role. Mallory and dana are IAM users (the local STS's default for any other key).
  local.cloud.sts.mapAccessKey('ASIALEE', leeSession);
});

/** Runs a greenlight command with `accessKeyId` as its AWS credentials. */
async function as<T>(accessKeyId: string, run: () => Promise<T>): Promise<T> {
  vi.stubEnv('AWS_ACCESS_KEY_ID', accessKeyId);
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
  try {
    return await run();
  } finally {
    vi.unstubAllEnvs();
  }
}

const connectLocal = (options: SharedOptions & { registryTable?: string }) =>
  connect(
    { ...options, endpointUrl: local.url, region: LocalNames.region },
    { SLACK_BOT_TOKEN: LocalNames.slackBotToken, SLACK_API_URL: `${local.url}/api/` },
  );

async function awaitingApproval(service: string) {
  const releaseId = deriveReleaseId(service, '1.1.0', 1);
  const eventId = await requestRelease(local, {
    service,
    version: '1.1.0',
    artifact: artifact('1.1.0'),
    actor: 'ci-bot',
  });
  const approvalId = `${releaseId}-before-shift`;
  const message = await eventually(
    () =>
      local.slack
        .messages(channel)
        .find((m) => JSON.stringify(m.blocks).includes(`"value":"${approvalId}"`)),
    { what: `the approval message of ${service}`, timeoutMs: 30_000 },
  );
  return { releaseId, eventId, approvalId, message };
}

function stores() {
  const documents = DynamoDBDocumentClient.from(dynamo);
  return {
    approvals: new DynamoApprovalStore({ client: documents, tableName: LocalNames.ledgerTable }),
    commands: new DynamoCommandLog({ client: documents, tableName: LocalNames.ledgerTable }),
  };
}

async function statusOf(releaseId: string): Promise<string[]> {
  const { context, out } = aContext({});
  expect(await runStatusCommand(['--release', releaseId], context, connectLocal)).toBe(0);
  return out;
}

describe('greenlight approve, for a service that maps AWS principals to approvers', () => {
  it('refuses a principal mapped to no approver, whatever --actor says, and records an approver’s principal', async () => {
    const { releaseId, eventId, approvalId, message } = await awaitingApproval('mapped');

    const mallory = aContext({ USER: 'mallory' });
    const refused = await as('mallory', () =>
      runDecisionCommand(
        'approve',
        ['--service', 'mapped', '--actor', 'U0DEMOLEAD'],
        mallory.context,
        connectLocal,
      ),
    );

    expect(refused).toBe(8);
    expect(mallory.err.join('\n')).toContain(
      `AWS principal ${malloryArn} maps to no approver of mapped`,
    );
    expect((await stores().approvals.get(approvalId))?.status).toBe('pending');
    expect((await local.ledger.getRelease(releaseId))?.phase).toBe('AwaitingApproval');
    expect((await local.ledger.listSteps(releaseId)).map((s) => s.step)).not.toContain('approval');
    expect(JSON.stringify(local.slack.message(channel, message.ts)?.blocks)).toContain(
      '"action_id":"approve"',
    );

    const lee = aContext({ USER: 'lee' });
    const approved = await as('ASIALEE', () =>
      runDecisionCommand(
        'approve',
        ['--service', 'mapped', '--reason', 'change 42'],
        lee.context,
        connectLocal,
      ),
    );

    expect(approved).toBe(0);
    expect(lee.err).toEqual([]);
    expect(lee.out).toEqual([
      `Approved ${releaseId} (before-shift) as lee: change 42`,
      `Recorded with AWS principal ${leeSession}, deciding as approver U0LEE`,
    ]);
    expect((await executionFor(local, eventId)).status).toBe('SUCCEEDED');
    expect(await stores().approvals.get(approvalId)).toMatchObject({
      status: 'approved',
      decidedBy: 'U0LEE',
      decidedVia: 'cli',
      principalArn: leeSession,
    });
    const approval = (await local.ledger.listSteps(releaseId)).find((s) => s.step === 'approval');
    expect(approval?.identity).toEqual({
      source: 'aws-sts',
      actor: 'lee',
      principalArn: leeSession,
      approver: 'U0LEE',
    });
    expect(await statusOf(releaseId)).toContain(
      `      by lee, AWS principal ${leeSession} (STS GetCallerIdentity), deciding as approver U0LEE`,
    );
    expect(JSON.stringify(local.slack.message(channel, message.ts)?.blocks)).toContain(
      `Decided from the command line as AWS principal ${leeSession} (STS GetCallerIdentity)`,
    );
  });
});

describe('greenlight approve and abort, for a service that maps no principals', () => {
  it('says IAM is the gate and records each caller’s principal beside the typed name', async () => {
    const { releaseId, eventId, approvalId } = await awaitingApproval('unmapped');

    const abort = aContext({ USER: 'dana' });
    const code = await as('dana', () =>
      runOperatorCommand(
        'abort',
        ['--service', 'unmapped', '--actor', 'U0DEMOLEAD', '--reason', 'wrong build'],
        abort.context,
        connectLocal,
      ),
    );

    expect(code).toBe(0);
    expect((await executionFor(local, eventId)).status).toBe('FAILED');
    const operator = (await local.ledger.listSteps(releaseId)).find((s) => s.step === 'operator');
    expect(operator?.identity).toEqual({
      source: 'aws-sts',
      actor: 'U0DEMOLEAD',
      principalArn: danaArn,
    });
    const commandId = operator?.key.replace(/^operator#/, '') ?? '';
    expect(await stores().commands.get(commandId)).toMatchObject({
      actor: 'U0DEMOLEAD',
      principalArn: danaArn,
      outcome: 'applied',
    });
    expect(await stores().approvals.get(approvalId)).toMatchObject({
      status: 'rejected',
      decidedVia: 'abort',
      principalArn: danaArn,
    });
    expect(await statusOf(releaseId)).toContain(
      `      by U0DEMOLEAD, AWS principal ${danaArn} (STS GetCallerIdentity)`,
    );

    // Decided already: the notice still says who the gate is, and nothing changes.
    const late = aContext({ USER: 'mallory' });
    const again = await as('mallory', () =>
      runDecisionCommand('approve', [releaseId], late.context, connectLocal),
    );
    expect(again).toBe(7);
    expect(late.err).toEqual([
      `greenlight approve: IAM is the gate: unmapped maps no AWS principal to its approvers (approval.principals), so whoever IAM lets write the ledger and answer the workflow may decide; you are ${malloryArn}.`,
    ]);
  });
});
