import { type CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { MetricQuery, MetricQueryResult } from '../core/metric-gate.ts';
import type { MetricReader } from '../core/ports.ts';

export interface CloudWatchMetricReaderOptions {
  client: CloudWatchClient;
}

// GetMetricData takes at most 500 queries per request.
const queriesPerCall = 500;

/** Reads metric gates' data with GetMetricData: MetricStat queries only, no metric math. */
export class CloudWatchMetricReader implements MetricReader {
  readonly #client: CloudWatchClient;

  constructor(options: CloudWatchMetricReaderOptions) {
    this.#client = options.client;
  }

  async query(
    queries: readonly MetricQuery[],
    window: { start: Date; end: Date },
  ): Promise<MetricQueryResult[]> {
    const values = new Map<string, number[]>(queries.map((query) => [query.id, []]));
    for (let first = 0; first < queries.length; first += queriesPerCall) {
      const batch = queries.slice(first, first + queriesPerCall);
      let nextToken: string | undefined;
      do {
        const page = await this.#client.send(
          new GetMetricDataCommand({
            MetricDataQueries: batch.map((query) => ({
              Id: query.id,
              MetricStat: {
                Metric: {
                  Namespace: query.namespace,
                  MetricName: query.metric,
                  Dimensions: Object.entries(query.dimensions).map(([Name, Value]) => ({
                    Name,
                    Value,
                  })),
                },
                Period: query.periodSeconds,
                Stat: query.stat,
              },
              ReturnData: true,
            })),
            StartTime: window.start,
            EndTime: window.end,
            ScanBy: 'TimestampDescending',
            ...(nextToken === undefined ? {} : { NextToken: nextToken }),
          }),
        );
        // A result's datapoints may span pages; they are collected per id across all of them.
        for (const result of page.MetricDataResults ?? []) {
          if (result.Id === undefined) continue;
          values.get(result.Id)?.push(...(result.Values ?? []));
        }
        nextToken = page.NextToken;
      } while (nextToken);
    }
    return queries.map((query) => ({ id: query.id, values: values.get(query.id) ?? [] }));
  }
}
