import * as z from '../core/zod.ts';

/** Where teardowns are scheduled; the stack sets all three, or none (then nothing is scheduled). */
export interface TeardownSettings {
  scheduleGroup: string;
  schedulerRoleArn: string;
  teardownFunctionArn: string;
}

const Arn = z.lazy(() => z.string().check(z.regex(/^arn:aws[a-z-]*:/, 'must be an ARN')));
const Environment = z.lazy(() =>
  z.object({
    GREENLIGHT_SCHEDULE_GROUP: z.optional(z.string().check(z.regex(/^[0-9A-Za-z_.-]{1,64}$/))),
    GREENLIGHT_SCHEDULER_ROLE_ARN: z.optional(Arn),
    GREENLIGHT_TEARDOWN_FUNCTION_ARN: z.optional(Arn),
  }),
);

export function parseTeardownSettings(
  env: Record<string, string | undefined>,
): TeardownSettings | undefined {
  const parsed = Environment.safeParse(env);
  if (!parsed.success) {
    const names = parsed.error.issues.map((issue) => issue.path.join('.')).join(', ');
    throw new Error(
      `greenlight's teardown settings are malformed: ${names}. The stack sets these.`,
    );
  }
  const vars = parsed.data;
  const given = [
    vars.GREENLIGHT_SCHEDULE_GROUP,
    vars.GREENLIGHT_SCHEDULER_ROLE_ARN,
    vars.GREENLIGHT_TEARDOWN_FUNCTION_ARN,
  ];
  if (given.every((value) => value === undefined)) return undefined;
  if (
    vars.GREENLIGHT_SCHEDULE_GROUP === undefined ||
    vars.GREENLIGHT_SCHEDULER_ROLE_ARN === undefined ||
    vars.GREENLIGHT_TEARDOWN_FUNCTION_ARN === undefined
  ) {
    throw new Error(
      'greenlight needs GREENLIGHT_SCHEDULE_GROUP, GREENLIGHT_SCHEDULER_ROLE_ARN and GREENLIGHT_TEARDOWN_FUNCTION_ARN together to schedule teardowns; set all three or none.',
    );
  }
  return {
    scheduleGroup: vars.GREENLIGHT_SCHEDULE_GROUP,
    schedulerRoleArn: vars.GREENLIGHT_SCHEDULER_ROLE_ARN,
    teardownFunctionArn: vars.GREENLIGHT_TEARDOWN_FUNCTION_ARN,
  };
}
