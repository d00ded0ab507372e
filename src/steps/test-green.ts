import {
  AlarmGateFailed,
  GateAlarmMissing,
  GateAlarmUnusable,
  GreenTestFailed,
} from '../core/errors.ts';
import { decidePreflight, releaseSubjectOf } from '../core/gate.ts';
import { ReleasePhase } from '../core/phases.ts';
import type { Colours, ReleaseSpec } from '../core/records.ts';
import { alarmNamesOf } from '../core/service-config.ts';
import { ReleaseEventType } from '../core/transitions.ts';
import type { StepDependencies, TrafficRouting } from '../runtime/dependencies.ts';
import type { IdempotentStep } from '../runtime/step-handler.ts';
import {
  type AdvanceDependencies,
  advanceRelease,
  loadRelease,
  stepRecord,
} from './advance-release.ts';
import { ColouredReleaseInput } from './inputs.ts';
import { serviceOf } from './service.ts';

export interface TestOutcome {
  passed: true;
  tests: number;
  alarms: number;
}

/**
 * Everything checked before any user sees green: every gate alarm exists (AWS treats a missing
 * alarm as OK; a typo would silently disable the gate), has data, watches green unless marked
 * service-wide, and is not already firing; then the service's test events pass against the
 * green colour only.
 */
export const testGreenStep: IdempotentStep<
  { release: ReleaseSpec; colours: Colours },
  TestOutcome,
  AdvanceDependencies & Pick<StepDependencies, 'registry' | 'alarms'> & TrafficRouting
> = {
  name: 'test-green',
  input: ColouredReleaseInput,
  idempotencyKey: ({ release }) => ({ releaseId: release.releaseId, step: 'test', index: 0 }),
  run: async ({ release, colours }, deps) => {
    const service = await serviceOf(deps, release.service);
    const alarms = await deps.alarms.describe(alarmNamesOf(service));
    const preflight = decidePreflight(
      service.alarms,
      alarms,
      releaseSubjectOf(service.target, colours),
    );
    await deps.ledger.recordStep(
      release.releaseId,
      stepRecord(deps, {
        key: 'preflight',
        step: 'preflight',
        outcome: preflight.passed ? 'succeeded' : 'failed',
        phase: ReleasePhase.Testing,
        reason: preflight.passed
          ? `Gate alarms ready: ${preflight.reason}`
          : `Before any traffic moved: ${preflight.reason}`,
        evidence: { alarms },
      }),
    );
    if (!preflight.passed) {
      const message = `Before any traffic moved: ${preflight.reason}`;
      const details = { problems: preflight.problems };
      switch (preflight.error) {
        case 'GateAlarmMissing':
          throw new GateAlarmMissing(message, details);
        case 'GateAlarmUnusable':
          throw new GateAlarmUnusable(message, details);
        default:
          throw new AlarmGateFailed(message, details);
      }
    }

    const results = await deps.targetFor(service).test(release, service, colours);
    const failed = results.filter((result) => !result.passed);
    const reason =
      failed.length === 0
        ? `Green passed ${results.length} test${results.length === 1 ? '' : 's'}`
        : `Green failed ${failed.length} of ${results.length} tests: ${failed.map((r) => `${r.name}: ${r.detail}`).join('; ')}`;
    await deps.ledger.recordStep(
      release.releaseId,
      stepRecord(deps, {
        key: 'test',
        step: 'test',
        outcome: failed.length === 0 ? 'succeeded' : 'failed',
        phase: ReleasePhase.Testing,
        reason,
        evidence: { tests: results },
      }),
    );
    const record = await loadRelease(deps, release.releaseId);
    if (failed.length > 0) {
      await advanceRelease(deps, record, {
        type: ReleaseEventType.GreenTestsFailed,
        detail: reason,
      });
      throw new GreenTestFailed(reason, { failed: failed.map((r) => r.name) });
    }
    await advanceRelease(deps, record, {
      type: ReleaseEventType.GreenTestsPassed,
      approvalRequired: release.approval?.beforeShift === true,
    });
    return { passed: true, tests: results.length, alarms: alarms.length };
  },
};
