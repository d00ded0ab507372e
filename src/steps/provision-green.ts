import { ReleasePhase } from '../core/phases.ts';
import type { Colours, ReleaseSpec } from '../core/records.ts';
import { ReleaseEventType } from '../core/transitions.ts';
import type { Step } from '../runtime/step-handler.ts';
import { advanceRelease, assertCanAdvance, loadRelease, stepRecord } from './advance-release.ts';
import { ReleaseInput } from './inputs.ts';
import { serviceOf } from './service.ts';

/** Makes the release's artifact ready as green, beside blue, without moving any traffic. */
export const provisionGreenStep: Step<{ release: ReleaseSpec }, Colours> = {
  name: 'provision-green',
  input: ReleaseInput,
  idempotencyKey: ({ release }) => ({ releaseId: release.releaseId, step: 'provision', index: 0 }),
  run: async ({ release }, deps) => {
    const service = serviceOf(deps, release.service);
    const record = await loadRelease(deps, release.releaseId);
    // The colours are not known yet; they do not decide whether provisioning may happen.
    assertCanAdvance(record, {
      type: ReleaseEventType.GreenProvisioned,
      colours: { blue: '', green: '' },
    });
    const colours = await deps.targetFor(service).provision(release, service);
    await deps.ledger.recordStep(
      release.releaseId,
      stepRecord(deps, {
        key: 'provision',
        step: 'provision',
        outcome: 'succeeded',
        phase: ReleasePhase.Testing,
        reason: `Green is ${describeColour(service.target.kind, colours.green)}; blue stays ${describeColour(service.target.kind, colours.blue)}`,
      }),
    );
    await advanceRelease(
      deps,
      record,
      { type: ReleaseEventType.GreenProvisioned, colours },
      { patch: { colours } },
    );
    return colours;
  },
};

function describeColour(kind: string, id: string): string {
  return kind === 'lambda-alias' ? `version ${id}` : id;
}
