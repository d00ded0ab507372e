import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoCommandLog } from '../aws/dynamo-commands.ts';
import { formatRelease, type RenderStyle } from '../cli/format-timeline.ts';
import type { ReleaseMigration } from '../core/migration.ts';
import type { CommandRecord } from '../core/operator-command.ts';
import { TerminalPhases } from '../core/phases.ts';
import { IdleColourState, type ReleaseRecord } from '../core/records.ts';
import { deriveReleaseId } from '../core/release-id.ts';
import { buildReleaseRequestEntry } from '../core/release-request-entry.ts';
import { DemoShop } from './data-plane/local-alb.ts';
import type { DemoOutcome } from './demo.ts';
import { DemoDatabase, ShopMigrationId } from './demo-database.ts';
import { type GreenlightLocal, LocalNames } from './greenlight-local.ts';

/** The migration story's steps, in order, and how each is expected to end. */
export const migrationDemo = {
  breaking: {
    title:
      'A "breaking expand": shop-002 renames the column blue writes; refused before anything ran',
    version: '1.4.0',
    attempt: 1,
    image: '1.4.0',
    migration: { id: ShopMigrationId.RenameNote, kind: 'expand' },
    expected: 'RolledBack',
  },
  expand: {
    title:
      'The safe way, an expand with the release: shop-001 adds a nullable column before green is tested, blue re-tested on the new schema',
    // The same build again, as CI's next attempt once the team wrote the migration the safe way.
    version: '1.4.0',
    attempt: 2,
    image: '1.4.0',
    migration: { id: ShopMigrationId.AddGiftMessage, kind: 'expand' },
    expected: 'Finalized',
  },
  lateRollback: {
    title:
      'A bug found after the warm window: `greenlight rollback shop` re-provisions blue (1.1.0) as a new release',
    version: '1.1.0',
    expected: 'Finalized',
  },
  contract: {
    title:
      'The contract: shop-003 drops the old column (completes shop-001), applied at the teardown of the last colour running older code',
    version: '1.5.0',
    attempt: 1,
    image: '1.4.0',
    migration: {
      id: ShopMigrationId.DropNote,
      kind: 'contract',
      completes: ShopMigrationId.AddGiftMessage,
    },
    expected: 'Finalized',
  },
} as const;

/** What the migration story ended with, for main's summary and the tests. */
export interface MigrationDemoOutcome {
  outcomes: DemoOutcome[];
  /** The runner's `status` of shop-002 after its refusal. */
  refusedStatus: string;
  /** The runner's `status` of shop-003 after the teardown. */
  contractStatus: string;
  /** The late rollback's outcome, and the one asked for after the contract ran. */
  rollback: CommandRecord;
  refusedRollback: CommandRecord;
}

/**
 * The shop's schema changes with its releases, on the local cloud's PostgreSQL and the shop's
 * own migration runner (`shop-migrations`): an expand with blue re-tested, a breaking expand
 * refused, a rollback after the warm window, then the contract at teardown, after which a
 * rollback is refused. Needs the local cloud started with `database: true`, which gives the
 * shop a warm window of seconds: each teardown comes on its own, fired by the local scheduler.
 */
