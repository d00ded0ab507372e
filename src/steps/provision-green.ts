import { ReleasePhase } from '../core/phases.ts';
import type { Colours, ReleaseSpec } from '../core/records.ts';
import { ReleaseEventType } from '../core/transitions.ts';
import type { StepDependencies } from '../runtime/dependencies.ts';
import type { IdempotentStep } from '../runtime/step-handler.ts';
import {
  type AdvanceDependencies,
  advanceRelease,
  assertCanAdvance,
  loadRelease,
  stepRecord,
} from './advance-release.ts';
import { ReleaseInput } from './inputs.ts';
import { serviceOf } from './service.ts';

/** Makes the release's artifact ready as green, beside blue, without moving any traffic. */
export const provisionGreenStep: IdempotentStep<
  { release: ReleaseSpec },
  Colours,
  AdvanceDependencies & Pick<StepDependencies, 'registry' | 'targetFor'>
> = {
  name: 'provision-green',
  input: ReleaseInput,
  idempotencyKey: ({ release }) => ({ releaseId: release.releaseId, step: 'provision', index: 0 }),
  run: async ({ release }, deps) => {
    const service = await serviceOf(deps, release.service);
    const record = await loadRelease(deps, release.releaseId);
    // The colours are not known yet; they do not decide whether provisioning may happen.
    assertCanAdvance(record, {
      type: ReleaseEventType.GreenProvisioned,
      colours: { blue: '', green: '' },
    });
    const target = deps.targetFor(service);
    const colours = await target.provision(release, service);
    // Read once green exists and before any traffic moves, so they are on record from the start.
    const warnings = (await target.warnings?.(service, colours)) ?? [];
    await deps.ledger.recordStep(
      release.releaseId,
      stepRecord(deps, {
        key: 'provision',
        step: 'provision',
        outcome: 'succeeded',
        phase: ReleasePhase.Testing,
        reason: `Green is ${describeColour(service.target.kind, colours.green)}; blue stays ${describeColour(service.target.kind, colours.blue)}`,
        ...(warnings.length > 0 ? { evidence: { warnings } } : {}),
      }),
    );
    await advanceRelease(
      deps,
      record,
      { type: ReleaseEventType.GreenProvisioned, colours },
      { patch: { colours }, ...(warnings.length > 0 ? { detail: { warnings } } : {}) },
    );
    return colours;
  },
};

function describeColour(kind: string, id: string): string {
  return kind === 'lambda-alias' ? `version ${id}` : `slot ${id}`;
}
