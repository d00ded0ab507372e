import {
  GetAliasCommand,
  type GetAliasCommandOutput,
  GetFunctionConfigurationCommand,
  InvalidParameterValueException,
  InvokeCommand,
  type InvokeCommandOutput,
  LambdaClient,
  ListVersionsByFunctionCommand,
  PreconditionFailedException,
  PublishVersionCommand,
  ResourceConflictException,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { GreenProvisionFailed, TargetStateConflict } from '../../../src/core/errors.ts';
import type { ReleaseSpec } from '../../../src/core/records.ts';
import type { LambdaTestEvent, ServiceConfig } from '../../../src/core/service-config.ts';
import { LambdaAliasTarget } from '../../../src/targets/lambda-alias.ts';

const lambda = mockClient(LambdaClient);
let pauses: number[];

beforeEach(() => {
  lambda.reset();
  pauses = [];
});

function aTarget(options: { updateTimeoutSeconds?: number; clock?: number[] } = {}) {
  const clock = options.clock ?? [];
  return new LambdaAliasTarget({
    client: new LambdaClient({ region: 'us-east-1' }),
    sleep: async (ms) => {
      pauses.push(ms);
    },
    now: () => clock.shift() ?? 0,
    ...(options.updateTimeoutSeconds === undefined
      ? {}
      : { updateTimeoutSeconds: options.updateTimeoutSeconds }),
  });
}

function aService(overrides: Partial<ServiceConfig> = {}): ServiceConfig {
  return {
    name: 'checkout',
    target: { kind: 'lambda-alias', functionName: 'checkout-api', alias: 'live', keepVersions: 3 },
    strategies: { canary: { type: 'canary', percent: 10, bakeSeconds: 300 } },
    defaultStrategy: 'canary',
    artifacts: { s3Buckets: ['artifacts-bucket'], imageRepositories: [] },
    alarms: [],
    metricGates: [],
    tests: [],
    approval: { type: 'none' },
    warmWindowSeconds: 3600,
    lockPolicy: 'queue',
    ...overrides,
  };
}

function aRelease(overrides: Partial<ReleaseSpec> = {}): ReleaseSpec {
  return {
    releaseId: 'checkout-1-4-2-a1',
    service: 'checkout',
    version: '1.4.2',
    attempt: 1,
    artifact: {
      s3: { bucket: 'artifacts-bucket', key: 'checkout/1.4.2.zip', objectVersion: 'v-42' },
    },
    strategy: 'canary',
    plan: [{ index: 0, percent: 10, bakeSeconds: 300 }],
    requestedAt: '2025-03-01T10:00:00.000Z',
    ...overrides,
  };
}

function anAlias(
  version: string,
  weights?: Record<string, number>,
): Partial<GetAliasCommandOutput> {
  return {
    Name: 'live',
    FunctionVersion: version,
    RevisionId: 'alias-rev-1',
    ...(weights === undefined ? {} : { RoutingConfig: { AdditionalVersionWeights: weights } }),
  };
}

function aTest(overrides: Partial<LambdaTestEvent> = {}): LambdaTestEvent {
  return { name: 'health', payload: { path: '/health' }, expect: {}, ...overrides };
}

function aPayload(value: unknown): NonNullable<InvokeCommandOutput['Payload']> {
  return new TextEncoder().encode(JSON.stringify(value)) as NonNullable<
    InvokeCommandOutput['Payload']
  >;
}

function awsError<T>(
  ErrorType: new (options: { message: string; $metadata: object }) => T,
  message: string,
): T {
  return new ErrorType({ message, $metadata: {} });
}

/** Every command sent, in order, as [command name, input]. */
function sentCommands(): [string, unknown][] {
  return lambda.calls().map((call) => {
    const command = call.args[0] as { constructor: { name: string }; input: unknown };
    return [command.constructor.name, command.input];
  });
}

function givenCodeUpdateSucceeds(version: string) {
  lambda.on(UpdateFunctionCodeCommand).resolves({ LastUpdateStatus: 'InProgress' });
  lambda
    .on(GetFunctionConfigurationCommand)
    .resolvesOnce({ LastUpdateStatus: 'InProgress' })
    .resolves({ LastUpdateStatus: 'Successful', CodeSha256: 'sha-new', RevisionId: 'fn-rev-9' });
  lambda.on(PublishVersionCommand).resolves({ Version: version });
}

describe('LambdaAliasTarget.provision', () => {
  it('updates the code, waits for it, then publishes green guarded by hash and revision', async () => {
    lambda.on(GetAliasCommand).resolves(anAlias('7'));
    givenCodeUpdateSucceeds('8');

    const colours = await aTarget().provision(aRelease(), aService());

    expect(colours).toEqual({ blue: '7', green: '8' });
    expect(sentCommands()).toEqual([
      ['GetAliasCommand', { FunctionName: 'checkout-api', Name: 'live' }],
      [
        'UpdateFunctionCodeCommand',
        {
          FunctionName: 'checkout-api',
          S3Bucket: 'artifacts-bucket',
          S3Key: 'checkout/1.4.2.zip',
          S3ObjectVersion: 'v-42',
        },
      ],
      ['GetFunctionConfigurationCommand', { FunctionName: 'checkout-api' }],
      ['GetFunctionConfigurationCommand', { FunctionName: 'checkout-api' }],
      [
        'PublishVersionCommand',
        {
          FunctionName: 'checkout-api',
          CodeSha256: 'sha-new',
          RevisionId: 'fn-rev-9',
          Description: 'greenlight checkout-1-4-2-a1',
        },
      ],
    ]);
    expect(pauses).toEqual([1000]);
  });

  it('deploys an image artifact by its URI', async () => {
    lambda.on(GetAliasCommand).resolves(anAlias('7'));
    givenCodeUpdateSucceeds('8');
    const imageUri = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout:1.4.2';

    await aTarget().provision(aRelease({ artifact: { imageUri } }), aService());

    expect(lambda.commandCalls(UpdateFunctionCodeCommand)[0]?.args[0].input).toEqual({
      FunctionName: 'checkout-api',
      ImageUri: imageUri,
    });
  });

  it('returns the same green when retried and AWS answers with the version it already published', async () => {
    lambda.on(GetAliasCommand).resolves(anAlias('7'));
    givenCodeUpdateSucceeds('8');
    const target = aTarget();

    const first = await target.provision(aRelease(), aService());
    const second = await target.provision(aRelease(), aService());

    expect(second).toEqual(first);
    const publishes = lambda.commandCalls(PublishVersionCommand).map((call) => call.args[0].input);
    expect(publishes).toHaveLength(2);
    // The retry pins the same code and revision, so AWS can only hand back version 8 again.
    expect(publishes[1]).toEqual(publishes[0]);
  });

  it('refuses to start when the alias still splits traffic from an earlier release', async () => {
    lambda.on(GetAliasCommand).resolves(anAlias('7', { '6': 0.1 }));

    await expect(aTarget().provision(aRelease(), aService())).rejects.toThrow(TargetStateConflict);
    expect(sentCommands().map(([name]) => name)).toEqual(['GetAliasCommand']);
  });

  it('fails with the reason Lambda gives when the code update fails', async () => {
    lambda.on(GetAliasCommand).resolves(anAlias('7'));
    lambda.on(UpdateFunctionCodeCommand).resolves({});
    lambda.on(GetFunctionConfigurationCommand).resolves({
      LastUpdateStatus: 'Failed',
      LastUpdateStatusReason: 'Unzipped size must be smaller than 262144000 bytes',
      LastUpdateStatusReasonCode: 'InvalidImage',
    });

    const provision = aTarget().provision(aRelease(), aService());

    await expect(provision).rejects.toThrow(GreenProvisionFailed);
    await expect(provision).rejects.toThrow(
      'Updating the code of checkout-api failed: Unzipped size must be smaller than 262144000 bytes (InvalidImage)',
    );
    expect(lambda.commandCalls(PublishVersionCommand)).toHaveLength(0);
  });

  it('gives up when the update is still in progress at the deadline', async () => {
    lambda.on(GetAliasCommand).resolves(anAlias('7'));
    lambda.on(UpdateFunctionCodeCommand).resolves({});
    lambda.on(GetFunctionConfigurationCommand).resolves({ LastUpdateStatus: 'InProgress' });

    await expect(
      aTarget({ updateTimeoutSeconds: 3 }).provision(aRelease(), aService()),
    ).rejects.toThrow('Updating the code of checkout-api was still InProgress after 3s');
    expect(pauses).toEqual([1000, 1000, 1000]);
    expect(lambda.commandCalls(PublishVersionCommand)).toHaveLength(0);
  });

  it('fails provisioning when Lambda refuses the artifact', async () => {
    lambda.on(GetAliasCommand).resolves(anAlias('7'));
    lambda
      .on(UpdateFunctionCodeCommand)
      .rejects(
        awsError(InvalidParameterValueException, 'Error occurred while GetObject: NoSuchKey'),
      );

    await expect(aTarget().provision(aRelease(), aService())).rejects.toThrow(GreenProvisionFailed);
  });

  it('reports a conflict when the function changed before green was published', async () => {
    lambda.on(GetAliasCommand).resolves(anAlias('7'));
    givenCodeUpdateSucceeds('8');
    lambda
      .on(PublishVersionCommand)
      .rejects(awsError(PreconditionFailedException, 'The Revision Id provided does not match'));
    lambda.on(ListVersionsByFunctionCommand).resolves({
      Versions: [
        { Version: '$LATEST', CodeSha256: 'sha-new' },
        { Version: '8', CodeSha256: 'sha-other', Description: 'greenlight checkout-1-4-2-a1' },
        { Version: '9', CodeSha256: 'sha-new', Description: 'deployed by hand' },
      ],
    });

    await expect(aTarget().provision(aRelease(), aService())).rejects.toThrow(TargetStateConflict);
  });

  it('takes the version its own lost publish created, instead of calling it a conflict', async () => {
    lambda.on(GetAliasCommand).resolves(anAlias('7'));
    givenCodeUpdateSucceeds('8');
    lambda
      .on(PublishVersionCommand)
      .rejects(awsError(PreconditionFailedException, 'The Revision Id provided does not match'));
    lambda
      .on(ListVersionsByFunctionCommand)
      .resolvesOnce({ Versions: [{ Version: '7', CodeSha256: 'sha-old' }], NextMarker: 'page-2' })
      .resolves({
        Versions: [
          { Version: '8', CodeSha256: 'sha-new', Description: 'greenlight checkout-1-4-2-a1' },
        ],
      });

    const colours = await aTarget().provision(aRelease(), aService());

    expect(colours).toEqual({ blue: '7', green: '8' });
    expect(lambda.commandCalls(ListVersionsByFunctionCommand).map((c) => c.args[0].input)).toEqual([
      { FunctionName: 'checkout-api', Marker: undefined },
      { FunctionName: 'checkout-api', Marker: 'page-2' },
    ]);
  });

  it('fails when the published version is the one already live', async () => {
    lambda.on(GetAliasCommand).resolves(anAlias('7'));
    givenCodeUpdateSucceeds('7');

    await expect(aTarget().provision(aRelease(), aService())).rejects.toMatchObject({
      name: 'GreenProvisionFailed',
      message: 'version 7 is already live on alias live; nothing to release',
    });
  });

  it('lets transient errors through for the workflow to retry', async () => {
    lambda.on(GetAliasCommand).resolves(anAlias('7'));
    lambda
      .on(UpdateFunctionCodeCommand)
      .rejects(awsError(ResourceConflictException, 'An update is in progress'));

    await expect(aTarget().provision(aRelease(), aService())).rejects.toMatchObject({
      name: 'ResourceConflictException',
    });
  });
});

describe('LambdaAliasTarget.test', () => {
  const colours = { blue: '7', green: '8' };

  it('invokes green by version number and passes when status and fields match', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      Payload: aPayload({ statusCode: 200, body: { status: 'ok' } }),
    });
    const service = aService({
      tests: [aTest({ expect: { statusCode: 200, 'body.status': 'ok' } })],
    });

    const evidence = await aTarget({ clock: [1000, 1042.4] }).test(aRelease(), service, colours);

    expect(evidence).toEqual([
      {
        name: 'health',
        passed: true,
        statusCode: 200,
        detail: '2 expectations met',
        durationMs: 42,
      },
    ]);
    const input = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      FunctionName: 'checkout-api',
      Qualifier: '8',
      InvocationType: 'RequestResponse',
    });
    expect(new TextDecoder().decode(input?.Payload as Uint8Array)).toBe('{"path":"/health"}');
  });

  it('fails a test whose response has a mismatched field, naming it', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      Payload: aPayload({ body: { status: 'degraded' } }),
    });
    const service = aService({ tests: [aTest({ expect: { 'body.status': 'ok' } })] });

    const [evidence] = await aTarget().test(aRelease(), service, colours);

    expect(evidence).toMatchObject({
      passed: false,
      statusCode: 200,
      detail: 'body.status: expected "ok", got "degraded"',
    });
  });

  it('fails a test whose function threw, with the error it reported', async () => {
    lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: aPayload({ errorType: 'TypeError', errorMessage: 'x is undefined' }),
    });
    const service = aService({ tests: [aTest()] });

    const [evidence] = await aTarget().test(aRelease(), service, colours);

    expect(evidence).toMatchObject({ passed: false, functionError: 'Unhandled' });
    expect(evidence?.detail).toContain('x is undefined');
  });

  it('fails a test answered with a status other than 200', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 202, Payload: aPayload({}) });

    const [evidence] = await aTarget().test(aRelease(), aService({ tests: [aTest()] }), colours);

    expect(evidence).toMatchObject({
      passed: false,
      statusCode: 202,
      detail: 'status 202, expected 200',
    });
  });

  it('records a failed invoke as failed evidence rather than throwing', async () => {
    lambda.on(InvokeCommand).rejects(awsError(InvalidParameterValueException, 'bad payload'));

    const [evidence] = await aTarget().test(aRelease(), aService({ tests: [aTest()] }), colours);

    expect(evidence).toMatchObject({
      passed: false,
      detail: 'Invoke failed: InvalidParameterValueException: bad payload',
    });
  });

  it('runs every test in order and reports each', async () => {
    lambda
      .on(InvokeCommand)
      .resolvesOnce({ StatusCode: 200, Payload: aPayload({ ok: false }) })
      .resolvesOnce({ StatusCode: 200, Payload: aPayload({ ok: true }) });
    const service = aService({
      tests: [
        aTest({ name: 'first', expect: { ok: true } }),
        aTest({ name: 'second', expect: { ok: true } }),
      ],
    });

    const evidence = await aTarget().test(aRelease(), service, colours);

    expect(evidence.map((e) => [e.name, e.passed])).toEqual([
      ['first', false],
      ['second', true],
    ]);
  });
});

