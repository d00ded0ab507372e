import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SchedulerTeardowns } from '../../aws/scheduler-teardowns.ts';
import type { TeardownScheduler } from '../../core/ports.ts';
import { parseTeardownSettings } from '../teardown-settings.ts';
import type { Wiring } from '../wiring.ts';

/**
 * One-time teardown schedules (EventBridge Scheduler). Undefined where greenlight's
 * environment names no schedule group: finalize then records that no teardown was scheduled,
 * and the daily sweeper tears the idle colour down.
 */
export function buildTeardownScheduler(wiring: Wiring): {
  teardowns: TeardownScheduler | undefined;
} {
  const settings = parseTeardownSettings(wiring.env);
  return {
    teardowns:
      settings === undefined
        ? undefined
        : new SchedulerTeardowns({
            client: new SchedulerClient({}),
            groupName: settings.scheduleGroup,
            roleArn: settings.schedulerRoleArn,
            targetArn: settings.teardownFunctionArn,
          }),
  };
}
