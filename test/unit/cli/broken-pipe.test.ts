import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exitOnBrokenPipe } from '../../../src/cli/broken-pipe.ts';

const main = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));
const commands = [
  'release',
  'status',
  'approve',
  'reject',
  'pause',
  'resume',
  'promote',
  'abort',
  'rollback',
  'retry',
];

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** What the CLI wrote to the stream left open. */
  output: string;
}

/**
 * Runs the real CLI with one of its output pipes closed by the reader before the CLI has even
 * started, as `greenlight status | head -3` does once head has its lines: every write to that
 * pipe fails with EPIPE, deterministically and however short the output.
 */
function runWithClosedPipe(args: readonly string[], closed: 'stdout' | 'stderr'): Promise<Ended> {
  const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child[closed].destroy();
  const open = closed === 'stdout' ? child.stderr : child.stdout;
  let output = '';
  open.setEncoding('utf8');
  open.on('data', (chunk: string) => {
    output += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, output }));
  });
}

/** Exit status as the shell reports it: a process killed by SIGPIPE shows as 128 + 13. */
function statusOf(ended: Ended): number | null {
  return ended.signal === 'SIGPIPE' ? 141 : ended.code;
}

describe('greenlight with a reader that goes away', () => {
  it.concurrent.each(['--help', ...commands.map((command) => `${command} --help`)])(
    'exits quietly when stdout closes before "greenlight %s" writes',
    async (line) => {
      const ended = await runWithClosedPipe(line.split(' '), 'stdout');

      expect(ended.output).toBe('');
      expect([0, 141]).toContain(statusOf(ended));
    },
  );

  it('exits quietly when stderr closes before a usage error is written', async () => {
    const ended = await runWithClosedPipe(['frobnicate'], 'stderr');

    expect(ended.output).toBe('');
    expect([0, 141]).toContain(statusOf(ended));
  });
});

describe('exitOnBrokenPipe', () => {
  const failure = (code: string) => Object.assign(new Error(`write ${code}`), { code });

  it('exits with 141 when either stream reports EPIPE', () => {
    const [stdout, stderr] = [new EventEmitter(), new EventEmitter()];
    const exits: number[] = [];
    exitOnBrokenPipe([stdout, stderr], (code) => exits.push(code));

    stderr.emit('error', failure('EPIPE'));
    stdout.emit('error', failure('EPIPE'));

    expect(exits).toEqual([141, 141]);
  });

  it('rethrows any other stream error', () => {
    const stdout = new EventEmitter();
    const exits: number[] = [];
    exitOnBrokenPipe([stdout], (code) => exits.push(code));

    expect(() => stdout.emit('error', failure('ENOSPC'))).toThrow('write ENOSPC');
    expect(exits).toEqual([]);
  });
});
