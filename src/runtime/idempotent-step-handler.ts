import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { StepDependencies } from './dependencies.ts';
import { type IdempotentStep, logger, wrapStep } from './step-handler.ts';

/** What Powertools' idempotency needs of a function: its table, record TTL and DynamoDB client. */
export type IdempotencyDependencies = Pick<StepDependencies, 'config' | 'dynamo'>;

/**
 * Wraps a step with an idempotency key as a Lambda handler: createStepHandler's wiring, plus
 * Powertools idempotency on the step's business key (DynamoDB persistence), so that a retry
 * with the same key replays the stored answer.
 */
export function createIdempotentStepHandler<Input, Output, Deps>(
  step: IdempotentStep<Input, Output, Deps>,
  dependencies: () => NoInfer<Deps> & IdempotencyDependencies,
) {
  let runOnce:
    | ((key: Record<string, string | number>, input: unknown) => Promise<Output>)
    | undefined;
  let idempotencyConfig: IdempotencyConfig | undefined;

  return wrapStep(step, (input, context) => {
    const deps = dependencies();
    if (!runOnce || !idempotencyConfig) {
      // One persistence layer per idempotency configuration: sharing one across configs breaks both.
      const persistenceStore = new DynamoDBPersistenceLayer({
        tableName: deps.config.idempotencyTable,
        awsSdkV3Client: deps.dynamo,
      });
      idempotencyConfig = new IdempotencyConfig({
        expiresAfterSeconds: deps.config.idempotencyTtlSeconds,
      });
      runOnce = makeIdempotent(
        // The second argument is wrapped on purpose: Powertools 2.35 takes any second argument
        // that has a `step` key (as the weight-step input does) for a durable-execution context
        // and registers it as the Lambda context, which then fails to save the record.
        (_key: Record<string, string | number>, wrapped: unknown) =>
          step.run((wrapped as { input: Input }).input, deps),
        {
          persistenceStore,
          config: idempotencyConfig,
          keyPrefix: `greenlight.${step.name}`,
          dataIndexArgument: 0,
        },
      );
    }
    idempotencyConfig.registerLambdaContext(context);
    const key = step.idempotencyKey(input);
    logger.appendKeys({ ...key });
    return runOnce(key, { input });
  });
}
