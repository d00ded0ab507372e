import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { startGreenlightLocal } from '/work/wt6/src/local/greenlight-local.ts';

const local = await startGreenlightLocal({});
const eb = new EventBridgeClient(local.clientConfig);
await eb.send(
  new PutEventsCommand({
    Entries: [
      {
        EventBusName: 'greenlight',
        Source: 'ci',
        DetailType: 'Release Requested',
        Detail: JSON.stringify({
          schemaVersion: 1,
          service: 'checkout',
          version: '1.1.0',
          artifact: { s3: { bucket: 'greenlight-demo-artifacts', key: 'checkout/1.1.0.zip' } },
        }),
      },
    ],
  }),
);
await new Promise((r) => setTimeout(r, 200));
for (const e of local.cloud.stepFunctions.listExecutions()) {
  const done = await local.cloud.stepFunctions.waitForExecution(e.executionArn);
  console.log(done.status, done.error, done.cause?.slice(0, 800));
  for (const h of local.cloud.stepFunctions.getHistory(e.executionArn))
    if (/Failed|Timed/.test(h.type)) console.log(h.type, JSON.stringify(h.details).slice(0, 600));
}
const rel = await local.ledger.listReleases('checkout', 5);
for (const r of rel) {
  console.log(r.phase, r.reason);
  for (const s of await local.ledger.listSteps(r.releaseId))
    console.log('  ', s.step, s.outcome, s.reason);
}
await local.close();
