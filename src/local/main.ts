import './quiet-logs.ts';
import { parseArgs } from 'node:util';
import { connect } from '../cli/connect.ts';
import { serveDashboard } from '../cli/dashboard/command.ts';
import { shouldUseColor } from '../cli/format-timeline.ts';
import { runApprovalDemo } from './approval-demo.ts';
import { DemoShop } from './data-plane/local-alb.ts';
import { runDemo } from './demo.ts';
import { DemoApproval } from './demo-registry.ts';
import { LocalNames, startGreenlightLocal } from './greenlight-local.ts';
import { runMigrationDemo } from './migration-demo.ts';

// `npm start`: the local cloud with its demo, then it keeps serving until stopped.
const usage = `Usage: npm start [-- --port N] [--no-demo] [--exit-after-demo]

  --port N            port of the local AWS endpoint (default 4010, or GREENLIGHT_LOCAL_PORT)
  --no-demo           start serving without running the demo releases
  --exit-after-demo   stop once the demo has run (exit code 1 if a release ended unexpectedly)

Services: "checkout" (no approval) and "payments", whose releases wait for a human "go" in the
local Slack stand-in (the demo clicks Approve itself). From another terminal (any credentials;
the local STS names you by your access key id: key "dana" is arn:aws:iam::000000000000:user/dana):
  export ${formatShellEnv('http://127.0.0.1:PORT')}
  bin/greenlight release --service payments --version 2.0.0 --s3 s3://greenlight-demo-artifacts/checkout/1.1.0.zip
  bin/greenlight approve --service payments --actor you       (or: reject --reason TEXT)
  bin/greenlight pause|resume|promote|abort --service payments --actor you [--reason TEXT]
  bin/greenlight rollback payments --actor you --reason TEXT   (a finalized release, while blue is warm)
  bin/greenlight retry RELEASE_ID --actor you                  (a rolled-back release, as its next attempt)`;

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    'no-demo': { type: 'boolean', default: false },
    'exit-after-demo': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const port = Number(values.port ?? process.env.GREENLIGHT_LOCAL_PORT ?? 4010);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`greenlight: --port must be 0-65535\n\n${usage}`);
  process.exit(2);
}

const style = { color: shouldUseColor(process.env, process.stdout.isTTY === true) };
// The demo shop's listeners sit next to the endpoint, so that they are easy to find and curl.
// The shop keeps its orders in the local PostgreSQL, and its migrations run through its runner.
const local = await startGreenlightLocal({
  port,
  database: true,
  ...(port === 0 ? {} : { shop: { productionPort: port + 1, testPort: port + 2 } }),
});
const url = local.url;
const shop = local.shop;
console.log(`greenlight local cloud on ${url}
  EventBridge, Step Functions, DynamoDB, Lambda, CloudWatch, Scheduler, ELBv2 and ECS all answer here; any credentials work.
  Bus "${LocalNames.bus}", state machine ${local.stateMachineArn}
  Service "checkout": Lambda alias checkout:live, gate alarm checkout-errors (an alarm cuts a bake short).${
    shop === undefined
      ? ''
      : `
  Service "${shop.name}": ECS tasks behind the local load balancer; production listener ${shop.productionUrl}, test listener ${shop.testUrl}, gate alarm ${shop.targetErrorsAlarm.AlarmName}.${
    local.database === undefined
      ? ''
      : `
    Its orders live in PostgreSQL (PGlite) at ${local.database.url}; its migration runner is the Lambda function shop-migrations.`
  }`
  }
  Service "payments": Lambda alias payments:live; each release waits for approval in Slack
    (channel ${DemoApproval.channel}, approver ${DemoApproval.approver.id}) on the local Slack stand-in at ${url}/api/;
    its interactivity endpoint (the slack-interactions function) is POST ${local.slackInteractionsUrl}`);

