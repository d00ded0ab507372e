import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { connect } from '../../../src/cli/connect.ts';
import { type Env, resolveSharedOptions } from '../../../src/cli/options.ts';

// A DynamoDB stand-in that answers every call with an empty item and keeps the region each
// request was signed for (the credential scope: KEY/DATE/REGION/SERVICE/aws4_request).
let server: Server;
let endpoint: string;
const signedRegions: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    const scope = /Credential=[^/]+\/[^/]+\/([^/]+)\//.exec(request.headers.authorization ?? '');
    signedRegions.push(scope?.[1] ?? 'unsigned');
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      response.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  signedRegions.length = 0;
  // The SDK takes credentials from the process environment, not from the Env greenlight parses.
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'local');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local');
  return () => vi.unstubAllEnvs();
});

/** Reads one release the way `greenlight status` does, with the given flags and environment. */
async function readReleaseWith(flags: { region?: string }, env: Env): Promise<void> {
  const options = resolveSharedOptions({ ...flags, 'endpoint-url': endpoint }, env);
  await connect(options, {}).ledger.getRelease('checkout#1.0.0');
}

describe('connect', () => {
  it('signs for AWS_DEFAULT_REGION when it is the only region set', async () => {
    await readReleaseWith({}, { AWS_DEFAULT_REGION: 'eu-central-1' });

    expect(signedRegions).toEqual(['eu-central-1']);
  });

  it('signs for AWS_REGION when both variables are set', async () => {
    await readReleaseWith({}, { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'eu-central-1' });

    expect(signedRegions).toEqual(['eu-west-1']);
  });

  it('signs for --region over both variables', async () => {
    await readReleaseWith(
      { region: 'ap-south-1' },
      { AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'eu-central-1' },
    );

    expect(signedRegions).toEqual(['ap-south-1']);
  });
});
