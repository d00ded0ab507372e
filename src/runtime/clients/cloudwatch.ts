import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { Wiring } from '../wiring.ts';

const makeCloudWatch = () => new CloudWatchClient({});

/** The CloudWatch client of one wiring: alarms and metric data share it. */
export function cloudWatchOf(wiring: Wiring): CloudWatchClient {
  return wiring.shared(makeCloudWatch);
}
