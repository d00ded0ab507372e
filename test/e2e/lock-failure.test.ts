import { GetAliasCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { deriveReleaseId } from '../../src/core/release-id.ts';
import { FaultInjector, InjectedFault } from '../../src/local/faults.ts';
import { type GreenlightLocal, LocalNames } from '../../src/local/greenlight-local.ts';
import { buildReleaseDefinition, functionArnsFor } from '../../workflows/release.ts';
import {
  aLambdaService,
  artifact,
  executionFor,
  lifecycleEvents,
  requestRelease,
  useLocalCloud,
  waitForPhase,
} from './local-release.ts';

// A lock step that fails with an error its Retry does not take (here an IAM denial on the
// lock table) must end the release, not leave it Requested for good, and must not hold up the
// service's next release. The fault goes in at the seam the fault matrix uses.
const fixture = aLambdaService('stuck');
const service = fixture.service.name;
const injector = new FaultInjector()
  .useDefinition(
    buildReleaseDefinition({
      functionArns: functionArnsFor(LocalNames.region, LocalNames.accountId),
    }),
  )
  .add({
    service,
    state: 'AcquireLock',
    before: async () => {
      throw new InjectedFault('AccessDeniedException', `Injected before AcquireLock of ${service}`);
    },
  });

const t0 = Date.parse('2026-11-02T09:00:00Z');
const at = (second: number) => new Date(t0 + second * 1000);

let local: GreenlightLocal;
let lambda: LambdaClient;

useLocalCloud(
  [fixture],
  (cloud) => {
    ({ local, lambda } = cloud);
  },
  { faults: injector.wrap },
);

describe('a lock step that fails past its retries', () => {
  it('ends the release rolled back with the error as its reason, and the next release runs', async () => {
    const failedId = deriveReleaseId(service, '1.1.0', 1);
    const failedEvent = await requestRelease(
      local,
      { service, version: '1.1.0', artifact: artifact('1.1.0') },
      at(1),
    );

    const failed = await waitForPhase(local, failedId);
    const execution = await executionFor(local, failedEvent);

    expect(injector.fired(service)).toEqual([
      { service, state: 'AcquireLock', kind: 'before', occurrence: 1 },
    ]);
    expect(failed.phase).toBe('RolledBack');
    expect(failed.reason).toContain('AccessDeniedException');
    expect(failed.colours).toBeUndefined();
    expect(execution).toMatchObject({ status: 'FAILED', error: 'ReleaseRolledBack' });
    expect(
      lifecycleEvents(local, failedId).filter((e) => e['detail-type'] === 'Release Rolled Back'),
    ).toHaveLength(1);
    const blue = (await lambda.send(new GetAliasCommand({ FunctionName: service, Name: 'live' })))
      .FunctionVersion;

    const nextId = deriveReleaseId(service, '1.2.0', 1);
    const nextEvent = await requestRelease(
      local,
      { service, version: '1.2.0', artifact: artifact('1.1.0') },
      at(2),
    );
    const next = await waitForPhase(local, nextId);

    expect(next.phase).toBe('Finalized');
    expect((await executionFor(local, nextEvent)).status).toBe('SUCCEEDED');
    expect(next.colours?.blue).toBe(blue);
  });
});
