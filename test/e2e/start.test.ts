import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// What `npm start` tells a newcomer to paste into another terminal, pasted: the export line,
// then the `aws` and greenlight commands under it, each in a shell that has only that set-up.
const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const aws = await run('aws', ['--version']).then(
  () => 'aws',
  () => undefined,
);

let server: ChildProcess;
let printed: string;
let errors = '';

beforeAll(async () => {
  server = spawn(process.execPath, ['src/local/main.ts', '--port', '0', '--no-demo'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stderr?.setEncoding('utf8');
  server.stderr?.on('data', (chunk: string) => {
    errors += chunk;
  });
  printed = await readUntil(server, /retry <release id>.*\n/);
});

afterAll(async () => {
  if (server?.exitCode === null) {
    server.kill('SIGTERM');
    await once(server, 'exit');
  }
});

/** Everything the server has printed once `done` matches it; rejects if it exits first. */
function readUntil(child: ChildProcess, done: RegExp): Promise<string> {
  let output = '';
  child.stdout?.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    child.stdout?.on('data', (chunk: string) => {
      output += chunk;
      if (done.test(output)) resolve(output);
    });
    child.once('exit', (code) => reject(new Error(`npm start exited (${code}):\n${output}`)));
  });
}

/** The printed `export A=1 B=2` line as an environment, with nothing else but PATH and HOME. */
function shellFromExportLine(): NodeJS.ProcessEnv {
  const line = /^ {2}export (.+)$/m.exec(printed)?.[1] ?? '';
  const exported = Object.fromEntries(
    line.split(' ').map((assignment) => assignment.split('=', 2) as [string, string]),
  );
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...exported };
}

/** The printed commands that start with `prefix`, as typed. */
function printedCommands(prefix: string): string[] {
  return printed
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith(prefix));
}

describe('npm start', () => {
  it('exports both region variables: the AWS SDK reads one, AWS CLI v1 the other', () => {
    expect(shellFromExportLine()).toMatchObject({
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
    });
  });

  it.skipIf(aws === undefined)(
    'prints aws commands that run in a shell set up by its export line',
    async () => {
      const commands = printedCommands('aws ');
      expect(commands.map((command) => command.split(' ').slice(0, 3).join(' '))).toEqual([
        'aws events put-events',
        'aws stepfunctions list-executions',
      ]);

      for (const command of commands) {
        const { stdout } = await run('sh', ['-c', command], {
          cwd: root,
          env: shellFromExportLine(),
        });
        expect(JSON.parse(stdout)).toBeTypeOf('object');
      }
    },
  );

  it('prints the URL of a dashboard it serves on 127.0.0.1, with the page token embedded', async () => {
    const url = /Dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(printed)?.[1];
    expect(url).toBeDefined();

    const page = await fetch(url as string);
    const services = await fetch(`${url}api/services`);

    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<meta name="greenlight-token" content="[\w-]{43}">/);
    const names = ((await services.json()) as { services: { name: string }[] }).services.map(
      (s) => s.name,
    );
    expect(names).toContain('checkout');
  });

  it('prints where the shop keeps its orders: a PostgreSQL that answers, with the shop’s schema', async () => {
    const url = /Its orders live in PostgreSQL \(PGlite\) at (postgres:\/\/\S+);/.exec(
      printed,
    )?.[1];
    expect(url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    expect(printed).toContain('its migration runner is the Lambda function shop-migrations');

    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'note'",
      );
      expect(rows).toEqual([{ column_name: 'note' }]);
    } finally {
      await client.end();
    }
  });

  it('prints greenlight commands that run in a shell set up by its export line', async () => {
    // The one that needs no earlier release: it announces one that waits for approval.
    const [release] = printedCommands('bin/greenlight release --service payments');

    const { stdout } = await run('sh', ['-c', release ?? 'false'], {
      cwd: root,
      env: shellFromExportLine(),
    });

    expect(stdout).toContain('payments');
  });

  it('stops cleanly on Ctrl-C or SIGTERM, with releases still under way', async () => {
    // Whatever the commands above started is still running: a release waits for approval.
    const release = await run(
      'sh',
      ['-c', printedCommands('bin/greenlight release --service payments')[0] ?? 'false'],
      {
        cwd: root,
        env: shellFromExportLine(),
      },
    ).catch((error: unknown) => error);
    expect(release).not.toBeInstanceOf(Error);

    server.kill('SIGTERM');
    const [code] = await once(server, 'exit');

    expect(code).toBe(0);
    expect(errors).not.toMatch(/Error|\n\s+at /);
  });
});
