import { randomUUID } from 'node:crypto';
import { matchesPattern } from './event-pattern.ts';
import {
  awsJsonError,
  awsJsonResult,
  type LocalRequest,
  type LocalResponse,
  type LocalService,
  targetOperation,
} from './http.ts';

const contentType = 'application/x-amz-json-1.1';

/** The event as EventBridge delivers it to targets. */
export interface EventEnvelope {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  /** ISO 8601 without milliseconds, as EventBridge writes it. */
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

export interface LocalEventRule {
  name: string;
  /** @default 'default' */
  busName?: string;
  pattern: object;
  target: (event: EventEnvelope) => Promise<void>;
}

export interface StoredEvent {
  busName: string;
  event: EventEnvelope;
}

export interface FailedDelivery {
  rule: string;
  event: EventEnvelope;
  error: unknown;
}

export interface LocalEventBridgeOptions {
  now?: () => Date;
  /** @default 'us-east-1' */
  region?: string;
  /** @default '000000000000' */
  accountId?: string;
}

interface PutEventsEntry {
  Source?: unknown;
  DetailType?: unknown;
  Detail?: unknown;
  EventBusName?: unknown;
  Resources?: unknown;
  Time?: unknown;
}

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

/**
 * EventBridge PutEvents over AWS JSON 1.1, with buses and rules held in memory. Every accepted
 * event is kept (tests assert lifecycle events from `events()`), and each rule whose pattern
 * matches gets the envelope. Targets are awaited so that when PutEvents returns, a rule's
 * workflow has started; a target must therefore only start work, never wait for it.
 */
export class LocalEventBridge implements LocalService {
  readonly name = 'events';
  private readonly now: () => Date;
  private readonly region: string;
  private readonly accountId: string;
  private readonly buses = new Set<string>(['default']);
  private readonly rules: Required<LocalEventRule>[] = [];
  private readonly log: StoredEvent[] = [];
  private readonly failures: FailedDelivery[] = [];
  private readonly listeners = new Set<(stored: StoredEvent) => void>();

  constructor(options: LocalEventBridgeOptions = {}) {
    this.now = options.now ?? (() => new Date());
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
  }

  createBus(name: string): void {
    this.buses.add(name);
  }

  addRule(rule: LocalEventRule): void {
    const busName = rule.busName ?? 'default';
    if (!this.buses.has(busName)) {
      throw new Error(
        `Rule ${rule.name} names event bus "${busName}", which does not exist. Create it first with createBus("${busName}").`,
      );
    }
    this.rules.push({ ...rule, busName });
  }

  /**
   * Puts an event the way an AWS service does (a `source` like `aws.cloudwatch`, on the
   * default bus unless told otherwise); the local simulators emit alarm state changes this way.
   */
  async emitServiceEvent(event: {
    source: string;
    detailType: string;
    detail: object;
    resources?: string[];
    busName?: string;
  }): Promise<void> {
    await this.putEvents([
      {
        Source: event.source,
        DetailType: event.detailType,
        Detail: JSON.stringify(event.detail),
        Resources: event.resources ?? [],
        EventBusName: event.busName ?? 'default',
      },
    ]);
  }

  /** Events accepted so far, oldest first; all buses unless `busName` is given. */
  events(busName?: string): EventEnvelope[] {
    return this.log
      .filter((stored) => busName === undefined || stored.busName === busName)
      .map((stored) => stored.event);
  }

  /** Rule targets that threw; EventBridge would retry them and then drop or dead-letter. */
  failedDeliveries(): readonly FailedDelivery[] {
    return this.failures;
  }

