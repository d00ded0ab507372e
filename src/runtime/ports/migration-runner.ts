import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { EcsTaskMigrationRunner } from '../../aws/ecs-task-migration-runner.ts';
import { LambdaMigrationRunner } from '../../aws/lambda-migration-runner.ts';
import { MigrationRunners } from '../../aws/migration-runners.ts';
import type { MigrationRunner } from '../../core/ports.ts';
import { ecsOf } from '../clients/ecs.ts';
import { lambdaOf } from '../clients/lambda.ts';
import type { Wiring } from '../wiring.ts';

const makeLogs = () => new CloudWatchLogsClient({});

/**
 * The services' migration runners by type: a Lambda function (Invoke, sharing the wiring's
 * Lambda client) or an ECS task (RunTask, and its reply read from CloudWatch Logs).
 */
export function buildMigrationRunner(wiring: Wiring): { migrations: MigrationRunner } {
  return {
    migrations: new MigrationRunners({
      lambda: new LambdaMigrationRunner({ client: lambdaOf(wiring) }),
      'ecs-task': new EcsTaskMigrationRunner({
        ecs: ecsOf(wiring).ecs,
        logs: wiring.shared(makeLogs),
      }),
    }),
  };
}
