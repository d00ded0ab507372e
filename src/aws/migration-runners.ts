import type { MigrationRunnerReply, MigrationRunnerRequest } from '../core/migration.ts';
import type { MigrationRunner } from '../core/ports.ts';
import type { MigrationsConfig } from '../core/service-config.ts';

/**
 * The migration runner port for every kind of runner a service may register: each call goes
 * to the adapter of the registered runner's `type` (a Lambda function, an ECS task).
 */
export class MigrationRunners implements MigrationRunner {
  readonly #byType: Record<MigrationsConfig['runner']['type'], MigrationRunner>;

  constructor(byType: Record<MigrationsConfig['runner']['type'], MigrationRunner>) {
    this.#byType = byType;
  }

  call(
    migrations: MigrationsConfig,
    request: MigrationRunnerRequest,
  ): Promise<MigrationRunnerReply> {
    return this.#byType[migrations.runner.type].call(migrations, request);
  }
}
