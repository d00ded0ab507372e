import { EventBridgeReleaseRequests } from '../../aws/eventbridge-events.ts';
import type { ReleaseRequests } from '../../core/ports.ts';
import { eventBridgeOf } from '../clients/eventbridge.ts';
import type { Wiring } from '../wiring.ts';

/** Release Requested events on the greenlight bus, as CI sends them (EventBridge). */
export function buildReleaseRequests(wiring: Wiring): { requests: ReleaseRequests } {
  return {
    requests: new EventBridgeReleaseRequests({
      client: eventBridgeOf(wiring),
      busName: wiring.config.busName,
    }),
  };
}
