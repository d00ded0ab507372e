import { Agent, request as httpRequest, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { LocalRequest, LocalResponse, LocalService } from './http.ts';

interface DynaliteOptions {
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}

// dynalite ships no types; this is the one function the local cloud uses.
const dynalite = createRequire(import.meta.url)('dynalite') as (options: DynaliteOptions) => Server;

const targetPrefix = 'DynamoDB_20120810.';

// Connection-scoped headers belong to each hop, not to the proxied message.
const hopByHopHeaders = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host']);

export interface LocalDynamo {
  service: LocalService;
  /** dynalite's own URL, for clients that should bypass the shared endpoint. */
  endpoint: string;
  close(): Promise<void>;
}

/**
 * DynamoDB for the local cloud: dynalite in-process on a loopback port, fronted by a
 * LocalService that forwards every `DynamoDB_20120810.*` request to it unchanged, so the
 * shared endpoint serves DynamoDB too. Tables become ACTIVE at once.
 */
export async function startLocalDynamo(): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const agent = new Agent({ keepAlive: true });
  const service: LocalService = {
    name: 'dynamodb',
    handle: async (request) => {
      const target = request.headers['x-amz-target'];
      if (typeof target !== 'string' || !target.startsWith(targetPrefix)) return undefined;
      return forward(request, port, agent);
    },
  };
  return {
    service,
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      agent.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

function forward(request: LocalRequest, port: number, agent: Agent): Promise<LocalResponse> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined && !hopByHopHeaders.has(name)) headers[name] = value;
  }
  headers.host = `127.0.0.1:${port}`;
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      { host: '127.0.0.1', port, method: request.method, path: request.url, headers, agent },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const passed: Record<string, string> = {};
          for (const [name, value] of Object.entries(response.headers)) {
            if (value === undefined || hopByHopHeaders.has(name)) continue;
            passed[name] = Array.isArray(value) ? value.join(', ') : value;
          }
          resolve({
            status: response.statusCode ?? 502,
            headers: passed,
            body: Buffer.concat(chunks),
          });
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}
