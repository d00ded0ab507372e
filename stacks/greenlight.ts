import type { GreenlightDeployConfig } from '../src/infra/deploy-config.ts';
import { functionEnvironment, parseDeployConfig } from '../src/infra/deploy-config.ts';
import { GreenlightFunction } from '../src/infra/functions.ts';
import { greenlightNames, isProductionStage } from '../src/infra/names.ts';
import { calledActions } from '../src/infra/permissions.ts';
import { ReleaseFunction } from '../workflows/release.ts';
import { createOrchestratorAlarms } from './alarms.ts';
import { createReleaseBus } from './bus.ts';
import { createGreenlightFunctions } from './functions.ts';
import { awsLocation } from './location.ts';
import { createTeardownScheduler } from './scheduler.ts';
import { createSlackSecrets } from './slack.ts';
import { createReleaseStateMachine } from './state-machine.ts';
import { createSweeperSchedule } from './sweeper.ts';
import { createTables } from './tables.ts';

/**
 * The whole of greenlight for one stage. Reads like its architecture: tables, the functions,
 * the workflow over them, the bus that starts it and carries operators' commands, teardown
 * scheduling and the daily sweep, alarms.
 */
export function createGreenlight(stage: string, input: GreenlightDeployConfig) {
  const names = greenlightNames(stage);
  const config = parseDeployConfig(input, names);
  const at = awsLocation();

  const tables = createTables(names, isProductionStage(stage), input.services);
  const functions = createGreenlightFunctions({
    names,
    config,
    at,
    environment: at.apply((location) => functionEnvironment(names, config.logLevel, location)),
    dependsOn: [tables.ledger, tables.idempotency, tables.registry],
    slack: createSlackSecrets(config.usesSlack),
  });
  const functionArns = Object.fromEntries(
    Object.values(ReleaseFunction).map((fn) => [fn, functions[fn].handler.arn]),
  ) as Record<ReleaseFunction, $util.Output<string>>;
  const workflow = createReleaseStateMachine({
    names,
    at,
    functionArns,
    includeExecutionData: config.logExecutionData,
  });
  const bus = createReleaseBus({
    names,
    at,
    ciPrincipals: config.ciPrincipals,
    ciTeams: config.ciTeams,
    operatorPrincipals: config.operatorPrincipals,
    // Exactly the roles whose row lets them put events on the bus.
    publisherRoleArns: Object.values(GreenlightFunction)
      .filter((fn) => calledActions(fn).has('events:PutEvents'))
      .map((fn) => functions[fn].role.arn),
    stateMachineArn: workflow.stateMachine.arn,
    operatorFunction: functions[GreenlightFunction.Operator].handler,
    alarmEvents: {
      function: functions[GreenlightFunction.AlarmEvent].handler,
    },
    releaseUpdatesFunction: functions[GreenlightFunction.ReleaseUpdates].handler,
  });
  const teardown = functions[GreenlightFunction.Teardown].handler;
  const scheduler = createTeardownScheduler(names, at, teardown.arn);
  const sweeper = functions[GreenlightFunction.Sweeper].handler;
  createSweeperSchedule({
    names,
    sweeperFunctionArn: sweeper.arn,
    sweeperFunctionName: sweeper.name,
  });
  const monitoring = createOrchestratorAlarms({
    names,
    functionLogs: Object.values(functions).map((fn) => fn.handler),
    executionLogs: workflow.logGroup,
  });

  return {
    bus: bus.bus.name,
    busArn: bus.bus.arn,
    slackInteractionsUrl: functions[GreenlightFunction.SlackInteractions].handler.url,
    ledgerTable: tables.ledger.name,
    idempotencyTable: tables.idempotency.name,
    stateMachineArn: workflow.stateMachine.arn,
    deadLetterQueueUrl: bus.deadLetters.url,
    scheduleGroup: scheduler.group.name,
    schedulerRoleArn: scheduler.role.arn,
    alarmTopicArn: monitoring.topic.arn,
  };
}
