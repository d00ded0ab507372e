import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Every schema a handler imports is built on first use (z.lazy), not at import: the cold start
// of a handler pays only for the schemas it parses with (issue 10, bench section 8).
const root = fileURLToPath(new URL('../../..', import.meta.url));
const folders = ['src/core', 'src/steps', 'src/runtime', 'src/slack'];
/** Kept eager on purpose, each with its reason. */
const eager: Record<string, string> = {
  // z.extend needs the object's shape at import.
  'src/slack/config.ts#SlackEnvironment': 'extended by InteractionEnvironment',
};

function isSchema(value: unknown): value is { _zod: { def: { type: string } } } {
  return typeof value === 'object' && value !== null && '_zod' in value;
}

describe('schemas built on first use', () => {
  const files = folders.flatMap((folder) =>
    readdirSync(join(root, folder))
      .filter((name) => name.endsWith('.ts') && name !== 'zod.ts')
      .map((name) => `${folder}/${name}`),
  );

  it.each(files)('%s exports its schemas as z.lazy', async (file) => {
    const module = (await import(join(root, file))) as Record<string, unknown>;
    const built = Object.entries(module)
      .filter(([name, value]) => isSchema(value) && eager[`${file}#${name}`] === undefined)
      .filter(
        ([, value]) => (value as { _zod: { def: { type: string } } })._zod.def.type !== 'lazy',
      )
      .map(([name]) => name);
    expect(built).toEqual([]);
  });
});