export async function runMigrationDemo(
  local: GreenlightLocal,
  out: (line: string) => void,
  style: RenderStyle,
): Promise<MigrationDemoOutcome> {
  const shop = local.shop;
  if (shop === undefined || local.database === undefined) {
    throw new Error('The migration demo needs the demo shop and its database (database: true)');
  }
  const events = new EventBridgeClient(local.clientConfig);
  const lambda = new LambdaClient(local.clientConfig);
  const dynamo = new DynamoDBClient(local.clientConfig);
  const commands = new DynamoCommandLog({
    client: DynamoDBDocumentClient.from(dynamo),
    tableName: LocalNames.ledgerTable,
  });
  const outcomes: DemoOutcome[] = [];
  const service = shop.name;

  const send = async (release: {
    version: string;
    attempt: number;
    image: string;
    migration: ReleaseMigration;
  }) => {
    await events.send(
      new PutEventsCommand({
        Entries: [
          buildReleaseRequestEntry({
            bus: LocalNames.bus,
            source: 'greenlight.demo',
            detail: {
              service,
              version: release.version,
              attempt: release.attempt,
              artifact: { imageUri: DemoShop.image(release.image) },
              migration: release.migration,
              actor: 'demo',
              ci: { provider: 'local', runUrl: 'http://127.0.0.1/demo' },
            },
          }),
        ],
      }),
    );
    return deriveReleaseId(service, release.version, release.attempt);
  };
  const status = async (migration: ReleaseMigration): Promise<string> => {
    const result = await lambda.send(
      new InvokeCommand({
        FunctionName: DemoDatabase.runnerFunction,
        Payload: JSON.stringify({
          greenlight: 1,
          action: 'status',
          migrationId: migration.id,
          kind: migration.kind,
          service,
          releaseId: 'demo-status',
        }),
      }),
    );
    const reply = JSON.parse(Buffer.from(result.Payload ?? []).toString()) as { status?: string };
    return reply.status ?? `no status (${result.FunctionError ?? 'no reply'})`;
  };
  const rollback = async (reason: string): Promise<CommandRecord> => {
    const result = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: LocalNames.bus,
            Source: 'greenlight.cli',
            DetailType: 'Operator Command',
            Detail: JSON.stringify({
              schemaVersion: 1,
              command: 'rollback',
              service,
              actor: 'demo',
              reason,
            }),
          },
        ],
      }),
    );
    // The local bus delivers before PutEvents answers; in AWS the CLI polls for the outcome.
    const eventId = result.Entries?.[0]?.EventId ?? '';
    const outcome = await commands.get(eventId);
    if (outcome === undefined) throw new Error(`No outcome recorded for rollback ${eventId}`);
    return outcome;
  };
  const print = async (release: ReleaseRecord) => {
    for (const line of formatRelease(
      release,
      await local.ledger.listSteps(release.releaseId),
      style,
    ))
      out(line);
  };
  /** Waits for the release's idle colour to be torn down by its schedule. */
  const tearDown = async (release: ReleaseRecord): Promise<ReleaseRecord> => {
    return poll(`${release.releaseId}'s teardown`, async () => {
      const now = await local.ledger.getRelease(release.releaseId);
      return now && now.idle?.state !== IdleColourState.Warm ? now : undefined;
    });
  };
  const heading = (title: string) => {
    out('');
    out(`── Migrations: ${title}`);
  };

  try {
    const { expand, breaking, lateRollback, contract } = migrationDemo;
    // A faulty release just before may have left the shop's gate alarm in ALARM (its period is
    // 10 s): a release would stop at its preflight. It settles once a period has no 5xx.
    await alarmOk(local, shop.targetErrorsAlarm.AlarmName ?? '', out);
    // (b) The tempting one-step rename first: refused by the classifier before the runner ran it.
    heading(breaking.title);
    const refused = await waitForEnd(local, await send(breaking));
    await print(refused);
    const refusedStatus = await status(breaking.migration);
    out(
      `  runner     ${breaking.migration.id}: ${refusedStatus}${refusedStatus === 'pending' ? ' (never applied)' : ''}`,
    );
    outcomes.push({
      service,
      version: breaking.version,
      expected: breaking.expected,
      release: refused,
    });

    // (a) The expand, with the release that needs it.
    heading(expand.title);
    const finalized = await waitForEnd(local, await send(expand));
    // Its blue (1.1.0, code older than the expand) goes at the end of the warm window.
    const expanded = finalized.idle ? await tearDown(finalized) : finalized;
    await print(expanded);
    outcomes.push({
      service,
      version: expand.version,
      expected: expand.expected,
      release: expanded,
    });

    // (d) After the warm window: blue (1.1.0) is gone; a rollback re-provisions it.
    heading(lateRollback.title);
    out(
      `  ${expanded.releaseId} (the last finalized): its blue ${expanded.idle?.colour} (1.1.0) is ${expanded.idle?.state}`,
    );
    const late = await rollback('orders show the wrong total since 1.4.0');
    out(`  greenlight rollback ${service}: ${late.outcome}: ${late.message}`);
    if (late.newReleaseId === undefined) {
      throw new Error(`The late rollback did not start a release: ${late.message}`);
    }
    const rolledBack = await waitForEnd(local, late.newReleaseId);
    // Its own blue runs 1.4.0; once it is torn down, only 1.1.0 runs.
    const reprovisioned = rolledBack.idle ? await tearDown(rolledBack) : rolledBack;
    await print(reprovisioned);
    outcomes.push({
      service,
      version: lateRollback.version,
      expected: lateRollback.expected,
      release: reprovisioned,
    });

    // (c) The contract, applied once the last colour running code older than the expand goes.
    heading(contract.title);
    const contracted = await waitForEnd(local, await send(contract));
    // The teardown runs the contract's plan and apply before it answers the scheduler.
    const withContract = contracted.idle ? await tearDown(contracted) : contracted;
    await print(withContract);
    const contractStatus = await status(contract.migration);
    out(`  runner     ${contract.migration.id}: ${contractStatus}`);
    outcomes.push({
      service,
      version: contract.version,
      expected: contract.expected,
      release: withContract,
    });

    // After the contract, the build before cannot come back: the column it writes is gone.
    const refusedRollback = await rollback('one more time');
    out('');
    out(`── Migrations: a rollback after the contract ran is refused`);
    out(`  greenlight rollback ${service}: ${refusedRollback.outcome}: ${refusedRollback.message}`);
    return { outcomes, refusedStatus, contractStatus, rollback: late, refusedRollback };
  } finally {
    events.destroy();
    lambda.destroy();
    dynamo.destroy();
  }
}

async function alarmOk(
  local: GreenlightLocal,
  alarmName: string,
  out: (line: string) => void,
): Promise<void> {
  const cloudwatch = new CloudWatchClient(local.clientConfig);
  try {
    const state = async () =>
      (await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [alarmName] })))
        .MetricAlarms?.[0]?.StateValue;
    if ((await state()) !== 'ALARM') return;
    out('');
    out(`  (waiting for ${alarmName} to leave ALARM before the next shop release)`);
    await poll(`${alarmName} to leave ALARM`, async () =>
      (await state()) === 'ALARM' ? undefined : true,
    );
  } finally {
    cloudwatch.destroy();
  }
}

async function waitForEnd(local: GreenlightLocal, releaseId: string): Promise<ReleaseRecord> {
  return poll(`${releaseId} to end`, async () => {
    const release = await local.ledger.getRelease(releaseId);
    return release && TerminalPhases.has(release.phase) ? release : undefined;
  });
}

async function poll<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Migration demo: waited 2 minutes for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
