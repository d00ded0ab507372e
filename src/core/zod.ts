import { en } from 'zod/locales';
import * as z from 'zod/mini';

/**
 * zod for every schema of greenlight: `zod/mini`, whose functions a bundler drops when unused
 * (classic zod's methods keep all of it in every handler: measured ~70 KB and 15-20 ms of cold
 * start per handler). Mini sets no locale, so issues would read "Invalid input"; English is
 * what classic zod sets on first use, and what our messages and tests are written against.
 * Import zod as `import * as z from '…/core/zod.ts'`, never from 'zod' or 'zod/mini' directly.
 */
z.config(en());

export * from 'zod/mini';
