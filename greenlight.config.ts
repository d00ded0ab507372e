import type { GreenlightDeployConfig } from './src/infra/deploy-config.ts';

/**
 * The services this greenlight may release, and who may ask. Deploy after every change
 * (`npx sst deploy --stage <stage>`): a service's function, alias, alarms and artifact sources
 * here are all greenlight's roles can ever touch. Checked at deploy by the same parser the
 * handlers use at load (src/core/registry.ts).
 */
export const greenlight: GreenlightDeployConfig = {
  services: [
    {
      name: 'checkout',
      target: { kind: 'lambda-alias', functionName: 'checkout', alias: 'live' },
      strategies: {
        canary: { type: 'canary', percent: 10, bakeSeconds: 300 },
        // Everything at once only with a human "go" in Slack (see README, "Approvals in Slack").
        'all-at-once': {
          type: 'all-at-once',
          approval: {
            type: 'slack',
            channel: 'C0123456789',
            approvers: ['U0123456789'],
            approverGroups: ['S0123456789'],
            timeoutSeconds: 3600,
          },
        },
      },
      defaultStrategy: 'canary',
      artifacts: { s3Buckets: ['acme-checkout-artifacts'] },
      alarms: ['checkout-errors', 'checkout-p99-latency'],
      tests: [
        {
          name: 'health',
          payload: { rawPath: '/health', requestContext: { http: { method: 'GET' } } },
          expect: { statusCode: 200 },
        },
      ],
      warmWindowSeconds: 3600,
    },
  ],
  ci: {
    // The role your CI assumes (see README, "GitHub Actions"). It must exist first.
    principals: ['arn:aws:iam::123456789012:role/greenlight-ci'],
  },
  operators: {
    // Who may run greenlight pause/resume/promote/abort/rollback/retry (README, "Operators").
    principals: ['arn:aws:iam::123456789012:role/greenlight-operators'],
  },
  logLevel: 'INFO',
  // States' input and output in the execution log hold task tokens: off unless you debug
  // (README, "Task tokens").
  executionLogs: { includeExecutionData: false },
};
