import { LambdaMigrationRunner } from '../../aws/lambda-migration-runner.ts';
import type { MigrationRunner } from '../../core/ports.ts';
import { lambdaOf } from '../clients/lambda.ts';
import type { Wiring } from '../wiring.ts';

/** The services' migration runners (Lambda Invoke), sharing the wiring's Lambda client. */
export function buildMigrationRunner(wiring: Wiring): { migrations: MigrationRunner } {
  return { migrations: new LambdaMigrationRunner({ client: lambdaOf(wiring) }) };
}
