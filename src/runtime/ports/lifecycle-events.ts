import { EventBridgeLifecycleEvents } from '../../aws/eventbridge-events.ts';
import type { LifecycleEvents } from '../../core/ports.ts';
import { eventBridgeOf } from '../clients/eventbridge.ts';
import type { Wiring } from '../wiring.ts';

/** Lifecycle events on the greenlight bus (EventBridge). */
export function buildLifecycleEvents(wiring: Wiring): { events: LifecycleEvents } {
  return {
    events: new EventBridgeLifecycleEvents({
      client: eventBridgeOf(wiring),
      busName: wiring.config.busName,
    }),
  };
}
