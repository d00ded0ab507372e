import { describe, expect, it } from 'vitest';
import type { connect } from '../../../src/cli/connect.ts';
import { runDashboardCommand } from '../../../src/cli/dashboard/command.ts';
import { releaseCommands } from '../../../src/cli/program.ts';
import { aContext } from './fixtures.ts';

// Reading nothing: the page is fetched, the services list is not.
const noClients = (() => ({
  ledger: {},
  approvals: {},
  registry: { list: async () => [] },
})) as unknown as typeof connect;

describe('greenlight dashboard', () => {
  it('is a command of the CLI', () => {
    expect(releaseCommands.dashboard).toBeTypeOf('function');
  });

  it('with --port 0 serves on a free 127.0.0.1 port, prints its URL, and stops when told', async () => {
    const { context, out } = aContext({});
    let stop = () => {};
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });

    const running = runDashboardCommand(['--port', '0'], context, noClients, stopped);
    await expect.poll(() => out.length).toBe(1);
    const url = /^greenlight dashboard on (http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(out[0] ?? '');
    const page = await fetch(url?.[1] ?? '');
    const services = await (await fetch(`${url?.[1]}api/services`)).json();
    stop();

    expect(Number(url?.[2])).toBeGreaterThan(0);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(services).toEqual({ services: [] });
    expect(await running).toBe(0);
    await expect(fetch(url?.[1] ?? '')).rejects.toThrow();
  });

  it('refuses a port that is not one', async () => {
    const { context, err } = aContext({});

    const code = await runDashboardCommand(['--port', 'http'], context, noClients);

    expect(code).toBe(2);
    expect(err[0]).toContain('--port must be a whole number from 0 to 65535');
  });
});
