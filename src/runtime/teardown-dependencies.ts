import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { z } from 'zod';
import { SchedulerTeardowns } from '../aws/scheduler-teardowns.ts';
import type { IdleColours, TeardownScheduler } from '../core/ports.ts';
import type { ServiceConfig } from '../core/service-config.ts';
import { AlbIdleColours } from '../targets/alb-idle.ts';
import { AlbListenerTarget } from '../targets/alb-listener.ts';
import { LambdaIdleColours } from '../targets/lambda-idle.ts';
import { createDependencies, type StepDependencies } from './dependencies.ts';

/** What finalize, teardown and the sweeper work through: the step ports plus idle colours. */
export interface TeardownStepDependencies extends StepDependencies {
  /**
   * Undefined where greenlight's environment names no schedule group: finalize then records
   * that no teardown was scheduled, and the daily sweeper tears the idle colour down.
   */
  teardowns: TeardownScheduler | undefined;
  idleColoursFor(service: ServiceConfig): IdleColours;
}

/** Where teardowns are scheduled; the stack sets all three, or none (then nothing is scheduled). */
export interface TeardownSettings {
  scheduleGroup: string;
  schedulerRoleArn: string;
  teardownFunctionArn: string;
}

const Arn = z.string().regex(/^arn:aws[a-z-]*:/, 'must be an ARN');
const Environment = z.object({
  GREENLIGHT_SCHEDULE_GROUP: z
    .string()
    .regex(/^[0-9A-Za-z_.-]{1,64}$/)
    .optional(),
  GREENLIGHT_SCHEDULER_ROLE_ARN: Arn.optional(),
  GREENLIGHT_TEARDOWN_FUNCTION_ARN: Arn.optional(),
});

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

/** Production dependencies of finalize, teardown and the sweeper. */
export function createTeardownDependencies(
  env: Record<string, string | undefined> = process.env,
): TeardownStepDependencies {
  const base = createDependencies(env);
  const settings = parseTeardownSettings(env);
  const lambda = new LambdaIdleColours({ client: new LambdaClient({}) });
  let alb: AlbIdleColours | undefined;
  const albColours = () => {
    if (alb === undefined) {
      const elbv2 = new ElasticLoadBalancingV2Client({});
      const ecs = new ECSClient({});
      alb = new AlbIdleColours({
        elbv2,
        ecs,
        listener: new AlbListenerTarget({ elbv2, ecs }),
      });
    }
    return alb;
  };
  return {
    ...base,
    teardowns:
      settings === undefined
        ? undefined
        : new SchedulerTeardowns({
            client: new SchedulerClient({}),
            groupName: settings.scheduleGroup,
            roleArn: settings.schedulerRoleArn,
            targetArn: settings.teardownFunctionArn,
          }),
    idleColoursFor: (service) => {
      switch (service.target.kind) {
        case 'lambda-alias':
          return lambda;
        case 'alb-listener':
          return albColours();
      }
    },
  };
}

let shared: TeardownStepDependencies | undefined;

/** One set per process (per Lambda execution environment), made on first use. */
export function sharedTeardownDependencies(): TeardownStepDependencies {
  shared ??= createTeardownDependencies();
  return shared;
}
