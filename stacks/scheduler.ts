import { assumeRolePolicy, trustPolicyJson } from '../src/infra/iam.ts';
import type { AwsLocation, GreenlightNames } from '../src/infra/names.ts';
import { schedulerTrustCondition } from '../src/infra/orchestration.ts';

/**
 * Where one-time teardown schedules will live, and the role Scheduler assumes to run them.
 * The role trusts only this group's schedules in this account and has no permissions yet:
 * the teardown step grants it exactly its schedules' target.
 */
export function createTeardownScheduler(names: GreenlightNames, at: $util.Output<AwsLocation>) {
  const group = new aws.scheduler.ScheduleGroup('TeardownSchedules', { name: names.scheduleGroup });
  const role = new aws.iam.Role('SchedulerRole', {
    name: names.roleName('scheduler'),
    assumeRolePolicy: $util
      .all([at, group.arn])
      .apply(([location, groupArn]) =>
        trustPolicyJson(
          assumeRolePolicy(
            'scheduler.amazonaws.com',
            schedulerTrustCondition(location.accountId, groupArn),
          ),
        ),
      ),
  });
  return { group, role };
}
