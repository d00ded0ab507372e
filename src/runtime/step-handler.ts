import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type * as z from 'zod';
import { InvalidStepInput, isGreenlightError } from '../core/errors.ts';
import { issuesFromZod } from '../core/resolve-release.ts';
import { type StepDependencies, sharedDependencies } from './dependencies.ts';

/** One step of the release workflow: what it accepts and what it does, apart from Lambda wiring. */
export interface Step<Input, Output, Deps extends StepDependencies = StepDependencies> {
  /** The function's logical name (workflows/release.ts ReleaseFunction). */
  name: string;
  input: z.ZodType<Input>;
  /**
   * The business identity of one run of this step: release id, step, step index. A retry with
   * the same identity replays the stored answer instead of acting again. Leave it out only for
   * steps whose answer legitimately changes between calls (polling a lock) and which are safe
   * to repeat through conditional writes alone.
   */
  idempotencyKey?: (input: Input) => Record<string, string | number>;
  run(input: Input, deps: Deps): Promise<Output>;
}

export const logger = new Logger({ serviceName: 'greenlight' });

/**
 * Wraps a step as a Lambda handler: logger context, input validation, Powertools idempotency
 * on the step's business key (DynamoDB persistence), then the step itself.
 */
export function createStepHandler<Input, Output>(
  step: Step<Input, Output>,
): ReturnType<typeof wrapStep<Input, Output, StepDependencies>>;
export function createStepHandler<Input, Output, Deps extends StepDependencies>(
  step: Step<Input, Output, Deps>,
  dependencies: () => Deps,
): ReturnType<typeof wrapStep<Input, Output, Deps>>;
export function createStepHandler<Input, Output, Deps extends StepDependencies>(
  step: Step<Input, Output, Deps>,
  dependencies?: () => Deps,
) {
  return wrapStep(step, dependencies ?? (sharedDependencies as () => Deps));
}

function wrapStep<Input, Output, Deps extends StepDependencies>(
  step: Step<Input, Output, Deps>,
  dependencies: () => Deps,
) {
  let runOnce:
    | ((key: Record<string, string | number>, input: unknown) => Promise<Output>)
    | undefined;
  let idempotencyConfig: IdempotencyConfig | undefined;

  const run = async (event: unknown, context: Context): Promise<Output> => {
    const parsed = step.input.safeParse(event);
    if (!parsed.success) {
      throw new InvalidStepInput(
        `${step.name} got input the workflow should never send: ${issuesFromZod(parsed.error, '')
          .map((issue) => `${issue.path || '(input)'}: ${issue.message}`)
          .join('; ')}`,
      );
    }
    const deps = dependencies();
    if (!step.idempotencyKey) return logOutcome(step.name, step.run(parsed.data, deps));
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
    const key = step.idempotencyKey(parsed.data);
    logger.appendKeys({ ...key });
    return logOutcome(step.name, runOnce(key, { input: parsed.data }));
  };

  // Never the event: callback steps receive task tokens, which must stay out of every log,
  // whatever POWERTOOLS_LOGGER_LOG_EVENT says.
  return middy(run).use(injectLambdaContext(logger, { logEvent: false, resetKeys: true }));
}

/** One line per step run: what it returned, or the typed error it ended with. */
async function logOutcome<Output>(name: string, running: Promise<Output>): Promise<Output> {
  try {
    const output = await running;
    logger.info(`${name} done`, { output: output as never });
    return output;
  } catch (error) {
    // Domain errors are verdicts the workflow acts on, not faults of greenlight.
    if (isGreenlightError(error)) logger.warn(`${name} ended with ${error.name}`, { error });
    else logger.error(`${name} failed`, { error: error as Error });
    throw error;
  }
}
