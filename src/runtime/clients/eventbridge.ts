import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Wiring } from '../wiring.ts';

const makeEventBridge = () => new EventBridgeClient({});

/** The EventBridge client of one wiring: lifecycle events and release requests share it. */
export function eventBridgeOf(wiring: Wiring): EventBridgeClient {
  return wiring.shared(makeEventBridge);
}