describe('LambdaAliasTarget.setGreenPercent', () => {
  const colours = { blue: '7', green: '8' };

  it('routes the percent to green with the revision it read', async () => {
    lambda.on(GetAliasCommand).resolves(anAlias('7'));
    lambda.on(UpdateAliasCommand).resolves({});

    await aTarget().setGreenPercent(aService(), colours, 10);

    expect(sentCommands()).toEqual([
      ['GetAliasCommand', { FunctionName: 'checkout-api', Name: 'live' }],
      [
        'UpdateAliasCommand',
        {
          FunctionName: 'checkout-api',
          Name: 'live',
          FunctionVersion: '7',
          RoutingConfig: { AdditionalVersionWeights: { '8': 0.1 } },
          RevisionId: 'alias-rev-1',
        },
      ],
    ]);
  });

  it('accepts a refused update when its own earlier write already landed (lost response)', async () => {
    lambda
      .on(GetAliasCommand)
      .resolvesOnce(anAlias('7'))
      .resolves(anAlias('7', { '8': 0.1 }));
    lambda
      .on(UpdateAliasCommand)
      .rejects(awsError(PreconditionFailedException, 'The Revision Id provided does not match'));

    await aTarget().setGreenPercent(aService(), colours, 10);

    expect(sentCommands().map(([name]) => name)).toEqual([
      'GetAliasCommand',
      'UpdateAliasCommand',
      'GetAliasCommand',
    ]);
  });

  it('still reports a conflict when a refused update left the alias elsewhere', async () => {
    lambda.on(GetAliasCommand).resolves(anAlias('7'));
    lambda
      .on(UpdateAliasCommand)
      .rejects(awsError(PreconditionFailedException, 'The Revision Id provided does not match'));

    await expect(aTarget().setGreenPercent(aService(), colours, 10)).rejects.toThrow(
      TargetStateConflict,
    );
  });

  it('sends nothing when the alias already routes that percent to green', async () => {
    lambda.on(GetAliasCommand).resolves(anAlias('7', { '8': 0.25000000001 }));

    await aTarget().setGreenPercent(aService(), colours, 25);

    expect(sentCommands().map(([name]) => name)).toEqual(['GetAliasCommand']);
  });

  it('moves everything to green at 100 percent', async () => {
    lambda.on(GetAliasCommand).resolves(anAlias('7', { '8': 0.5 }));
    lambda.on(UpdateAliasCommand).resolves({});

    await aTarget().setGreenPercent(aService(), colours, 100);

    expect(lambda.commandCalls(UpdateAliasCommand)[0]?.args[0].input).toMatchObject({
      FunctionVersion: '8',
      RoutingConfig: { AdditionalVersionWeights: {} },
    });
  });

  it('moves everything back to blue at 0 percent', async () => {
    lambda.on(GetAliasCommand).resolves(anAlias('7', { '8': 0.5 }));
    lambda.on(UpdateAliasCommand).resolves({});

    await aTarget().setGreenPercent(aService(), colours, 0);

    expect(lambda.commandCalls(UpdateAliasCommand)[0]?.args[0].input).toMatchObject({
      FunctionVersion: '7',
      RoutingConfig: { AdditionalVersionWeights: {} },
    });
  });

  it('reports a conflict when the alias points at neither colour', async () => {
    lambda.on(GetAliasCommand).resolves(anAlias('9'));

    await expect(aTarget().setGreenPercent(aService(), colours, 10)).rejects.toThrow(
      TargetStateConflict,
    );
    expect(lambda.commandCalls(UpdateAliasCommand)).toHaveLength(0);
  });

  it('reports a conflict when someone changed the alias since it was read', async () => {
    lambda.on(GetAliasCommand).resolves(anAlias('7'));
    lambda
      .on(UpdateAliasCommand)
      .rejects(awsError(PreconditionFailedException, 'The Revision Id provided does not match'));

    await expect(aTarget().setGreenPercent(aService(), colours, 10)).rejects.toThrow(
      TargetStateConflict,
    );
  });
});

