import {
  GetAliasCommand,
  LambdaClient,
  ListVersionsByFunctionCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { LambdaAliasTarget } from '../../../src/targets/lambda-alias.ts';
import { aService } from '../../support/builders.ts';

const lambda = mockClient(LambdaClient);
const target = () => new LambdaAliasTarget({ client: new LambdaClient({ region: 'us-east-1' }) });
const failedChecks = (checks: { check: string; ok: boolean }[]) =>
  checks.filter((c) => !c.ok).map((c) => c.check);

beforeEach(() => {
  lambda.reset();
  lambda
    .on(ListVersionsByFunctionCommand)
    .resolves({ Versions: [{ Version: '$LATEST' }, { Version: '6' }, { Version: '7' }] });
});

describe('LambdaAliasTarget.inspect', () => {
  it('passes an alias on a published version and predicts green as the next version', async () => {
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '7', Name: 'live' });
    const inspection = await target().inspect(aService());
    expect(failedChecks(inspection.checks)).toEqual([]);
    expect(inspection.colours).toEqual({ blue: '7', green: '8' });
    expect(lambda.commandCalls(GetAliasCommand)[0]?.args[0].input).toEqual({
      FunctionName: 'checkout',
      Name: 'live',
    });
  });

  it('fails an alias that points at $LATEST, and predicts no colours', async () => {
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '$LATEST' });
    const inspection = await target().inspect(aService());
    expect(failedChecks(inspection.checks)).toEqual(['live version', '$LATEST not routed']);
    expect(inspection.colours).toBeUndefined();
  });

  it('fails an alias that routes a weight to $LATEST or still splits traffic', async () => {
    lambda.on(GetAliasCommand).resolves({
      FunctionVersion: '7',
      RoutingConfig: { AdditionalVersionWeights: { $LATEST: 0.1 } },
    });
    const inspection = await target().inspect(aService());
    expect(failedChecks(inspection.checks)).toEqual(['$LATEST not routed', 'no split']);
  });

  it('fails a missing alias without throwing', async () => {
    lambda
      .on(GetAliasCommand)
      .rejects(new ResourceNotFoundException({ message: 'Alias not found', $metadata: {} }));
    const inspection = await target().inspect(aService());
    expect(inspection.checks).toEqual([
      {
        check: 'alias checkout:live',
        ok: false,
        detail: 'cannot be read (ResourceNotFoundException: Alias not found)',
      },
    ]);
  });
});
