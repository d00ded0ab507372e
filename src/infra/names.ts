import { GreenlightFunction } from './functions.ts';

/** Where greenlight is deployed: ARNs are built from these, never guessed. */
export interface AwsLocation {
  partition: string;
  region: string;
  accountId: string;
}

/**
 * Physical names of one stage's resources. They are fixed rather than generated so that
 * policies can name each other's resources without a dependency cycle, and so that CI and
 * the CLI know the bus and table names ahead of the first deploy.
 */
export interface GreenlightNames {
  /** The stage itself: the value of the stage tag (src/infra/stage-tag.ts). */
  stage: string;
  prefix: string;
  bus: string;
  releaseRule: string;
  operatorRule: string;
  /** Rule on the default bus for the gate alarms' state changes (as long as "slack-interactions"). */
  alarmRule: string;
  /** Hands greenlight's lifecycle events to the release-updates function. */
  releaseUpdatesRule: string;
  deadLetterQueue: string;
  ledgerTable: string;
  idempotencyTable: string;
  /** The service registry: one item per service (src/aws/dynamo-registry.ts). */
  registryTable: string;
  stateMachine: string;
  stateMachineLogGroup: string;
  scheduleGroup: string;
  /** Daily rule that runs the sweeper (default bus). */
  sweeperRule: string;
  alarmTopic: string;
  /** CloudWatch namespace of the metrics greenlight derives from its logs, per stage. */
  metricNamespace: string;
  functionName(fn: GreenlightFunction): string;
  /** The log group Lambda writes a function's logs to (SST creates it with the function). */
  functionLogGroup(fn: GreenlightFunction): string;
  roleName(purpose: string): string;
  alarmName(purpose: string): string;
}

// IAM role names and Lambda function names are both limited to 64 characters; the longest
// function name ("slack-interactions", 18, plus its dash) leaves 45 for "greenlight-<stage>".
const longestFunction = Object.values(GreenlightFunction).reduce((a, b) =>
  b.length > a.length ? b : a,
);
const maxPrefixLength = 64 - 1 - longestFunction.length;

export function greenlightNames(stage: string): GreenlightNames {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(stage)) {
    throw new Error(
      `Stage "${stage}" cannot name AWS resources: use lowercase letters, digits and dashes, e.g. --stage prod`,
    );
  }
  const prefix = `greenlight-${stage}`;
  if (prefix.length > maxPrefixLength) {
    throw new Error(
      `Stage "${stage}" is too long: "${prefix}-${longestFunction}" must fit Lambda's 64-character limit; use at most ${maxPrefixLength - 'greenlight-'.length} characters`,
    );
  }
  return {
    stage,
    prefix,
    bus: prefix,
    releaseRule: `${prefix}-release-requested`,
    operatorRule: `${prefix}-operator-command`,
    alarmRule: `${prefix}-alarm-state-change`,
    releaseUpdatesRule: `${prefix}-release-updates`,
    deadLetterQueue: `${prefix}-release-requested-dlq`,
    ledgerTable: `${prefix}-ledger`,
    idempotencyTable: `${prefix}-idempotency`,
    registryTable: `${prefix}-registry`,
    stateMachine: `${prefix}-release`,
    stateMachineLogGroup: `/aws/vendedlogs/states/${prefix}-release`,
    scheduleGroup: prefix,
    sweeperRule: `${prefix}-sweeper`,
    alarmTopic: `${prefix}-alarms`,
    metricNamespace: `Greenlight/${stage}`,
    functionName: (fn) => `${prefix}-${fn}`,
    functionLogGroup: (fn) => `/aws/lambda/${prefix}-${fn}`,
    roleName: (purpose) => `${prefix}-${purpose}`,
    alarmName: (purpose) => `${prefix}-${purpose}`,
  };
}

/** Stages whose data must survive a mistaken `sst remove` or a table replacement. */
export function isProductionStage(stage: string): boolean {
  return stage === 'production' || stage === 'prod';
}
