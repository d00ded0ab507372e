import { AwsFault } from './aws-protocol/fault.ts';
import { awsJson11, awsJsonFault, parseJsonObject } from './aws-protocol/json.ts';
import {
  awsJsonResult,
  type LocalRequest,
  type LocalResponse,
  type LocalService,
  targetOperation,
} from './http.ts';

const targetPrefix = 'Logs_20140328';
/** GetLogEvents answers at most 10,000 events a page (CloudWatch Logs API Reference, limit). */
const maxPage = 10_000;

interface LogEvent {
  timestamp: number;
  ingestionTime: number;
  message: string;
}

/**
 * CloudWatch Logs for the local cloud, as much as greenlight reads: one-off ECS tasks write
 * their container's stdout here (the awslogs driver's stream `prefix/container/taskId`), and
 * GetLogEvents serves it on the AWS JSON 1.1 protocol (`Logs_20140328.GetLogEvents`) that
 * `@aws-sdk/client-cloudwatch-logs` speaks. Tokens are `f/<index>`: reading from the head, a
 * page's nextForwardToken equals the token sent once the stream has nothing more, as the API
 * Reference (GetLogEvents) describes. No lag: a line is readable as soon as it is written.
 */
export class LocalCloudWatchLogs implements LocalService {
  readonly name = 'logs';
  readonly #groups = new Map<string, Map<string, LogEvent[]>>();
  readonly #now: () => Date;

  constructor(options: { now?: () => Date } = {}) {
    this.#now = options.now ?? (() => new Date());
  }

  /** Creates the stream if needed (the awslogs driver does, on the first line). */
  append(group: string, stream: string, message: string): void {
    let streams = this.#groups.get(group);
    if (streams === undefined) {
      streams = new Map();
      this.#groups.set(group, streams);
    }
    let events = streams.get(stream);
    if (events === undefined) {
      events = [];
      streams.set(stream, events);
    }
    const at = this.#now().getTime();
    events.push({ timestamp: at, ingestionTime: at, message });
  }

  /** A stream's lines, for tests and the demo. */
  lines(group: string, stream: string): string[] {
    return (this.#groups.get(group)?.get(stream) ?? []).map((event) => event.message);
  }

  async handle(request: LocalRequest): Promise<LocalResponse | undefined> {
    const operation = targetOperation(request, targetPrefix);
    if (operation === undefined) return undefined;
    try {
      const input = parseJsonObject(
        request,
        (message) => new AwsFault(400, 'SerializationException', message),
        'The request body is not a JSON object.',
      );
      if (operation !== 'GetLogEvents') {
        throw new AwsFault(
          400,
          'InvalidOperationException',
          `The local CloudWatch Logs does not serve ${operation}`,
        );
      }
      return awsJsonResult(this.#getLogEvents(input), awsJson11);
    } catch (error) {
      if (error instanceof AwsFault) return awsJsonFault(error, awsJson11);
      throw error;
    }
  }

  #getLogEvents(input: Record<string, unknown>): Record<string, unknown> {
    const group = typeof input.logGroupName === 'string' ? input.logGroupName : '';
    const stream = typeof input.logStreamName === 'string' ? input.logStreamName : '';
    const streams = this.#groups.get(group);
    if (streams === undefined) {
      throw new AwsFault(
        400,
        'ResourceNotFoundException',
        'The specified log group does not exist.',
      );
    }
    const events = streams.get(stream);
    if (events === undefined) {
      throw new AwsFault(
        400,
        'ResourceNotFoundException',
        'The specified log stream does not exist.',
      );
    }
    const limit = typeof input.limit === 'number' ? Math.min(input.limit, maxPage) : maxPage;
    if (input.startFromHead !== true && input.nextToken === undefined) {
      // From the tail: the last `limit` events (GetLogEvents without startFromHead).
      const from = Math.max(0, events.length - limit);
      return {
        events: events.slice(from),
        nextForwardToken: `f/${events.length}`,
        nextBackwardToken: `b/${from}`,
      };
    }
    const token = typeof input.nextToken === 'string' ? input.nextToken : 'f/0';
    const from = Number(token.slice(2));
    if (!token.startsWith('f/') || !Number.isInteger(from) || from < 0) {
      throw new AwsFault(400, 'InvalidParameterException', 'The specified nextToken is invalid.');
    }
    const page = events.slice(from, from + limit);
    return {
      events: page,
      nextForwardToken: `f/${from + page.length}`,
      nextBackwardToken: `b/${from}`,
    };
  }
}
