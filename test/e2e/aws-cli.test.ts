import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReleaseRequestEntry } from '../../src/core/release-request-entry.ts';
import { type GreenlightLocal, startGreenlightLocal } from '../../src/local/greenlight-local.ts';
import { artifact } from './local-release.ts';

// The AWS CLI against the local cloud, unchanged but for --endpoint-url. The CLI is not a
// project dependency (Debian's `awscli` package has it): without it these tests skip.
const run = promisify(execFile);
const aws = await run('aws', ['--version']).then(
  () => 'aws',
  () => undefined,
);

describe.skipIf(aws === undefined)('the AWS CLI against the local cloud', () => {
  let local: GreenlightLocal;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    local = await startGreenlightLocal();
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_ACCESS_KEY_ID: 'anything',
      AWS_SECRET_ACCESS_KEY: 'anything',
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_PAGER: '',
    };
  });

  afterAll(async () => {
    await local?.close();
  });

  const cli = async (...args: string[]) => {
    const { stdout } = await run(
      aws as string,
      [...args, '--endpoint-url', local.url, '--output', 'json'],
      { env },
    );
    return JSON.parse(stdout) as Record<string, unknown>;
  };

  it('puts a release event that finalizes, visible through describe-execution', async () => {
    const entries = [
      buildReleaseRequestEntry({
        bus: 'greenlight',
        source: 'ci.cli',
        detail: { service: 'checkout', version: '1.1.0', artifact: artifact('1.1.0') },
      }),
    ];
    const put = await cli('events', 'put-events', '--entries', JSON.stringify(entries));
    expect(put.FailedEntryCount).toBe(0);

    const [execution] = local.cloud.stepFunctions.listExecutions();
    await local.cloud.stepFunctions.waitForExecution(execution?.executionArn ?? '');
    const listed = await cli(
      'stepfunctions',
      'list-executions',
      '--state-machine-arn',
      local.stateMachineArn,
    );
    const arn = (listed.executions as { executionArn: string }[])[0]?.executionArn ?? '';
    const described = await cli('stepfunctions', 'describe-execution', '--execution-arn', arn);

    expect(described.status).toBe('SUCCEEDED');
    expect(
      await cli('lambda', 'get-alias', '--function-name', 'checkout', '--name', 'live'),
    ).toMatchObject({
      FunctionVersion: '2',
    });
  });

  it('answers sts get-caller-identity with the principal of the access key', async () => {
    expect(await cli('sts', 'get-caller-identity')).toEqual({
      UserId: expect.stringMatching(/^AIDA[0-9A-F]{17}$/),
      Account: '000000000000',
      Arn: 'arn:aws:iam::000000000000:user/anything',
    });
  });
});
