import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StsCallerIdentity } from '../../../src/aws/sts-identity.ts';
import { approversForPrincipal } from '../../../src/core/caller-identity.ts';
import { type Endpoint, startEndpoint } from '../../../src/local/endpoint.ts';
import { LocalSts } from '../../../src/local/sts-standin.ts';
import { type MotoServer, motoServerAvailable, startMotoServer } from '../../support/moto.ts';

function clientAs(endpoint: string, accessKeyId: string, sessionToken?: string) {
  return new STSClient({
    endpoint,
    region: 'us-east-1',
    credentials: {
      accessKeyId,
      secretAccessKey: 'secret',
      ...(sessionToken === undefined ? {} : { sessionToken }),
    },
  });
}

describe('StsCallerIdentity against the local STS stand-in', () => {
  const sso =
    'arn:aws:sts::000000000000:assumed-role/AWSReservedSSO_Releasers_0a1b2c/lead@example.com';
  let sts: LocalSts;
  let endpoint: Endpoint;

  beforeAll(async () => {
    sts = new LocalSts({ principals: { ASIALEAD: sso } });
    endpoint = await startEndpoint([sts]);
  });
  afterAll(() => endpoint?.close());

  it('names the IAM user an unmapped access key stands for', async () => {
    const client = clientAs(endpoint.url, 'dana');
    const identity = await new StsCallerIdentity({ client }).whoAmI();
    client.destroy();

    expect(identity).toEqual({
      arn: 'arn:aws:iam::000000000000:user/dana',
      account: '000000000000',
      userId: expect.stringMatching(/^AIDA[0-9A-F]{17}$/),
    });
  });

  it('names the assumed-role session a mapped key stands for, as SSO users appear', async () => {
    const client = clientAs(endpoint.url, 'ASIALEAD');
    const identity = await new StsCallerIdentity({ client }).whoAmI();
    client.destroy();

    expect(identity.arn).toBe(sso);
    expect(identity.userId).toMatch(/^AROA[0-9A-F]{17}:lead@example\.com$/);
  });

  it('tells two principals apart by their credentials alone', async () => {
    const a = clientAs(endpoint.url, 'dana');
    const b = clientAs(endpoint.url, 'mallory');
    const [one, two] = await Promise.all([
      new StsCallerIdentity({ client: a }).whoAmI(),
      new StsCallerIdentity({ client: b }).whoAmI(),
    ]);
    a.destroy();
    b.destroy();

    expect(one.arn).not.toBe(two.arn);
    expect(one.userId).not.toBe(two.userId);
  });

  it("refuses a key that is no principal with STS's InvalidClientTokenId", async () => {
    const client = clientAs(endpoint.url, 'not a user name!');
    const failure = await new StsCallerIdentity({ client }).whoAmI().catch((error) => error);
    client.destroy();

    expect(failure).toMatchObject({
      name: 'InvalidClientTokenId',
      $metadata: { httpStatusCode: 403 },
    });
  });
});

// The same adapter over moto's STS: a second implementation of the wire protocol.
describe.skipIf(!motoServerAvailable)('StsCallerIdentity against moto_server', () => {
  let moto: MotoServer;

  beforeAll(async () => {
    moto = await startMotoServer();
  }, 60_000);
  afterAll(() => moto?.close());

  it("reads an assumed role's session ARN, which a role entry of a mapping matches", async () => {
    const admin = clientAs(moto.url, 'AKIAIOSFODNN7EXAMPLE');
    const { Credentials } = await admin.send(
      new AssumeRoleCommand({
        RoleArn: 'arn:aws:iam::123456789012:role/releasers',
        RoleSessionName: 'dana',
      }),
    );
    admin.destroy();
    const session = clientAs(
      moto.url,
      Credentials?.AccessKeyId ?? '',
      Credentials?.SessionToken ?? '',
    );
    const identity = await new StsCallerIdentity({ client: session }).whoAmI();
    session.destroy();

    expect(identity.arn).toBe('arn:aws:sts::123456789012:assumed-role/releasers/dana');
    expect(identity.account).toBe('123456789012');
    expect(
      approversForPrincipal(
        [{ arn: 'arn:aws:iam::123456789012:role/releasers', approver: 'U0DANA' }],
        identity.arn,
      ),
    ).toEqual(['U0DANA']);
  });
});
