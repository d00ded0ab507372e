import { readFile } from 'node:fs/promises';
import type { ResolvedArtifact } from '../artifact-store.ts';
import { failurePayload } from './wire.ts';

/**
 * Runs an artifact's `handler` in-process, as Lambda's Node.js runtime would: a thrown error
 * becomes the runtime's error document. Modules are cached by code hash.
 */
export class HandlerRuntime {
  readonly #modules = new Map<string, Promise<Record<string, unknown>>>();

  async run(
    artifact: ResolvedArtifact,
    event: unknown,
    context: object,
  ): Promise<{ error: boolean; payload: string }> {
    try {
      const module = await this.#load(artifact);
      const handler = module.handler;
      if (typeof handler !== 'function') {
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

  #load(artifact: ResolvedArtifact): Promise<Record<string, unknown>> {
    let loaded = this.#modules.get(artifact.sha256);
    if (!loaded) {
      // Imported from a data: URL of the file's bytes: Node refuses to load a module from a
      // file named .zip, and the content (not the path, which can hold new code over time) is
      // what identifies a Lambda version's code. Demo handlers are single self-contained files.
      loaded = readFile(artifact.path).then(
        (code) =>
          import(
            /* @vite-ignore */ `data:text/javascript;base64,${code.toString('base64')}`
          ) as Promise<Record<string, unknown>>,
      );
      this.#modules.set(artifact.sha256, loaded);
      loaded.catch(() => this.#modules.delete(artifact.sha256));
    }
    return loaded;
  }
}
