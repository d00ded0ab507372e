import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import type { CallerIdentity, CallerIdentitySource } from '../core/caller-identity.ts';

export interface StsCallerIdentityOptions {
  client: STSClient;
}

/** STS answered without one of the three fields: nothing to record a decision under. */
export class CallerIdentityUnknown extends Error {
  override readonly name = 'CallerIdentityUnknown';
}

/**
 * Who the client's credentials belong to, from STS GetCallerIdentity (AWS STS API Reference,
 * "GetCallerIdentity"). It needs no IAM permission: an explicit Deny cannot stop it, so every
 * principal that can call anything can be named.
 */
export class StsCallerIdentity implements CallerIdentitySource {
  readonly #client: STSClient;

  constructor(options: StsCallerIdentityOptions) {
    this.#client = options.client;
  }

  async whoAmI(): Promise<CallerIdentity> {
    const { Arn, Account, UserId } = await this.#client.send(new GetCallerIdentityCommand({}));
    if (!Arn || !Account || !UserId) {
      throw new CallerIdentityUnknown(
        `STS GetCallerIdentity answered without ${[!Arn && 'Arn', !Account && 'Account', !UserId && 'UserId'].filter(Boolean).join(', ')}`,
      );
    }
    return { arn: Arn, account: Account, userId: UserId };
  }
}
