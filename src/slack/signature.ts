import { createHmac, timingSafeEqual } from 'node:crypto';
import { RejectionReason, SlackRequestRejected } from './errors.ts';

/** Slack's documented tolerance: requests stamped further than this from now are refused. */
export const maxClockSkewSeconds = 5 * 60;

const version = 'v0';

/** `v0=<hex HMAC-SHA256 of "v0:<timestamp>:<raw body>">`, as Slack signs every request. */
export function signSlackRequest(
  signingSecret: string,
  timestamp: string,
  rawBody: string,
): string {
  const digest = createHmac('sha256', signingSecret)
    .update(`${version}:${timestamp}:${rawBody}`)
    .digest('hex');
  return `${version}=${digest}`;
}

export interface SignedRequest {
  /** `X-Slack-Request-Timestamp`: Unix seconds. */
  timestamp: string | undefined;
  /** `X-Slack-Signature`. */
  signature: string | undefined;
  /** The body exactly as received: any re-encoding breaks the signature. */
  rawBody: string;
}

/**
 * Throws SlackRequestRejected (401) unless `request` was signed with `signingSecret` within
 * five minutes of `now`. Returns the signature, which identifies the request for replay checks.
 *
 * The timestamp is checked before the HMAC so that a stale request costs no hashing, and the
 * comparison is constant-time so that response timing tells nothing about the expected value.
 */
export function verifySlackRequest(
  request: SignedRequest,
  signingSecret: string,
  now: Date,
): string {
  const { timestamp, signature, rawBody } = request;
  if (!timestamp || !signature) {
    throw new SlackRequestRejected(
      RejectionReason.MissingSignature,
      'Request is not signed: X-Slack-Request-Timestamp and X-Slack-Signature are required',
    );
  }
  const seconds = /^\d{1,12}$/.test(timestamp) ? Number(timestamp) : Number.NaN;
  const skew = Math.abs(now.getTime() / 1000 - seconds);
  if (!Number.isFinite(skew) || skew > maxClockSkewSeconds) {
    throw new SlackRequestRejected(
      RejectionReason.StaleTimestamp,
      `Request timestamp is more than ${maxClockSkewSeconds} s from now`,
      { timestamp },
    );
  }
  const expected = Buffer.from(signSlackRequest(signingSecret, timestamp, rawBody), 'utf8');
  const received = Buffer.from(signature, 'utf8');
  // timingSafeEqual needs equal lengths; the length of a v0 signature is public anyway.
  if (received.length !== expected.length || !timingSafeEqual(received, expected)) {
    throw new SlackRequestRejected(
      RejectionReason.BadSignature,
      'Request signature does not match',
    );
  }
  return signature;
}
