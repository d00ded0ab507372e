import { assumeRolePolicy, trustPolicyJson } from '../src/infra/iam.ts';
import type { AwsLocation, GreenlightNames } from '../src/infra/names.ts';
import { schedulerRolePolicy, schedulerTrustCondition } from '../src/infra/orchestration.ts';

/**
 * Where one-time teardown schedules live, and the role Scheduler assumes to run them. The
 * role trusts only this group's schedules in this account and may only invoke the teardown
 * function.
 */
export function createTeardownScheduler(
  names: GreenlightNames,
  at: $util.Output<AwsLocation>,
  teardownFunctionArn: $util.Output<string>,
) {
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
  const policy = new aws.iam.RolePolicy('SchedulerPolicy', {
    role: role.name,
    policy: teardownFunctionArn.apply((arn) => JSON.stringify(schedulerRolePolicy(arn))),
  });
  return { group, role, policy };
}
