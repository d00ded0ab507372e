import { CloudWatchAlarmReader } from '../../aws/cloudwatch-alarms.ts';
import type { AlarmReader } from '../../core/ports.ts';
import { cloudWatchOf } from '../clients/cloudwatch.ts';
import type { Wiring } from '../wiring.ts';

/** The gate alarms' states (CloudWatch). */
export function buildAlarmReader(wiring: Wiring): { alarms: AlarmReader } {
  return { alarms: new CloudWatchAlarmReader({ client: cloudWatchOf(wiring) }) };
}
