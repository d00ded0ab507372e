import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { awsJsonError, type LocalService } from './http.ts';

export interface Endpoint {
  /** `http://127.0.0.1:PORT`, ready for `AWS_ENDPOINT_URL` or `--endpoint-url`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `services` on one loopback port. Requests go to each service in order until one
 * claims it; an unclaimed request gets an AWS-shaped 400 naming what was asked for.
 */
export async function startEndpoint(
  services: readonly LocalService[],
  port = 0,
  host = '127.0.0.1',
): Promise<Endpoint> {
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body: Buffer.concat(chunks),
    };
    try {
      for (const service of services) {
        const response = await service.handle(request);
        if (response) {
          res.writeHead(response.status, response.headers);
          res.end(response.body);
          return;
        }
      }
      const target = req.headers['x-amz-target'] ?? `${request.method} ${request.url}`;
      const miss = awsJsonError(
        400,
        'UnknownOperationException',
        `The local cloud does not serve ${String(target)}`,
      );
      res.writeHead(miss.status, miss.headers);
      res.end(miss.body);
    } catch (error) {
      const failure = awsJsonError(
        500,
        'InternalFailure',
        error instanceof Error ? error.message : String(error),
      );
      res.writeHead(failure.status, failure.headers);
      res.end(failure.body);
    }
  });
  // SDK clients keep connections alive; without this, close() waits for them to time out.
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
