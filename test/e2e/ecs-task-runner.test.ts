import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { deriveReleaseId } from '../../src/core/release-id.ts';
import type { GreenlightLocal } from '../../src/local/greenlight-local.ts';
import {
  ecsStandInRunner,
  ecsStandInState,
  putEcsStandInImage,
  seedEcsStandInRunner,
} from '../support/ecs-stand-in-runner.ts';
import { migrationArtifactsRoot } from '../support/stand-in-runner.ts';
import {
  aLambdaService,
  artifact,
  type LambdaFixture,
  requestRelease,
  useLocalCloud,
  waitForPhase,
} from './local-release.ts';

// Migrations through an ECS task runner in the local cloud: the real workflow and handlers,
// the migrate function running the stand-in runner's image as one-off Fargate tasks in the
// local ECS (RunTask), reading each reply from the task's log stream (GetLogEvents).
const artifacts = migrationArtifactsRoot([]);
putEcsStandInImage(artifacts.root);
const statePath = join(artifacts.root, 'ecs-stand-in-state.json');

function aServiceWithEcsRunner(name: string, timeoutSeconds: number): LambdaFixture {
  const fixture = aLambdaService(name);
  fixture.service.migrations = { runner: ecsStandInRunner, timeoutSeconds };
  return fixture;
}
const fixtures = [
  aServiceWithEcsRunner('ecs-passes', 30),
  aServiceWithEcsRunner('ecs-fails', 30),
  aServiceWithEcsRunner('ecs-hangs', 3),
];

let local: GreenlightLocal;
useLocalCloud(
  fixtures,
  (cloud) => {
    local = cloud.local;
  },
  { artifactsRoot: artifacts.root, seedAlb: seedEcsStandInRunner(statePath) },
);
afterAll(() => artifacts.remove());

async function release(service: string, migration: Record<string, string>) {
  await requestRelease(local, {
    service,
    version: '1.1.0',
    artifact: artifact('1.1.0'),
    migration,
  });
  return waitForPhase(local, deriveReleaseId(service, '1.1.0', 1), undefined, 60_000);
}

const callsAbout = (id: string) =>
  ecsStandInState(statePath)
    .calls.filter((call) => call.endsWith(` ${id}`))
    .map((call) => call.slice(0, call.indexOf(' ')));

describe('an expand through an ECS task runner', () => {
  it('runs each call as a task, reads its reply from the logs, and the release goes on', async () => {
    const record = await release('ecs-passes', { id: '0001_add_gift_note', kind: 'expand' });

    expect(record.phase).toBe('Finalized');
    expect(callsAbout('0001_add_gift_note')).toEqual(['status', 'plan', 'apply']);
    expect(ecsStandInState(statePath).applied).toContain('0001_add_gift_note');
    expect(record.migrationState).toMatchObject({ status: 'applied', id: '0001_add_gift_note' });
    // The timeline holds the runner's replies, read from the tasks' log streams.
    const steps = await local.ledger.listSteps(record.releaseId);
    const plan = steps.find((step) => step.key === 'migrate-plan');
    expect(JSON.stringify(plan)).toContain('ALTER TABLE orders ADD COLUMN add_gift_note text');
    const apply = steps.find((step) => step.key === 'migrate-apply');
    expect(JSON.stringify(apply)).toContain('"runner":"ecs-task"');
  }, 90_000);

  it('whose task exits 1 is rolled back with the exit code and the runner’s last lines', async () => {
    const record = await release('ecs-fails', { id: '0002_fails_index', kind: 'expand' });

    expect(record.phase).toBe('RolledBack');
    expect(record.reason).toMatch(
      /MigrationRunnerFailed: Migration runner task orders-migrations \(apply 0002_fails_index\) failed: the container exited 1; EssentialContainerExited; .*ERROR: deadlock detected/,
    );
    expect(callsAbout('0002_fails_index')).toEqual(['status', 'plan', 'apply']);
  }, 90_000);

  it('whose task never answers is stopped at timeoutSeconds and rolled back', async () => {
    const record = await release('ecs-hangs', { id: '0003_hangs_backfill', kind: 'expand' });

    expect(record.phase).toBe('RolledBack');
    expect(record.reason).toMatch(
      /MigrationRunnerFailed: Migration runner task orders-migrations \(apply 0003_hangs_backfill\) did not answer within 3s \(migrations.timeoutSeconds\); greenlight stopped task [0-9a-f]{32}/,
    );
    expect(callsAbout('0003_hangs_backfill')).toEqual(['status', 'plan', 'apply']);
  }, 90_000);
});