  /** Calls `listener` with each accepted event; returns a function that unsubscribes. */
  onEvent(listener: (stored: StoredEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async handle(request: LocalRequest): Promise<LocalResponse | undefined> {
    const operation = targetOperation(request, 'AWSEvents');
    if (operation === undefined) return undefined;
    if (operation !== 'PutEvents') {
      return awsJsonError(
        400,
        'UnknownOperationException',
        `The local EventBridge does not implement ${operation}`,
      );
    }
    let body: { Entries?: unknown };
    try {
      body = JSON.parse(request.body.toString('utf8') || '{}') as { Entries?: unknown };
    } catch {
      return awsJsonError(400, 'SerializationException', 'Request body is not valid JSON');
    }
    const entries = body.Entries;
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > 10) {
      return awsJsonError(
        400,
        'ValidationException',
        "1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and 10",
      );
    }
    const size = (entries as PutEventsEntry[]).reduce(
      (total, entry) => total + putEventsEntrySize(entry),
      0,
    );
    if (size > PutEventsMaxBytes) {
      return awsJsonError(
        400,
        'ValidationException',
        'Total size of the entries in the request is over the limit.',
      );
    }
    const results = await this.putEvents(entries as PutEventsEntry[]);
    const failed = results.filter((result) => 'ErrorCode' in result).length;
    return awsJsonResult({ FailedEntryCount: failed, Entries: results }, contentType);
  }

  private async putEvents(entries: readonly PutEventsEntry[]): Promise<EntryResult[]> {
    const results: EntryResult[] = [];
    const deliveries: Promise<void>[] = [];
    for (const entry of entries) {
      const accepted = this.acceptEntry(entry);
      if ('ErrorCode' in accepted) {
        results.push(accepted);
        continue;
      }
      results.push({ EventId: accepted.event.id });
      this.log.push(accepted);
      for (const listener of this.listeners) listener(accepted);
      deliveries.push(...this.deliver(accepted));
    }
    await Promise.all(deliveries);
    return results;
  }

  private acceptEntry(
    entry: PutEventsEntry,
  ): StoredEvent | Extract<EntryResult, { ErrorCode: string }> {
    const busName = busNameOf(entry.EventBusName);
    if (!this.buses.has(busName)) {
      return {
        ErrorCode: 'ResourceNotFoundException',
        ErrorMessage: `Event bus ${busName} does not exist.`,
      };
    }
    for (const field of ['Source', 'DetailType', 'Detail'] as const) {
      if (typeof entry[field] !== 'string' || entry[field] === '') {
        return {
          ErrorCode: 'InvalidArgument',
          ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
        };
      }
    }
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail as string);
    } catch {
      detail = undefined;
    }
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    const time = typeof entry.Time === 'number' ? new Date(entry.Time * 1000) : this.now();
    return {
      busName,
      event: {
        version: '0',
        id: randomUUID(),
        'detail-type': entry.DetailType as string,
        source: entry.Source as string,
        account: this.accountId,
        time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region: this.region,
        resources: Array.isArray(entry.Resources)
          ? entry.Resources.filter((r): r is string => typeof r === 'string')
          : [],
        detail: detail as Record<string, unknown>,
      },
    };
  }

  private deliver(stored: StoredEvent): Promise<void>[] {
    return this.rules
      .filter(
        (rule) => rule.busName === stored.busName && matchesPattern(stored.event, rule.pattern),
      )
      .map(async (rule) => {
        try {
          await rule.target(stored.event);
        } catch (error) {
          this.failures.push({ rule: rule.name, event: stored.event, error });
        }
      });
  }
}

/**
 * PutEvents refuses a request whose entries add up to more than 256 KB (EventBridge API
 * Reference, PutEvents; the whole request is refused with a ValidationException).
 */
export const PutEventsMaxBytes = 256 * 1024;

/**
 * An entry's size as EventBridge counts it ("Calculating Amazon EventBridge PutEvents event
 * entry size", EventBridge User Guide): 14 bytes for Time if given, and the UTF-8 bytes of
 * Source, DetailType, Detail and each of Resources. The event delivered is always larger.
 */
export function putEventsEntrySize(entry: {
  Source?: unknown;
  DetailType?: unknown;
  Detail?: unknown;
  Resources?: unknown;
  Time?: unknown;
}): number {
  const bytes = (value: unknown) => (typeof value === 'string' ? Buffer.byteLength(value) : 0);
  const resources = Array.isArray(entry.Resources) ? entry.Resources : [];
  return (
    (entry.Time === undefined || entry.Time === null ? 0 : 14) +
    bytes(entry.Source) +
    bytes(entry.DetailType) +
    bytes(entry.Detail) +
    resources.reduce((total: number, resource: unknown) => total + bytes(resource), 0)
  );
}

/** PutEvents accepts a bus name or ARN (`arn:aws:events:REGION:ACCOUNT:event-bus/NAME`). */
function busNameOf(value: unknown): string {
  if (typeof value !== 'string' || value === '') return 'default';
  const arn = /^arn:aws[a-z-]*:events:[^:]*:\d*:event-bus\/(.+)$/.exec(value);
  return arn?.[1] ?? value;
}
