/** Where a release is. Transitions between them live in transitions.ts. */
export const ReleasePhase = {
  Requested: 'Requested',
  Provisioning: 'Provisioning',
  Testing: 'Testing',
  AwaitingApproval: 'AwaitingApproval',
  Shifting: 'Shifting',
  Finalized: 'Finalized',
  RollingBack: 'RollingBack',
  RolledBack: 'RolledBack',
  /**
   * Forward-only (its irreversible migration ran) and failed where another release would roll
   * back: traffic stays where it was, and the release waits for an operator (promote, or a
   * knowing abort). Not terminal: it holds the service's lock.
   */
  Held: 'Held',
  Rejected: 'Rejected',
  Superseded: 'Superseded',
  Aborted: 'Aborted',
} as const;
export type ReleasePhase = (typeof ReleasePhase)[keyof typeof ReleasePhase];

/**
 * Phases a release never leaves on its own. One exception, by an operator: a Finalized release
 * rolled back while blue is still warm (`greenlight rollback`) becomes RolledBack.
 */
export const TerminalPhases: ReadonlySet<ReleasePhase> = new Set([
  ReleasePhase.Finalized,
  ReleasePhase.RolledBack,
  ReleasePhase.Rejected,
  ReleasePhase.Superseded,
  ReleasePhase.Aborted,
]);

/** `detail-type`s of the lifecycle events greenlight puts on its bus (`source: "greenlight"`). */
export const LifecycleEventType = {
  ReleaseStarted: 'Release Started',
  GreenProvisioned: 'Green Provisioned',
  TrafficShifted: 'Traffic Shifted',
  GateFailed: 'Gate Failed',
  ApprovalRequested: 'Approval Requested',
  ReleaseFinalized: 'Release Finalized',
  ReleaseRolledBack: 'Release Rolled Back',
  ReleaseHeld: 'Release Held',
  ReleaseRejected: 'Release Rejected',
  ReleaseSuperseded: 'Release Superseded',
  IdleColourTornDown: 'Idle Colour Torn Down',
} as const;
export type LifecycleEventType = (typeof LifecycleEventType)[keyof typeof LifecycleEventType];

export const LifecycleEventSource = 'greenlight';
