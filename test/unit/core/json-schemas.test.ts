import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderSchemas } from '../../../src/core/json-schemas.ts';
import { aReleaseEvent } from '../../support/builders.ts';

const schemasDirectory = join(import.meta.dirname, '..', '..', '..', 'schemas');

interface ObjectSchema {
  required?: string[];
  properties: Record<string, { pattern?: string; const?: unknown; anyOf?: ObjectSchema[] }>;
  additionalProperties?: boolean;
}

function schemaNamed(name: string): ObjectSchema {
  const content = renderSchemas()[name];
  if (content === undefined) throw new Error(`no schema ${name}`);
  return JSON.parse(content) as ObjectSchema;
}

/** Required keys present and, where the schema is closed, no key it does not declare. */
function keysFit(schema: ObjectSchema, value: Record<string, unknown>): boolean {
  const keys = Object.keys(value);
  return (
    (schema.required ?? []).every((key) => keys.includes(key)) &&
    (schema.additionalProperties !== false || keys.every((key) => key in schema.properties))
  );
}

describe('renderSchemas', () => {
  it('matches the committed schema files; run `npm run schemas` when it does not', () => {
    for (const [name, content] of Object.entries(renderSchemas())) {
      expect(readFileSync(join(schemasDirectory, name), 'utf8'), name).toBe(content);
    }
  });

  it('renders pretty JSON with a trailing newline', () => {
    for (const content of Object.values(renderSchemas())) {
      expect(content.endsWith('}\n')).toBe(true);
      expect(content).toContain('\n  "$schema": "https://json-schema.org/draft/2020-12/schema"');
    }
  });

  it('accepts the example event detail by its required fields, closed keys and patterns', () => {
    const schema = schemaNamed('release-requested-v1.schema.json');
    const detail = aReleaseEvent().detail;

    expect(schema.required).toEqual(['schemaVersion', 'service', 'version', 'artifact']);
    expect(keysFit(schema, detail)).toBe(true);
    expect(detail.schemaVersion).toBe(schema.properties.schemaVersion?.const);
    for (const field of ['service', 'version', 'commit', 'strategy'] as const) {
      const pattern = schema.properties[field]?.pattern;
      if (field in detail && pattern !== undefined) {
        expect(String(detail[field]), field).toMatch(new RegExp(pattern));
      }
    }
    const artifactShapes = schema.properties.artifact?.anyOf ?? [];
    expect(
      artifactShapes.some((shape) => keysFit(shape, detail.artifact as Record<string, unknown>)),
    ).toBe(true);
  });

  it('rejects by the same checks a detail with an unknown field or without a version', () => {
    const schema = schemaNamed('release-requested-v1.schema.json');

    expect(keysFit(schema, aReleaseEvent({ colour: 'green' }).detail)).toBe(false);
    expect(keysFit(schema, aReleaseEvent({ version: undefined }).detail)).toBe(false);
  });

  it('leaves defaulted service fields optional for config authors', () => {
    expect(schemaNamed('service-config.schema.json').required).toEqual([
      'name',
      'target',
      'strategies',
      'defaultStrategy',
    ]);
  });
});
