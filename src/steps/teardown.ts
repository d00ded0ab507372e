import type { TeardownTarget } from '../core/ports.ts';
import { ServiceName } from '../core/release-event.ts';
import * as z from '../core/zod.ts';
import type { Step } from '../runtime/step-handler.ts';
import {
  type IdleTeardownDependencies,
  type TeardownOutcome,
  tearDownIdleColour,
  teardownClaimant,
} from './idle-teardown.ts';

/** What a teardown schedule sends (its target's Input), as finalize wrote it. */
export const TeardownInput: z.ZodMiniType<TeardownTarget> = z.lazy(() =>
  z.strictObject({
    service: ServiceName,
    releaseId: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,80}$/)),
    colour: z.string().check(z.minLength(1), z.maxLength(128)),
  }),
);

/**
 * Invoked by a release's one-time schedule at the end of its warm window. No idempotency
 * record on purpose: a deferred teardown must look again when invoked again, and what it
 * changes is guarded by reading first (the target) and by the idle record's state (the ledger).
 * A thrown error (the idle slot still draining, AWS unavailable) makes Scheduler retry.
 */
export const teardownStep: Step<TeardownTarget, TeardownOutcome, IdleTeardownDependencies> = {
  name: 'teardown',
  input: TeardownInput,
  run: (target, deps, invocation) =>
    tearDownIdleColour(deps, target, 'schedule', teardownClaimant('schedule', invocation)),
};
