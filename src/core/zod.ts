import { en } from 'zod/locales';
import * as z from 'zod/mini';

/**
 * zod for every schema of greenlight: `zod/mini`, whose functions a bundler drops when unused
 * (classic zod's methods keep all of it in every handler: measured ~70 KB and 15-20 ms of cold
 * start per handler). Mini sets no locale, so issues would read "Invalid input"; English is
 * what classic zod sets on first use, and what our messages and tests are written against.
 * Import zod as `import * as z from '…/core/zod.ts'`, never from 'zod' or 'zod/mini' directly.
 *
 * Every module-level schema is built on first use: `export const X = z.lazy(() => z.object(…))`.
 * Building a schema at import costs its handler's cold start whether or not it parses with it
 * (measured: the registry's and the event's schemas were ~8 ms of a ~17 ms budget over the SDK
 * floor); a lazy one is built once, the first time it parses, and only by the handlers that do.
 * z.lazy keeps types, JSON Schema output and discriminated unions as they were.
 * test/unit/core/lazy-schemas.test.ts holds every module of src/core, src/steps, src/runtime and
 * src/slack to it.
 */
z.config(en());

export * from 'zod/mini';
