import { describe, expect, it } from 'vitest';
import { SlackRequestRejected } from '../../../src/slack/errors.ts';
import { signSlackRequest, verifySlackRequest } from '../../../src/slack/signature.ts';

// The worked example of Slack's "Verifying requests from Slack" guide.
const docsSecret = '8f742231b10e8888abcd99yyyzzz85a5';
const docsTimestamp = '1531420618';
const docsBody =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const docsSignature = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';

const at = (seconds: number) => new Date(seconds * 1000);

function rejection(run: () => unknown): SlackRequestRejected {
  try {
    run();
  } catch (error) {
    if (error instanceof SlackRequestRejected) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('signSlackRequest', () => {
  it("matches the signature of Slack's documented example", () => {
    expect(signSlackRequest(docsSecret, docsTimestamp, docsBody)).toBe(docsSignature);
  });
});

describe('verifySlackRequest', () => {
  const request = { timestamp: docsTimestamp, signature: docsSignature, rawBody: docsBody };

  it('accepts a request signed with the secret and returns its signature', () => {
    expect(verifySlackRequest(request, docsSecret, at(1531420618 + 299))).toBe(docsSignature);
  });

  it('refuses a request without signature headers (401)', () => {
    const error = rejection(() =>
      verifySlackRequest({ ...request, signature: undefined }, docsSecret, at(1531420618)),
    );
    expect([error.reason, error.status]).toEqual(['missing-signature', 401]);
  });

  it('refuses a timestamp more than five minutes in the past or the future', () => {
    for (const now of [1531420618 + 301, 1531420618 - 301]) {
      const error = rejection(() => verifySlackRequest(request, docsSecret, at(now)));
      expect([error.reason, error.status]).toEqual(['stale-timestamp', 401]);
    }
  });

  it('refuses a timestamp that is not a number', () => {
    const error = rejection(() =>
      verifySlackRequest({ ...request, timestamp: '1531420618x' }, docsSecret, at(1531420618)),
    );
    expect(error.reason).toBe('stale-timestamp');
  });

  it('refuses a body changed after signing, another secret, and a truncated signature', () => {
    const now = at(1531420618);
    for (const [changed, secret] of [
      [{ ...request, rawBody: `${docsBody}&text=deploy` }, docsSecret],
      [request, 'another-secret'],
      [{ ...request, signature: docsSignature.slice(0, -1) }, docsSecret],
      [{ ...request, signature: docsSignature.toUpperCase() }, docsSecret],
    ] as const) {
      const error = rejection(() => verifySlackRequest(changed, secret, now));
      expect([error.reason, error.status]).toEqual(['bad-signature', 401]);
    }
  });
});
