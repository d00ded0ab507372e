/**
 * The entry point of one local ECS task: a child process that imports a container image's
 * module (an ESM file from the artifact store) and serves its app on 127.0.0.1 with a port the
 * OS picks, then tells the parent the port over IPC.
 *
 * An image module exports `createApp(context)` returning a Node request listener (sync or
 * async). SIGTERM closes the server gracefully: it takes no new connections, lets requests in
 * flight finish, then the process exits, as a container does on `docker stop`. Losing the
 * parent (IPC disconnect) ends the task too, so a killed test run leaves no orphans.
 */
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

/** What a task host tells its parent. */
export type TaskHostMessage =
  | { type: 'listening'; port: number }
  | { type: 'failed'; reason: string };

/** What an image's `createApp` receives. */
export interface ImageAppContext {
  /** The container's environment (task definition `environment`, plus GREENLIGHT_* metadata). */
  env: Record<string, string | undefined>;
}

function send(message: TaskHostMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, () => resolve());
  });
}

const imagePath = process.argv[2];
if (!imagePath) {
  await send({ type: 'failed', reason: 'task-host: no image module given' });
  process.exit(2);
}

let app: RequestListener;
try {
  const image = (await import(pathToFileURL(imagePath).href)) as { createApp?: unknown };
  if (typeof image.createApp !== 'function') {
    throw new Error(`${imagePath} does not export createApp(context)`);
  }
  app = (await image.createApp({ env: process.env } satisfies ImageAppContext)) as RequestListener;
  if (typeof app !== 'function')
    throw new Error('createApp(context) must return a request listener');
} catch (error) {
  await send({ type: 'failed', reason: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}

const server = createServer(app);
// Longer than the router's idle sockets live: a target must never close a kept-alive
// connection the load balancer is about to reuse (AWS gives the same advice for ALB targets).
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  void send({ type: 'listening', port: (server.address() as AddressInfo).port });
});

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  server.close(() => process.exit(0));
  server.closeIdleConnections();
}
process.on('SIGTERM', stop);
process.on('disconnect', stop);
