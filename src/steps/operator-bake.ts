import { ErrorName } from '../core/errors.ts';
import type { StepDependencies } from '../runtime/dependencies.ts';

/**
 * Ends the bake under way because an operator promoted or aborted the release: settles it and
 * fails its callback token, which is what makes either take effect now rather than when the
 * bake's timer runs out. A promoted bake's wait fails with OperatorPromoted, which the
 * workflow catches into the gate check; an aborted one with OperatorAborted, which goes to
 * Rollback. Safe to repeat: settling is conditional and a dead token is harmless.
 */
export async function endBakeForOperator(
  deps: Pick<StepDependencies, 'bakes' | 'callbacks'>,
  input: { releaseId: string; action: 'promote' | 'abort'; reason: string },
): Promise<{ ended: boolean; stepIndex?: number }> {
  const bake = await deps.bakes.get(input.releaseId);
  if (bake?.status !== 'baking') return { ended: false };
  const status = input.action === 'promote' ? 'ended' : 'interrupted';
  const { changed, record } = await deps.bakes.settle(
    input.releaseId,
    bake.stepIndex,
    status,
    input.reason,
  );
  if (!changed || record?.taskToken === undefined) return { ended: changed };
  await deps.callbacks.fail(
    record.taskToken,
    input.action === 'promote' ? ErrorName.OperatorPromoted : ErrorName.OperatorAborted,
    input.reason,
  );
  return { ended: true, stepIndex: bake.stepIndex };
}
