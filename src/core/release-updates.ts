import { LifecycleEventSource, LifecycleEventType, ReleasePhase } from './phases.ts';
import * as z from './zod.ts';

/**
 * How far along a release each lifecycle event says it is. EventBridge stamps `time` to the
 * second, and a rule target is an unordered subscriber that gets events in parallel, retried
 * ones later (EventBridge User Guide, "Ordering and deduplicating events on a Custom Event Bus"
 * and "Retrying event delivery"), so two events of one second are told apart by this rank; a
 * later shift ranks higher by its percent.
 */
const eventRank: Record<LifecycleEventType, number> = {
  [LifecycleEventType.ReleaseRejected]: 0,
  [LifecycleEventType.ReleaseStarted]: 1,
  [LifecycleEventType.GreenProvisioned]: 2,
  [LifecycleEventType.ApprovalRequested]: 3,
  // 4 + greenPercent (0..100): see rankOf.
  [LifecycleEventType.TrafficShifted]: 4,
  [LifecycleEventType.GateFailed]: 200,
  // After the failure that held it, before the promote or knowing abort that ends the hold.
  [LifecycleEventType.ReleaseHeld]: 250,
  [LifecycleEventType.ReleaseSuperseded]: 300,
  [LifecycleEventType.ReleaseFinalized]: 300,
  [LifecycleEventType.ReleaseRolledBack]: 400,
  [LifecycleEventType.IdleColourTornDown]: 500,
};

const AlarmEvidence = z.lazy(() =>
  z.object({
    name: z.string(),
    state: z.string(),
    reason: z._default(z.string(), ''),
  }),
);
const MetricEvidence = z.lazy(() =>
  z.object({
    gate: z.string(),
    verdict: z.string(),
    reason: z._default(z.string(), ''),
  }),
);

/** The part of a greenlight lifecycle event, as EventBridge delivers it, that updates read. */
export const LifecycleEnvelope = z.lazy(() =>
  z.object({
    'detail-type': z.enum(Object.values(LifecycleEventType) as [LifecycleEventType]),
    source: z.literal(LifecycleEventSource),
    /** ISO 8601, stamped by EventBridge. */
    time: z.string(),
    detail: z.object({
      releaseId: z.string().check(z.minLength(1)),
      service: z.string().check(z.minLength(1)),
      version: z._default(z.string(), ''),
      phase: z.enum(Object.values(ReleasePhase) as [ReleasePhase]),
      reason: z._default(z.string(), ''),
      eventKey: z.optional(z.string()),
      greenPercent: z.optional(z.number()),
      alarms: z.optional(z.array(AlarmEvidence)),
      missing: z.optional(z.array(z.string())),
      metrics: z.optional(z.array(MetricEvidence)),
      colour: z.optional(z.string()),
      actions: z.optional(z.array(z.string())),
    }),
  }),
);
export type LifecycleEnvelope = z.infer<typeof LifecycleEnvelope>;

/**
 * One lifecycle event as a release update: only the fields a person reads, copied one by one
 * (never the whole detail, which would carry whatever a later event adds).
 */
export interface ReleaseUpdate {
  /** Deterministic per event: a redelivered event has the same key. */
  key: string;
  detailType: LifecycleEventType;
  time: string;
  rank: number;
  releaseId: string;
  service: string;
  version: string;
  phase: ReleasePhase;
  reason: string;
  greenPercent?: number;
  evidence?: {
    alarms: { name: string; state: string; reason: string }[];
    missing: string[];
    metrics: { gate: string; verdict: string; reason: string }[];
  };
  colour?: string;
  actions?: string[];
}

/** The update a lifecycle event makes. */
export function releaseUpdateOf(envelope: LifecycleEnvelope): ReleaseUpdate {
  const { detail } = envelope;
  const detailType = envelope['detail-type'];
  return {
    // Events published before eventKey existed fall back to type + time: still stable.
    key: detail.eventKey ?? `${detail.releaseId}#${detailType}#${envelope.time}`,
    detailType,
    time: envelope.time,
    rank: rankOf(detailType, detail.greenPercent),
    releaseId: detail.releaseId,
    service: detail.service,
    version: detail.version,
    phase: detail.phase,
    reason: detail.reason,
    ...(detail.greenPercent === undefined ? {} : { greenPercent: detail.greenPercent }),
    ...(detailType === LifecycleEventType.GateFailed
      ? {
          evidence: {
            alarms: (detail.alarms ?? []).map(({ name, state, reason }) => ({
              name,
              state,
              reason,
            })),
            missing: detail.missing ?? [],
            metrics: (detail.metrics ?? []).map(({ gate, verdict, reason }) => ({
              gate,
              verdict,
              reason,
            })),
          },
        }
      : {}),
    ...(detail.colour === undefined ? {} : { colour: detail.colour }),
    ...(detail.actions === undefined ? {} : { actions: detail.actions }),
  };
}

function rankOf(detailType: LifecycleEventType, greenPercent: number | undefined): number {
  const base = eventRank[detailType];
  return detailType === LifecycleEventType.TrafficShifted ? base + (greenPercent ?? 0) : base;
}

/**
 * Whether `candidate` says more about where the release stands than `current`: later by the
 * event's time, then by rank. The parent message only ever moves forward by this order, so a
 * late-delivered "Traffic Shifted 10%" never overwrites "Release Finalized".
 */
export function isNewerUpdate(
  candidate: Pick<ReleaseUpdate, 'time' | 'rank'>,
  current: Pick<ReleaseUpdate, 'time' | 'rank'>,
): boolean {
  const a = Date.parse(candidate.time);
  const b = Date.parse(current.time);
  if (a !== b) return a > b;
  return candidate.rank > current.rank;
}

/** A release's update thread as kept in the ledger. */
export interface ReleaseUpdateThread {
  releaseId: string;
  channel: string;
  /** The event whose handler posts the parent message; others wait for its `ts`. */
  claimedBy: string;
  /** The parent message's ts, once posted. */
  ts?: string;
  /** What the parent message shows: the newest update by isNewerUpdate. */
  latest: ReleaseUpdate;
  /** Keys of the events that have their thread reply. */
  replied: string[];
  /** Optimistic concurrency: each save expects the version it read. */
  version: number;
}
