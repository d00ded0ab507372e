import type { ServiceConfigInput } from '../../src/core/service-config.ts';
import type { GreenlightDeployConfig } from '../../src/infra/deploy-config.ts';

const account = '123456789012';
const region = 'eu-west-1';
const elb = `arn:aws:elasticloadbalancing:${region}:${account}`;

/** A Lambda service shaped like the README's `checkout` example, named `name`. */
export function aReadmeLambdaService(name: string): ServiceConfigInput {
  return {
    name,
    target: { kind: 'lambda-alias', functionName: name, alias: 'live' },
    strategies: { canary: { type: 'canary', percent: 10, bakeSeconds: 300 } },
    defaultStrategy: 'canary',
    artifacts: { s3Buckets: [`acme-${name}-artifacts`] },
    alarms: [{ name: `${name}-errors`, scope: 'service' }],
    metricGates: [
      { name: 'errors', metric: 'error-rate', maxAboveBlue: 1, minSamples: 100 },
      { name: 'p99', metric: 'latency-p99', max: 800, maxAboveBlue: 100 },
    ],
    tests: [{ name: 'health', payload: { rawPath: '/health' }, expect: { statusCode: 200 } }],
  };
}

/** An ALB service shaped like the README's `shop` example (with a canary), named `name`. */
export function aReadmeAlbService(name: string): ServiceConfigInput {
  const lb = `app/${name}/0123456789abcdef`;
  return {
    name,
    target: {
      kind: 'alb-listener',
      listenerArn: `${elb}:listener/${lb}/1111111111111111`,
      testListenerArn: `${elb}:listener/${lb}/2222222222222222`,
      testUrl: `http://internal-${name}-123.${region}.elb.amazonaws.com:8443`,
      slots: {
        a: {
          targetGroupArn: `${elb}:targetgroup/${name}-a/aaaaaaaaaaaaaaaa`,
          ecs: { cluster: name, service: `${name}-a` },
        },
        b: {
          targetGroupArn: `${elb}:targetgroup/${name}-b/bbbbbbbbbbbbbbbb`,
          ecs: { cluster: name, service: `${name}-b` },
        },
      },
      containerName: 'web',
      taskDefinitionFamily: `${name}-web`,
      passRoles: [`arn:aws:iam::${account}:role/${name}-task`],
      smoke: { paths: ['/health', '/ready'], checks: [], consecutivePasses: 3 },
      healthyDeadlineSeconds: 600,
    },
    strategies: { canary: { type: 'canary', percent: 20, bakeSeconds: 300 } },
    defaultStrategy: 'canary',
    artifacts: { imageRepositories: [`${account}.dkr.ecr.${region}.amazonaws.com/${name}-web`] },
    alarms: [{ name: `${name}-target-5xx`, scope: 'service' }],
  };
}

/**
 * A deploy config of `count` services, the README's Lambda and ALB shapes alternating: how a
 * platform team's stage grows.
 */
export function aConfigOfSize(count: number): GreenlightDeployConfig {
  const services = Array.from({ length: count }, (_, i) => {
    const name = `svc-${String(i + 1).padStart(3, '0')}`;
    return i % 2 === 0 ? aReadmeLambdaService(name) : aReadmeAlbService(name);
  });
  return { services, ci: { principals: [`arn:aws:iam::${account}:role/greenlight-ci`] } };
}
