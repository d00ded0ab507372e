import type { RenewableApprovalStore, TaskCallbacks } from '../core/ports.ts';
import { type StepDependencies, stepPorts } from '../runtime/dependencies.ts';
import { buildApprovals } from '../runtime/ports/approvals.ts';
import { buildReleaseUpdateThreads } from '../runtime/ports/release-updates.ts';
import { buildSlackMessenger } from '../runtime/ports/slack-messenger.ts';
import { composeDependencies, type Environment } from '../runtime/wiring.ts';
import type { SlackMessenger } from './messenger.ts';

export { createInteractionDependencies } from './interaction-dependencies.ts';

/** What the request-approval and approval-timeout steps may work through. */
export interface ApprovalStepDependencies extends StepDependencies {
  approvals: RenewableApprovalStore;
  slack: SlackMessenger;
  callbacks: TaskCallbacks;
}

/**
 * All of them, built from the environment, for tests and the local cloud: the step ports plus
 * approvals and Slack.
 */
export function createApprovalStepDependencies(
  env: Environment = process.env,
): ApprovalStepDependencies {
  return composeDependencies(env, ...stepPorts, buildApprovals, buildSlackMessenger);
}

/** What the release-updates step works through, for tests: the step ports plus threads and Slack. */
export function createReleaseUpdatesDependencies(env: Environment = process.env) {
  return composeDependencies(env, ...stepPorts, buildReleaseUpdateThreads, buildSlackMessenger);
}
