import { ReleaseRequestedDetailType, type ReleaseRequestedV1Input } from './release-event.ts';

/**
 * What a caller fills in of a Release Requested detail; the builder adds the schema version, so
 * no caller has to remember it.
 */
export type ReleaseRequestDetail = Omit<ReleaseRequestedV1Input, 'schemaVersion'> & {
  schemaVersion?: 1;
};

/**
 * One PutEvents entry as EventBridge's API takes it (PutEventsRequestEntry, Amazon EventBridge
 * API Reference). Structurally the SDK's type, so that src/core need not import the SDK.
 */
export interface ReleaseRequestEntry {
  EventBusName: string;
  Source: string;
  DetailType: typeof ReleaseRequestedDetailType;
  Detail: string;
  /** The event's time; EventBridge uses the time of the call when it is absent. */
  Time?: Date;
}

/**
 * The one way greenlight asks for a release: the CLI, the GitHub Action, a retry, the demo, the
 * bench and the tests all put the entry this returns. It does not validate: the CLI checks the
 * detail against the schema before it sends, and tests send invalid details on purpose to see
 * the workflow reject them.
 */
export function buildReleaseRequestEntry(request: {
  bus: string;
  source: string;
  detail: ReleaseRequestDetail;
  /** When CI built the request: the order of a burst of releases (PutEvents `Time`). */
  time?: Date;
}): ReleaseRequestEntry {
  return {
    EventBusName: request.bus,
    Source: request.source,
    DetailType: ReleaseRequestedDetailType,
    Detail: JSON.stringify({ schemaVersion: 1, ...request.detail }),
    ...(request.time === undefined ? {} : { Time: request.time }),
  };
}
