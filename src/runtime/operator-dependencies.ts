import type { OperatorDependencies } from '../steps/operator-command.ts';
import { stepPorts } from './dependencies.ts';
import { buildApprovals } from './ports/approvals.ts';
import { buildCommandLog } from './ports/commands.ts';
import { buildReleaseRequests } from './ports/release-requests.ts';
import { composeDependencies, type Environment } from './wiring.ts';

/**
 * Every port the operator function may work through, built from the environment, for tests
 * and the local cloud: the steps' own, plus approvals and commands.
 */
export function createOperatorDependencies(env: Environment = process.env): OperatorDependencies {
  return composeDependencies(
    env,
    ...stepPorts,
    buildApprovals,
    buildCommandLog,
    buildReleaseRequests,
  );
}
