import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { LifecycleEventSource } from '../core/phases.ts';
import type { LifecycleEvents, ReleaseRequests } from '../core/ports.ts';
import type { LifecycleEvent } from '../core/records.ts';
import type { ReleaseRequestedV1 } from '../core/release-event.ts';
import { buildReleaseRequestEntry } from '../core/release-request-entry.ts';

export interface EventBridgeLifecycleEventsOptions {
  client: EventBridgeClient;
  busName: string;
  /** Pause before retrying failed entries; injected so tests do not wait. */
  sleep?: (ms: number) => Promise<void>;
}

// PutEvents takes at most 10 entries per call.
const entriesPerCall = 10;
// Failed entries (throttling, internal failures) are retried this many times, backing off.
const entryRetries = 3;
const firstBackoffMs = 100;

/** Puts lifecycle events on the greenlight bus, `source: "greenlight"`. */
export class EventBridgeLifecycleEvents implements LifecycleEvents {
  readonly #client: EventBridgeClient;
  readonly #busName: string;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: EventBridgeLifecycleEventsOptions) {
    this.#client = options.client;
    this.#busName = options.busName;
    this.#sleep =
      options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()));
  }

  async publish(events: readonly LifecycleEvent[]): Promise<void> {
    const entries = events.map(
      (event): PutEventsRequestEntry => ({
        Source: LifecycleEventSource,
        DetailType: event.detailType,
        Detail: JSON.stringify(event.detail),
        EventBusName: this.#busName,
      }),
    );
    for (let start = 0; start < entries.length; start += entriesPerCall) {
      await this.#put(entries.slice(start, start + entriesPerCall));
    }
  }

  async #put(entries: PutEventsRequestEntry[]): Promise<void> {
    let pending = entries;
    for (let attempt = 0; ; attempt++) {
      const result = await this.#client.send(new PutEventsCommand({ Entries: pending }));
      if (!result.FailedEntryCount) return;
      // Result entries line up with request entries; a failed one carries an ErrorCode.
      const failed = pending.flatMap((entry, i) => {
        const outcome: PutEventsResultEntry | undefined = result.Entries?.[i];
        return outcome?.ErrorCode ? [{ entry, outcome }] : [];
      });
      if (failed.length === 0) return;
      if (attempt >= entryRetries) {
        const reasons = failed.map(
          ({ entry, outcome }) =>
            `${entry.DetailType}: ${outcome.ErrorCode}${outcome.ErrorMessage ? ` (${outcome.ErrorMessage})` : ''}`,
        );
        throw new Error(
          `EventBridge refused ${failed.length} lifecycle event(s) on bus ${this.#busName} after ${entryRetries + 1} attempts: ${reasons.join('; ')}`,
        );
      }
      pending = failed.map(({ entry }) => entry);
      await this.#sleep(firstBackoffMs * 2 ** attempt);
    }
  }
}

/** Puts Release Requested events on the greenlight bus, as CI would (a retry's new attempt). */
export class EventBridgeReleaseRequests implements ReleaseRequests {
  readonly #client: EventBridgeClient;
  readonly #busName: string;

  constructor(options: { client: EventBridgeClient; busName: string }) {
    this.#client = options.client;
    this.#busName = options.busName;
  }

  async request(detail: ReleaseRequestedV1, source: string): Promise<string> {
    const result = await this.#client.send(
      new PutEventsCommand({
        Entries: [buildReleaseRequestEntry({ bus: this.#busName, source, detail })],
      }),
    );
    const [entry] = result.Entries ?? [];
    if (result.FailedEntryCount || entry?.EventId === undefined) {
      throw new Error(
        `EventBridge refused the Release Requested event on bus ${this.#busName}: ${entry?.ErrorCode ?? 'no event id'} ${entry?.ErrorMessage ?? ''}`.trim(),
      );
    }
    return entry.EventId;
  }
}
