import type { EventBridgeEvent } from 'aws-lambda';
import { ReleasePhase } from '../../src/core/phases.ts';
import {
  type IdleColourRecord,
  IdleColourState,
  type ReleaseControl,
  type ReleaseRecord,
  type ReleaseSpec,
} from '../../src/core/records.ts';
import {
  ReleaseRequestedDetailType,
  type ReleaseRequestedV1Input,
} from '../../src/core/release-event.ts';
import { deriveReleaseId } from '../../src/core/release-id.ts';
import {
  ServiceConfig,
  type ServiceConfigInput,
  type ServiceRegistry,
} from '../../src/core/service-config.ts';
import type { ReleaseState } from '../../src/core/transitions.ts';
import { planWeights } from '../../src/core/weights.ts';

/** The time every builder uses: one literal instant, never the clock. */
export const aTime = '2026-11-21T10:00:00Z';

/**
 * A registered service, parsed like the real registry so defaults apply: the Lambda function
 * "checkout" behind alias "live", canary 10% for 60 s by default.
 */
export function aService(overrides: Partial<ServiceConfigInput> = {}): ServiceConfig {
  return ServiceConfig.parse({
    name: 'checkout',
    target: { kind: 'lambda-alias', functionName: 'checkout', alias: 'live' },
    strategies: {
      canary: { type: 'canary', percent: 10, bakeSeconds: 60 },
      'all-at-once': { type: 'all-at-once' },
    },
    defaultStrategy: 'canary',
    artifacts: {
      s3Buckets: ['greenlight-artifacts'],
      imageRepositories: ['123456789012.dkr.ecr.eu-west-1.amazonaws.com/checkout'],
    },
    alarms: ['checkout-errors'],
    tests: [
      {
        name: 'health',
        payload: { rawPath: '/health', requestContext: { http: { method: 'GET' } } },
        expect: { statusCode: 200 },
      },
    ],
    ...overrides,
  });
}

export function aRegistry(...services: ServiceConfig[]): ServiceRegistry {
  return services.length > 0 ? services : [aService()];
}

/**
 * Detail fields to override. Values are not type-checked, so tests can send invalid ones;
 * `undefined` removes a field; unknown keys pass through as fields the schema does not know.
 */
export type DetailOverrides = {
  [K in keyof ReleaseRequestedV1Input]?: unknown;
} & Record<string, unknown>;

export type ReleaseRequestedEvent = EventBridgeEvent<string, Record<string, unknown>>;

/** A Release Requested event as the rule's target receives it, with a valid v1 detail. */
export function aReleaseEvent(
  detailOverrides: DetailOverrides = {},
  envelopeOverrides: Partial<Omit<ReleaseRequestedEvent, 'detail'>> = {},
): ReleaseRequestedEvent {
  const detail: Record<string, unknown> = {
    schemaVersion: 1,
    service: 'checkout',
    version: '1.4.2',
    artifact: { s3: { bucket: 'greenlight-artifacts', key: 'checkout/1.4.2.zip' } },
    commit: '3f9c2a1e8b7d4c6f5a0e9d8c7b6a5f4e3d2c1b0a',
    actor: 'dana@example.com',
    ci: { provider: 'github-actions', runUrl: 'https://github.com/acme/checkout/actions/runs/42' },
  };
  for (const [key, value] of Object.entries(detailOverrides)) {
    if (value === undefined) delete detail[key];
    else detail[key] = value;
  }
  return {
    version: '0',
    id: 'b7e1c3a0-5d2f-4e8a-9c61-0f3d2b4a6e71',
    'detail-type': ReleaseRequestedDetailType,
    source: 'ci.checkout',
    account: '123456789012',
    time: aTime,
    region: 'eu-west-1',
    resources: [],
    ...envelopeOverrides,
    detail,
  };
}

/**
 * The release resolved from `aReleaseEvent()` against `aService()`. The id is derived from
 * the overridden service, version and attempt unless given.
 */
