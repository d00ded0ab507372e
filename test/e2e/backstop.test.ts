import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { deriveReleaseId } from '../../src/core/release-id.ts';
import type { GreenlightLocal } from '../../src/local/greenlight-local.ts';
import {
  aLambdaService,
  artifact,
  executionFor,
  lifecycleEvents,
  requestRelease,
  useLocalCloud,
  waitForHistory,
} from './local-release.ts';

// A local cloud whose alarm state changes never reach greenlight (alarmEvents: false), as when
// the rule is missing or an event is lost. Its own file, so its own process: the handlers read
// their configuration from the process environment.
const fixture = aLambdaService('lost', 2);
let local: GreenlightLocal;
let lambda: LambdaClient;

useLocalCloud(
  [fixture],
  (cloud) => {
    ({ local, lambda } = cloud);
  },
  { alarmEvents: false },
);

describe('a lost alarm event', () => {
  it('is caught by the gate check at the end of the bake, which rolls back', async () => {
    const releaseId = deriveReleaseId('lost', '1.3.0', 1);
    const eventId = await requestRelease(local, {
      service: 'lost',
      version: '1.3.0',
      artifact: artifact('1.3.0-faulty'),
    });
    // The bake's watch has made its first check (all clear); then green errors on real
    // traffic and its alarm fires, but no event says so.
    await waitForHistory(local, eventId, 'TaskSubmitted');
    await Promise.all(
      Array.from({ length: 20 }, () =>
        lambda.send(
          new InvokeCommand({
            FunctionName: 'lost',
            Qualifier: 'live',
            Payload: JSON.stringify({ path: '/pay' }),
          }),
        ),
      ),
    );
    const execution = await executionFor(local, eventId);

    expect(execution).toMatchObject({ status: 'FAILED', error: 'ReleaseRolledBack' });
    // The bake ran its course (its timer ended it, its watch checked that against the
    // ledger, nothing cut it short) and the backstop check after it found the alarm.
    const entered = local.cloud.stepFunctions
      .getHistory(execution.executionArn)
      .filter((h) => h.type === 'TaskStateEntered')
      .map((h) => h.details?.name);
    const first = entered.indexOf('SetWeight');
    expect(entered.slice(first, first + 5)).toEqual([
      'SetWeight',
      'WatchGates',
      'EndBake',
      'VerifyBake',
      'CheckGates',
    ]);
    expect(entered.at(-1)).toBe('Rollback');
    const steps = await local.ledger.listSteps(releaseId);
    expect(steps.map((s) => `${s.step}:${s.outcome}`)).toContain('bake:succeeded');
    const gate = steps.find((s) => s.key === 'gate#0');
    expect(gate?.outcome).toBe('failed');
    expect(gate?.reason).toMatch(
      /^Gate after step 1 \(10% on green\): Alarm lost-errors in ALARM: Threshold Crossed/,
    );
    expect(gate?.evidence?.alarms?.[0]).toMatchObject({ name: 'lost-errors', state: 'ALARM' });
    expect(lifecycleEvents(local, releaseId).map((e) => e['detail-type'])).toEqual([
      'Release Started',
      'Green Provisioned',
      'Traffic Shifted',
      'Gate Failed',
      'Release Rolled Back',
    ]);
    expect(local.lambda.describe('lost').alias).toMatchObject({ version: '1', weights: {} });
  });
});
