import { CloudWatchMetricReader } from '../../aws/cloudwatch-metrics.ts';
import type { MetricReader } from '../../core/ports.ts';
import { cloudWatchOf } from '../clients/cloudwatch.ts';
import type { Wiring } from '../wiring.ts';

/** Metric data for metric gates (CloudWatch). */
export function buildMetricReader(wiring: Wiring): { metrics: MetricReader } {
  return { metrics: new CloudWatchMetricReader({ client: cloudWatchOf(wiring) }) };
}
