import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderSchemas } from '../src/core/json-schemas.ts';

// Regenerates schemas/ from the zod schemas; test/unit/core/json-schemas.test.ts fails until
// the output is committed.
const directory = join(import.meta.dirname, '..', 'schemas');
for (const [name, content] of Object.entries(renderSchemas())) {
  writeFileSync(join(directory, name), content);
  console.log(`wrote schemas/${name}`);
}
