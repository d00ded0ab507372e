import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EcsTaskRunnerConfig } from '../../src/core/service-config.ts';
import type { LocalAlb } from '../../src/local/data-plane/local-alb.ts';
import type { AlbWorld } from '../../src/local/greenlight-local.ts';

/**
 * The end-to-end tests' migration runner as an ECS task: the image
 * (migration-artifacts/ecs-stand-in-runner.mjs) in the artifact store, and its cluster and task
 * definition seeded in the local ECS. Its bookkeeping is the JSON file `statePath`.
 */
export const ecsStandInImage = '000000000000.dkr.ecr.us-east-1.amazonaws.com/orders-migrations:1';

export const ecsStandInRunner: EcsTaskRunnerConfig = {
  type: 'ecs-task',
  cluster: 'jobs',
  taskDefinition: 'orders-migrations',
  containerName: 'migrate',
  network: { subnets: ['subnet-0a1b2c3d'], securityGroups: ['sg-0a1b2c3d'], assignPublicIp: false },
  logGroup: '/ecs/orders-migrations',
  passRoles: [],
};

/** Copies the runner's image into the artifact store under `root`. */
export function putEcsStandInImage(root: string): void {
  const image = join(root, 'images', `${encodeURIComponent(ecsStandInImage)}.mjs`);
  mkdirSync(dirname(image), { recursive: true });
  cpSync(
    fileURLToPath(new URL('./migration-artifacts/ecs-stand-in-runner.mjs', import.meta.url)),
    image,
  );
}

/** Seeds the runner's cluster and task definition (awslogs to its log group) in the local ECS. */
export function seedEcsStandInRunner(statePath: string) {
  return async (alb: LocalAlb): Promise<AlbWorld> => {
    alb.ecs.createCluster(ecsStandInRunner.cluster);
    alb.ecs.registerTaskDefinition({
      family: ecsStandInRunner.taskDefinition,
      cpu: '256',
      memory: '512',
      containerDefinitions: [
        {
          name: ecsStandInRunner.containerName,
          image: ecsStandInImage,
          environment: [{ name: 'STAND_IN_STATE', value: statePath }],
          logConfiguration: {
            logDriver: 'awslogs',
            options: {
              'awslogs-group': ecsStandInRunner.logGroup,
              'awslogs-stream-prefix': 'migrations',
            },
          },
        },
      ],
    });
    return { services: [], alarms: [] };
  };
}

/** What the runner's tasks recorded: `action id` per task, in order, and what is applied. */
export function ecsStandInState(statePath: string): { applied: string[]; calls: string[] } {
  return existsSync(statePath)
    ? JSON.parse(readFileSync(statePath, 'utf8'))
    : { applied: [], calls: [] };
}
