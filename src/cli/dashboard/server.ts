import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lastFinalized, warmWindowOf } from '../../core/idle-colour.ts';
import { OperatorCommandName } from '../../core/operator-command.ts';
import type { ApprovalStore, ReleaseLedger } from '../../core/ports.ts';
import { ApprovalStage } from '../../core/records.ts';
import type { ServiceRegistryReader } from '../../core/registry.ts';
import { approvalIdOf } from '../../steps/request-approval.ts';
import { sortSteps } from '../format-timeline.ts';
import { dashboardCss, dashboardJs, dashboardPage } from './page.ts';

/** What the dashboard reads: the same ledger, approvals and registry as `greenlight status`. */
export interface DashboardReaders {
  ledger: ReleaseLedger;
  approvals: ApprovalStore;
  registry: Pick<ServiceRegistryReader, 'list'>;
}

/**
 * Runs one operator command as the CLI would (`greenlight <name> <argv...> --json`) and hands
 * back its exit code and what it printed: the buttons take the CLI's own path, so the caller's
 * credentials, STS identity and IAM decide exactly as in a terminal.
 */
export type RunCli = (
  name: OperatorCommandName,
  argv: readonly string[],
) => Promise<{ exitCode: number; out: string[]; err: string[] }>;

export interface DashboardOptions {
  port: number;
  readers: DashboardReaders;
  runCli: RunCli;
  now: () => number;
}

export interface Dashboard {
  url: string;
  close(): Promise<void>;
}

/** The commands a button may send; `retry` stays a terminal command. */
const ReleaseButtons: readonly OperatorCommandName[] = [
  OperatorCommandName.Pause,
  OperatorCommandName.Resume,
  OperatorCommandName.Promote,
  OperatorCommandName.Abort,
];

const MaxBodyBytes = 16 * 1024;
const ReleasesPerService = 10;

/**
 * A local, single-user web page over the caller's credentials (like Argo Rollouts' dashboard):
 * bound to 127.0.0.1 only. A page on another site could still make the browser post to it, so
 * every POST must carry this process's random token (which only the served page embeds) and an
 * Origin of this very address; every request must name 127.0.0.1:port as its Host, which a
 * DNS-rebinding page cannot.
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const token = randomBytes(32).toString('base64url');
  let origin = '';
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const { name, message } =
        error instanceof Error ? error : { name: 'Error', message: String(error) };
      if (!response.headersSent) send(response, 500, { error: `${name}: ${message}` });
      else response.end();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.headers.host !== new URL(origin).host) {
      return send(response, 421, { error: 'this dashboard answers only on its own address' });
    }
    const url = new URL(request.url ?? '/', origin);
    const parts = url.pathname
      .split('/')
      .filter((p) => p !== '')
      .map(decodeURIComponent);
    if (request.method === 'GET') return get(parts, response);
    if (request.method !== 'POST') return send(response, 405, { error: 'GET or POST only' });
    const given = request.headers['x-greenlight-token'];
    if (
      request.headers.origin !== origin ||
      typeof given !== 'string' ||
      !sameSecret(given, token)
    ) {
      return send(response, 403, { error: 'missing or wrong dashboard token or origin' });
    }
    const body = await readJson(request);
    return post(parts, body, response);
  }

  async function get(parts: string[], response: ServerResponse): Promise<void> {
    const [first, second, third] = parts;
    if (parts.length === 0) {
      return sendText(response, 'text/html', dashboardPage.replace('__TOKEN__', token));
    }
    if (first === 'app.js' && parts.length === 1) {
      return sendText(response, 'text/javascript', dashboardJs);
    }
    if (first === 'app.css' && parts.length === 1) {
      return sendText(response, 'text/css', dashboardCss);
    }
    if (first !== 'api') return send(response, 404, { error: 'not found' });
    if (second === 'services' && parts.length === 2) {
      const { readers } = options;
      const registered = await readers.registry.list();
      const services = await Promise.all(
        registered.map(async (service) => {
          const releases = await readers.ledger.listReleases(service.name, ReleasesPerService);
          const finalized = lastFinalized(releases);
          const window = finalized && warmWindowOf(finalized, new Date(options.now()));
          return {
            name: service.name,
            releases,
            warmWindow: finalized && window ? { releaseId: finalized.releaseId, ...window } : null,
          };
        }),
      );
      return send(response, 200, { services });
    }
    if (second === 'releases' && third !== undefined && parts.length === 3) {
      const release = await options.readers.ledger.getRelease(third);
      if (release === undefined) return send(response, 404, { error: `no release ${third}` });
      const steps = sortSteps(await options.readers.ledger.listSteps(third));
      const approvals = [];
      for (const stage of [
        ApprovalStage.BeforeMigration,
        ApprovalStage.BeforeShift,
        ApprovalStage.BeforeFinalize,
      ]) {
        const approval = await options.readers.approvals.get(approvalIdOf(third, stage));
        // The task token answers the workflow: it never leaves the server.
        if (approval) {
          const { taskToken: _secret, ...shown } = approval;
          approvals.push(shown);
        }
      }
      return send(response, 200, { release, steps, approvals });
    }
    return send(response, 404, { error: 'not found' });
  }

  async function post(parts: string[], body: unknown, response: ServerResponse): Promise<void> {
    const [api, kind, target, name] = parts;
    const reason =
      typeof body === 'object' && body !== null && 'reason' in body
        ? String((body as { reason: unknown }).reason)
        : '';
    const withReason = reason.trim() === '' ? [] : ['--reason', reason];
    if (api !== 'api' || target === undefined || parts.length !== 4) {
      return send(response, 404, { error: 'not found' });
    }
    if (kind === 'releases' && ReleaseButtons.includes(name as OperatorCommandName)) {
      const result = await options.runCli(name as OperatorCommandName, [
        target,
        '--json',
        ...withReason,
      ]);
      return send(response, 200, result);
    }
    if (kind === 'services' && name === OperatorCommandName.Rollback) {
      const result = await options.runCli(OperatorCommandName.Rollback, [
        target,
        '--json',
        ...withReason,
      ]);
      return send(response, 200, result);
    }
    return send(response, 404, { error: 'not found' });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MaxBodyBytes) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return {};
  }
}

// The page loads only its own script and style, and talks only to this server.
const Headers = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; frame-ancestors 'none'",
};

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { ...Headers, 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}

function sendText(response: ServerResponse, type: string, body: string): void {
  response.writeHead(200, { ...Headers, 'content-type': `${type}; charset=utf-8` });
  response.end(body);
}
