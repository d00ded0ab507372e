import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';

export interface TrafficCounts {
  requests: number;
  /** Successful responses by the version that served them. */
  ok: Record<string, number>;
  /** Function errors by the version that served them. */
  errors: Record<string, number>;
  /** Requests that got no answer at all: what a switch must never cause. */
  dropped: number;
}

/**
 * Steady user traffic through a Lambda alias, as a real caller would send it (Invoke over the
 * Lambda API with the alias as qualifier), so weighted routing, alarms and rollbacks act on
 * real requests. One request at a time every `intervalMs`; stops when told.
 */
export function startAliasTraffic(options: {
  client: LambdaClient;
  functionName: string;
  alias: string;
  intervalMs: number;
}): { counts: TrafficCounts; stop(): Promise<void> } {
  const counts: TrafficCounts = { requests: 0, ok: {}, errors: {}, dropped: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      counts.requests += 1;
      try {
        const response = await options.client.send(
          new InvokeCommand({
            FunctionName: options.functionName,
            Qualifier: options.alias,
            Payload: JSON.stringify({ path: '/checkout', cart: { total: 42 } }),
          }),
        );
        const version = response.ExecutedVersion ?? '?';
        const bucket = response.FunctionError ? counts.errors : counts.ok;
        bucket[version] = (bucket[version] ?? 0) + 1;
      } catch {
        counts.dropped += 1;
      }
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
    }
  })();
  return {
    counts,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** `412 requests: v1 370 ok, v4 40 ok / 2 errors, 0 dropped` */
export function describeTraffic(counts: TrafficCounts): string {
  const versions = [...new Set([...Object.keys(counts.ok), ...Object.keys(counts.errors)])].sort();
  const perVersion = versions.map((v) => {
    const errors = counts.errors[v] ?? 0;
    return `v${v} ${counts.ok[v] ?? 0} ok${errors > 0 ? ` / ${errors} errors` : ''}`;
  });
  return `${counts.requests} requests: ${perVersion.join(', ')}, ${counts.dropped} dropped`;
}