describe('LambdaAliasTarget.finalize', () => {
  const colours = { blue: '7', green: '8' };

  it('points the alias at green and clears the routing', async () => {
    lambda.on(GetAliasCommand).resolves(anAlias('7', { '8': 0.5 }));
    lambda.on(UpdateAliasCommand).resolves({});

    await aTarget().finalize(aService(), colours);

    expect(lambda.commandCalls(UpdateAliasCommand).map((call) => call.args[0].input)).toEqual([
      {
        FunctionName: 'checkout-api',
        Name: 'live',
        FunctionVersion: '8',
        RoutingConfig: { AdditionalVersionWeights: {} },
        RevisionId: 'alias-rev-1',
      },
    ]);
  });

  it('sends nothing when green already takes all traffic', async () => {
    lambda.on(GetAliasCommand).resolves(anAlias('8', {}));

    await aTarget().finalize(aService(), colours);

    expect(lambda.commandCalls(UpdateAliasCommand)).toHaveLength(0);
  });
});

describe('LambdaAliasTarget.rollback', () => {
  const colours = { blue: '7', green: '8' };

  it('points the alias back at blue and clears the routing', async () => {
    lambda.on(GetAliasCommand).resolves(anAlias('7', { '8': 0.1 }));
    lambda.on(UpdateAliasCommand).resolves({});

    await aTarget().rollback(aService(), colours);

    expect(lambda.commandCalls(UpdateAliasCommand).map((call) => call.args[0].input)).toEqual([
      {
        FunctionName: 'checkout-api',
        Name: 'live',
        FunctionVersion: '7',
        RoutingConfig: { AdditionalVersionWeights: {} },
        RevisionId: 'alias-rev-1',
      },
    ]);
  });

  it('undoes a finalize that already happened', async () => {
    lambda.on(GetAliasCommand).resolves(anAlias('8'));
    lambda.on(UpdateAliasCommand).resolves({});

    await aTarget().rollback(aService(), colours);

    expect(lambda.commandCalls(UpdateAliasCommand)[0]?.args[0].input.FunctionVersion).toBe('7');
  });

  it('sends nothing when blue already takes all traffic', async () => {
    lambda.on(GetAliasCommand).resolves(anAlias('7'));

    await aTarget().rollback(aService(), colours);

    expect(lambda.commandCalls(UpdateAliasCommand)).toHaveLength(0);
  });
});
