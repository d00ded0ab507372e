import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './eventually.ts';

/**
 * moto (Python) speaks the AWS wire protocols: a second implementation to check adapters
 * against, where it is installed (FACTS.md). Tests that use it skip where it is not.
 *
 * The simulators' rule tables (test/unit/local/rules/) run their cases against a simulator
 * and against moto, driven by the same SDK clients (`describeRules`). Where moto is known to
 * differ from AWS, the case says so and asserts what moto does, so a change on either side
 * fails a test.
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

/** A describe title that says why it was skipped when moto_server is absent. */
export function againstMoto(service: string): string {
  return !motoServerAvailable
    ? `${service} rules against moto_server (skipped: moto_server is not on PATH)`
    : `${service} rules against moto_server`;
}

/** moto's account for every resource it makes. */
export const motoAccountId = '123456789012';

export const testCredentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** An SDK client's configuration for either implementation: no retries, so each case is one call. */
export function clientConfig(endpoint: string) {
  return { endpoint, region: 'us-east-1', credentials: testCredentials, maxAttempts: 1 };
}

/**
 * Calls an awsQuery action of a service moto serves but the project has no SDK client for
 * (IAM, to make the role Lambda's CreateFunction checks). moto reads the service and region
 * from the credential scope and does not check the signature.
 */
export async function motoQuery(
  endpoint: string,
  service: string,
  params: Record<string, string>,
): Promise<string> {
  const response = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=local/20250101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams(params),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`moto ${service} ${params.Action}: ${response.status} ${text}`);
  return text;
}

/** What a call came to, in a form both implementations can be compared on. */
export type Outcome = { error: string } | { ok: unknown };

/** Runs `call`; an AWS error becomes its exception name, a result goes through `pick`. */
export async function outcomeOf<T>(
  call: Promise<T>,
  pick: (result: T) => unknown = () => true,
): Promise<Outcome> {
  try {
    return { ok: pick(await call) };
  } catch (error) {
    return { error: error instanceof Error ? error.name : String(error) };
  }
}

/** A rule of AWS's API, as one case run against each implementation. */
export interface RuleCase<Backend> {
  name: string;
  /** The AWS documentation page that states the rule. */
  doc: string;
  run(backend: Backend, resource: string): Promise<Outcome>;
  /** What AWS answers (and so the simulator). */
  aws: Outcome;
  /** Where moto differs from AWS: what moto answers, and in what it is wrong. */
  motoIsWrong?: { outcome: Outcome; because: string };
}

/** One implementation the rule cases run against, and how to let it go. */
export interface RuleTarget<Backend> {
  backend: Backend;
  close(): Promise<void>;
}

export interface RuleTable<Backend> {
  /** The service, as the describe titles name it. */
  service: string;
  cases: readonly RuleCase<Backend>[];
  /** The simulator, behind a local endpoint. */
  local(): Promise<RuleTarget<Backend>>;
  /** The same backend over moto_server at `endpoint`. */
  moto(endpoint: string): Promise<RuleTarget<Backend>>;
  /** Makes what case `index` needs (its own resources, named `resource`). */
  setUp?(backend: Backend, resource: string): Promise<void>;
}

/**
 * Runs a rule table against the simulator and, where moto_server is on PATH, against a
 * moto_server started once for the file. Every case runs in `beforeAll` on resources of its
 * own (`rule-N`); each `it` then checks one outcome: AWS's for the simulator, AWS's or (where
 * the case says moto is wrong) moto's own for moto. `RULES_PRINT=1` prints every outcome, for
 * writing a new case.
 */
export function describeRules<Backend>(table: RuleTable<Backend>): void {
  const rows = table.cases.map((rule, index) => [rule.name, index, rule] as const);

  async function runAll(backend: Backend): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    for (const [index, rule] of table.cases.entries()) {
      const resource = `rule-${index}`;
      await table.setUp?.(backend, resource);
      outcomes.push(await rule.run(backend, resource));
      if (process.env.RULES_PRINT)
        console.log(`OUTCOME ${rule.name} => ${JSON.stringify(outcomes.at(-1))}`);
    }
    return outcomes;
  }

  describe(`${table.service} rules against the local simulator`, () => {
    let target: RuleTarget<Backend> | undefined;
    let outcomes: Outcome[] = [];
    beforeAll(async () => {
      target = await table.local();
      outcomes = await runAll(target.backend);
    });
    afterAll(async () => {
      await target?.close();
    });
    it.each(rows)('%s', (_name, index, rule) => {
      expect(outcomes[index], rule.doc).toEqual(rule.aws);
    });
  });

  describe.skipIf(!motoServerAvailable)(againstMoto(table.service), () => {
    let moto: MotoServer | undefined;
    let target: RuleTarget<Backend> | undefined;
    let outcomes: Outcome[] = [];
    beforeAll(async () => {
      moto = await startMotoServer();
      target = await table.moto(moto.url);
      outcomes = await runAll(target.backend);
    });
    afterAll(async () => {
      await target?.close();
      await moto?.close();
    });
    it.each(rows)('%s', (_name, index, rule) => {
      if (rule.motoIsWrong) {
        // moto is wrong here (see rule.doc): pin what it does, so a change in moto shows up.
        expect(outcomes[index], `moto is wrong here: ${rule.motoIsWrong.because}`).toEqual(
          rule.motoIsWrong.outcome,
        );
        expect(rule.motoIsWrong.outcome).not.toEqual(rule.aws);
      } else {
        expect(outcomes[index], rule.doc).toEqual(rule.aws);
      }
    });
  });
}

/** A zip archive of one stored (uncompressed) file, enough for moto's CreateFunction. */
export function storedZip(name: string, content: string): Buffer {
  const data = Buffer.from(content, 'utf8');
  const fileName = Buffer.from(name, 'utf8');
  const crc = crc32(data);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(data.length, 22);
  local.writeUInt16LE(fileName.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(fileName.length, 28);
  const centralOffset = local.length + fileName.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + fileName.length, 12);
  end.writeUInt32LE(centralOffset, 16);
  return Buffer.concat([local, fileName, data, central, fileName, end]);
}
