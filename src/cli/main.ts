import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoReleaseLedger } from '../aws/dynamo-ledger.ts';
import { ExitCode, exitCodesHelp } from './exit-codes.ts';
import type { CommandContext, SharedOptions } from './options.ts';
import { putEventsWith, runReleaseCommand } from './release-command.ts';
import { runStatusCommand } from './status-command.ts';

const usage = `Usage: greenlight <command> [options]

Commands:
  release   announce a release on the greenlight bus; --wait follows it to the end
  status    show a release (--release ID) or a service's recent releases (--service NAME)

Run "greenlight <command> --help" for a command's options. AWS region, credentials and
endpoint come from the standard AWS SDK configuration (AWS_REGION, AWS_PROFILE,
AWS_ENDPOINT_URL, ...); --region and --endpoint-url override them.

${exitCodesHelp}`;

const commands = { release: runReleaseCommand, status: runStatusCommand } as const;

/** The only place real AWS clients are made; without flags the SDK's own chain decides. */
function connect(options: SharedOptions) {
  const config = {
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.endpointUrl === undefined ? {} : { endpoint: options.endpointUrl }),
  };
  return {
    ledger: new DynamoReleaseLedger({
      client: DynamoDBDocumentClient.from(new DynamoDBClient(config), {
        marshallOptions: { removeUndefinedValues: true },
      }),
      tableName: options.ledgerTable,
    }),
    putEvents: putEventsWith(new EventBridgeClient(config)),
  };
}

const context: CommandContext = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  now: () => Date.now(),
  sleep: (ms) => sleep(ms),
  isTty: process.stdout.isTTY === true,
};

const [name, ...rest] = process.argv.slice(2);
try {
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? context.err : context.out)(usage);
    process.exitCode = name === undefined ? ExitCode.Usage : ExitCode.Finalized;
  } else if (Object.hasOwn(commands, name)) {
    process.exitCode = await commands[name as keyof typeof commands](rest, context, connect);
  } else {
    context.err(
      `greenlight: unknown command "${name}". Commands: ${Object.keys(commands).join(', ')}.`,
    );
    context.err('Run "greenlight --help" for usage.');
    process.exitCode = ExitCode.Usage;
  }
} catch (error) {
  const { name: errorName, message } =
    error instanceof Error ? error : { name: 'Error', message: String(error) };
  context.err(`greenlight: ${errorName}: ${message}`);
  process.exitCode = ExitCode.Failure;
}
