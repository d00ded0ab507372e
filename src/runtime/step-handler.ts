import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { InvalidStepInput, isGreenlightError } from '../core/errors.ts';
import { issuesFromZod } from '../core/resolve-release.ts';
import type * as z from '../core/zod.ts';
import type { StepDependencies } from './dependencies.ts';

/**
 * One step of the release workflow: what it accepts and what it does, apart from Lambda wiring.
 * `Deps` names the ports it works through, and so what its function must be built with
 * (functions/<name>.ts); a port it does not name is never loaded in its function.
 */
export interface Step<Input, Output, Deps = StepDependencies> {
  /** The function's logical name (workflows/release.ts ReleaseFunction). */
  name: string;
  input: z.ZodMiniType<Input>;
  /** `invocation` is the Lambda context's identity; steps that need no claimant ignore it. */
  run(input: Input, deps: Deps, invocation?: StepInvocation): Promise<Output>;
}

/** What a step may know of the Lambda invocation that runs it. */
export type StepInvocation = Pick<Context, 'awsRequestId'>;

/**
 * A step with a business identity per run: release id, step, step index. A retry with the same
 * identity replays the stored answer instead of acting again (createIdempotentStepHandler).
 * Steps whose answer legitimately changes between calls (polling a lock) and which are safe
 * to repeat through conditional writes alone are plain Steps.
 */
export interface IdempotentStep<Input, Output, Deps = StepDependencies>
  extends Step<Input, Output, Deps> {
  idempotencyKey(input: Input): Record<string, string | number>;
}

export const logger = new Logger({ serviceName: 'greenlight' });

/**
 * Wraps a step as a Lambda handler: logger context, input validation, then the step itself.
 * A step with an idempotency key is refused, by type and at load: it needs
 * createIdempotentStepHandler, or a retry would act twice. Plain steps load no Powertools
 * idempotency (with its JMESPath engine, ~40 KB minified).
 */
export function createStepHandler<Input, Output, Deps>(
  step: Step<Input, Output, Deps> & { idempotencyKey?: never },
  dependencies: () => NoInfer<Deps>,
) {
  if ((step as { idempotencyKey?: unknown }).idempotencyKey !== undefined) {
    throw new TypeError(
      `${step.name} has an idempotency key: build its handler with createIdempotentStepHandler (src/runtime/idempotent-step-handler.ts)`,
    );
  }
  return wrapStep(step, (input, context) => step.run(input, dependencies(), context));
}

/**
 * The Lambda wiring every step handler shares: parses the input against the step's schema,
 * then runs it and logs the outcome. `run` gets the parsed input and the Lambda context.
 */
export function wrapStep<Input, Output>(
  step: Pick<Step<Input, Output, never>, 'name' | 'input'>,
  run: (input: Input, context: Context) => Promise<Output>,
) {
  const handle = async (event: unknown, context: Context): Promise<Output> => {
    const parsed = step.input.safeParse(event);
    if (!parsed.success) {
      throw new InvalidStepInput(
        `${step.name} got input the workflow should never send: ${issuesFromZod(parsed.error, '')
          .map((issue) => `${issue.path || '(input)'}: ${issue.message}`)
          .join('; ')}`,
      );
    }
    return logOutcome(step.name, run(parsed.data, context));
  };

  // Never the event: callback steps receive task tokens, which must stay out of every log,
  // whatever POWERTOOLS_LOGGER_LOG_EVENT says.
  return middy(handle).use(injectLambdaContext(logger, { logEvent: false, resetKeys: true }));
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
