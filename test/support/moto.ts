import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { eventually } from './eventually.ts';

/**
 * moto (Python) speaks the AWS wire protocols: a second implementation to check adapters
 * against, where it is installed (FACTS.md). Tests that use it skip where it is not.
 */
export const motoServerAvailable: boolean =
  spawnSync('moto_server', ['--help'], { stdio: 'ignore', timeout: 20_000 }).status === 0;

export interface MotoServer {
  url: string;
  close(): Promise<void>;
}

/** Starts `moto_server` on a free loopback port and waits until it answers. */
export async function startMotoServer(): Promise<MotoServer> {
  const port = await freePort();
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  try {
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}`);
        try {
          return (await fetch(`${url}/moto-api/`)).ok ? true : undefined;
        } catch {
          return undefined;
        }
      },
      { what: `moto_server on ${url}`, timeoutMs: 30_000, intervalMs: 100 },
    );
  } catch (error) {
    child.kill();
    throw error;
  }
  return {
    url,
    close: async () => {
      if (child.exitCode === null) child.kill();
      await exited;
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
