import { createHash, randomUUID } from 'node:crypto';
import type { LocalRequest, LocalResponse, LocalService } from './http.ts';

/**
 * STS's GetCallerIdentity on the local endpoint, so that the greenlight CLI and any SDK can ask
 * who they are without AWS. Who you are is your access key id: a key listed in `principals`
 * is that principal (an IAM user, or an assumed-role session as IAM Identity Center users
 * appear); any other key that is a valid IAM user name is the IAM user of that name in the
 * local account. Tests act as different people by using different credentials.
 *
 * Signatures are not checked (the local cloud has no secret keys to check them with): here the
 * access key id alone says who you are, as it does for every other local service.
 *
 * Wire protocol (AWS STS API Reference, "GetCallerIdentity"; "Common Parameters"; "Common
 * Errors"): awsQuery, a form-encoded POST `Action=GetCallerIdentity&Version=2011-06-15`
 * signed for service `sts`, answered with a `GetCallerIdentityResponse` XML document.
 */
export interface LocalStsOptions {
  /** @default '000000000000' */
  accountId?: string;
  /** Access key id → principal ARN, for callers that are not plain IAM users. */
  principals?: Record<string, string>;
}

const apiVersion = '2011-06-15';
const xmlns = `https://sts.amazonaws.com/doc/${apiVersion}/`;
// IAM user names (IAM API Reference, CreateUser: UserName).
const iamUserName = /^[\w+=,.@-]{1,64}$/;
// AWS Signature Version 4: `Credential=AKID/DATE/REGION/SERVICE/aws4_request`.
const credentialOf = /Credential=([^/,\s]+)\//;

export class LocalSts implements LocalService {
  readonly name = 'sts';
  readonly #accountId: string;
  readonly #principals: Map<string, string>;
  #requests = 0;

  constructor(options: LocalStsOptions = {}) {
    this.#accountId = options.accountId ?? '000000000000';
    this.#principals = new Map(Object.entries(options.principals ?? {}));
  }

  /** Makes `accessKeyId` act as `arn` from now on. */
  mapAccessKey(accessKeyId: string, arn: string): void {
    this.#principals.set(accessKeyId, arn);
  }

  /** How many STS requests were answered: tests count the CLI's calls. */
  get requestCount(): number {
    return this.#requests;
  }

  async handle(request: LocalRequest): Promise<LocalResponse | undefined> {
    if (request.method !== 'POST') return undefined;
    const contentType = String(request.headers['content-type'] ?? '');
    if (!contentType.startsWith('application/x-www-form-urlencoded')) return undefined;
    const form = new URLSearchParams(request.body.toString('utf8'));
    // Other awsQuery services (ELBv2) share the endpoint: claim STS's API version only.
    if (form.get('Version') !== apiVersion) return undefined;
    this.#requests += 1;
    const requestId = randomUUID();
    const action = form.get('Action') ?? '';
    if (action !== 'GetCallerIdentity') {
      return stsError(
        400,
        'InvalidAction',
        `The action ${action} is not valid for this web service (the local STS serves GetCallerIdentity only).`,
        requestId,
      );
    }
    const accessKeyId = credentialOf.exec(String(request.headers.authorization ?? ''))?.[1];
    const arn = accessKeyId === undefined ? undefined : this.#arnOf(accessKeyId);
    if (accessKeyId === undefined || arn === undefined) {
      return stsError(
        403,
        'InvalidClientTokenId',
        'The security token included in the request is invalid.',
        requestId,
      );
    }
    const account = arn.split(':')[4] ?? this.#accountId;
    return {
      status: 200,
      headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
      body: `<GetCallerIdentityResponse xmlns="${xmlns}"><GetCallerIdentityResult><Arn>${escapeXml(arn)}</Arn><UserId>${escapeXml(userIdOf(arn))}</UserId><Account>${account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
    };
  }

  #arnOf(accessKeyId: string): string | undefined {
    const mapped = this.#principals.get(accessKeyId);
    if (mapped !== undefined) return mapped;
    return iamUserName.test(accessKeyId)
      ? `arn:aws:iam::${this.#accountId}:user/${accessKeyId}`
      : undefined;
  }
}

/**
 * The `aws:userid` of a principal (IAM User Guide, "Policy variables", principal table): an IAM
 * user's unique id (`AIDA…`), or for an assumed role the role's id and the session name
 * (`AROA…:SESSION`). Derived from the ARN, so one principal keeps one id.
 */
function userIdOf(arn: string): string {
  const id = createHash('sha256').update(arn).digest('hex').slice(0, 17).toUpperCase();
  const assumed = /:assumed-role\/[^/]+\/(.+)$/.exec(arn);
  return assumed ? `AROA${id}:${assumed[1]}` : `AIDA${id}`;
}

function stsError(status: number, code: string, message: string, requestId: string): LocalResponse {
  return {
    status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: `<ErrorResponse xmlns="${xmlns}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  };
}

function escapeXml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&apos;');
}
