import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as z from '../../../src/core/zod.ts';
import type { StepDependencies } from '../../../src/runtime/dependencies.ts';
import { aLambdaContext, OutputCapture } from '../slack/harness.ts';

const taskToken = 'AQCEAAAAKgAAAAMAAAAAAAAAAeSecretTaskToken0123456789';
const saved = { ...process.env };
let output: OutputCapture;

beforeEach(() => {
  // Both switches on, as an operator debugging a step might set them: the handler must still
  // keep the event (and so the token) out of the log.
  process.env.POWERTOOLS_LOGGER_LOG_EVENT = 'true';
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  vi.resetModules();
  output = new OutputCapture();
});

afterEach(() => {
  output.stop();
  process.env = { ...saved };
});

describe('createStepHandler', () => {
  it('never logs the event, so a callback step’s task token stays out of the log', async () => {
    // Imported after the environment is set: Powertools reads it when the logger is made.
    const { createStepHandler } = await import('../../../src/runtime/step-handler.ts');
    const handler = createStepHandler(
      {
        name: 'request-approval',
        input: z.object({ stage: z.string(), taskToken: z.string() }),
        run: async ({ stage }) => ({ approvalId: `checkout-1-before-shift`, stage }),
      },
      () => ({}) as StepDependencies,
    );

    output.start();
    const result = await handler(
      { stage: 'before-shift', taskToken } as never,
      aLambdaContext('greenlight-request-approval'),
    );
    output.stop();

    expect(result).toEqual({ approvalId: 'checkout-1-before-shift', stage: 'before-shift' });
    const log = output.lines.join('');
    expect(log).toContain('request-approval done');
    expect(log).not.toContain(taskToken);
  });

  it('refuses a step with an idempotency key, which would then act twice on a retry', async () => {
    const { createStepHandler } = await import('../../../src/runtime/step-handler.ts');
    const step = {
      name: 'set-weight',
      input: z.object({}),
      idempotencyKey: () => ({ releaseId: 'checkout-1', step: 'shift', index: 0 }),
      run: async () => ({}),
    };
    // Its type refuses it too; a cast gets past the type, not past this.
    expect(() => createStepHandler(step as never, () => ({}))).toThrow(
      /set-weight has an idempotency key: build its handler with createIdempotentStepHandler/,
    );
  });
});