export function aReleaseSpec(overrides: Partial<ReleaseSpec> = {}): ReleaseSpec {
  const service = overrides.service ?? 'checkout';
  const version = overrides.version ?? '1.4.2';
  const attempt = overrides.attempt ?? 1;
  return {
    releaseId: deriveReleaseId(service, version, attempt),
    service,
    version,
    attempt,
    artifact: { s3: { bucket: 'greenlight-artifacts', key: `${service}/${version}.zip` } },
    strategy: 'canary',
    plan: planWeights({ type: 'canary', percent: 10, bakeSeconds: 60 }),
    commit: '3f9c2a1e8b7d4c6f5a0e9d8c7b6a5f4e3d2c1b0a',
    actor: 'dana@example.com',
    ci: { provider: 'github-actions', runUrl: 'https://github.com/acme/checkout/actions/runs/42' },
    requestedAt: aTime,
    ...overrides,
  };
}

/** A ledger item for `aReleaseSpec()`, freshly registered unless overridden. */
export function aReleaseRecord(overrides: Partial<ReleaseRecord> = {}): ReleaseRecord {
  const spec = aReleaseSpec(overrides);
  return {
    ...spec,
    phase: ReleasePhase.Requested,
    reason: 'Release requested',
    executionId: `arn:aws:states:eu-west-1:123456789012:execution:greenlight-release:${spec.releaseId}`,
    greenPercent: 0,
    stepIndex: -1,
    updatedAt: aTime,
    ...overrides,
  };
}

export function aReleaseState(overrides: Partial<ReleaseState> = {}): ReleaseState {
  return { phase: ReleasePhase.Requested, stepIndex: -1, greenPercent: 0, ...overrides };
}

/**
 * The idle colour a release finalized at 10:00 left warm: Lambda version 3 (blue), version 4
 * live, a 15-minute window ending 10:15.
 */
export function anIdleColour(overrides: Partial<IdleColourRecord> = {}): IdleColourRecord {
  return {
    colour: '3',
    live: '4',
    idleSince: '2026-11-21T10:00:00.000Z',
    teardownAt: '2026-11-21T10:15:00.000Z',
    schedule: 'teardown-checkout-1-4-2-a1-0123456789',
    state: IdleColourState.Warm,
    reason: 'Teardown scheduled for 2026-11-21T10:15:00.000Z',
    cost: { hourlyUsd: 0, basis: 'no provisioned concurrency: no cost while idle' },
    ...overrides,
  };
}

/** What the workflow carries as `$.release`: the ledger record without its state fields. */
export function specOf(record: ReleaseRecord): ReleaseSpec {
  const {
    phase: _phase,
    reason: _reason,
    executionId: _executionId,
    colours: _colours,
    greenPercent: _greenPercent,
    stepIndex: _stepIndex,
    updatedAt: _updatedAt,
    control: _control,
    idle: _idle,
    migrationState: _migrationState,
    ...spec
  } = record;
  return spec;
}

/** A release at its first weight step: 10% on green (version 8), blue version 7. */
export function aShiftingRelease(overrides: Partial<ReleaseRecord> = {}): ReleaseRecord {
  return aReleaseRecord({
    phase: ReleasePhase.Shifting,
    colours: { blue: '7', green: '8' },
    stepIndex: 0,
    greenPercent: 10,
    reason: 'Step 0: 10% of traffic on green',
    ...overrides,
  });
}

/** `release` as an operator's abort leaves it: rolling back, with who and why as its reason. */
export function anAborted(
  release: ReleaseRecord,
  control: Partial<ReleaseControl> = {},
): ReleaseRecord {
  return {
    ...release,
    phase: ReleasePhase.RollingBack,
    reason: 'Aborted by dana: wrong build',
    control: { paused: false, promoted: false, aborted: true, ...control },
  };
}
