import { describe, expect, it } from 'vitest';
import { MigrationRunners } from '../../../src/aws/migration-runners.ts';
import type { MigrationRunnerRequest } from '../../../src/core/migration.ts';
import type { MigrationRunner } from '../../../src/core/ports.ts';
import type { MigrationsConfig } from '../../../src/core/service-config.ts';

const request: MigrationRunnerRequest = {
  greenlight: 1,
  action: 'status',
  migrationId: '0007_add_note',
  kind: 'expand',
  service: 'shop',
  releaseId: 'shop-1-1-0-1',
};

describe('MigrationRunners', () => {
  it('sends each call to the adapter of the registered runner’s type', async () => {
    const calls: string[] = [];
    const adapter = (name: string): MigrationRunner => ({
      call: async (_migrations, asked) => {
        calls.push(name);
        return { migrationId: asked.migrationId, status: 'pending' };
      },
    });
    const runners = new MigrationRunners({ lambda: adapter('lambda'), 'ecs-task': adapter('ecs') });
    const ecs: MigrationsConfig = {
      runner: {
        type: 'ecs-task',
        cluster: 'shop',
        taskDefinition: 'shop-migrations',
        containerName: 'migrate',
        network: {
          subnets: ['subnet-0a1b2c3d'],
          securityGroups: ['sg-0a1b2c3d'],
          assignPublicIp: false,
        },
        logGroup: '/ecs/shop-migrations',
        passRoles: [],
      },
      timeoutSeconds: 30,
    };
    await runners.call(ecs, request);
    await runners.call(
      { runner: { type: 'lambda', functionName: 'm' }, timeoutSeconds: 30 },
      request,
    );
    expect(calls).toEqual(['ecs', 'lambda']);
  });
});