// The dashboard over the local cloud, as `greenlight dashboard --endpoint-url URL` serves it;
// the local cloud takes any credentials, so it is given some (the local STS names the caller by
// the access key id: "local").
const dashboard = await serveDashboard(
  port === 0 ? 0 : port + 3,
  {
    bus: LocalNames.bus,
    ledgerTable: LocalNames.ledgerTable,
    registryTable: LocalNames.registryTable,
    region: LocalNames.region,
    endpointUrl: url,
    json: false,
  },
  {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    env: { ...process.env, USER: process.env.USER ?? 'local' },
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    isTty: false,
  },
  (options, env) => {
    process.env.AWS_ACCESS_KEY_ID ??= 'local';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
    return connect(options, env);
  },
);
console.log(`  Dashboard: ${dashboard.url} (releases live, with operator buttons)`);

let failed = false;
if (!values['no-demo']) {
  const outcomes = await runDemo(local, (line) => console.log(line), style);
  const approved = await runApprovalDemo(local, (line) => console.log(line), style);
  const migrations = await runMigrationDemo(local, (line) => console.log(line), style);
  console.log('');
  for (const outcome of [...outcomes, approved, ...migrations.outcomes]) {
    const ok = outcome.release.phase === outcome.expected;
    failed ||= !ok;
    const attempt = outcome.release.attempt > 1 ? ` (attempt ${outcome.release.attempt})` : '';
    console.log(
      `${ok ? 'ok  ' : 'FAIL'} ${outcome.service} ${outcome.version}${attempt}: ${outcome.release.phase} (expected ${outcome.expected})`,
    );
  }
  // After the contract, the build before cannot come back: the demo's last rollback is refused.
  const refused = migrations.refusedRollback.outcome === 'refused';
  failed ||= !refused;
  console.log(
    `${refused ? 'ok  ' : 'FAIL'} shop rollback after the contract: ${migrations.refusedRollback.outcome} (expected refused)`,
  );
}

if (values['exit-after-demo']) {
  await dashboard.close();
  await local.close();
  process.exit(failed ? 1 : 0);
}

console.log(`
Serving until Ctrl-C. Try it from another terminal:
  export ${formatShellEnv(url)}
  bin/greenlight release --service checkout --version 1.4.0 --s3 s3://greenlight-demo-artifacts/checkout/1.1.0.zip --wait
  bin/greenlight status --service checkout${
    shop === undefined
      ? ''
      : `
  bin/greenlight release --service ${shop.name} --version 1.4.0 --image ${DemoShop.image('1.1.0')} --wait
  curl -i ${shop.productionUrl}/`
  }
  aws events put-events --endpoint-url ${url} --entries '[{"EventBusName":"greenlight","Source":"ci","DetailType":"Release Requested","Detail":"{\\"schemaVersion\\":1,\\"service\\":\\"checkout\\",\\"version\\":\\"1.5.0\\",\\"artifact\\":{\\"s3\\":{\\"bucket\\":\\"greenlight-demo-artifacts\\",\\"key\\":\\"checkout/1.0.0.zip\\"}}}"}]'
  aws stepfunctions list-executions --endpoint-url ${url} --state-machine-arn ${local.stateMachineArn}

Approvals and operator controls (who: --actor or $USER, beside your access key's principal; why: --reason):
  bin/greenlight release --service payments --version 2.0.0 --s3 s3://greenlight-demo-artifacts/checkout/1.1.0.zip
  SLACK_BOT_TOKEN=${LocalNames.slackBotToken} SLACK_API_URL=${url}/api/ bin/greenlight approve --service payments --reason "change 42"
  bin/greenlight pause --service payments --reason "watching p99"    (resume, promote, abort the same way)
  bin/greenlight rollback payments --reason "errors after finalize"  (while blue is warm)
  bin/greenlight retry <release id>                                  (a rolled-back release, as attempt 2)`);

/**
 * The variables that point greenlight and the `aws` commands we suggest at the local cloud. Both
 * region variables: the JavaScript SDK reads only AWS_REGION, AWS CLI v1 only AWS_DEFAULT_REGION.
 */
function formatShellEnv(url: string): string {
  const region = LocalNames.region;
  return `AWS_ENDPOINT_URL=${url} AWS_REGION=${region} AWS_DEFAULT_REGION=${region} AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local`;
}

const shutdown = async () => {
  await dashboard.close();
  await local.close();
  process.exit(0);
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
