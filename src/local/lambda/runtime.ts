import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { ResolvedArtifact } from '../artifact-store.ts';
import type { LambdaArtifactRef } from './types.ts';
import { failurePayload, timeoutPayload } from './wire.ts';

/** The code one invocation runs, and the function settings its runtime honours. */
export interface RuntimeCode {
  artifact: ResolvedArtifact;
  source: LambdaArtifactRef;
  environment: Record<string, string>;
  timeoutSeconds: number;
}

type Handler = (event: unknown, context: object) => unknown;

/**
 * Runs an artifact's handler in-process, as Lambda's Node.js runtime would: a thrown error
 * becomes the runtime's error document, and a handler still running when the function's
 * Timeout is up is answered "Task timed out" (it is left to finish in the background: an
 * in-process handler cannot be frozen as Lambda freezes its sandbox).
 *
 * A module exports `handler(event, context)`, or `createHandler(environment)` returning one.
 * Lambda hands a function its Environment.Variables through process.env at init; in-process
 * functions share one process.env, so the simulator passes them to `createHandler` instead,
 * once per code and environment (Lambda's init phase). The same module deployed to AWS would
 * export `const handler = createHandler(process.env)`.
 */
export class HandlerRuntime {
  readonly #handlers = new Map<string, Promise<Handler | undefined>>();

  async run(
    code: RuntimeCode,
    event: unknown,
    context: { awsRequestId: string },
  ): Promise<{ error: boolean; payload: string }> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<{ error: boolean; payload: string }>((resolve) => {
      timer = setTimeout(
        () => resolve(timeoutPayload(context.awsRequestId, code.timeoutSeconds)),
        code.timeoutSeconds * 1000,
      );
    });
    try {
      return await Promise.race([this.#invoke(code, event, context), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #invoke(
    code: RuntimeCode,
    event: unknown,
    context: object,
  ): Promise<{ error: boolean; payload: string }> {
    try {
      const handler = await this.#load(code);
      if (handler === undefined) {
        return failurePayload(
          'Runtime.HandlerNotFound',
          'index.handler is undefined or not exported',
        );
      }
      const result: unknown = await handler(event, context);
      return { error: false, payload: JSON.stringify(result ?? null) };
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      const message = error instanceof Error ? error.message : String(error);
      return failurePayload(name, message);
    }
  }

  #load(code: RuntimeCode): Promise<Handler | undefined> {
    const key = `${code.artifact.sha256} ${JSON.stringify(code.environment)}`;
    let loaded = this.#handlers.get(key);
    if (!loaded) {
      loaded = importModule(code).then((module) => {
        if (typeof module.createHandler === 'function') {
          return module.createHandler({ ...code.environment }) as Handler;
        }
        return typeof module.handler === 'function' ? (module.handler as Handler) : undefined;
      });
      this.#handlers.set(key, loaded);
      loaded.catch(() => this.#handlers.delete(key));
    }
    return loaded;
  }
}

function importModule(code: RuntimeCode): Promise<Record<string, unknown>> {
  if ('localModule' in code.source) {
    // Code the local cloud owns (the demo's migration runner) is imported from its file, so it
    // can import packages (pg) from the project's node_modules, which a data: URL module cannot
    // resolve. Uploaded artifacts never take this path: UpdateFunctionCode names only S3
    // objects and images.
    return import(/* @vite-ignore */ pathToFileURL(code.artifact.path).href) as Promise<
      Record<string, unknown>
    >;
  }
  // Imported from a data: URL of the file's bytes: Node refuses to load a module from a file
  // named .zip, and the content (not the path, which can hold new code over time) is what
  // identifies a Lambda version's code. Demo handlers are single self-contained files.
  return readFile(code.artifact.path).then(
    (bytes) =>
      import(
        /* @vite-ignore */ `data:text/javascript;base64,${bytes.toString('base64')}`
      ) as Promise<Record<string, unknown>>,
  );
}
