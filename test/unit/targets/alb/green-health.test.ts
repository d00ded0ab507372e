import type { Deployment, Service } from '@aws-sdk/client-ecs';
import type { TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2';
import { describe, expect, it } from 'vitest';
import { assessGreenHealth } from '../../../../src/targets/alb/green-health.ts';

const green = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/checkout:8';
const old = 'arn:aws:ecs:eu-west-1:123456789012:task-definition/checkout:5';

function aService(deployments?: Partial<Deployment>[]): Service {
  return {
    taskDefinition: green,
    ...(deployments === undefined ? {} : { deployments }),
  };
}

const done = [{ status: 'PRIMARY', taskDefinition: green, desiredCount: 2, runningCount: 2 }];

function target(id: string, State: string, Reason?: string): TargetHealthDescription {
  return {
    Target: { Id: id, Port: 8080 },
    TargetHealth: {
      State: State as 'healthy',
      ...(Reason === undefined ? {} : { Reason: Reason as 'Elb.InternalError' }),
    },
  };
}

describe('assessGreenHealth', () => {
  it('is ready when the rollout is done and exactly the desired targets are healthy', () => {
    expect(
      assessGreenHealth({
        taskDefinitionArn: green,
        desiredCount: 2,
        service: aService(done),
        targets: [target('10.0.0.1', 'healthy'), target('10.0.0.2', 'healthy')],
      }),
    ).toEqual({ state: 'ready', summary: '2 of 2 targets healthy' });
  });

  it('ignores targets that are draining away', () => {
    expect(
      assessGreenHealth({
        taskDefinitionArn: green,
        desiredCount: 1,
        service: aService([{ ...done[0], desiredCount: 1, runningCount: 1 }]),
        targets: [
          target('10.0.0.1', 'healthy'),
          target('10.0.0.9', 'draining', 'Target.DeregistrationInProgress'),
        ],
      }).state,
    ).toBe('ready');
  });

  it('waits while fewer targets than desired are registered', () => {
    expect(
      assessGreenHealth({
        taskDefinitionArn: green,
        desiredCount: 2,
        service: aService(done),
        targets: [target('10.0.0.1', 'healthy')],
      }),
    ).toEqual({ state: 'waiting', summary: '1 of 2 targets healthy', unhealthy: [] });
  });

  it('waits while an older deployment is still around, however healthy its targets', () => {
    const health = assessGreenHealth({
      taskDefinitionArn: green,
      desiredCount: 2,
      service: aService([
        { status: 'PRIMARY', taskDefinition: green, desiredCount: 2, runningCount: 0 },
        { status: 'ACTIVE', taskDefinition: old, desiredCount: 2, runningCount: 2 },
      ]),
      targets: [target('10.0.0.1', 'healthy'), target('10.0.0.2', 'healthy')],
    });
    expect(health).toEqual({
      state: 'waiting',
      summary: `2 of 2 targets healthy; ECS still rolling out (PRIMARY ${green} 0/2 running, ACTIVE ${old} 2/2 running)`,
      unhealthy: [],
    });
  });

  it('relies on the service task definition when no deployments are reported', () => {
    expect(
      assessGreenHealth({
        taskDefinitionArn: green,
        desiredCount: 1,
        service: aService(),
        targets: [target('10.0.0.1', 'healthy')],
      }).state,
    ).toBe('ready');
  });

  it('fails when the rollout of the release revision failed', () => {
    const health = assessGreenHealth({
      taskDefinitionArn: green,
      desiredCount: 1,
      service: aService([
        {
          status: 'PRIMARY',
          taskDefinition: green,
          rolloutState: 'FAILED',
          rolloutStateReason: 'tasks failed to start',
        },
      ]),
      targets: [target('10.0.0.1', 'unhealthy', 'Target.Timeout')],
    });
    expect(health).toEqual({
      state: 'failed',
      summary: `ECS deployment of ${green} failed: tasks failed to start; 0 of 1 targets healthy: 10.0.0.1:8080 unhealthy (Target.Timeout)`,
      unhealthy: ['10.0.0.1:8080 unhealthy (Target.Timeout)'],
    });
  });
});
