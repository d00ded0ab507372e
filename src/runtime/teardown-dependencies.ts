import { ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SchedulerTeardowns } from '../aws/scheduler-teardowns.ts';
import type { IdleColours, TeardownScheduler } from '../core/ports.ts';
import type { ServiceConfig } from '../core/service-config.ts';
import { AlbIdleColours } from '../targets/alb-idle.ts';
import { AlbListenerTarget } from '../targets/alb-listener.ts';
import { LambdaIdleColours } from '../targets/lambda-idle.ts';
import { createDependencies, type StepDependencies } from './dependencies.ts';
import { parseTeardownSettings } from './teardown-settings.ts';

/** What finalize, teardown and the sweeper work through: the step ports plus idle colours. */
export interface TeardownStepDependencies extends StepDependencies {
  /**
   * Undefined where greenlight's environment names no schedule group: finalize then records
   * that no teardown was scheduled, and the daily sweeper tears the idle colour down.
   */
  teardowns: TeardownScheduler | undefined;
  idleColoursFor(service: ServiceConfig): IdleColours;
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
        // Teardowns never register a task definition; the target still takes its own client.
        listener: new AlbListenerTarget({
          elbv2,
          ecs,
          ecsSingleAttempt: new ECSClient({ maxAttempts: 1 }),
        }),
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
