import type { EventEmitter } from 'node:events';
import { ExitCode } from './exit-codes.ts';

/**
 * Ends the process quietly once the reader of `streams` has gone away, as `greenlight status |
 * head -3` does after three lines. Node ignores SIGPIPE, so the failed write comes back as an
 * EPIPE 'error' event on the stream, and unhandled that is a stack trace. Writes made before the
 * event arrives go to a destroyed stream, which drops them without throwing. Any other stream
 * error is rethrown: it is a real failure, not a reader that has seen enough.
 */
export function exitOnBrokenPipe(
  streams: readonly EventEmitter[],
  exit: (code: number) => void,
): void {
  for (const stream of streams) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      exit(ExitCode.BrokenPipe);
    });
  }
}
