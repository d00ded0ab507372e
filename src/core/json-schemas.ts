import { ReleaseRequestedV1 } from './release-event.ts';
import { ServiceConfig } from './service-config.ts';
import * as z from './zod.ts';

/**
 * The JSON Schema files published for CI authors and config writers, by file name. Generated
 * from the zod schemas so the two can never disagree; a test checks the committed files.
 * Both describe input: what an author writes, with defaulted fields optional.
 */
export function renderSchemas(): Record<string, string> {
  return {
    'release-requested-v1.schema.json': render(
      'Greenlight Release Requested event detail, schema version 1',
      z.toJSONSchema(ReleaseRequestedV1, { io: 'input' }),
    ),
    'service-config.schema.json': render(
      'Greenlight service configuration',
      z.toJSONSchema(ServiceConfig, { io: 'input' }),
    ),
  };
}

function render(title: string, schema: Record<string, unknown>): string {
  const { $schema, ...rest } = schema;
  return `${JSON.stringify({ $schema, title, ...rest }, null, 2)}\n`;
}
